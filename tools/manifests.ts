// Renders the kustomize bases under manifests/ into the single-file installs
// (manifests/install.yaml, manifests/namespace-install.yaml). It reads the subset of kustomize
// those bases use (resources, namespace, JSON 6902 patches with a target), keeps the comments
// (every RBAC rule carries its reason) and orders objects as kustomize does, so `kubectl apply
// -k` and the generated file install the same objects (e2e/install.test.ts compares them with
// `kubectl kustomize`). No kustomize binary is needed to regenerate or to check drift.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Document, isMap, isSeq, parse, parseAllDocuments, type YAMLMap } from 'yaml';

export const repoRoot = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');

/** The generated installs and the kustomization each comes from (relative to the repository). */
export const INSTALLS: readonly { output: string; kustomization: string }[] = [
  { output: 'manifests/install.yaml', kustomization: 'manifests/cluster-install' },
  { output: 'manifests/namespace-install.yaml', kustomization: 'manifests/namespace-install' },
];

/** The Helm chart installs the CRDs from its own crds/ folder (Helm reads only files inside the
 * chart): copies of crds/rollway/, written by `make manifests` and checked for drift. */
export const CHART_CRDS_DIR = 'charts/rollway/crds';

export function chartCrdCopies(): { source: string; output: string }[] {
  return readdirSync(path.join(repoRoot, 'crds/rollway'))
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => ({ source: `crds/rollway/${f}`, output: `${CHART_CRDS_DIR}/${f}` }));
}

interface Kustomization {
  namespace?: string;
  resources?: string[];
  patches?: { target?: { kind?: string; name?: string }; patch?: string }[];
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
}

// kustomize's legacy order: what others depend on first (namespaces, CRDs, accounts, roles).
const KIND_ORDER = ['Namespace', 'ResourceQuota', 'StorageClass', 'CustomResourceDefinition', 'ServiceAccount', 'PodSecurityPolicy', 'Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding', 'ConfigMap', 'Secret', 'Endpoints', 'Service', 'LimitRange', 'PriorityClass', 'PersistentVolume', 'PersistentVolumeClaim', 'Deployment', 'StatefulSet', 'CronJob', 'PodDisruptionBudget'];
const CLUSTER_SCOPED = new Set(['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'StorageClass', 'PriorityClass', 'PersistentVolume']);

export class ManifestError extends Error {}

/** The objects a kustomization directory builds, in kustomize's order, comments kept. */
export function buildKustomization(dir: string): Document[] {
  const file = path.join(dir, 'kustomization.yaml');
  let k: Kustomization;
  try {
    k = (parse(readFileSync(file, 'utf8')) ?? {}) as Kustomization;
  } catch (err) {
    throw new ManifestError(`${path.relative(repoRoot, file)}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const docs: Document[] = [];
  for (const resource of k.resources ?? []) {
    const target = path.join(dir, resource);
    if (statSync(target, { throwIfNoEntry: false })?.isDirectory()) docs.push(...buildKustomization(target));
    else docs.push(...readDocuments(target));
  }
  for (const patch of k.patches ?? []) applyPatch(docs, patch, file);
  if (k.namespace) for (const doc of docs) setNamespace(doc, k.namespace);
  return sortLikeKustomize(docs);
}

function readDocuments(file: string): Document[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const doc of docs) {
    if (doc.errors.length > 0) throw new ManifestError(`${path.relative(repoRoot, file)}: ${doc.errors[0]!.message}`);
  }
  return docs.filter((doc) => doc.contents !== null) as Document[];
}

const kindOf = (doc: Document): string => String(doc.get('kind') ?? '');
const nameOf = (doc: Document): string => String(doc.getIn(['metadata', 'name']) ?? '');

function setNamespace(doc: Document, namespace: string): void {
  const kind = kindOf(doc);
  if (!CLUSTER_SCOPED.has(kind)) doc.setIn(['metadata', 'namespace'], namespace);
  // As kustomize does: ServiceAccount subjects without a namespace (or "default") follow it.
  if (kind === 'RoleBinding' || kind === 'ClusterRoleBinding') {
    const subjects = doc.get('subjects');
    if (!isSeq(subjects)) return;
    for (const subject of subjects.items) {
      if (!isMap(subject) || subject.get('kind') !== 'ServiceAccount') continue;
      const ns = subject.get('namespace');
      if (ns === undefined || ns === '' || ns === 'default') (subject as YAMLMap).set('namespace', namespace);
    }
  }
}

function applyPatch(docs: Document[], patch: NonNullable<Kustomization['patches']>[number], file: string): void {
  const where = path.relative(repoRoot, file);
  const ops = parse(patch.patch ?? '') as JsonPatchOp[] | null;
  if (!Array.isArray(ops)) throw new ManifestError(`${where}: only JSON 6902 patches (a list of operations) are supported`);
  const targets = docs.filter((doc) => (!patch.target?.kind || kindOf(doc) === patch.target.kind) && (!patch.target?.name || nameOf(doc) === patch.target.name));
  if (targets.length === 0) throw new ManifestError(`${where}: patch target ${JSON.stringify(patch.target)} matches no resource`);
  for (const doc of targets) {
    for (const op of ops) {
      if (op.op !== 'add') throw new ManifestError(`${where}: patch op "${op.op}" is not supported (only add)`);
      const segments = op.path.split('/').slice(1).map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const last = segments.pop();
      const parent = doc.getIn(segments, true);
      if (last === '-' && isSeq(parent)) parent.add(doc.createNode(op.value));
      else if (isMap(parent) && last !== undefined) parent.set(last, doc.createNode(op.value));
      else throw new ManifestError(`${where}: patch path ${op.path} does not exist in ${kindOf(doc)} ${nameOf(doc)}`);
    }
  }
}

function sortLikeKustomize(docs: Document[]): Document[] {
  const rank = (doc: Document): number => {
    const i = KIND_ORDER.indexOf(kindOf(doc));
    return i === -1 ? KIND_ORDER.length : i;
  };
  return docs
    .map((doc, i) => ({ doc, i }))
    .sort((a, b) => rank(a.doc) - rank(b.doc) || nameOf(a.doc).localeCompare(nameOf(b.doc)) || a.i - b.i)
    .map(({ doc }) => doc);
}

/** The text of one generated install file. */
export function renderInstall(install: (typeof INSTALLS)[number]): string {
  const docs = buildKustomization(path.join(repoRoot, install.kustomization));
  const header = `# Generated by make manifests from ${install.kustomization}/ (kustomize bases); do not edit.\n`;
  return header + docs.map((doc) => `---\n${stripDocumentHeader(doc.toString({ lineWidth: 0 }))}`).join('');
}

// A file's own leading comment (such as a CRD's "Generated by make crds") stays with its object.
function stripDocumentHeader(text: string): string {
  return text.replace(/^---\n/, '');
}

export interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** Each rule of a Role or ClusterRole with the reason written in the comment above it ('' if none). */
export function rulesWithReasons(doc: Document): { rule: Rule; reason: string }[] {
  const rules = doc.get('rules', true);
  if (!isSeq(rules)) return [];
  return rules.items.map((item, i) => {
    const comment = (i === 0 ? rules.commentBefore : undefined) ?? (item as { commentBefore?: string | null }).commentBefore ?? '';
    const reason = /reason:\s*(.+)/.exec(comment)?.[1]?.trim() ?? '';
    return { rule: (item as YAMLMap).toJSON() as Rule, reason };
  });
}

/** The objects of a generated install file. */
export function installDocuments(output: string): Document[] {
  return readDocuments(path.join(repoRoot, output));
}
