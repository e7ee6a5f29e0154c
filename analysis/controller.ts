// The AnalysisRun reconciler: an informer on AnalysisRuns (and one on the Jobs of job metrics)
// feeds a work queue; a reconcile takes the measurements that are due, assesses them (pure, in
// assess.ts), writes the run's status and asks to be called again when the next measurement is
// due — no polling. Everything it knows lives in the run's status, so a restart resumes where it
// was. A run that cannot be measured (unknown provider, malformed condition, missing arg, ...)
// goes to Error with a message that says why; nothing in a run can crash the controller.
// Values read from Secrets never leave it: the status it writes (and so the Events, the log and
// the Rollout that quote it) and the errors it throws pass through the run's Redactor.
import { isDeepStrictEqual } from 'node:util';
import {
  ANALYSIS_API_VERSION,
  ANALYSIS_RUN_KIND,
  ANALYSIS_RUN_PLURAL,
  AnalysisRunSpecSchema,
  isCompleted,
  type AnalysisRunSpec,
  type AnalysisRunStatus,
  type Measurement,
  type MetricResult,
} from '../api/analysis.ts';
import { formatPath } from '../api/issues.ts';
import { ROLLOUT_GROUP, ROLLOUT_VERSION } from '../api/rollout.ts';
import { KubeApiError, isConflict, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import { Informer, keyOf, splitKey, type Logger } from '../kube/informer.ts';
import { WorkQueue, type ReconcileOutcome } from '../kube/workqueue.ts';
import { assessRun, emptyResult, measurementOf, nextMeasurementAt, recordMeasurement, type ProviderOutcome } from './assess.ts';
import { ANALYSIS_RUN_LABEL, JOB_NAME_KEY, buildJob, deleteJob, jobOutcome, jobRef, startJob, type JobObject } from './providers/job.ts';
import { measurePrometheus } from './providers/prometheus.ts';
import { measureWeb } from './providers/web.ts';
import { Redactor, type Redacted } from './redact.ts';
import { prepareRun, resolveRunArgs, type PreparedMetric } from './run-spec.ts';

/** Set by the Rollout controller when it could not build a run's spec (e.g. a template vanished). */
export const BUILD_ERROR_ANNOTATION = 'rollway.dev/analysis-build-error';
const INSTANCE_ID_LABEL = 'rollway.dev/controller-instance-id';

export interface AnalysisRunObject extends KubeObject {
  spec?: unknown;
  status?: AnalysisRunStatus;
}

export const analysisRunRef = (namespace: string | undefined, name?: string, subresource?: string): ResourceRef => ({
  group: ROLLOUT_GROUP,
  version: ROLLOUT_VERSION,
  plural: ANALYSIS_RUN_PLURAL,
  namespace,
  name,
  subresource,
});

/** Measures with a provider; tests replace it. */
export type Measurer = (metric: PreparedMetric, run: { name: string; namespace: string; uid: string }, n: number, redactor: Redactor) => Promise<ProviderOutcome>;

/** The clock of one reconcile. */
interface RunClock {
  now: number;
  nowIso: string;
  startedAt: string;
}

export interface AnalysisControllerOptions {
  client: KubeClient;
  namespace?: string | undefined;
  instanceId?: string | undefined;
  log: Logger;
  workers?: number;
  now?: () => number;
  /** fencing: false once this process may no longer write (lost leadership) */
  canWrite?: () => boolean;
}

export class AnalysisRunController {
  readonly runs: Informer<AnalysisRunObject>;
  readonly jobs: Informer<JobObject>;
  readonly queue: WorkQueue;
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly events: EventRecorder;
  private readonly canWrite: () => boolean;

  constructor(options: AnalysisControllerOptions) {
    this.client = options.client;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.canWrite = options.canWrite ?? (() => true);
    this.events = new EventRecorder(options.client, 'rollway-analysis', options.instanceId ?? 'rollway');
    const ns = options.namespace;
    const informerLog: Logger = (level, msg, fields) => this.log(level, msg, { component: 'analysis-informer', ...fields });
    const selector = options.instanceId ? `${INSTANCE_ID_LABEL}=${options.instanceId}` : `!${INSTANCE_ID_LABEL}`;
    this.runs = new Informer<AnalysisRunObject>(this.client, analysisRunRef(ns), { labelSelector: selector, log: informerLog });
    this.jobs = new Informer<JobObject>(this.client, { group: 'batch', version: 'v1', plural: 'jobs', namespace: ns }, { labelSelector: ANALYSIS_RUN_LABEL, log: informerLog });
    this.queue = new WorkQueue({
      concurrency: options.workers ?? 4,
      onError: (key, err) => {
        const level = isConflict(err) ? 'info' : 'error';
        this.log(level, isConflict(err) ? 'AnalysisRun write conflict, measuring again from fresh state' : 'AnalysisRun reconcile failed', { analysisRun: key, error: String(err) });
      },
    });
    this.runs.on((event) => this.queue.add(keyOf(event.object)));
    this.jobs.on((event) => {
      const owner = event.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === ANALYSIS_RUN_KIND);
      if (owner) this.queue.add(`${event.object.metadata.namespace}/${owner.name}`);
    });
  }

  async start(): Promise<void> {
    this.runs.start();
    this.jobs.start();
    await Promise.all([this.runs.waitForSync(), this.jobs.waitForSync()]);
    this.queue.start((key) => this.reconcile(key));
    this.log('info', 'analysis controller started', { analysisRuns: this.runs.list().length });
  }

  async stop(): Promise<void> {
    this.runs.stop();
    this.jobs.stop();
    await this.queue.stop();
  }

  synced(): boolean {
    return this.runs.hasSynced() && this.jobs.hasSynced();
  }

  /** Takes the measurement of one metric: a provider call, or for a Job its creation. */
  measure: Measurer = async (prepared, run, n, redactor) => {
    const provider = prepared.metric.provider;
    const redact = (text: string): string => redactor.text(text);
    switch (prepared.provider) {
      case 'prometheus':
        return measurePrometheus(provider.prometheus!, { redact });
      case 'web':
        return measureWeb(provider.web!, { redact });
      case 'job':
        return startJob(this.client, buildJob(run, prepared.metric.name, provider.job!, n));
    }
  };

  async reconcile(key: string): Promise<ReconcileOutcome | void> {
    if (!this.canWrite()) throw new Error('not the leader: no writes');
    const { namespace, name } = splitKey(key);
    const run = this.runs.get(namespace, name);
    if (!run || run.metadata.deletionTimestamp) return;
    if (run.status && isCompleted(run.status.phase)) return;
    const now = this.now();
    const at: RunClock = { now, nowIso: new Date(now).toISOString(), startedAt: run.status?.startedAt ?? new Date(now).toISOString() };

    // --- everything that makes the run Error before it measures -------------------------------
    const buildError = run.metadata.annotations?.[BUILD_ERROR_ANNOTATION];
    if (buildError) return this.fail(run, `the AnalysisRun could not be built: ${buildError}`, at, Redactor.none);
    const parsed = AnalysisRunSpecSchema.safeParse(run.spec ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `spec.${formatPath(i.path)}: ${i.message}`).join('; ');
      return this.fail(run, `invalid spec: ${issues}`, at, Redactor.none);
    }
    const ns = run.metadata.namespace as string;
    const args = await resolveRunArgs(parsed.data.args ?? [], (ref) => this.readSecret(ns, ref.name, ref.key));
    // From here on every message may carry a secret value: all of it leaves through the redactor,
    // errors included (they end up in the log).
    const redactor = new Redactor(args.secrets);
    try {
      return await this.measureRun(run, parsed.data, args.values, redactor, at);
    } catch (err) {
      throw redactor.error(err);
    }
  }

  private async measureRun(run: AnalysisRunObject, spec: AnalysisRunSpec, argValues: ReadonlyMap<string, string>, redactor: Redactor, at: RunClock): Promise<ReconcileOutcome | void> {
    const prepared = prepareRun(spec, argValues, run.spec);
    if (!prepared.ok) return this.fail(run, prepared.message, at, redactor);
    const terminate = spec.terminate === true;
    const runStart = Date.parse(at.startedAt);
    const resultsByName = new Map((run.status?.metricResults ?? []).map((r) => [r.name, r]));
    await Promise.all(
      prepared.metrics.map(async (metric) => {
        const result = await this.measureMetric(run, metric, resultsByName.get(metric.policy.name), { terminate, runStart, redactor, at });
        if (result) resultsByName.set(metric.policy.name, result);
      }),
    );

    // --- assessment ---------------------------------------------------------------------------
    const policies = prepared.metrics.map((m) => m.policy);
    const assessment = assessRun(policies, [...resultsByName.values()], terminate);
    const status: AnalysisRunStatus = {
      phase: assessment.phase,
      startedAt: at.startedAt,
      metricResults: assessment.metricResults,
      runSummary: assessment.runSummary,
      ...(assessment.dryRunSummary ? { dryRunSummary: assessment.dryRunSummary } : {}),
      ...(assessment.message ? { message: assessment.message } : {}),
    };
    const completed = isCompleted(status.phase);
    if (completed) {
      status.completedAt = at.nowIso;
      // Jobs still running for metrics that ended with the run go with it.
      for (const result of assessment.metricResults) {
        const last = result.measurements?.at(-1);
        const jobName = last && !isCompleted(last.phase) ? last.metadata?.[JOB_NAME_KEY] : undefined;
        if (jobName) await deleteJob(this.client, run.metadata.namespace as string, jobName);
      }
    }
    const written = redactor.status(status);
    await this.writeStatus(run, written);
    if (completed && run.status?.phase !== status.phase) await this.recordEnd(run, written);
    if (completed) return;
    let next: number | undefined;
    for (const metric of prepared.metrics) {
      const due = nextMeasurementAt(metric.policy, assessment.metricResults.find((r) => r.name === metric.policy.name), runStart);
      if (due !== undefined) next = next === undefined ? due : Math.min(next, due);
    }
    return next !== undefined ? { requeueAfterMs: Math.max(1, next - this.now()) } : undefined;
  }

  /**
   * One metric's measurement, if one is due or in flight; its result afterwards (undefined when
   * nothing changed). A provider that throws makes an Error measurement.
   */
  private async measureMetric(
    run: AnalysisRunObject,
    metric: PreparedMetric,
    previous: MetricResult | undefined,
    context: { terminate: boolean; runStart: number; redactor: Redactor; at: RunClock },
  ): Promise<MetricResult | undefined> {
    const { policy } = metric;
    const { nowIso } = context.at;
    const ns = run.metadata.namespace as string;
    const result: MetricResult = previous ?? emptyResult(policy);
    if (isCompleted(result.phase)) return undefined;
    const last = result.measurements?.at(-1);
    if (last && !isCompleted(last.phase)) {
      // A measurement in flight (a Job): look at it again.
      const jobName = last.metadata?.[JOB_NAME_KEY];
      if (!jobName) return undefined;
      if (context.terminate) {
        await deleteJob(this.client, ns, jobName);
        return recordMeasurement(result, { ...last, phase: 'Successful', finishedAt: nowIso, message: `terminated: Job ${jobName} deleted` }, policy);
      }
      // The Job's watch may not have delivered our own create yet: a cache miss asks the API once.
      const job = this.jobs.get(ns, jobName) ?? (await this.client.getOptional<JobObject>(jobRef(ns, jobName)));
      const outcome = jobOutcome(job, jobName);
      if (outcome.kind === 'phase' && outcome.phase === 'Running') return undefined;
      return recordMeasurement(result, measurementOf(policy, outcome, last.startedAt ?? nowIso, nowIso), policy);
    }
    if (context.terminate) return undefined;
    const due = nextMeasurementAt(policy, result, context.runStart);
    if (due === undefined || due > context.at.now) return undefined;
    const n = (result.count ?? 0) + (result.error ?? 0) + 1;
    let outcome: ProviderOutcome;
    try {
      outcome = await this.measure(metric, { name: run.metadata.name ?? '', namespace: ns, uid: run.metadata.uid ?? '' }, n, context.redactor);
    } catch (err) {
      outcome = { kind: 'error', message: `measuring failed: ${err instanceof Error ? err.message : String(err)}` };
    }
    const measurement: Measurement = measurementOf(policy, outcome, nowIso, new Date(this.now()).toISOString());
    return recordMeasurement(result, measurement, policy);
  }

  private async readSecret(namespace: string, name: string, key: string): Promise<string | undefined> {
    try {
      const secret = await this.client.get<KubeObject & { data?: Record<string, string> }>({ group: '', version: 'v1', plural: 'secrets', namespace, name });
      const data = secret.data?.[key];
      return data === undefined ? undefined : Buffer.from(data, 'base64').toString('utf8');
    } catch (err) {
      if (err instanceof KubeApiError && (err.isNotFound || err.statusCode === 403)) return undefined;
      throw err;
    }
  }

  /** The run goes to Error with a message; it measures nothing more. */
  private async fail(run: AnalysisRunObject, message: string, at: RunClock, redactor: Redactor): Promise<void> {
    const status = redactor.status({ phase: 'Error', message, startedAt: at.startedAt, completedAt: at.nowIso, metricResults: run.status?.metricResults ?? [] });
    await this.writeStatus(run, status);
    await this.recordEnd(run, status);
  }

  private async writeStatus(run: AnalysisRunObject, status: Redacted<AnalysisRunStatus>): Promise<void> {
    const comparable = (s: unknown): unknown => JSON.parse(JSON.stringify(s ?? {})) as unknown;
    if (isDeepStrictEqual(comparable(status), comparable(run.status))) return;
    // PUT with the cached resourceVersion: a stale cache fails with 409 and the key is retried,
    // so a measurement is never recorded twice.
    await this.client.replace(analysisRunRef(run.metadata.namespace, run.metadata.name, 'status'), { ...run, status });
  }

  private async recordEnd(run: AnalysisRunObject, status: Redacted<AnalysisRunStatus>): Promise<void> {
    const failed = status.phase !== 'Successful';
    const involved = { apiVersion: ANALYSIS_API_VERSION, kind: ANALYSIS_RUN_KIND, name: run.metadata.name ?? '', namespace: run.metadata.namespace ?? '', uid: run.metadata.uid ?? '' };
    const message = `AnalysisRun ${status.phase}${status.message ? `: ${status.message}` : ''}`;
    await this.events.record(involved, { type: failed ? 'Warning' : 'Normal', reason: `AnalysisRun${status.phase}`, message });
    this.log(failed ? 'warn' : 'info', message, { analysisRun: `${run.metadata.namespace}/${run.metadata.name}` });
  }
}
