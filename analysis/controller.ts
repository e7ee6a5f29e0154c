// The AnalysisRun reconciler: an informer on AnalysisRuns (and one on the Jobs of job metrics)
// feeds a work queue; a reconcile takes the measurements that are due, assesses them (pure, in
// assess.ts), writes the run's status and asks to be called again when the next measurement is
// due — no polling. Everything it knows lives in the run's status, so a restart resumes where it
// was. A run that cannot be measured (unknown provider, malformed condition, missing arg, ...)
// goes to Error with a message that says why; nothing in a run can crash the controller.
import { isDeepStrictEqual } from 'node:util';
import {
  ANALYSIS_API_VERSION,
  ANALYSIS_RUN_KIND,
  ANALYSIS_RUN_PLURAL,
  AnalysisRunSpecSchema,
  isCompleted,
  type AnalysisRunStatus,
  type Measurement,
  type MetricResult,
} from '../api/analysis.ts';
import { formatPath } from '../api/issues.ts';
import { ROLLOUT_GROUP, ROLLOUT_VERSION } from '../api/rollout.ts';
import { KubeApiError, isConflict, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { EventRecorder } from '../controller/events.ts';
import { Informer, keyOf, splitKey, type Logger } from '../controller/runtime/informer.ts';
import { WorkQueue, type ReconcileOutcome } from '../controller/runtime/workqueue.ts';
import { assessRun, emptyResult, measurementOf, nextMeasurementAt, recordMeasurement, type ProviderOutcome } from './assess.ts';
import { ANALYSIS_RUN_LABEL, JOB_NAME_KEY, buildJob, deleteJob, jobOutcome, startJob, type JobObject } from './providers/job.ts';
import { measurePrometheus } from './providers/prometheus.ts';
import { measureWeb } from './providers/web.ts';
import { prepareRun, type PreparedMetric } from './run-spec.ts';

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
export type Measurer = (metric: PreparedMetric, run: { name: string; namespace: string; uid: string }, n: number) => Promise<ProviderOutcome>;

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
  measure: Measurer = async (prepared, run, n) => {
    const provider = prepared.metric.provider;
    switch (prepared.provider) {
      case 'prometheus':
        return measurePrometheus(provider.prometheus!);
      case 'web':
        return measureWeb(provider.web!);
      case 'job':
        return startJob(this.client, buildJob(run, prepared.metric.name, provider.job!, n));
    }
  };

  async reconcile(key: string): Promise<ReconcileOutcome | void> {
    if (!this.canWrite()) throw new Error('not the leader: no writes');
    const { namespace, name } = splitKey(key);
    const run = this.runs.get(namespace, name);
    if (!run || run.metadata.deletionTimestamp) return;
    const previous = run.status;
    if (previous && isCompleted(previous.phase)) return;
    const now = this.now();
    const nowIso = new Date(now).toISOString();
    const ns = run.metadata.namespace as string;
    const owner = { name, namespace: ns, uid: run.metadata.uid ?? '' };
    const startedAt = previous?.startedAt ?? nowIso;

    // --- everything that makes the run Error before it measures -------------------------------
    const buildError = run.metadata.annotations?.[BUILD_ERROR_ANNOTATION];
    if (buildError) return this.fail(run, `the AnalysisRun could not be built: ${buildError}`, startedAt, nowIso);
    const parsed = AnalysisRunSpecSchema.safeParse(run.spec ?? {});
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `spec.${formatPath(i.path)}: ${i.message}`).join('; ');
      return this.fail(run, `invalid spec: ${issues}`, startedAt, nowIso);
    }
    const spec = parsed.data;
    const argValues = new Map<string, string>();
    for (const arg of spec.args ?? []) {
      if (arg.value !== undefined) argValues.set(arg.name, arg.value);
      else if (arg.valueFrom?.secretKeyRef) {
        const value = await this.readSecret(ns, arg.valueFrom.secretKeyRef.name, arg.valueFrom.secretKeyRef.key);
        if (value !== undefined) argValues.set(arg.name, value);
      }
    }
    const prepared = prepareRun(spec, argValues, run.spec);
    if (!prepared.ok) return this.fail(run, prepared.message, startedAt, nowIso);

    // --- measurements that are due ------------------------------------------------------------
    const terminate = spec.terminate === true;
    const resultsByName = new Map((previous?.metricResults ?? []).map((r) => [r.name, r]));
    const runStart = Date.parse(startedAt);
    await Promise.all(
      prepared.metrics.map(async (metric) => {
        const policy = metric.policy;
        let result: MetricResult = resultsByName.get(policy.name) ?? emptyResult(policy);
        if (isCompleted(result.phase)) return;
        const last = result.measurements?.at(-1);
        if (last && !isCompleted(last.phase)) {
          // A measurement in flight (a Job): look at it again.
          const jobName = last.metadata?.[JOB_NAME_KEY];
          if (jobName) {
            if (terminate) {
              await deleteJob(this.client, ns, jobName);
              result = recordMeasurement(result, { ...last, phase: 'Successful', finishedAt: nowIso, message: `terminated: Job ${jobName} deleted` }, policy);
            } else {
              const outcome = jobOutcome(this.jobs.get(ns, jobName), jobName);
              if (outcome.kind !== 'phase' || outcome.phase !== 'Running') result = recordMeasurement(result, measurementOf(policy, outcome, last.startedAt ?? nowIso, nowIso), policy);
            }
          }
          resultsByName.set(policy.name, result);
          return;
        }
        if (terminate) return;
        const due = nextMeasurementAt(policy, result, runStart);
        if (due === undefined || due > now) return;
        const n = (result.count ?? 0) + (result.error ?? 0) + 1;
        let outcome: ProviderOutcome;
        try {
          outcome = await this.measure(metric, owner, n);
        } catch (err) {
          outcome = { kind: 'error', message: `measuring failed: ${err instanceof Error ? err.message : String(err)}` };
        }
        const measurement: Measurement = measurementOf(policy, outcome, nowIso, new Date(this.now()).toISOString());
        result = recordMeasurement(result, measurement, policy);
        resultsByName.set(policy.name, result);
      }),
    );

    // --- assessment ---------------------------------------------------------------------------
    const policies = prepared.metrics.map((m) => m.policy);
    const assessment = assessRun(policies, [...resultsByName.values()], terminate);
    const status: AnalysisRunStatus = {
      phase: assessment.phase,
      startedAt,
      metricResults: assessment.metricResults,
      runSummary: assessment.runSummary,
      ...(assessment.dryRunSummary ? { dryRunSummary: assessment.dryRunSummary } : {}),
      ...(assessment.message ? { message: assessment.message } : {}),
    };
    const completed = isCompleted(status.phase);
    if (completed) {
      status.completedAt = nowIso;
      // Jobs still running for metrics that ended with the run go with it.
      for (const result of assessment.metricResults) {
        const last = result.measurements?.at(-1);
        const jobName = last && !isCompleted(last.phase) ? last.metadata?.[JOB_NAME_KEY] : undefined;
        if (jobName) await deleteJob(this.client, ns, jobName);
      }
    }
    await this.writeStatus(run, status);
    if (completed && previous?.phase !== status.phase) await this.recordEnd(run, status);
    if (completed) return;
    let next: number | undefined;
    for (const metric of prepared.metrics) {
      const at = nextMeasurementAt(metric.policy, assessment.metricResults.find((r) => r.name === metric.policy.name), runStart);
      if (at !== undefined) next = next === undefined ? at : Math.min(next, at);
    }
    return next !== undefined ? { requeueAfterMs: Math.max(1, next - this.now()) } : undefined;
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
  private async fail(run: AnalysisRunObject, message: string, startedAt: string, nowIso: string): Promise<void> {
    const status: AnalysisRunStatus = { phase: 'Error', message, startedAt, completedAt: nowIso, metricResults: run.status?.metricResults ?? [] };
    await this.writeStatus(run, status);
    await this.recordEnd(run, status);
  }

  private async writeStatus(run: AnalysisRunObject, status: AnalysisRunStatus): Promise<void> {
    const comparable = (s: unknown): unknown => JSON.parse(JSON.stringify(s ?? {})) as unknown;
    if (isDeepStrictEqual(comparable(status), comparable(run.status))) return;
    // PUT with the cached resourceVersion: a stale cache fails with 409 and the key is retried,
    // so a measurement is never recorded twice.
    await this.client.replace(analysisRunRef(run.metadata.namespace, run.metadata.name, 'status'), { ...run, status });
  }

  private async recordEnd(run: AnalysisRunObject, status: AnalysisRunStatus): Promise<void> {
    const failed = status.phase !== 'Successful';
    const involved = { apiVersion: ANALYSIS_API_VERSION, kind: ANALYSIS_RUN_KIND, name: run.metadata.name ?? '', namespace: run.metadata.namespace ?? '', uid: run.metadata.uid ?? '' };
    const message = `AnalysisRun ${status.phase}${status.message ? `: ${status.message}` : ''}`;
    await this.events.record(involved, { type: failed ? 'Warning' : 'Normal', reason: `AnalysisRun${status.phase}`, message });
    this.log(failed ? 'warn' : 'info', message, { analysisRun: `${run.metadata.namespace}/${run.metadata.name}` });
  }
}
