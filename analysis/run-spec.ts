// From templates to an AnalysisRun spec, and from a run spec to what can be measured. Pure.
//
//  - composeTemplates: a Rollout's template references (and the templates those include through
//    spec.templates) become one list of metrics, args, dryRun and measurementRetention;
//  - resolveRolloutArgs: the args a Rollout passes, with valueFrom read from the Rollout
//    (podTemplateHashValue Stable/Latest, fieldRef);
//  - resolveRunArgs: a run's arg values, reading secretKeyRef args, and which values are secret
//    (the controller redacts those from everything it writes: see redact.ts);
//  - prepareRun: every check that makes a run Error before it measures anything (unknown provider,
//    malformed condition, missing arg, unusable limit, a dryRun / measurementRetention rule that
//    names no metric), then the metrics with {{args.NAME}} substituted and their policies.
import {
  SUPPORTED_PROVIDERS,
  providerKinds,
  type AnalysisRunSpec,
  type AnalysisTemplateSpec,
  type Argument,
  type Metric,
} from '../api/analysis.ts';
import { formatIssue } from '../api/issues.ts';
import { metricPolicy, type MetricPolicy } from './assess.ts';
import { checkCondition } from './expression.ts';
import { metricNamePatternIssues, unmatchedRuleIssues } from '../api/metric-name-patterns.ts';
import { parseJsonPath, selectJsonPath } from './providers/web.ts';

export interface TemplateRef {
  templateName?: string | undefined;
  clusterScope?: boolean | undefined;
}

export interface TemplateLookup {
  /** an AnalysisTemplate of the Rollout's namespace */
  namespaced: (name: string) => { spec: AnalysisTemplateSpec } | undefined;
  /** a ClusterAnalysisTemplate */
  cluster: (name: string) => { spec: AnalysisTemplateSpec } | undefined;
}

export interface ComposedSpec {
  metrics: Metric[];
  args: Argument[];
  dryRun: { metricName: string }[];
  measurementRetention: { metricName: string; limit: number }[];
}

export type Composed = { ok: true; spec: ComposedSpec } | { ok: false; message: string };

const refLabel = (ref: TemplateRef): string => `${ref.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate'} "${ref.templateName ?? ''}"`;

/**
 * Merges templates: metrics in order (each carrying its template's noData), args by name (a
 * value wins over none; two different values are an error), dryRun and retention appended.
 */
export function composeTemplates(refs: readonly TemplateRef[], lookup: TemplateLookup): Composed {
  const out: ComposedSpec = { metrics: [], args: [], dryRun: [], measurementRetention: [] };
  const argIndex = new Map<string, number>();
  const visiting: string[] = [];
  const visit = (ref: TemplateRef): string | undefined => {
    if (!ref.templateName) return 'a template reference has no templateName';
    const key = `${ref.clusterScope ? 'cluster' : 'ns'}/${ref.templateName}`;
    if (visiting.includes(key)) return `${refLabel(ref)} includes itself (through ${visiting.map((k) => k.split('/')[1]).join(' → ')})`;
    const template = ref.clusterScope ? lookup.cluster(ref.templateName) : lookup.namespaced(ref.templateName);
    if (!template) return `${refLabel(ref)} not found`;
    visiting.push(key);
    const spec = template.spec;
    for (const metric of spec.metrics ?? []) {
      const noData = metric.noData ?? spec.noData;
      out.metrics.push(noData !== undefined ? { ...metric, noData } : { ...metric });
    }
    for (const arg of spec.args ?? []) {
      const at = argIndex.get(arg.name);
      if (at === undefined) {
        argIndex.set(arg.name, out.args.length);
        out.args.push({ ...arg });
        continue;
      }
      const existing = out.args[at] as Argument;
      const hasValue = (a: Argument): boolean => a.value !== undefined || a.valueFrom !== undefined;
      if (hasValue(existing) && hasValue(arg) && JSON.stringify(existing) !== JSON.stringify(arg)) {
        return `arg "${arg.name}" has different values in the templates (${refLabel(ref)} and an earlier one)`;
      }
      if (!hasValue(existing)) out.args[at] = { ...arg };
    }
    out.dryRun.push(...(spec.dryRun ?? []));
    out.measurementRetention.push(...(spec.measurementRetention ?? []));
    for (const inner of spec.templates ?? []) {
      const problem = visit(inner);
      if (problem) return problem;
    }
    visiting.pop();
    return undefined;
  };
  for (const ref of refs) {
    const problem = visit(ref);
    if (problem) return { ok: false, message: problem };
  }
  const seen = new Set<string>();
  for (const metric of out.metrics) {
    if (seen.has(metric.name)) return { ok: false, message: `metric "${metric.name}" is defined twice in the templates` };
    seen.add(metric.name);
  }
  return { ok: true, spec: out };
}

/** Rollout args over template args: same name replaces, new names are added. */
export function mergeArgs(templateArgs: readonly Argument[], rolloutArgs: readonly Argument[]): Argument[] {
  const merged = templateArgs.map((a) => ({ ...a }));
  for (const arg of rolloutArgs) {
    const at = merged.findIndex((a) => a.name === arg.name);
    if (at >= 0) merged[at] = { ...arg };
    else merged.push({ ...arg });
  }
  return merged;
}

export interface RolloutArgSource {
  /** the Rollout as read from the API server (for fieldRef) */
  object: unknown;
  stableHash: string | undefined;
  latestHash: string;
}

/**
 * The Rollout's args with values read from the Rollout: podTemplateHashValue and fieldRef become
 * plain values; one that cannot be read is left without a value (the run then reports it).
 */
export function resolveRolloutArgs(args: readonly { name: string; value?: string | undefined; valueFrom?: { podTemplateHashValue?: string | undefined; fieldRef?: { fieldPath: string } | undefined } | undefined }[], source: RolloutArgSource): Argument[] {
  return args.map((arg) => {
    if (arg.value !== undefined) return { name: arg.name, value: arg.value };
    const from = arg.valueFrom;
    if (from?.podTemplateHashValue !== undefined) {
      const hash = from.podTemplateHashValue === 'Stable' ? source.stableHash : from.podTemplateHashValue === 'Latest' ? source.latestHash : undefined;
      return hash !== undefined ? { name: arg.name, value: hash } : { name: arg.name };
    }
    if (from?.fieldRef !== undefined) {
      const value = readFieldPath(source.object, from.fieldRef.fieldPath);
      return value !== undefined ? { name: arg.name, value } : { name: arg.name };
    }
    return { name: arg.name };
  });
}

/** A fieldRef path (`metadata.name`, `metadata.labels['app']`) of an object, as a string. */
export function readFieldPath(object: unknown, fieldPath: string): string | undefined {
  try {
    const path = fieldPath.startsWith('$') ? fieldPath : `$.${fieldPath}`;
    const selected = selectJsonPath(object, parseJsonPath(path));
    if (!selected.found || selected.value === undefined || selected.value === null) return undefined;
    return typeof selected.value === 'string' ? selected.value : JSON.stringify(selected.value);
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// A run spec, ready to measure

const PLACEHOLDER = /\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}/g;

/** The names a text refers to as {{args.NAME}}. */
export function referencedArgs(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** Replaces {{args.NAME}} in every string of a value (deeply). */
export function substituteArgs<T>(value: T, values: ReadonlyMap<string, string>): T {
  if (typeof value === 'string') return value.replace(PLACEHOLDER, (whole, name: string) => values.get(name) ?? whole) as T;
  if (Array.isArray(value)) return value.map((v: unknown) => substituteArgs(v, values)) as T;
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteArgs(v, values)])) as T;
  }
  return value;
}

function stringsOf(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsOf(v, out);
  else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) stringsOf(v, out);
  return out;
}

/** Reads one key of a Secret in the run's namespace; undefined when it cannot be read. */
export type SecretReader = (ref: { name: string; key: string }) => Promise<string | undefined>;

export interface ResolvedArgs {
  /** every arg whose value is known */
  values: Map<string, string>;
  /** the values that came from Secrets: whatever leaves the run is redacted with them */
  secrets: Set<string>;
}

/**
 * The values of a run's args: `value` as it is, `valueFrom.secretKeyRef` read through `readSecret`
 * (and remembered as secret). An arg that has neither is left out; prepareRun reports it.
 */
export async function resolveRunArgs(args: readonly Argument[], readSecret: SecretReader): Promise<ResolvedArgs> {
  const resolved: ResolvedArgs = { values: new Map(), secrets: new Set() };
  for (const arg of args) {
    if (arg.value !== undefined) {
      resolved.values.set(arg.name, arg.value);
    } else if (arg.valueFrom?.secretKeyRef) {
      const value = await readSecret(arg.valueFrom.secretKeyRef);
      if (value === undefined) continue;
      resolved.values.set(arg.name, value);
      resolved.secrets.add(value);
    }
  }
  return resolved;
}

export interface PreparedMetric {
  metric: Metric;
  policy: MetricPolicy;
  provider: 'prometheus' | 'web' | 'job';
}

export type Prepared = { ok: true; metrics: PreparedMetric[] } | { ok: false; message: string };

/**
 * Checks a run spec and substitutes its args. `argValues` holds every arg whose value is known
 * (value, or valueFrom already read); an arg without one is an error, as is a reference to an
 * arg that is not declared.
 */
export function prepareRun(spec: AnalysisRunSpec, argValues: ReadonlyMap<string, string>, rawSpec?: unknown): Prepared {
  const problems: string[] = [];
  if (spec.metrics.length === 0) problems.push('the run has no metrics');
  const declared = new Set((spec.args ?? []).map((a) => a.name));
  problems.push(...missingArgProblems(spec.args ?? [], argValues));
  problems.push(...ruleProblems(spec, spec.metrics.map((m) => substituteArgs(m.name, argValues))));
  const names = new Set<string>();
  const prepared: PreparedMetric[] = [];
  // Provider keys are named in the order written, which parsing loses (it puts the known ones first).
  const rawMetrics = (rawSpec as { metrics?: { provider?: Record<string, unknown> }[] } | undefined)?.metrics;
  for (const [i, metric] of spec.metrics.entries()) {
    const where = `metric "${metric.name}"`;
    if (names.has(metric.name)) problems.push(`${where} is defined twice`);
    names.add(metric.name);
    for (const name of stringsOf(metric).flatMap(referencedArgs)) {
      if (!declared.has(name)) problems.push(`${where} uses {{args.${name}}} but no arg "${name}" is declared`);
    }
    const provider = metricProvider(rawMetrics?.[i]?.provider ?? metric.provider, where);
    if (!provider.ok) {
      problems.push(provider.message);
      continue;
    }
    problems.push(...conditionProblems(metric, argValues, where));
    const resolved = substituteArgs(metric, argValues);
    const policy = metricPolicy(resolved, spec);
    if (!policy.ok) {
      problems.push(policy.message);
      continue;
    }
    problems.push(...providerProblems(resolved, provider.provider, where));
    prepared.push({ metric: resolved, policy: policy.policy, provider: provider.provider });
  }
  return problems.length > 0 ? { ok: false, message: problems.join('; ') } : { ok: true, metrics: prepared };
}

/** One problem per arg without a value, with the likely reason, for the user to act on. */
function missingArgProblems(args: readonly Argument[], argValues: ReadonlyMap<string, string>): string[] {
  return args
    .filter((arg) => !argValues.has(arg.name))
    .map((arg) => {
      const how = arg.valueFrom?.secretKeyRef
        ? `the Secret key ${arg.valueFrom.secretKeyRef.name}/${arg.valueFrom.secretKeyRef.key} could not be read`
        : arg.valueFrom?.podTemplateHashValue || arg.valueFrom?.fieldRef
          ? 'its valueFrom could not be resolved from the Rollout'
          : 'pass it in the Rollout (analysis.args) or give it a value in the template';
      return `arg "${arg.name}" has no value: ${how}`;
    });
}

type ChosenProvider = { ok: true; provider: PreparedMetric['provider'] } | { ok: false; message: string };

/** The one provider a metric measures with: it must set exactly one, and one this controller supports. */
function metricProvider(provider: Metric['provider'] | Record<string, unknown>, where: string): ChosenProvider {
  const kinds = providerKinds(provider);
  const supported = kinds.filter((k): k is PreparedMetric['provider'] => (SUPPORTED_PROVIDERS as readonly string[]).includes(k));
  const unsupported = kinds.filter((k) => !(SUPPORTED_PROVIDERS as readonly string[]).includes(k));
  if (unsupported.length > 0) {
    return { ok: false, message: `${where}: provider ${unsupported.join(', ')} is not supported (supported: ${SUPPORTED_PROVIDERS.join(', ')})` };
  }
  if (supported.length !== 1) {
    return { ok: false, message: supported.length === 0 ? `${where} has no provider: set one of ${SUPPORTED_PROVIDERS.join(', ')}` : `${where} sets several providers (${supported.join(', ')}); a metric has one` };
  }
  return { ok: true, provider: supported[0] as PreparedMetric['provider'] };
}

/** Conditions are checked with the args substituted: that is the text that will be evaluated. */
function conditionProblems(metric: Metric, argValues: ReadonlyMap<string, string>, where: string): string[] {
  const problems: string[] = [];
  for (const field of ['successCondition', 'failureCondition'] as const) {
    const source = metric[field];
    if (source === undefined || source === '') continue;
    const err = checkCondition(substituteArgs(source, argValues));
    if (err) problems.push(`${where}: ${field} ${err.message}`);
  }
  return problems;
}

/** What the chosen provider needs and does not support yet, on the metric with its args substituted. */
function providerProblems(resolved: Metric, provider: PreparedMetric['provider'], where: string): string[] {
  const problems: string[] = [];
  if (provider === 'prometheus' && !resolved.provider.prometheus?.address) problems.push(`${where}: prometheus.address is missing`);
  if (provider === 'prometheus' && !resolved.provider.prometheus?.query) problems.push(`${where}: prometheus.query is missing`);
  const notYet = [
    resolved.provider.prometheus?.authentication && 'prometheus.authentication',
    resolved.provider.prometheus?.rangeQuery && 'prometheus.rangeQuery',
    resolved.provider.web?.authentication && 'web.authentication',
  ].filter((f): f is string => typeof f === 'string');
  if (notYet.length > 0) problems.push(`${where}: ${notYet.join(', ')} is not supported yet (use headers, e.g. Authorization, and an instant query)`);
  if (provider === 'web' && resolved.provider.web?.jsonPath) {
    try {
      parseJsonPath(resolved.provider.web.jsonPath);
    } catch (err) {
      problems.push(`${where}: ${(err as Error).message}`);
    }
  }
  return problems;
}

/**
 * The run's dryRun / measurementRetention rules, checked once against all its metrics (not per
 * metric): a pattern RE2 refuses, and a rule naming no metric, which makes the run Error as in Argo.
 */
function ruleProblems(spec: AnalysisRunSpec, metricNames: readonly string[]): string[] {
  const unmatched = metricNames.length > 0 ? unmatchedRuleIssues(spec, metricNames, '', 'this run') : [];
  return [...metricNamePatternIssues(spec, ''), ...unmatched].map(formatIssue);
}
