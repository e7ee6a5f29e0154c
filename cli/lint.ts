// `rollway lint -f FILE`: offline checks of the manifests in a file. Every object gets the API
// server's name, namespace, label and annotation rules (api/k8s-names.ts) and must not repeat
// another object's name; each Rollout goes through the validation the controller runs (schema,
// then step and strategy rules); analysis templates and runs through their schema, the
// controller's condition parser and their dryRun / measurementRetention rules (each must name a
// metric). Then the references between the objects of the file are checked:
// the Services, Ingresses, routes and analysis templates a Rollout names must be in the file when
// the file has objects of that kind. Whatever the input, the result is a list of findings: lint
// itself never throws on a file.
import { parseAllDocuments } from 'yaml';
import {
  ANALYSIS_API_VERSION,
  ANALYSIS_RUN_KIND,
  ANALYSIS_TEMPLATE_KIND,
  AnalysisRunSchema,
  AnalysisTemplateSchema,
  CLUSTER_ANALYSIS_TEMPLATE_KIND,
  ClusterAnalysisTemplateSchema,
} from '../api/analysis.ts';
import { formatIssue, type SpecIssue } from '../api/issues.ts';
import { annotationsSize, checkName, labelValue, LABEL_VALUE_MAX, qualifiedName, suggestLabelValue, suggestName, type NameRule } from '../api/k8s-names.ts';
import { ROLLOUT_API_VERSION, ROLLOUT_KIND, RolloutSchema, validateRollout, zodIssueToSpecIssue } from '../api/rollout.ts';
import { undeclaredFields } from '../api/unknown-fields.ts';
import { checkCondition } from '../analysis/expression.ts';
import { metricNamePatternIssues, unmatchedRuleIssues } from '../api/metric-name-patterns.ts';
import { referencedArgs, substituteArgs } from '../analysis/run-spec.ts';
import { lintReferences } from './lint-references.ts';
import { lintExperiment } from './lint-experiment.ts';
import { EXPERIMENT_KIND, ExperimentSchema } from '../api/experiment.ts';
import { isNotificationConfigMap, lintNotificationConfigMap } from './lint-notifications.ts';
import { field, isRecord, namespaceOf, records, str, type Raw } from './raw.ts';

export interface LintFinding extends SpecIssue {
  severity: 'error' | 'warning';
  /** 1-based position of the YAML document in the file */
  document: number;
  /** `Rollout/web`; empty for a finding about the YAML itself */
  object: string;
}

export type Add = (issue: SpecIssue, severity?: LintFinding['severity']) => void;

/** An object of the file: a document, or an item of a List document (`at` is then `items[N]`). */
interface Entry {
  obj: Raw;
  document: number;
  at: string;
}

// Alias expansions allowed while reading a document (the yaml library's default, stated so a
// library change cannot loosen it): a few aliases nested in each other expand exponentially.
const MAX_ALIAS_COUNT = 100;
const ARGO_API_VERSION = 'argoproj.io/v1alpha1';
const ANALYSIS_SCHEMAS = { [ANALYSIS_TEMPLATE_KIND]: AnalysisTemplateSchema, [CLUSTER_ANALYSIS_TEMPLATE_KIND]: ClusterAnalysisTemplateSchema, [ANALYSIS_RUN_KIND]: AnalysisRunSchema };
const OBJECT_FIX = 'give the document apiVersion, kind and metadata, or remove it';
const RBAC_KINDS = ['Role', 'ClusterRole', 'RoleBinding', 'ClusterRoleBinding'];

const keyPath = (base: string, key: string): string => (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key) ? `${base}.${key}` : `${base}[${JSON.stringify(key)}]`);
const joinPath = (at: string, path: string): string => (at && path ? `${at}.${path}` : at || path);
const label = (o: Raw): string => `${str(o.kind) ?? '?'}/${str(field(o, 'metadata', 'name')) || '(unnamed)'}`;
const shown = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : JSON.stringify(v));
const firstLine = (err: unknown): string => (err instanceof Error ? err.message : String(err)).split('\n')[0]!;

export function lintText(text: string): LintFinding[] {
  const findings: LintFinding[] = [];
  const entries = readObjects(text, findings);
  const objects = entries.map((e) => e.obj);
  for (const entry of entries) {
    const add = adder(findings, entry);
    try {
      lintObject(entry.obj, objects, add);
    } catch (err) {
      // A check that trips over a shape nobody foresaw must not hide the other findings.
      add({ path: '', message: `could not be checked: ${firstLine(err)}`, fix: 'report this to the Rollway maintainers with the file; the other findings stand' });
    }
  }
  findDuplicates(entries, findings);
  return findings.sort((a, b) => a.document - b.document);
}

export function formatFinding(file: string, f: LintFinding): string {
  const where = [`document ${f.document}`, f.object].filter(Boolean).join(': ');
  const issue = f.path ? formatIssue(f) : `${f.message} (fix: ${f.fix})`;
  return `${file}: ${where}: ${f.severity === 'warning' ? 'warning: ' : ''}${issue}`;
}

function adder(findings: LintFinding[], entry: Entry): Add {
  return (issue, severity = 'error') => void findings.push({ severity, document: entry.document, object: label(entry.obj), path: joinPath(entry.at, issue.path), message: issue.message, fix: issue.fix });
}

/** The objects of the file; what cannot be read as objects becomes findings. */
function readObjects(text: string, findings: LintFinding[]): Entry[] {
  const entries: Entry[] = [];
  const problem = (document: number, path: string, message: string, fix: string): void => void findings.push({ severity: 'error', document, object: '', path, message, fix });
  let docs: ReturnType<typeof parseAllDocuments>;
  try {
    // YAML 1.1, as kubectl reads manifests: a bare `off` is false there, and merge keys work.
    docs = parseAllDocuments(text, { version: '1.1', merge: true });
  } catch (err) {
    problem(1, '', `the file cannot be read as YAML: ${firstLine(err)}`, 'fix the YAML syntax');
    return entries;
  }
  docs.forEach((doc, i) => {
    const document = i + 1;
    if (doc.errors.length > 0) {
      for (const e of doc.errors) problem(document, `line ${e.linePos?.[0]?.line ?? '?'}`, `invalid YAML: ${firstLine(e)}`, 'fix the YAML syntax');
      return;
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      const aliases = /alias/i.test(firstLine(err));
      problem(
        document,
        '',
        aliases ? `the document's aliases (*name) would expand to too many values (more than ${MAX_ALIAS_COUNT} expansions): the "billion laughs" pattern` : `the document cannot be read: ${firstLine(err)}`,
        aliases ? 'write the values out instead of through anchors and aliases, or use far fewer aliases' : 'fix the YAML',
      );
      return;
    }
    if (value === null || value === undefined) return;
    if (!isRecord(value)) return problem(document, '', `the document is not a Kubernetes object (a mapping with apiVersion and kind), got ${shown(value)}`, OBJECT_FIX);
    const kind = str(value.kind) ?? '';
    if (kind !== 'List' && !(kind.endsWith('List') && Array.isArray(value.items))) return void entries.push({ obj: value, document, at: '' });
    if (!Array.isArray(value.items)) return problem(document, 'items', `items of a ${kind} must be a list of objects, got ${shown(value.items)}`, 'write items as a list: items: [{apiVersion: ..., kind: ..., metadata: ...}]');
    value.items.forEach((item: unknown, j) => {
      if (isRecord(item)) entries.push({ obj: item, document, at: `items[${j}]` });
      else problem(document, `items[${j}]`, `is not a Kubernetes object (a mapping with apiVersion and kind), got ${shown(item)}`, 'give the item apiVersion, kind and metadata, or remove it');
    });
  });
  return entries;
}

function lintObject(obj: Raw, all: Raw[], add: Add): void {
  const kind = str(obj.kind);
  const ours = kind === ROLLOUT_KIND || kind === EXPERIMENT_KIND || (kind !== undefined && kind in ANALYSIS_SCHEMAS);
  checkMetadata(obj, add, !ours);
  if (isNotificationConfigMap(obj)) lintNotificationConfigMap(obj, all, add);
  if (!ours) return;
  if (obj.apiVersion === ARGO_API_VERSION) {
    add({ path: 'apiVersion', message: 'is argoproj.io/v1alpha1 (an Argo Rollouts manifest)', fix: `change apiVersion to ${ROLLOUT_API_VERSION}; the fields are the same` });
    return;
  }
  if (obj.apiVersion !== (kind === ROLLOUT_KIND ? ROLLOUT_API_VERSION : ANALYSIS_API_VERSION)) return;
  // The API server refuses a field its CRD does not declare (kubectl apply: "unknown field").
  const schema = kind === ROLLOUT_KIND ? RolloutSchema : kind === EXPERIMENT_KIND ? ExperimentSchema : ANALYSIS_SCHEMAS[kind as keyof typeof ANALYSIS_SCHEMAS];
  for (const path of undeclaredFields(obj, schema)) add({ path, message: `is not a field of ${kind}: the API server refuses the object`, fix: 'remove it, or correct its name if it is a typo' });
  if (kind === ROLLOUT_KIND) lintRollout(obj, all, add);
  else if (kind === EXPERIMENT_KIND) lintExperiment(obj, all, add);
  else lintAnalysis(obj, kind as keyof typeof ANALYSIS_SCHEMAS, all, add);
}

/** apiVersion, kind and metadata by the API server's rules. `typed`: report non-string values (no schema does). */
function checkMetadata(obj: Raw, add: Add, typed: boolean): void {
  for (const key of ['apiVersion', 'kind'] as const) {
    if (typeof obj[key] !== 'string' || obj[key] === '') add({ path: key, message: `${key} is missing`, fix: `add ${key}, e.g. ${key === 'kind' ? 'kind: Rollout' : `apiVersion: ${ROLLOUT_API_VERSION}`}` });
  }
  const meta = obj.metadata;
  if (meta !== undefined && !isRecord(meta)) return add({ path: 'metadata', message: `metadata must be a mapping, got ${shown(meta)}`, fix: 'write metadata: {name: ...}' });
  checkObjectName(obj, add);
  const namespace = field(meta, 'namespace');
  if (namespace !== undefined) checkNamed(namespace, 'metadata.namespace', 'namespace', 'label', add);
  checkLabels(field(meta, 'labels'), 'metadata.labels', add, typed);
  const annotations = field(meta, 'annotations');
  if (!isRecord(annotations)) return;
  for (const key of Object.keys(annotations)) {
    const problems = qualifiedName(key);
    if (problems.length > 0) add({ path: keyPath('metadata.annotations', key), message: `annotation key ${JSON.stringify(key)} ${problems.join('; ')}`, fix: 'use an optional DNS prefix and a name of letters, digits, -, _ and ., e.g. example.com/owner' });
  }
  const strings = Object.fromEntries(Object.entries(annotations).filter((e): e is [string, string] => typeof e[1] === 'string'));
  for (const p of annotationsSize(strings)) add({ path: 'metadata.annotations', message: p, fix: 'move large data into a ConfigMap' });
}

/** The name rule of a kind: Services are DNS-1035 labels, Namespaces DNS-1123 labels, RBAC names path segments. */
function nameRule(obj: Raw): NameRule | undefined {
  const kind = str(obj.kind) ?? '';
  const core = obj.apiVersion === 'v1';
  if (core && kind === 'Service') return 'dns1035';
  if (core && kind === 'Namespace') return 'label';
  if (RBAC_KINDS.includes(kind) && String(obj.apiVersion).startsWith('rbac.authorization.k8s.io/')) return undefined;
  return 'subdomain';
}

function checkObjectName(obj: Raw, add: Add): void {
  const name = field(obj, 'metadata', 'name');
  if (name === undefined || name === '') {
    const generated = field(obj, 'metadata', 'generateName') !== undefined ? ' (generateName works with kubectl create only; apply needs a name)' : '';
    add({ path: 'metadata.name', message: `the object has no name${generated}`, fix: "add metadata.name, e.g. name: web (lowercase letters, digits, '-' and '.')" });
    return;
  }
  const rule = nameRule(obj);
  if (rule) checkNamed(name, 'metadata.name', 'name', rule, add);
  else if (typeof name !== 'string') add({ path: 'metadata.name', message: `name must be a string, got ${shown(name)}`, fix: 'write the name as a string' });
}

function checkNamed(value: unknown, path: string, what: string, rule: NameRule, add: Add): void {
  if (typeof value !== 'string') return add({ path, message: `${what} must be a string, got ${shown(value)}`, fix: `write the ${what} as a string` });
  const problems = checkName(value, rule);
  if (problems.length === 0) return;
  const suggestion = suggestName(value, rule);
  add({ path, message: `${JSON.stringify(value)} ${problems.join('; ')}`, fix: suggestion ? `rename it, e.g. ${suggestion}` : "rename it with lowercase letters, digits and '-'" });
}

/** Label keys and values; `typed`: also report values that are not strings. */
function checkLabels(map: unknown, base: string, add: Add, typed: boolean, what = 'label'): void {
  if (map === undefined) return;
  if (!isRecord(map)) return typed ? add({ path: base, message: `${base} must be a mapping, got ${shown(map)}`, fix: 'write it as a mapping, e.g. {app: web}' }) : undefined;
  for (const [key, value] of Object.entries(map)) {
    const path = keyPath(base, key);
    const keyProblems = qualifiedName(key);
    if (keyProblems.length > 0) add({ path, message: `${what} key ${JSON.stringify(key)} ${keyProblems.join('; ')}`, fix: 'use an optional DNS prefix and a name of letters, digits, -, _ and ., e.g. app or app.kubernetes.io/name' });
    if (typeof value !== 'string') {
      if (typed) add({ path, message: `${what} value must be a string, got ${shown(value)}`, fix: 'quote the value, e.g. "1" or "true"' });
      continue;
    }
    checkLabelValue(value, path, add, what);
  }
}

function checkLabelValue(value: string, path: string, add: Add, what = 'label'): void {
  const problems = labelValue(value);
  if (problems.length === 0) return;
  const suggestion = suggestLabelValue(value);
  add({ path, message: `${what} value ${JSON.stringify(value)} ${problems.join('; ')}`, fix: suggestion ? `change it, e.g. ${suggestion}` : `use at most ${LABEL_VALUE_MAX} letters, digits, -, _ and .` });
}

function lintRollout(obj: Raw, all: Raw[], add: Add): void {
  const result = validateRollout(obj);
  if (!result.ok) for (const issue of result.issues) add(issue);
  else for (const issue of result.notImplemented) add(issue, 'warning');
  checkLabels(field(obj, 'spec', 'template', 'metadata', 'labels'), 'spec.template.metadata.labels', add, false);
  checkLabels(field(obj, 'spec', 'selector', 'matchLabels'), 'spec.selector.matchLabels', add, false);
  const expressions = field(obj, 'spec', 'selector', 'matchExpressions');
  if (Array.isArray(expressions)) {
    expressions.forEach((e: unknown, i) => {
      const base = `spec.selector.matchExpressions[${i}]`;
      const key = field(e, 'key');
      if (typeof key === 'string' && qualifiedName(key).length > 0) add({ path: `${base}.key`, message: `label key ${JSON.stringify(key)} ${qualifiedName(key).join('; ')}`, fix: 'use a label key of the pod template' });
      const values = field(e, 'values');
      if (Array.isArray(values)) values.forEach((v: unknown, j) => typeof v === 'string' && checkLabelValue(v, `${base}.values[${j}]`, add));
    });
  }
  const name = str(field(obj, 'metadata', 'name')) ?? '';
  if (name.length > LABEL_VALUE_MAX) {
    add({ path: 'metadata.name', message: `is ${name.length} characters: AnalysisRuns are labelled rollway.dev/rollout=<name>, and a label value holds at most ${LABEL_VALUE_MAX}`, fix: `shorten the name to ${LABEL_VALUE_MAX} characters or fewer` }, 'warning');
  }
  // References are read from a well-formed object only (rule errors above do not stop them).
  if (RolloutSchema.safeParse(obj).success) lintReferences(obj, all, add);
}

/**
 * AnalysisTemplate, ClusterAnalysisTemplate, AnalysisRun: the schema, the dryRun /
 * measurementRetention rules, then each condition through the controller's parser.
 */
function lintAnalysis(obj: Raw, kind: keyof typeof ANALYSIS_SCHEMAS, all: Raw[], add: Add): void {
  const parsed = ANALYSIS_SCHEMAS[kind].safeParse(obj, { reportInput: true });
  if (!parsed.success) for (const issue of parsed.error.issues) add(zodIssueToSpecIssue(issue));
  for (const issue of metricNamePatternIssues(field(obj, 'spec'), 'spec')) add(issue);
  for (const issue of unmatchedRules(obj, kind, all)) add(issue);
  const values = new Map<string, string>();
  for (const arg of records(field(obj, 'spec', 'args'))) if (typeof arg.name === 'string' && typeof arg.value === 'string') values.set(arg.name, arg.value);
  const metrics = field(obj, 'spec', 'metrics');
  if (!Array.isArray(metrics)) return;
  metrics.forEach((metric: unknown, i) => {
    for (const key of ['successCondition', 'failureCondition']) {
      const source = field(metric, key);
      if (typeof source !== 'string' || source.trim() === '') continue;
      const issue = conditionIssue(source, values);
      if (issue) add({ path: `spec.metrics[${i}].${key}`, ...issue });
    }
  });
}

/**
 * dryRun / measurementRetention rules that name no metric of the object (a template with the
 * templates it includes): a run with such a rule ends in Error, as in Argo. Nothing is said when
 * an included template is not in the file, or when there are no metrics to match (the schema
 * reports that).
 */
function unmatchedRules(obj: Raw, kind: keyof typeof ANALYSIS_SCHEMAS, all: Raw[]): SpecIssue[] {
  const names = metricNamesOf(obj, all, new Set());
  if (names === undefined || names.length === 0) return [];
  const includes = records(field(obj, 'spec', 'templates')).length > 0;
  const holder = kind === ANALYSIS_RUN_KIND ? 'this run' : `this template${includes ? ' or the templates it includes' : ''}`;
  return unmatchedRuleIssues(field(obj, 'spec'), names, 'spec', holder);
}

/** The metric names of a template and of those it includes (spec.templates); undefined when one of those is not in the file. */
function metricNamesOf(obj: Raw, all: Raw[], seen: Set<Raw>): string[] | undefined {
  if (seen.has(obj)) return [];
  seen.add(obj);
  const names = records(field(obj, 'spec', 'metrics')).flatMap((m) => str(m.name) ?? []);
  for (const ref of records(field(obj, 'spec', 'templates'))) {
    const kind = ref.clusterScope === true ? CLUSTER_ANALYSIS_TEMPLATE_KIND : ANALYSIS_TEMPLATE_KIND;
    const included = all.find((o) => o.kind === kind && field(o, 'metadata', 'name') === ref.templateName);
    const more = included && metricNamesOf(included, all, seen);
    if (more === undefined) return undefined;
    names.push(...more);
  }
  return names;
}

/**
 * A condition as the controller will parse it. Args with a value in the file are filled in; the
 * others (given by the Rollout, or a Secret) stand as `result`, which is valid wherever a value
 * or a field name may be.
 */
function conditionIssue(source: string, values: ReadonlyMap<string, string>): Omit<SpecIssue, 'path'> | undefined {
  const names = referencedArgs(source);
  const filled = substituteArgs(source, new Map(names.map((n) => [n, values.get(n) ?? 'result'])));
  const err = checkCondition(filled);
  if (!err) return undefined;
  const note = names.length > 0 ? ` (with each {{args.NAME}} filled in: the file's value, or a stand-in)` : '';
  return {
    message: `${err.message}${note}`,
    fix: `write a condition over result that gives true or false, e.g. result[0] >= 0.95 (at column ${err.column}: ${err.expected} was expected)`,
  };
}

/** Two objects of one kind, namespace and name: kubectl apply would keep only the last. */
function findDuplicates(entries: Entry[], findings: LintFinding[]): void {
  const seen = new Map<string, Entry>();
  for (const entry of entries) {
    const { obj } = entry;
    const name = str(field(obj, 'metadata', 'name'));
    const kind = str(obj.kind);
    if (!name || !kind) continue;
    const group = (str(obj.apiVersion) ?? '').split('/').slice(0, -1).join('/');
    const key = JSON.stringify([group, kind, namespaceOf(obj), name]);
    const first = seen.get(key);
    if (!first) {
      seen.set(key, entry);
      continue;
    }
    const where = `document ${first.document}${first.at ? ` (${first.at})` : ''}`;
    const ns = namespaceOf(obj);
    adder(findings, entry)({
      path: 'metadata.name',
      message: `${kind} "${name}" is also defined in ${where}${ns ? ` in namespace ${ns}` : ''}: kubectl apply would keep only the last one`,
      fix: 'rename one of them, or remove the duplicate',
    });
  }
}
