// The Experiment reconciler (its I/O; the decisions are in experiment-plan.ts): informers on
// Experiments and on the ReplicaSets, Services and AnalysisRuns they own feed a work queue; a
// reconcile reads the caches, plans, creates/scales/deletes, writes the status and asks to be
// called again when the next deadline falls (duration, progress deadline, scale-down). The
// AnalysisRuns it creates are measured by the AnalysisRun reconciler like any other. Everything
// lives in the Experiment's status and its objects' deterministic names, so a restarted
// controller resumes without creating anything twice.
import { isDeepStrictEqual } from 'node:util';
import { EXPERIMENT_API_VERSION, EXPERIMENT_KIND, EXPERIMENT_PLURAL, EXPERIMENT_TEMPLATE_ANNOTATION, validateExperiment, type Experiment, type ExperimentStatus } from '../api/experiment.ts';
import { formatIssue } from '../api/issues.ts';
import { INSTANCE_ID_LABEL, SCALE_DOWN_DEADLINE_ANNOTATION } from '../api/labels.ts';
import { ROLLOUT_GROUP, ROLLOUT_VERSION } from '../api/rollout.ts';
import type { PlannedEvent } from '../api/views.ts';
import type { AnalysisTemplateSpec } from '../api/analysis.ts';
import { analysisRunRef, type AnalysisRunObject } from '../analysis/controller.ts';
import { composeTemplates, type TemplateLookup } from '../analysis/run-spec.ts';
import { isConflict, KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { EventRecorder } from '../kube/events.ts';
import { Informer, keyOf, splitKey, type Logger } from '../kube/informer.ts';
import { WorkQueue, type ReconcileOutcome } from '../kube/workqueue.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import { buildExperimentRun, buildTemplateReplicaSet, buildTemplateService, EXPERIMENT_LABEL, type ExperimentOwner } from './experiment-objects.ts';
import { invalidSpecConditions } from './experiment-conditions.ts';
import { planExperiment, type ExperimentPlan, type ObservedRun, type ObservedTemplateRS } from './experiment-plan.ts';

export interface ExperimentObject extends KubeObject {
  spec?: unknown;
  status?: ExperimentStatus;
}

interface OwnedReplicaSet extends KubeObject {
  spec?: { replicas?: number };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number };
}

export const experimentRef = (namespace: string | undefined, name?: string, subresource?: string): ResourceRef => ({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: EXPERIMENT_PLURAL, namespace, name, subresource });
const rsRef = (namespace: string | undefined, name?: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace, name });
const svcRef = (namespace: string | undefined, name?: string): ResourceRef => ({ group: '', version: 'v1', plural: 'services', namespace, name });

export interface ExperimentControllerOptions {
  client: KubeClient;
  namespace?: string | undefined;
  instanceId?: string | undefined;
  log: Logger;
  workers?: number;
  now?: () => number;
  canWrite?: () => boolean;
  /** the AnalysisTemplates and ClusterAnalysisTemplates of a namespace (the Rollout side's caches) */
  templates: (namespace: string) => TemplateLookup;
}

const ownedBy = (object: KubeObject, uid: string | undefined): boolean => object.metadata.ownerReferences?.some((o) => o.controller && o.uid === uid) === true;
const experimentOwner = (object: KubeObject): string | undefined => {
  const owner = object.metadata.ownerReferences?.find((o) => o.controller && o.kind === EXPERIMENT_KIND);
  return owner ? `${object.metadata.namespace}/${owner.name}` : undefined;
};

export class ExperimentController {
  readonly experiments: Informer<ExperimentObject>;
  readonly replicaSets: Informer<OwnedReplicaSet>;
  readonly services: Informer<KubeObject>;
  readonly runs: Informer<AnalysisRunObject>;
  readonly queue: WorkQueue;
  private readonly options: ExperimentControllerOptions;
  private readonly client: KubeClient;
  private readonly events: EventRecorder;
  private readonly now: () => number;
  private served = false;

  constructor(options: ExperimentControllerOptions) {
    this.options = options;
    this.client = options.client;
    this.now = options.now ?? Date.now;
    this.events = new EventRecorder(options.client, 'rollway-experiment', options.instanceId ?? 'rollway');
    const ns = options.namespace;
    const log: Logger = (level, msg, fields) => options.log(level, msg, { component: 'experiment-informer', ...fields });
    const selector = options.instanceId ? `${INSTANCE_ID_LABEL}=${options.instanceId}` : `!${INSTANCE_ID_LABEL}`;
    this.experiments = new Informer<ExperimentObject>(this.client, experimentRef(ns), { labelSelector: selector, log });
    this.replicaSets = new Informer<OwnedReplicaSet>(this.client, rsRef(ns), {
      labelSelector: EXPERIMENT_LABEL,
      log,
      transform: (o) => ({ metadata: o.metadata, spec: { replicas: (o as OwnedReplicaSet).spec?.replicas }, status: (o as OwnedReplicaSet).status }) as KubeObject,
    });
    this.services = new Informer<KubeObject>(this.client, svcRef(ns), { labelSelector: EXPERIMENT_LABEL, log, transform: (o) => ({ metadata: o.metadata }) });
    this.runs = new Informer<AnalysisRunObject>(this.client, analysisRunRef(ns), { labelSelector: EXPERIMENT_LABEL, log });
    this.queue = new WorkQueue({
      concurrency: options.workers ?? 4,
      onError: (key, err) => options.log(isConflict(err) ? 'info' : 'error', isConflict(err) ? 'Experiment write conflict, planning again from fresh state' : 'Experiment reconcile failed', { experiment: key, error: String(err) }),
    });
    this.experiments.on((event) => this.queue.add(keyOf(event.object)));
    for (const informer of [this.replicaSets, this.services, this.runs] as Informer<KubeObject>[]) {
      informer.on((event) => {
        const key = experimentOwner(event.object);
        if (key) this.queue.add(key);
      });
    }
  }

  /** Starts when the cluster serves Experiments; without the CRD it costs nothing. */
  async start(): Promise<void> {
    try {
      const doc = await this.client.request<{ resources?: { name: string }[] }>('GET', `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}`);
      this.served = (doc.resources ?? []).some((r) => r.name === EXPERIMENT_PLURAL);
    } catch {
      this.served = false;
    }
    if (!this.served) {
      this.options.log('info', 'the cluster serves no Experiments (CRD not installed): the Experiment controller is off', {});
      return;
    }
    for (const informer of [this.experiments, this.replicaSets, this.services, this.runs] as Informer<KubeObject>[]) informer.start();
    await Promise.all([this.experiments.waitForSync(), this.replicaSets.waitForSync(), this.services.waitForSync(), this.runs.waitForSync()]);
    this.queue.start((key) => this.reconcile(key));
  }

  async stop(): Promise<void> {
    for (const informer of [this.experiments, this.replicaSets, this.services, this.runs] as Informer<KubeObject>[]) informer.stop();
    await this.queue.stop();
  }

  synced(): boolean {
    return !this.served || (this.experiments.hasSynced() && this.replicaSets.hasSynced() && this.services.hasSynced() && this.runs.hasSynced());
  }

  async reconcile(key: string): Promise<ReconcileOutcome | void> {
    if (this.options.canWrite && !this.options.canWrite()) throw new Error('not the leader: no writes');
    const { namespace, name } = splitKey(key);
    const object = this.experiments.get(namespace, name);
    if (!object || object.metadata.deletionTimestamp) return;
    const valid = validateExperiment(object);
    if (!valid.ok) return this.invalid(object, valid.issues.map(formatIssue).join('; '));
    const plan = this.plan(object, valid.experiment);
    await this.apply(object, valid.experiment, plan);
    await this.writeStatus(object, plan.status);
    await this.record(object, plan.events);
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  private plan(object: ExperimentObject, experiment: Experiment): ExperimentPlan {
    const ns = object.metadata.namespace ?? '';
    const uid = object.metadata.uid;
    const replicaSets = new Map<string, ObservedTemplateRS>();
    for (const rs of this.replicaSets.list(ns)) {
      const template = rs.metadata.annotations?.[EXPERIMENT_TEMPLATE_ANNOTATION];
      if (!template || !ownedBy(rs, uid)) continue;
      const s = rs.status ?? {};
      replicaSets.set(template, {
        name: rs.metadata.name ?? '',
        replicas: rs.spec?.replicas ?? 0,
        statusReplicas: s.replicas ?? 0,
        readyReplicas: s.readyReplicas ?? 0,
        availableReplicas: s.availableReplicas ?? 0,
        podTemplateHash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '',
        scaleDownDeadline: rs.metadata.annotations?.[SCALE_DOWN_DEADLINE_ANNOTATION],
      });
    }
    const services = new Map<string, string>();
    for (const svc of this.services.list(ns)) {
      const template = svc.metadata.annotations?.[EXPERIMENT_TEMPLATE_ANNOTATION];
      if (template && ownedBy(svc, uid)) services.set(template, svc.metadata.name ?? '');
    }
    const runs = new Map<string, ObservedRun>();
    for (const entry of object.status?.analysisRuns ?? []) {
      const run = entry.analysisRun ? this.runs.get(ns, entry.analysisRun) : undefined;
      if (run) runs.set(entry.name, { name: entry.analysisRun ?? '', phase: run.status?.phase ?? '', message: run.status?.message, terminated: (run.spec as { terminate?: boolean } | undefined)?.terminate === true });
    }
    const analysisProblems = new Map<string, string>();
    const lookup = this.options.templates(ns);
    (experiment.spec.analyses ?? []).forEach((a, i) => {
      const composed = composeTemplates([{ templateName: a.templateName, clusterScope: a.clusterScope }], lookup);
      if (!composed.ok) analysisProblems.set(a.name, `spec.analyses[${i}].templateName: ${composed.message}`);
    });
    return planExperiment({ name: object.metadata.name ?? '', spec: experiment.spec, status: object.status, replicaSets, services, runs, analysisProblems, now: this.now() });
  }

  private async apply(object: ExperimentObject, experiment: Experiment, plan: ExperimentPlan): Promise<void> {
    const ns = object.metadata.namespace ?? '';
    const owner: ExperimentOwner = { name: object.metadata.name ?? '', namespace: ns, uid: object.metadata.uid ?? '', labels: object.metadata.labels };
    for (const create of plan.createReplicaSets) {
      const problem = await createOwned(this.client, rsRef(ns), buildTemplateReplicaSet(owner, create.template, create.name, create.replicas));
      if (problem) failTemplate(plan, create.template.name, `Failed to create ReplicaSet for template '${create.template.name}': ${problem}`);
      else plan.events.push({ type: 'Normal', reason: 'NewReplicaSetCreated', message: `Created ReplicaSet ${create.name} with size ${create.replicas}` });
    }
    for (const scale of plan.scaleReplicaSets) {
      const annotations = scale.scaleDownDeadline !== undefined ? { metadata: { annotations: { [SCALE_DOWN_DEADLINE_ANNOTATION]: scale.scaleDownDeadline } } } : {};
      await this.client.patch(rsRef(ns, scale.name), 'merge', { ...annotations, spec: { replicas: scale.replicas } }).catch(ignoreNotFound);
    }
    for (const create of plan.createServices) {
      const service = buildTemplateService(owner, create.template, create.name, create.podTemplateHash);
      const problem = service ? await createOwned(this.client, svcRef(ns), service) : undefined;
      if (problem) failTemplate(plan, create.template.name, `Failed to create Service ${create.name} for template '${create.template.name}': ${problem}`);
    }
    for (const name of plan.deleteServices) await this.client.delete(svcRef(ns, name)).catch(ignoreNotFound);
    const lookup = this.options.templates(ns);
    for (const create of plan.createRuns) {
      const composed = composeTemplates([{ templateName: create.analysis.templateName, clusterScope: create.analysis.clusterScope }], lookup);
      if (!composed.ok) continue; // reported as an analysis problem by the plan
      await createOwned(this.client, analysisRunRef(ns), buildExperimentRun(owner, experiment.spec, create.name, composed.spec, create.args));
    }
    for (const name of plan.terminateRuns) await this.client.patch(analysisRunRef(ns, name), 'merge', { spec: { terminate: true } }).catch(ignoreNotFound);
  }

  /** A spec that does not validate: Error with the field paths, and a Warning Event once. */
  private async invalid(object: ExperimentObject, message: string): Promise<void> {
    const text = `invalid spec: ${message}`;
    if (object.status?.phase === 'Error' && object.status.message === text) return; // said already
    const conditions = invalidSpecConditions(object.status ?? {}, message, new Date(this.now()).toISOString());
    await this.writeStatus(object, { ...(object.status ?? {}), phase: 'Error', message: text, conditions });
    await this.record(object, [{ type: 'Warning', reason: 'InvalidSpec', message }]);
  }

  private async writeStatus(object: ExperimentObject, status: ExperimentStatus): Promise<void> {
    const comparable = (s: unknown): unknown => JSON.parse(JSON.stringify(s ?? {})) as unknown;
    if (isDeepStrictEqual(comparable(status), comparable(object.status))) return;
    // PUT with the cached resourceVersion: a stale cache fails with 409 and the key is planned again.
    await this.client.replace(experimentRef(object.metadata.namespace, object.metadata.name, 'status'), { ...object, status });
  }

  private async record(object: ExperimentObject, events: readonly PlannedEvent[]): Promise<void> {
    const involved = { apiVersion: EXPERIMENT_API_VERSION, kind: EXPERIMENT_KIND, name: object.metadata.name ?? '', namespace: object.metadata.namespace ?? '', uid: object.metadata.uid ?? '' };
    for (const event of events) {
      await this.events.record(involved, event);
      this.options.log(event.type === 'Warning' ? 'warn' : 'info', event.message, { experiment: keyOf(object), reason: event.reason });
    }
  }
}

/** Creates an object; one already there is ours (deterministic names). A refusal is returned as text. */
async function createOwned(client: KubeClient, ref: ResourceRef, body: KubeObject): Promise<string | undefined> {
  try {
    await client.create(ref, body);
    return undefined;
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 409) return undefined;
    if (err instanceof KubeApiError && (err.statusCode === 422 || err.statusCode === 400)) return err.message;
    throw err;
  }
}

function failTemplate(plan: ExperimentPlan, template: string, message: string): void {
  const status = plan.status.templateStatuses?.find((t) => t.name === template);
  if (status) Object.assign(status, { status: 'Error', message });
  plan.status.phase = 'Error';
  plan.status.message = message;
  plan.events.push({ type: 'Warning', reason: 'TemplateError', message });
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
}

interface TemplateCache {
  get(namespace: string | undefined, name: string): (KubeObject & { spec?: AnalysisTemplateSpec | undefined }) | undefined;
}

/** The template lookup of a namespace over the Rollout side's template caches. */
export function templateLookup(templates: TemplateCache, clusterTemplates: TemplateCache): (namespace: string) => TemplateLookup {
  return (namespace) => ({
    namespaced: (name) => {
      const t = templates.get(namespace, name);
      return t ? { spec: t.spec ?? {} } : undefined;
    },
    cluster: (name) => {
      const t = clusterTemplates.get(undefined, name);
      return t ? { spec: t.spec ?? {} } : undefined;
    },
  });
}
