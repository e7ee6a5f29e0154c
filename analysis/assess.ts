// Measurement assessment and phase transitions of an AnalysisRun, as users of Argo Rollouts know
// them. Pure: the reconciler (analysis/controller.ts) takes measurements through the providers and
// hands them here; what comes back is the next status and when to measure next.
//
// A metric's measurements are counted in its result: Successful, Failed and Inconclusive count
// towards `count`; an Error does not (it is retried), but errors in a row are limited by
// consecutiveErrorLimit (default 4: the fifth error in a row makes the metric Error).
//   failed > failureLimit (default 0)                → Failed
//   inconclusive > inconclusiveLimit (default 0)     → Inconclusive
//   consecutiveError > consecutiveErrorLimit         → Error
//   consecutiveSuccess >= consecutiveSuccessLimit     → Successful (when that limit is set)
//   count measurements taken                          → Successful (Inconclusive when a
//                                                       consecutiveSuccessLimit was never reached)
// A limit of -1 switches that check off. A metric named in dryRun is measured and reported but
// never decides the run. The run is the worst of its metrics (Failed > Error > Inconclusive >
// Successful) once all are complete; a metric that fails ends the others ("terminating"), as does
// spec.terminate, and metrics still running then end Successful.
import {
  DEFAULT_CONSECUTIVE_ERROR_LIMIT,
  DEFAULT_ERROR_RETRY_INTERVAL_MS,
  DEFAULT_FAILURE_LIMIT,
  DEFAULT_INCONCLUSIVE_LIMIT,
  DEFAULT_MEASUREMENT_RETENTION,
  DEFAULT_NO_DATA_PHASE,
  intOrStringValue,
  isCompleted,
  metricNameMatches,
  type AnalysisPhase,
  type AnalysisRunSpec,
  type Measurement,
  type Metric,
  type MetricResult,
  type NoDataPhase,
  type RunSummary,
} from '../api/analysis.ts';
import { parseDurationMs } from '../api/rollout.ts';
import { EvaluationError, ExpressionError, evaluateCondition } from './expression.ts';
import { RegexError } from '../lib/safe-regex.ts';

/** A metric's rules with every default applied. */
export interface MetricPolicy {
  name: string;
  /** undefined: one measurement (or `count` back to back is refused) */
  intervalMs: number | undefined;
  initialDelayMs: number;
  /** undefined: measure until the run is terminated */
  count: number | undefined;
  failureLimit: number;
  inconclusiveLimit: number;
  consecutiveErrorLimit: number;
  /** 0: not used */
  consecutiveSuccessLimit: number;
  dryRun: boolean;
  /** measurements kept in status */
  retention: number;
  noData: NoDataPhase;
  successCondition: string | undefined;
  failureCondition: string | undefined;
}

export type PolicyResult = { ok: true; policy: MetricPolicy } | { ok: false; message: string };

/**
 * The policy of one metric (whose {{args}} are already substituted) within a run spec; a message
 * naming the field when a value cannot be used.
 */
export function metricPolicy(metric: Metric, spec: Pick<AnalysisRunSpec, 'dryRun' | 'measurementRetention' | 'noData'>): PolicyResult {
  const problems: string[] = [];
  const duration = (field: 'interval' | 'initialDelay'): number | undefined => {
    const text = metric[field];
    if (text === undefined || text === '') return undefined;
    const ms = parseDurationMs(text);
    if (ms === undefined) problems.push(`${field} ${JSON.stringify(text)} is not a duration such as "30s", "5m" or "1h"`);
    return ms;
  };
  const limit = (field: 'count' | 'failureLimit' | 'inconclusiveLimit' | 'consecutiveErrorLimit' | 'consecutiveSuccessLimit', fallback: number, min: number): number => {
    const value = intOrStringValue(metric[field]);
    if (value === undefined) return fallback;
    if (Number.isNaN(value) || value < min) {
      problems.push(`${field} must be a whole number${min === -1 ? ' (-1 for no limit)' : ''} of at least ${min}, got ${JSON.stringify(metric[field])}`);
      return fallback;
    }
    return value;
  };
  const intervalMs = duration('interval');
  const initialDelayMs = duration('initialDelay') ?? 0;
  const rawCount = limit('count', intervalMs === undefined ? 1 : 0, 0);
  const count = rawCount === 0 ? undefined : rawCount;
  if (intervalMs === undefined && metric.interval === undefined && (count === undefined || count > 1) && metric.count !== undefined) {
    problems.push(`count ${String(metric.count)} needs an interval between the measurements, e.g. interval: 30s`);
  }
  if (intervalMs === 0) problems.push('interval must be longer than 0');
  // A rule's pattern is searched for in the name, as Argo does. One RE2 refuses is a problem of
  // the run, reported once by prepareRun (analysis/metric-name-patterns.ts), not per metric.
  const names = (key: 'dryRun' | 'measurementRetention') => (entry: { metricName: string }, i: number): boolean => {
    try {
      return metricNameMatches(entry.metricName, metric.name, `${key}[${i}].metricName`);
    } catch (err) {
      if (!(err instanceof RegexError)) throw err;
      return false;
    }
  };
  const policy: MetricPolicy = {
    name: metric.name,
    intervalMs,
    initialDelayMs,
    count,
    failureLimit: limit('failureLimit', DEFAULT_FAILURE_LIMIT, -1),
    inconclusiveLimit: limit('inconclusiveLimit', DEFAULT_INCONCLUSIVE_LIMIT, -1),
    consecutiveErrorLimit: limit('consecutiveErrorLimit', DEFAULT_CONSECUTIVE_ERROR_LIMIT, -1),
    consecutiveSuccessLimit: limit('consecutiveSuccessLimit', 0, 0),
    dryRun: (spec.dryRun ?? []).some(names('dryRun')),
    retention: DEFAULT_MEASUREMENT_RETENTION,
    noData: metric.noData ?? spec.noData ?? DEFAULT_NO_DATA_PHASE,
    successCondition: metric.successCondition || undefined,
    failureCondition: metric.failureCondition || undefined,
  };
  // Of several retention rules naming the metric, the last one counts, as in Argo.
  const retention = (spec.measurementRetention ?? []).findLast(names('measurementRetention'));
  if (retention !== undefined) {
    if (retention.limit < 1) problems.push(`measurementRetention limit must be at least 1, got ${retention.limit}`);
    else policy.retention = retention.limit;
  }
  return problems.length > 0 ? { ok: false, message: `metric "${metric.name}": ${problems.join('; ')}` } : { ok: true, policy };
}

// ---------------------------------------------------------------------------------------------
// One measurement

/** What a provider saw. */
export type ProviderOutcome =
  /** a value for the conditions; `display` is what status shows (e.g. "[0.02]") */
  | { kind: 'value'; value: unknown; display: string }
  /** the query answered, with nothing in it (empty vector, JSON path with no match) */
  | { kind: 'noData'; message: string }
  /** the provider decides the phase itself (a Job); Running means "look again later" */
  | { kind: 'phase'; phase: 'Successful' | 'Failed' | 'Running'; message?: string; metadata?: Record<string, string>; resumeAt?: string }
  /** the provider could not measure: unreachable, timeout, bad answer */
  | { kind: 'error'; message: string };

/**
 * Argo's rule for conditions: with neither, a value is Successful; with only a success condition,
 * false means Failed; with only a failure condition, false means Successful; with both, neither
 * true means Inconclusive. A condition that cannot be evaluated makes the measurement Error.
 */
export function evaluateConditions(policy: Pick<MetricPolicy, 'successCondition' | 'failureCondition'>, result: unknown): { phase: AnalysisPhase; message?: string } {
  let success = false;
  let failure = false;
  try {
    if (policy.successCondition !== undefined) success = evaluateCondition(policy.successCondition, result);
    if (policy.failureCondition !== undefined) failure = evaluateCondition(policy.failureCondition, result);
  } catch (err) {
    if (err instanceof ExpressionError || err instanceof EvaluationError) return { phase: 'Error', message: err.message };
    throw err;
  }
  if (policy.successCondition === undefined && policy.failureCondition === undefined) return { phase: 'Successful' };
  if (policy.failureCondition === undefined) failure = !success;
  if (policy.successCondition === undefined) success = !failure;
  if (failure) return { phase: 'Failed' };
  if (!success) return { phase: 'Inconclusive', message: 'neither successCondition nor failureCondition is true' };
  return { phase: 'Successful' };
}

/** The measurement a provider outcome makes. */
export function measurementOf(policy: MetricPolicy, outcome: ProviderOutcome, startedAt: string, finishedAt: string): Measurement {
  switch (outcome.kind) {
    case 'value': {
      const { phase, message } = evaluateConditions(policy, outcome.value);
      return { phase, value: outcome.display, startedAt, finishedAt, ...(message ? { message } : {}) };
    }
    case 'noData':
      return { phase: policy.noData, startedAt, finishedAt, message: `no data: ${outcome.message} (assessed ${policy.noData}, see noData)` };
    case 'error':
      return { phase: 'Error', startedAt, finishedAt, message: outcome.message };
    case 'phase':
      return {
        phase: outcome.phase,
        startedAt,
        ...(outcome.phase === 'Running' ? {} : { finishedAt }),
        ...(outcome.message ? { message: outcome.message } : {}),
        ...(outcome.metadata ? { metadata: outcome.metadata } : {}),
        ...(outcome.resumeAt ? { resumeAt: outcome.resumeAt } : {}),
      };
  }
}

/** An empty result for a metric that has not measured yet. */
export function emptyResult(policy: MetricPolicy): MetricResult {
  return { name: policy.name, phase: 'Pending', ...(policy.dryRun ? { dryRun: true } : {}), count: 0, successful: 0, failed: 0, inconclusive: 0, error: 0, consecutiveError: 0, consecutiveSuccess: 0 };
}

/**
 * The result after a measurement: a new one is appended, or (same startedAt) it replaces the
 * in-flight measurement it completes. Counters move when a measurement completes; only the last
 * `retention` measurements are kept.
 */
export function recordMeasurement(previous: MetricResult, measurement: Measurement, policy: MetricPolicy): MetricResult {
  const result: MetricResult = { ...previous, measurements: [...(previous.measurements ?? [])] };
  const measurements = result.measurements as Measurement[];
  const last = measurements.at(-1);
  if (last && !isCompleted(last.phase) && last.startedAt === measurement.startedAt) measurements[measurements.length - 1] = measurement;
  else measurements.push(measurement);
  if (isCompleted(measurement.phase)) {
    const n = (v: number | undefined): number => v ?? 0;
    switch (measurement.phase) {
      case 'Successful':
        result.successful = n(result.successful) + 1;
        result.count = n(result.count) + 1;
        result.consecutiveError = 0;
        result.consecutiveSuccess = n(result.consecutiveSuccess) + 1;
        break;
      case 'Failed':
        result.failed = n(result.failed) + 1;
        result.count = n(result.count) + 1;
        result.consecutiveError = 0;
        result.consecutiveSuccess = 0;
        break;
      case 'Inconclusive':
        result.inconclusive = n(result.inconclusive) + 1;
        result.count = n(result.count) + 1;
        result.consecutiveError = 0;
        result.consecutiveSuccess = 0;
        break;
      case 'Error':
        result.error = n(result.error) + 1;
        result.consecutiveError = n(result.consecutiveError) + 1;
        result.consecutiveSuccess = 0;
        break;
    }
  }
  if (measurements.length > policy.retention) measurements.splice(0, measurements.length - policy.retention);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Metric and run phases

export interface Assessment {
  phase: AnalysisPhase;
  message?: string;
}

/** Failed, Inconclusive or Error by the limits (the last check that trips wins, as in Argo); undefined when none trips. */
function limitsTripped(policy: MetricPolicy, result: MetricResult): Assessment | undefined {
  let tripped: Assessment | undefined;
  const failed = result.failed ?? 0;
  const inconclusive = result.inconclusive ?? 0;
  const errors = result.consecutiveError ?? 0;
  if (policy.failureLimit >= 0 && failed > policy.failureLimit) tripped = { phase: 'Failed', message: `failed (${failed}) > failureLimit (${policy.failureLimit})` };
  if (policy.inconclusiveLimit >= 0 && inconclusive > policy.inconclusiveLimit) tripped = { phase: 'Inconclusive', message: `inconclusive (${inconclusive}) > inconclusiveLimit (${policy.inconclusiveLimit})` };
  if (policy.consecutiveErrorLimit >= 0 && errors > policy.consecutiveErrorLimit) {
    tripped = { phase: 'Error', message: `consecutiveErrors (${errors}) > consecutiveErrorLimit (${policy.consecutiveErrorLimit})` };
  }
  return tripped;
}

/** The phase of one metric from its result. `terminating`: the run is stopping, running metrics end. */
export function assessMetric(policy: MetricPolicy, result: MetricResult, terminating: boolean): Assessment {
  if (isCompleted(result.phase)) return { phase: result.phase, ...(result.message ? { message: result.message } : {}) };
  const measurements = result.measurements ?? [];
  const last = measurements.at(-1);
  if (!last) return terminating ? { phase: 'Successful', message: 'the run was terminated before the first measurement' } : { phase: 'Pending' };
  if (!isCompleted(last.phase)) return terminating ? { phase: 'Successful', message: 'the run was terminated during a measurement' } : { phase: 'Running' };
  const tripped = limitsTripped(policy, result);
  if (tripped) return tripped;
  if (policy.consecutiveSuccessLimit > 0 && (result.consecutiveSuccess ?? 0) >= policy.consecutiveSuccessLimit) {
    return { phase: 'Successful', message: `consecutiveSuccess (${result.consecutiveSuccess ?? 0}) >= consecutiveSuccessLimit (${policy.consecutiveSuccessLimit})` };
  }
  if (policy.count !== undefined && (result.count ?? 0) >= policy.count) {
    if (policy.consecutiveSuccessLimit > 0) {
      return { phase: 'Inconclusive', message: `count (${policy.count}) reached without ${policy.consecutiveSuccessLimit} consecutive successes` };
    }
    return { phase: 'Successful' };
  }
  if (terminating) return { phase: 'Successful', message: 'the run was terminated' };
  return { phase: 'Running' };
}

const SEVERITY: Record<AnalysisPhase, number> = { Pending: 0, Running: 0, Successful: 1, Inconclusive: 2, Error: 3, Failed: 4 };

/** Whether `candidate` is a worse outcome than `current` (Failed > Error > Inconclusive > Successful). */
export function isWorse(current: AnalysisPhase, candidate: AnalysisPhase): boolean {
  return SEVERITY[candidate] > SEVERITY[current];
}

export interface RunAssessment {
  phase: AnalysisPhase;
  message?: string;
  /** the metric whose outcome decided the run (the worst), if any */
  decidingMetric?: string;
  metricResults: MetricResult[];
  runSummary: Required<RunSummary>;
  dryRunSummary?: Required<RunSummary>;
}

function summaryOf(results: MetricResult[]): Required<RunSummary> {
  const summary = { count: results.length, successful: 0, failed: 0, inconclusive: 0, error: 0 };
  for (const r of results) {
    if (r.phase === 'Successful') summary.successful++;
    else if (r.phase === 'Failed') summary.failed++;
    else if (r.phase === 'Inconclusive') summary.inconclusive++;
    else if (r.phase === 'Error') summary.error++;
  }
  return summary;
}

/** What a metric result says to a person: `Metric "x" assessed Failed due to failed (1) > failureLimit (0); last value [0.2]`. */
export function describeMetric(result: MetricResult): string {
  const last = [...(result.measurements ?? [])].reverse().find((m) => isCompleted(m.phase));
  const reason = result.message ? ` due to ${result.message}` : '';
  const value = last?.value !== undefined ? `; last value ${last.value}` : '';
  const lastMessage = last?.message && last.message !== result.message ? `; last measurement: ${last.message}` : '';
  return `Metric "${result.name}" assessed ${result.phase}${reason}${value}${lastMessage}`;
}

/**
 * Every metric assessed, and the run's phase from them. `terminate` is spec.terminate. Results
 * are matched to policies by name; a policy without a result counts as Pending.
 */
export function assessRun(policies: MetricPolicy[], results: MetricResult[], terminate: boolean): RunAssessment {
  const byName = new Map(results.map((r) => [r.name, r]));
  const resultOf = (p: MetricPolicy): MetricResult => byName.get(p.name) ?? emptyResult(p);
  const decisive = (phase: string): boolean => phase === 'Failed' || phase === 'Error' || phase === 'Inconclusive';
  // First pass: which metrics have ended badly (they make the run stop).
  let terminating = terminate;
  const firstPass = policies.map((p) => {
    const assessment = assessMetric(p, resultOf(p), false);
    if (!p.dryRun && decisive(assessment.phase)) terminating = true;
    return assessment;
  });
  const metricResults: MetricResult[] = policies.map((p, i) => {
    const assessment = terminating ? assessMetric(p, resultOf(p), true) : (firstPass[i] as Assessment);
    const next: MetricResult = { ...resultOf(p), phase: assessment.phase };
    if (assessment.message !== undefined) next.message = assessment.message;
    else delete next.message;
    return next;
  });
  const counted = metricResults.filter((_, i) => !(policies[i] as MetricPolicy).dryRun);
  const dry = metricResults.filter((_, i) => (policies[i] as MetricPolicy).dryRun);
  const out: RunAssessment = { phase: 'Running', metricResults, runSummary: summaryOf(counted) };
  if (dry.length > 0) out.dryRunSummary = summaryOf(dry);
  if (metricResults.some((r) => !isCompleted(r.phase))) {
    out.phase = metricResults.every((r) => r.phase === 'Pending') ? 'Pending' : 'Running';
    return out;
  }
  let worst: MetricResult | undefined;
  for (const r of counted) if (worst === undefined || isWorse(worst.phase, r.phase)) worst = r;
  if (worst === undefined || worst.phase === 'Successful') {
    out.phase = 'Successful';
    out.message = terminate ? 'Run Terminated' : dry.some((r) => r.phase !== 'Successful') ? `dry-run metrics did not pass: ${dry.filter((r) => r.phase !== 'Successful').map((r) => r.name).join(', ')}` : undefined;
    if (out.message === undefined) delete out.message;
    return out;
  }
  out.phase = worst.phase;
  out.message = describeMetric(worst);
  out.decidingMetric = worst.name;
  return out;
}

/**
 * When a metric measures next (ms since the epoch); `undefined` when it will not (it completed,
 * or a measurement is in flight and its provider tells us when it changes).
 */
export function nextMeasurementAt(policy: MetricPolicy, result: MetricResult | undefined, runStartedAt: number): number | undefined {
  if (result && isCompleted(result.phase)) return undefined;
  const last = result?.measurements?.at(-1);
  if (!last) return runStartedAt + policy.initialDelayMs;
  if (!isCompleted(last.phase)) return last.resumeAt ? Date.parse(last.resumeAt) : undefined;
  if (policy.count !== undefined && (result?.count ?? 0) >= policy.count) return undefined;
  const finished = Date.parse(last.finishedAt ?? last.startedAt ?? '') || runStartedAt;
  if (last.phase === 'Error') return finished + Math.min(policy.intervalMs ?? DEFAULT_ERROR_RETRY_INTERVAL_MS, DEFAULT_ERROR_RETRY_INTERVAL_MS);
  if (policy.intervalMs === undefined) return undefined;
  return finished + policy.intervalMs;
}
