// The Rollout controller: informers keep caches of Rollouts, their ReplicaSets and Services;
// event handlers only enqueue keys; a worker reconciles one Rollout at a time:
// read caches → plan (pure) → apply (this file's thin I/O) → write status.
import { isDeepStrictEqual } from 'node:util';
import { validateRollout, ROLLOUT_API_VERSION, ROLLOUT_GROUP, ROLLOUT_KIND, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import type { SpecIssue } from '../api/issues.ts';
import { isConflict, KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { createRouter } from '../routers/index.ts';
import { RouterSpecError, type TrafficRouter } from '../routers/types.ts';
import { EventRecorder } from './events.ts';
import { POD_TEMPLATE_HASH_LABEL } from './hash.ts';
import { MANAGED_BY_ANNOTATION, REVISION_ANNOTATION, SCALE_DOWN_DEADLINE_ANNOTATION, type ObservedReplicaSet, type Plan, type PlanInput, type RolloutView, type SpecView, type StatusView } from './model.ts';
import { planRollout } from './planner.ts';
import { Informer, keyOf, splitKey, type Logger } from './runtime/informer.ts';
import { WorkQueue, type ReconcileOutcome } from './runtime/workqueue.ts';

export const INSTANCE_ID_LABEL = 'rollway.dev/controller-instance-id';
export const FIELD_MANAGER = 'rollway-controller';

export interface RolloutObject extends KubeObject {
  spec: SpecView & Record<string, unknown>;
  status?: StatusView;
}

export interface ReplicaSetObject extends KubeObject {
  spec: { replicas?: number; minReadySeconds?: number; selector?: unknown; template?: unknown };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; observedGeneration?: number };
}

export interface PodObject extends KubeObject {
  status?: { conditions?: { type: string; status: string }[] };
}

export interface ServiceObject extends KubeObject {
  spec: { selector?: Record<string, string> };
}

export interface ControllerOptions {
  client: KubeClient;
  /** watch only this namespace (namespaced mode) */
  namespace?: string | undefined;
  /** handle only Rollouts labelled with this instance id (or, without it, only unlabelled ones) */
  instanceId?: string | undefined;
  log: Logger;
  workers?: number;
  now?: () => number;
  /** fencing: false once this process may no longer write (lost leadership) */
  canWrite?: () => boolean;
}

export interface ReconcileStats {
  reconciles: number;
  errors: number;
  /** seconds, most recent last, bounded */
  latencies: number[];
}

export class RolloutController {
  readonly rollouts: Informer<RolloutObject>;
  readonly replicaSets: Informer<ReplicaSetObject>;
  readonly services: Informer<ServiceObject>;
  readonly pods: Informer<PodObject>;
  readonly queue: WorkQueue;
  readonly stats: ReconcileStats = { reconciles: 0, errors: 0, latencies: [] };
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly canWrite: () => boolean;
  private readonly events: EventRecorder;
  private readonly routers = new Map<string, { config: string; router: TrafficRouter }>();

  constructor(options: ControllerOptions) {
    this.client = options.client;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.canWrite = options.canWrite ?? (() => true);
    this.events = new EventRecorder(options.client, 'rollway-controller', options.instanceId ?? 'rollway');
    const ns = options.namespace;
    const rolloutSelector = options.instanceId ? `${INSTANCE_ID_LABEL}=${options.instanceId}` : `!${INSTANCE_ID_LABEL}`;
    const informerLog: Logger = (level, msg, fields) => this.log(level, msg, { component: 'informer', ...fields });
    this.rollouts = new Informer<RolloutObject>(this.client, { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: ns }, { labelSelector: rolloutSelector, log: informerLog });
    // Only ReplicaSets that carry our hash label: a cluster's other ReplicaSets cost no memory.
    this.replicaSets = new Informer<ReplicaSetObject>(this.client, { group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns }, { labelSelector: POD_TEMPLATE_HASH_LABEL, log: informerLog });
    this.services = new Informer<ServiceObject>(this.client, { group: '', version: 'v1', plural: 'services', namespace: ns }, { log: informerLog });
    // Pods of our ReplicaSets only, for spec.restartAt.
    this.pods = new Informer<PodObject>(this.client, { group: '', version: 'v1', plural: 'pods', namespace: ns }, { labelSelector: POD_TEMPLATE_HASH_LABEL, log: informerLog });
    this.queue = new WorkQueue({
      concurrency: options.workers ?? 4,
      onError: (key, err) => {
        this.stats.errors++;
        const level = isConflict(err) ? 'info' : 'error';
        this.log(level, isConflict(err) ? 'write conflict, re-planning from fresh state' : 'reconcile failed', { rollout: key, error: String(err) });
      },
    });

    this.rollouts.on((event) => this.queue.add(keyOf(event.object)));
    this.replicaSets.on((event) => {
      const owner = event.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === ROLLOUT_KIND);
      if (owner) this.queue.add(`${event.object.metadata.namespace}/${owner.name}`);
    });
    this.pods.on((event) => {
      const pod = event.object.metadata;
      const rsName = pod.ownerReferences?.find((o) => o.controller && o.kind === 'ReplicaSet')?.name;
      const rs = rsName ? this.replicaSets.get(pod.namespace, rsName) : undefined;
      const owner = rs?.metadata.ownerReferences?.find((o) => o.controller && o.kind === ROLLOUT_KIND);
      // Only while a restart is pending: pod churn is otherwise the ReplicaSet's business.
      if (owner && this.rollouts.get(pod.namespace, owner.name)?.spec.restartAt) this.queue.add(`${pod.namespace}/${owner.name}`);
    });
    this.services.on((event) => {
      const svc = event.object.metadata;
      for (const ro of this.rollouts.list(svc.namespace)) {
        const c = ro.spec.strategy?.canary;
        if (c && (c.canaryService === svc.name || c.stableService === svc.name)) this.queue.add(keyOf(ro));
      }
    });
  }

  async start(): Promise<void> {
    this.rollouts.start();
    this.replicaSets.start();
    this.services.start();
    this.pods.start();
    await Promise.all([this.rollouts.waitForSync(), this.replicaSets.waitForSync(), this.services.waitForSync(), this.pods.waitForSync()]);
    this.queue.start((key) => this.reconcileTimed(key));
    this.log('info', 'controller started', { rollouts: this.rollouts.list().length });
  }

  async stop(): Promise<void> {
    this.rollouts.stop();
    this.replicaSets.stop();
    this.services.stop();
    this.pods.stop();
    await this.queue.stop();
  }

  synced(): boolean {
    return this.rollouts.hasSynced() && this.replicaSets.hasSynced() && this.services.hasSynced() && this.pods.hasSynced();
  }

  private async reconcileTimed(key: string): Promise<ReconcileOutcome | void> {
    const started = performance.now();
    try {
      return await this.reconcile(key);
    } finally {
      this.stats.reconciles++;
      this.stats.latencies.push((performance.now() - started) / 1000);
      if (this.stats.latencies.length > 1000) this.stats.latencies.splice(0, this.stats.latencies.length - 1000);
    }
  }

  async reconcile(key: string): Promise<ReconcileOutcome | void> {
    if (!this.canWrite()) throw new Error('not the leader: no writes');
    const { namespace, name } = splitKey(key);
    const rollout = this.rollouts.get(namespace, name);
    if (!rollout || rollout.metadata.deletionTimestamp) return; // owned objects go with it (ownerReferences)
    const ns = rollout.metadata.namespace as string;

    const validation = validateRollout(rollout);
    const specIssues: SpecIssue[] = validation.ok ? [] : [...validation.issues];
    const notImplemented = validation.ok ? validation.notImplemented : [];
    const canary = rollout.spec.strategy?.canary;
    const services: PlanInput['services'] = {};
    if (validation.ok && canary) {
      for (const [field, serviceName] of [['canaryService', canary.canaryService], ['stableService', canary.stableService]] as const) {
        if (!serviceName) continue;
        const svc = this.services.get(ns, serviceName);
        if (!svc) {
          specIssues.push({ path: `spec.strategy.canary.${field}`, message: `Service "${serviceName}" not found in namespace ${ns}`, fix: 'create the Service or correct the name' });
        } else {
          services[serviceName] = { name: serviceName, selector: svc.spec.selector ?? {} };
        }
      }
    }

    const ownedSets = this.replicaSets.list(ns).filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === rollout.metadata.uid && o.controller));
    const replicaSets = ownedSets.map(observeReplicaSet);
    const ownedSetUids = new Set(ownedSets.map((rs) => rs.metadata.uid));
    const pods = rollout.spec.restartAt
      ? this.pods
          .list(ns)
          .filter((p) => p.metadata.ownerReferences?.some((o) => o.controller && ownedSetUids.has(o.uid)))
          .map((p) => ({
            name: p.metadata.name ?? '',
            hash: p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '',
            createdAt: p.metadata.creationTimestamp ?? '',
            ready: p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
            deleting: p.metadata.deletionTimestamp !== undefined,
          }))
      : [];
    const router = this.routerFor(rollout);
    const view: RolloutView = {
      name,
      namespace: ns,
      uid: rollout.metadata.uid ?? '',
      generation: rollout.metadata.generation ?? 0,
      spec: rollout.spec,
      status: rollout.status,
    };
    const input: PlanInput = { rollout: view, replicaSets, pods, services, specIssues, notImplemented, router, trafficVerified: true, now: this.now() };
    let plan = planRollout(input);

    // Grow first, then point Services, then move traffic, then shrink: pods exist before
    // traffic reaches them, and traffic has left before pods go.
    if (plan.create) await this.createReplicaSet(rollout, plan);
    await this.applyScales(ns, plan, 'up');
    await this.applyServices(ns, name, plan);
    if (plan.traffic) {
      try {
        const result = await router.reconcile(plan.traffic);
        if (result.verified === false) plan = planRollout({ ...input, trafficVerified: false });
      } catch (err) {
        if (!(err instanceof RouterSpecError)) throw err;
        plan = planRollout({ ...input, specIssues: [...specIssues, ...err.issues] });
      }
    }
    await this.applyScales(ns, plan, 'down');
    for (const rsName of plan.deleteReplicaSets) {
      await this.client.delete({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name: rsName }).catch((err: unknown) => {
        if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
      });
    }

    for (const podName of plan.deletePods) {
      await this.client.delete({ group: '', version: 'v1', plural: 'pods', namespace: ns, name: podName }).catch((err: unknown) => {
        if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
      });
    }

    if (!this.canWrite()) throw new Error('lost leadership mid-reconcile: status not written');
    if (!isDeepStrictEqual(normalize(plan.status), normalize(rollout.status ?? {}))) {
      // PUT carries the cached resourceVersion: a concurrent change (a CLI promote) makes this
      // fail with 409 and the reconcile re-plans from the fresh object instead of overwriting it.
      await this.client.replace(
        { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: ns, name, subresource: 'status' },
        { ...rollout, status: plan.status },
      );
    }
    const involved = { apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND, name, namespace: ns, uid: rollout.metadata.uid ?? '' };
    for (const event of plan.events) {
      await this.events.record(involved, event);
      this.log(event.type === 'Warning' ? 'warn' : 'info', event.message, { rollout: key, reason: event.reason });
    }
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  /** One router per Rollout, made again when its trafficRouting changes. */
  private routerFor(rollout: RolloutObject): TrafficRouter {
    const key = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
    const trafficRouting = rollout.spec.strategy?.canary?.trafficRouting as Record<string, unknown> | undefined;
    const config = JSON.stringify(trafficRouting ?? null);
    const cached = this.routers.get(key);
    if (cached && cached.config === config) return cached.router;
    const router = createRouter({
      client: this.client,
      namespace: rollout.metadata.namespace as string,
      rollout: { name: rollout.metadata.name as string, uid: rollout.metadata.uid as string, apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND },
      trafficRouting,
      log: (level, msg, fields) => this.log(level, msg, { rollout: key, ...fields }),
    });
    this.routers.set(key, { config, router });
    return router;
  }

  private async createReplicaSet(rollout: RolloutObject, plan: Plan): Promise<void> {
    const create = plan.create!;
    const ns = rollout.metadata.namespace as string;
    const template = (rollout.spec.template ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };
    const labels = { ...(template.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: create.hash };
    const selector = (rollout.spec.selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    const body: ReplicaSetObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: create.name,
        namespace: ns,
        labels,
        annotations: { [REVISION_ANNOTATION]: String(create.revision) },
        ownerReferences: [{ apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND, name: rollout.metadata.name!, uid: rollout.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: create.replicas,
        minReadySeconds: rollout.spec.minReadySeconds ?? 0,
        selector: { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: create.hash } },
        template: { ...template, metadata: { ...(template.metadata ?? {}), labels } },
      },
    };
    try {
      await this.client.create({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns }, body);
    } catch (err) {
      // Created by our previous incarnation before it could record it: ours, nothing to do.
      if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err;
      const existing = await this.client.get<ReplicaSetObject>({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name: create.name });
      if (!existing.metadata.ownerReferences?.some((o) => o.uid === rollout.metadata.uid)) {
        throw new Error(`ReplicaSet ${create.name} exists and is not owned by Rollout ${rollout.metadata.name}`, { cause: err });
      }
    }
  }

  private async applyScales(ns: string, plan: Plan, direction: 'up' | 'down'): Promise<void> {
    for (const change of plan.scale) {
      const growing = change.to >= change.from;
      if ((direction === 'up') !== growing) continue;
      const cached = this.replicaSets.get(ns, change.name);
      if (!cached) continue;
      const metadata: Record<string, unknown> = { resourceVersion: cached.metadata.resourceVersion };
      if (change.annotations) metadata.annotations = change.annotations;
      await this.client.patch<ReplicaSetObject>({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name: change.name }, 'merge', {
        metadata,
        spec: { replicas: change.to },
      });
    }
  }

  private async applyServices(ns: string, rolloutName: string, plan: Plan): Promise<void> {
    for (const change of plan.services) {
      const cached = this.services.get(ns, change.service);
      if (!cached) continue;
      const ref: ResourceRef = { group: '', version: 'v1', plural: 'services', namespace: ns, name: change.service };
      await this.client.patch(ref, 'merge', {
        metadata: { resourceVersion: cached.metadata.resourceVersion, annotations: { [MANAGED_BY_ANNOTATION]: rolloutName } },
        spec: { selector: { [POD_TEMPLATE_HASH_LABEL]: change.to } },
      });
    }
  }
}

export function observeReplicaSet(rs: ReplicaSetObject): ObservedReplicaSet {
  const annotations = rs.metadata.annotations ?? {};
  return {
    name: rs.metadata.name ?? '',
    hash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '',
    revision: Number(annotations[REVISION_ANNOTATION] ?? 0) || 0,
    replicas: rs.spec.replicas ?? 0,
    current: rs.status?.replicas ?? 0,
    ready: rs.status?.readyReplicas ?? 0,
    available: rs.status?.availableReplicas ?? 0,
    scaleDownDeadline: annotations[SCALE_DOWN_DEADLINE_ANNOTATION],
    settled: (rs.status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 0),
  };
}

/** JSON round trip: drops undefined fields so comparing planned and stored status is exact. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {})) as unknown;
}
