// `rollway convert`: Argo Rollouts manifests rewritten as Rollway's, offline, for the Git side of a
// move. The documents are edited in place (comments, order and quoting stay as written): the
// apiVersion of Argo Rollouts' kinds, the argoproj.io labels and annotations Rollway has an
// equivalent for, the Gateway API plugin configuration as our gatewayAPI router, the notification
// ConfigMap and Secret names. Anything that cannot be carried over is reported with its field path,
// never dropped silently; then the output goes through `rollway lint` and its findings join the report.
import { Document, isMap, isScalar, isSeq, parseAllDocuments, type Node, type Pair, type YAMLMap } from 'yaml';
import { ROLLOUT_API_VERSION } from '../api/rollout.ts';
import { ANALYSIS_TYPE_LABEL, STEP_INDEX_LABEL } from '../analysis/rollout-plan.ts';
import { EPHEMERAL_METADATA_ANNOTATION, MANAGED_BY_ANNOTATION, REVISION_ANNOTATION, SCALE_DOWN_DEADLINE_ANNOTATION } from '../api/labels.ts';
import { BUILTIN_ROUTERS } from '../routers/registry.ts';
import { lintText } from './lint.ts';

export interface ConvertNote {
  /** error: not carried over (or carried over but Rollway will not act on it); warning: carried over, read this */
  severity: 'error' | 'warning';
  /** 1-based document of the input file; 0 for the file itself */
  document: number;
  /** `Rollout/web`, empty for the document itself */
  object: string;
  path: string;
  message: string;
  fix: string;
}

export interface Converted {
  /** The converted documents, one per input document that could be read */
  documents: Document[];
  notes: ConvertNote[];
  /** the input document number of each converted document */
  sources: number[];
  /** objects that became Rollway's: an apiVersion moved to rollway.dev, a notification object renamed */
  converted: number;
}

export const ARGO_API_VERSION = 'argoproj.io/v1alpha1';
export const ARGO_KINDS = ['Rollout', 'AnalysisTemplate', 'ClusterAnalysisTemplate', 'AnalysisRun', 'Experiment'];
export const ARGO_NOTIFICATION_CONFIGMAP = 'argo-rollouts-notification-configmap';
export const NOTIFICATION_CONFIGMAP = 'rollway-notification-configmap';
export const ARGO_NOTIFICATION_SECRET = 'argo-rollouts-notification-secret';
export const NOTIFICATION_SECRET = 'rollway-notification-secret';
const GATEWAY_PLUGIN = 'argoproj-labs/gatewayAPI';
// The same label as controller/controller.ts (not imported: that module pulls in the whole controller).
export const INSTANCE_ID_LABEL = 'rollway.dev/controller-instance-id';

/** Argo Rollouts' label and annotation keys with a Rollway equivalent, on any object. */
const KEYS: Record<string, string> = {
  'rollout.argoproj.io/revision': REVISION_ANNOTATION,
  'rollout.argoproj.io/ephemeral-metadata': EPHEMERAL_METADATA_ANNOTATION,
  'argo-rollouts.argoproj.io/managed-by-rollouts': MANAGED_BY_ANNOTATION,
  'argo-rollouts.argoproj.io/controller-instance-id': INSTANCE_ID_LABEL,
};
/** Keys without a prefix that mean something to Argo on one kind only. */
const KIND_KEYS: Record<string, Record<string, string>> = {
  ReplicaSet: { 'scale-down-deadline': SCALE_DOWN_DEADLINE_ANNOTATION },
  AnalysisRun: { 'rollout-type': ANALYSIS_TYPE_LABEL, 'step-index': STEP_INDEX_LABEL },
};
const ARGO_PREFIX = /^(rollout|rollouts|argo-rollouts|experiment)\.argoproj\.io\//;
const NOTIFICATIONS_PREFIX = 'notifications.argoproj.io/';
const NOTIFIED_KEY = 'notified.notifications.argoproj.io';

type Note = (path: string, message: string, fix: string, severity?: ConvertNote['severity']) => void;
type Path = (string | number)[];

export const keyPath = (base: string, key: string): string => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`);
const joinPath = (at: string, path: string): string => (at && path ? `${at}.${path}` : at || path);
const keyOf = (pair: Pair): unknown => (isScalar(pair.key) ? pair.key.value : pair.key);
const scalar = (node: unknown): unknown => (isScalar(node) ? node.value : undefined);
const mapAt = (doc: Document, path: Path): YAMLMap | undefined => {
  const node = path.length === 0 ? doc.contents : doc.getIn(path, true);
  return isMap(node) ? node : undefined;
};
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

/** Converts the documents of one file. Never throws on the content of the file. */
export function convertText(text: string): Converted {
  const result: Converted = { documents: [], notes: [], sources: [], converted: 0 };
  let docs: Document[];
  try {
    docs = parseAllDocuments(text, { version: '1.1', merge: true }) as Document[];
  } catch (err) {
    result.notes.push({ severity: 'error', document: 1, object: '', path: '', message: `the file cannot be read as YAML: ${firstLine(err)}`, fix: 'fix the YAML syntax' });
    return result;
  }
  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) result.notes.push({ severity: 'error', document, object: '', path: `line ${e.linePos?.[0]?.line ?? '?'}`, message: `invalid YAML, document left out: ${firstLine(e)}`, fix: 'fix the YAML syntax and convert again' });
      return;
    }
    result.documents.push(doc);
    result.sources.push(document);
    for (const at of objectPaths(doc)) {
      const root = mapAt(doc, at)!;
      const object = `${String(scalar(root.get('kind', true)) ?? '?')}/${String(scalar(mapAt(doc, [...at, 'metadata'])?.get('name', true)) ?? '(unnamed)')}`;
      const where = at.map((p) => (typeof p === 'number' ? `[${p}]` : p)).join('').replace(/^items/, 'items');
      const note: Note = (path, message, fix, severity = 'error') => void result.notes.push({ severity, document, object, path: joinPath(where, path), message, fix });
      if (convertObject(doc, at, note)) result.converted++;
    }
  });
  result.notes.push(...lintNotes(result));
  return result;
}

/** Where the objects of a document are: the document itself, or each item of a List. */
function objectPaths(doc: Document): Path[] {
  const root = mapAt(doc, []);
  if (!root) return [];
  const items = root.get('items', true);
  const kind = String(scalar(root.get('kind', true)) ?? '');
  if (kind.endsWith('List') && isSeq(items)) return items.items.flatMap((item, j) => (isMap(item) ? [['items', j]] : []));
  return [[]];
}

/** Converts one object in place; true when it became a Rollway object. */
function convertObject(doc: Document, at: Path, note: Note): boolean {
  const root = mapAt(doc, at)!;
  const kind = String(scalar(root.get('kind', true)) ?? '');
  const apiVersion = scalar(root.get('apiVersion', true));
  const argo = apiVersion === ARGO_API_VERSION && ARGO_KINDS.includes(kind);
  if (argo) {
    root.set('apiVersion', ROLLOUT_API_VERSION);
    if (kind === 'Experiment') {
      note('apiVersion', 'Rollway has no Experiment kind yet: the Experiment is converted, but the API server refuses it until Rollway installs one', 'keep running it under Argo Rollouts, or leave it out until Rollway has Experiments', 'warning');
    }
  }
  convertMetadata(doc, [...at, 'metadata'], 'metadata', kind, note);
  if (argo) convertOwnerReferences(doc, at, note);
  if (argo && kind === 'Rollout') {
    convertMetadata(doc, [...at, 'spec', 'template', 'metadata'], 'spec.template.metadata', 'Pod', note);
    convertPlugins(doc, at, note);
    reportStepPlugins(doc, at, note);
  }
  const renamed = apiVersion === 'v1' && renameNotificationObject(doc, at, kind, note);
  return argo || renamed;
}

/** The labels and annotations of a metadata block. */
function convertMetadata(doc: Document, path: Path, where: string, kind: string, note: Note): void {
  for (const field of ['labels', 'annotations']) {
    const map = mapAt(doc, [...path, field]);
    if (map) convertKeys(map, `${where}.${field}`, kind, note);
  }
}

function convertKeys(map: YAMLMap, where: string, kind: string, note: Note): void {
  for (const pair of [...map.items]) {
    const key = keyOf(pair);
    if (typeof key !== 'string') continue;
    const path = keyPath(where, key);
    if (key === NOTIFIED_KEY) {
      map.delete(key);
      note(path, "is Argo's record of the notifications it sent; not carried over (Rollway keeps its own record)", 'nothing to do', 'warning');
      continue;
    }
    const target = KEYS[key] ?? KIND_KEYS[kind]?.[key] ?? (key.startsWith(NOTIFICATIONS_PREFIX) ? `notifications.rollway.dev/${key.slice(NOTIFICATIONS_PREFIX.length)}` : undefined);
    if (target === undefined) {
      if (ARGO_PREFIX.test(key)) note(path, 'is an Argo Rollouts key Rollway has no equivalent for: kept as it is, Rollway does not read it', 'remove it once nothing else reads it', 'warning');
      continue;
    }
    if (map.has(target)) {
      const same = scalar(map.get(target, true)) === scalar(pair.value);
      map.delete(key);
      if (!same) note(path, `not carried over: ${JSON.stringify(target)} is also set, with another value, and is kept`, `check which value is right and set ${target} to it`);
      continue;
    }
    if (isScalar(pair.key)) pair.key.value = target;
    // Argo writes the analysis type capitalised (Step, Background); Rollway lower-cases its first letter.
    if (target === ANALYSIS_TYPE_LABEL && isScalar(pair.value) && typeof pair.value.value === 'string') {
      pair.value.value = pair.value.value.charAt(0).toLowerCase() + pair.value.value.slice(1);
    }
  }
}

/** An AnalysisRun or Experiment owned by an Argo Rollout: the reference moves to our group. */
function convertOwnerReferences(doc: Document, at: Path, note: Note): void {
  const refs = doc.getIn([...at, 'metadata', 'ownerReferences'], true);
  if (!isSeq(refs)) return;
  refs.items.forEach((ref, i) => {
    if (!isMap(ref) || scalar(ref.get('apiVersion', true)) !== ARGO_API_VERSION) return;
    if (!ARGO_KINDS.includes(String(scalar(ref.get('kind', true))))) return;
    ref.set('apiVersion', ROLLOUT_API_VERSION);
    if (ref.has('uid')) {
      note(`metadata.ownerReferences[${i}].uid`, "still names the Argo object: it only holds in the cluster it came from, where rollway migrate re-points it", 'leave ownerReferences out of manifests kept in Git', 'warning');
    }
  });
}

/** Argo's notification ConfigMap and Secret under the names Rollway reads. */
function renameNotificationObject(doc: Document, at: Path, kind: string, note: Note): boolean {
  const meta = mapAt(doc, [...at, 'metadata']);
  const name = scalar(meta?.get('name', true));
  const target = kind === 'ConfigMap' && name === ARGO_NOTIFICATION_CONFIGMAP ? NOTIFICATION_CONFIGMAP : kind === 'Secret' && name === ARGO_NOTIFICATION_SECRET ? NOTIFICATION_SECRET : undefined;
  if (!meta || target === undefined) return false;
  meta.set('name', target);
  if (scalar(meta.get('namespace', true)) === 'argo-rollouts') {
    note('metadata.namespace', 'is Argo Rollouts\' namespace: Rollway reads its notification configuration from the namespace its controller runs in', 'set metadata.namespace to the namespace of the Rollway controller', 'warning');
  }
  return true;
}

/** trafficRouting.plugins: the Gateway API plugin becomes our gatewayAPI router; others are reported. */
function convertPlugins(doc: Document, at: Path, note: Note): void {
  const routingPath = [...at, 'spec', 'strategy', 'canary', 'trafficRouting'];
  const routing = mapAt(doc, routingPath);
  const plugins = routing ? routing.get('plugins', true) : undefined;
  if (!routing || !isMap(plugins)) return;
  const base = 'spec.strategy.canary.trafficRouting';
  for (const pair of [...plugins.items]) {
    const name = String(keyOf(pair));
    const path = keyPath(`${base}.plugins`, name);
    if (name !== GATEWAY_PLUGIN) {
      note(path, `Rollway has no traffic router for the plugin ${JSON.stringify(name)}: kept under plugins, where Rollway does not act on it`, `use one of Rollway's routers (${Object.keys(BUILTIN_ROUTERS).join(', ')}) or keep this Rollout on Argo Rollouts`);
      continue;
    }
    if (routing.has('gatewayAPI')) {
      note(path, 'not converted: trafficRouting already has gatewayAPI', 'merge the two configurations into gatewayAPI and remove the plugin');
      continue;
    }
    const config = gatewayConfig((pair.value as Node | null)?.toJSON?.() ?? {}, path, note);
    if (!config) continue;
    routing.set('gatewayAPI', doc.createNode(config));
    plugins.delete(pair.key);
  }
  if (plugins.items.length === 0) routing.delete('plugins');
}

/** Argo's Gateway API plugin configuration as ours; undefined when it cannot be carried over. */
export function gatewayConfig(raw: unknown, path: string, note: Note): { httpRoutes: { name: string; namespace?: string }[] } | undefined {
  const given = (raw !== null && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const others = ['grpcRoute', 'grpcRoutes', 'tcpRoute', 'tcpRoutes', 'tlsRoute', 'tlsRoutes'].filter((k) => given[k] !== undefined);
  for (const other of others) note(`${path}.${other}`, `Rollway's Gateway API router splits HTTPRoutes only: the plugin is kept under plugins, where Rollway does not act on it`, 'move the traffic to an HTTPRoute, or keep this Rollout on Argo Rollouts');
  const listed = Array.isArray(given.httpRoutes) ? (given.httpRoutes as unknown[]) : [];
  const names = typeof given.httpRoute === 'string' ? [given.httpRoute] : listed.map((r) => (r as { name?: unknown } | null)?.name);
  if (others.length > 0) return undefined;
  if (names.length === 0 || names.some((n) => typeof n !== 'string' || n === '')) {
    note(path, 'the plugin configuration names no HTTPRoute (httpRoute, or a name in each httpRoutes entry): kept under plugins', 'set httpRoute: <name>, or give each httpRoutes entry a name');
    return undefined;
  }
  listed.forEach((r, j) => {
    if ((r as { useHeaderRoutes?: unknown } | null)?.useHeaderRoutes === false) {
      note(`${path}.httpRoutes[${j}].useHeaderRoutes`, 'is false: Rollway adds header routes to every HTTPRoute it manages, this one included', 'remove the route from setHeaderRoute steps\' scope or accept the header route on it', 'warning');
    }
  });
  for (const key of Object.keys(given).filter((k) => !['httpRoute', 'httpRoutes', 'namespace'].includes(k))) {
    // The plugin keeps its header-route state in a ConfigMap; our router keeps it on the route itself.
    if (key === 'configMap') note(`${path}.${key}`, "not carried over: Rollway's router keeps no state in a ConfigMap", 'delete the ConfigMap once Argo Rollouts is gone', 'warning');
    else note(`${path}.${key}`, "has no equivalent in Rollway's gatewayAPI router: not carried over", 'remove it, after checking nothing relied on it');
  }
  const namespace = typeof given.namespace === 'string' ? given.namespace : undefined;
  return { httpRoutes: (names as string[]).map((name) => ({ name, ...(namespace ? { namespace } : {}) })) };
}

function reportStepPlugins(doc: Document, at: Path, note: Note): void {
  const steps = doc.getIn([...at, 'spec', 'strategy', 'canary', 'steps'], true);
  if (!isSeq(steps)) return;
  steps.items.forEach((step, i) => {
    if (isMap(step) && step.has('plugin')) note(`spec.strategy.canary.steps[${i}].plugin`, 'step plugins are not implemented in Rollway: kept, the step does nothing', 'remove the step, or keep this Rollout on Argo Rollouts');
  });
}

/** The converted documents as one YAML stream. */
export function toYamlText(documents: Document[]): string {
  return documents.map((d) => String(d).replace(/^---\n/, '')).map((t) => (t.endsWith('\n') ? t : `${t}\n`)).join('---\n');
}

/** The output's own lint findings, as notes on the input documents they came from. */
function lintNotes(converted: Converted): ConvertNote[] {
  return lintText(toYamlText(converted.documents)).map((f) => ({
    severity: f.severity,
    document: converted.sources[f.document - 1] ?? f.document,
    object: f.object,
    path: f.path,
    message: `lint: ${f.message}`,
    fix: f.fix,
  }));
}

/** One object (already parsed, e.g. read from the API server) converted; notes as for a file. */
export function convertObjectValue(value: Record<string, unknown>): { object: Record<string, unknown>; notes: ConvertNote[] } {
  const doc = new Document(value);
  const notes: ConvertNote[] = [];
  const object = `${String(value.kind)}/${String((value.metadata as { name?: unknown } | undefined)?.name ?? '(unnamed)')}`;
  convertObject(doc, [], (path, message, fix, severity = 'error') => void notes.push({ severity, document: 0, object, path, message, fix }));
  return { object: doc.toJS() as Record<string, unknown>, notes };
}
