// The Rollout controller: informers keep caches of Rollouts, their ReplicaSets and Services;
// event handlers only enqueue keys; a worker reconciles one Rollout at a time:
// read caches → plan (pure) → apply (this file's thin I/O) → write status.
import { isDeepStrictEqual } from 'node:util';
import { ROLLOUT_API_VERSION, ROLLOUT_GROUP, ROLLOUT_KIND, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import type { SpecIssue } from '../api/issues.ts';
import { INSTANCE_ID_LABEL } from '../api/labels.ts';
import type { ReplicaSetObject, RolloutObject } from '../api/views.ts';
import { isConflict, isGoneWhileWriting, KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { appliedRoutingOf, createRouter, routingObjects, type AppliedRouting } from '../routers/index.ts';
import { percentOf, RouterSpecError, type TrafficRouter } from '../routers/types.ts';
import { rejectedWriteIssue } from '../routers/common.ts';
import { cachedKubeApi, kubeApiOf } from '../routers/kube-api.ts';
import { EventRecorder } from '../kube/events.ts';
import { templateKey } from './adopt.ts';
import { trimPod, trimRollout, trimService } from './cache-trim.ts';
import { stepEvents } from './step-event.ts';
import { ValidationMemo } from './validation-memo.ts';
import { TemplateHashMemo } from './template-hash-memo.ts';
import { endsPause, planStatusFirst } from './status-first.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import { EPHEMERAL_METADATA_ANNOTATION, usesPodTemplateExtras } from './pod-metadata.ts';
import { resolveWorkloadSpec, type ObservedWorkload } from './workload-ref.ts';
import { MANAGED_BY_ANNOTATION, REVISION_ANNOTATION, SCALE_DOWN_DEADLINE_ANNOTATION, type ObservedReplicaSet, type Plan, type PlanInput, type SpecView } from './model.ts';
import { planRollout, startPausesAt } from './planner.ts';
import { parsePlanSpec, planSpec, type PlannedInput } from './plan-spec.ts';
import { blueGreenPodExtras, blueGreenServices } from './bluegreen.ts';
import { referencedServices, releasePatch, servicesToRelease } from './service-release.ts';
import { AnalysisRunController } from '../analysis/controller.ts';
import { RolloutAnalysis } from '../analysis/rollout-wiring.ts';
import { RolloutExperiments } from './experiment-wiring.ts';
import { ExperimentController, templateLookup } from './experiment-controller.ts';
import { Informer, keyOf, splitKey, type Logger } from '../kube/informer.ts';
import { WorkQueue, type ReconcileOutcome } from '../kube/workqueue.ts';
import { noteWrites, RoutingWatch, type WrittenVersion } from './routing-watch.ts';
import { DEPLOYMENT_KIND, NamedObjectIndex, namedObjectKey, SERVICE_KIND } from './named-object-index.ts';
import { OwnerIndex } from '../kube/owner-index.ts';
import { ConflictStorm } from '../kube/conflict-storm.ts';
import { APPLIED_ROUTING_ANNOTATION, releaseOrphan, releaseTrafficRouting, rememberedRouting, rolloutMetadataPatch, subjectOf, TRAFFIC_ROUTING_FINALIZER } from './release.ts';
import { describeObjects, findOrphanedRouting, markRoutingObjects, type OrphanedRouting } from './routing-marks.ts';

/** How soon a reconcile that lost a write race plans again (the fresh copy is usually cached by then). */
const CONFLICT_RETRY_MS = 250;
/** how long a pause that begins waits for the watch to show its weight (a lost event must not hold it) */
const WEIGHT_SEEN_WAIT_MS = 2000;
/** The spec an invalid Rollout's plan carries: never read (the plan is its issues alone). */
const UNREAD_SPEC = parsePlanSpec({});

type CanaryView = NonNullable<NonNullable<RolloutObject['spec']['strategy']>['canary']>;

/** What prepare() gathers for the planner, and what carrying the plan out needs beside it. */
interface Prepared {
  input: PlannedInput;
  /** the Rollout with the pod template it is planned with (a Deployment's, for spec.workloadRef) */
  planned: RolloutObject;
  router: TrafficRouter;
}

export { INSTANCE_ID_LABEL } from '../api/labels.ts';
export const FIELD_MANAGER = 'rollway-controller';
export { APPLIED_ROUTING_ANNOTATION, TRAFFIC_ROUTING_FINALIZER } from './release.ts';

export type { ReplicaSetObject, RolloutObject } from '../api/views.ts';

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
  /** Rollouts, AnalysisRuns and Experiments each reconciled at once (--workers; its default says why) */
  workers: number;
  now?: () => number;
  /** fencing: false once this process may no longer write (lost leadership) */
  canWrite?: () => boolean;
  /** told each reconcile's duration in seconds (the /metrics histogram) */
  onReconciled?: (seconds: number) => void;
  /** told how many seconds after its deadline a timed pause's end was written (the /metrics histogram) */
  onTimedPauseEnded?: (lateSeconds: number) => void;
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
  /** Deployments, for spec.workloadRef (their template, selector and size) */
  readonly deployments: Informer<DeploymentObject>;
  private readonly podsByReplicaSet = new OwnerIndex<PodObject>();
  /** A Rollout's ReplicaSets without scanning the namespace's: with 10,000 Rollouts in one, that scan was 80% of a restart's reconciles. */
  private readonly replicaSetsByRollout = new OwnerIndex<ReplicaSetObject>();
  /** Rollout key → the resourceVersions our writes replaced (until the cache moves past them) */
  private readonly writtenOver = new Map<string, Set<string>>();
  /** Rollouts whose deletion our informer saw: their Services are released on the key's next reconcile */
  private readonly deleted = new Set<string>();
  /** each Rollout's spec validated once per generation */
  private readonly validations = new ValidationMemo();
  /** each Rollout's pod-template hash, computed once per generation */
  private readonly templateHashes = new TemplateHashMemo();
  /** routing object → the Rollouts that name it, for the routing watch's events */
  private readonly namedObjects = new NamedObjectIndex();
  // Writes that keep failing with conflicts mean our cache is behind (a watch that silently
  // stalled, say, after an API server restart): list again instead of re-planning from it.
  private readonly conflicts = new ConflictStorm(() => {
    this.log('warn', 'write conflicts keep repeating: relisting Rollouts and ReplicaSets', {});
    this.rollouts.requestRelist();
    this.replicaSets.requestRelist();
  });
  readonly routingWatch: RoutingWatch;
  private stopping = false;
  readonly queue: WorkQueue;
  readonly stats: ReconcileStats = { reconciles: 0, errors: 0, latencies: [] };
  private readonly client: KubeClient;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly canWrite: () => boolean;
  private readonly onReconciled: ((seconds: number) => void) | undefined;
  private readonly onTimedPauseEnded: ((lateSeconds: number) => void) | undefined;
  private readonly events: EventRecorder;
  private readonly routers = new Map<string, { config: string; router: TrafficRouter }>();
  /** what each router wrote in its current reconcile (weightSeen) */
  private readonly routerWrites = new WeakMap<TrafficRouter, WrittenVersion[]>();
  /** Rollout key → the routing whose objects carry our mark (checked once per routing and start) */
  private readonly marked = new Map<string, string>();
  private readonly namespace: string | undefined;
  /** caches of AnalysisRuns and templates for the planner, and the AnalysisRun reconciler */
  readonly analysis: RolloutAnalysis;
  readonly analysisRuns: AnalysisRunController;
  /** the Experiments of experiment steps (the Experiment's own controller runs them) */
  readonly experiments: RolloutExperiments;
  /** the Experiment reconciler: standalone Experiments and those of experiment steps */
  readonly experimentRuns: ExperimentController;

  constructor(options: ControllerOptions) {
    this.client = options.client;
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.canWrite = options.canWrite ?? (() => true);
    this.onReconciled = options.onReconciled;
    this.onTimedPauseEnded = options.onTimedPauseEnded;
    this.events = new EventRecorder(options.client, 'rollway-controller', options.instanceId ?? 'rollway');
    const ns = options.namespace;
    this.namespace = ns;
    const informerLog: Logger = (level, msg, fields) => this.log(level, msg, { component: 'informer', ...fields });
    const caches = cacheInformers(this.client, ns, options.instanceId, informerLog);
    this.rollouts = caches.rollouts;
    this.replicaSets = caches.replicaSets;
    this.services = caches.services;
    this.pods = caches.pods;
    this.deployments = caches.deployments;
    this.queue = new WorkQueue({
      concurrency: options.workers,
      onError: (key, err) => {
        this.stats.errors++;
        this.log('error', 'reconcile failed', { rollout: key, error: String(err) });
      },
    });
    this.analysis = new RolloutAnalysis(this.client, ns, informerLog);
    this.analysis.connect((key) => this.queue.add(key), (namespace) => this.rollouts.list(namespace));
    this.experiments = new RolloutExperiments(this.client, ns, informerLog);
    this.experiments.connect((key) => this.queue.add(key));
    this.analysisRuns = new AnalysisRunController({ client: this.client, namespace: ns, instanceId: options.instanceId, log: this.log, workers: options.workers, now: this.now, canWrite: this.canWrite });
    const templates = templateLookup(this.analysis.templates, this.analysis.clusterTemplates);
    this.experimentRuns = new ExperimentController({ client: this.client, namespace: ns, instanceId: options.instanceId, log: this.log, workers: options.workers, now: this.now, canWrite: this.canWrite, templates });
    // A routing object changed (maybe a weight reverted by another writer): reconcile the
    // Rollouts that own it or name it in their trafficRouting.
    this.routingWatch = new RoutingWatch(this.client, ns, informerLog, (object, kind) => this.enqueueRoutingObjectUsers(object, kind));
    this.enqueueOnCacheEvents();
  }

  /** Which Rollouts to reconcile when a cached object changes. */
  private enqueueOnCacheEvents(): void {
    this.rollouts.on((event) => {
      if (event.type === 'deleted') this.deleted.add(keyOf(event.object));
      this.namedObjects.update(keyOf(event.object), event.type === 'deleted' ? undefined : event.object);
      this.queue.add(keyOf(event.object));
    });
    this.replicaSets.on((event) => {
      this.replicaSetsByRollout.update(event);
      const owner = event.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === ROLLOUT_KIND);
      if (owner) this.queue.add(`${event.object.metadata.namespace}/${owner.name}`);
    });
    this.pods.on((event) => {
      this.podsByReplicaSet.update(event);
      const pod = event.object.metadata;
      const rsName = pod.ownerReferences?.find((o) => o.controller && o.kind === 'ReplicaSet')?.name;
      const rs = rsName ? this.replicaSets.get(pod.namespace, rsName) : undefined;
      const owner = rs?.metadata.ownerReferences?.find((o) => o.controller && o.kind === ROLLOUT_KIND);
      if (!owner) return;
      // A pod that stops (or starts) serving changes what traffic its ReplicaSet may get: plan at
      // once rather than when the ReplicaSet's status catches up. Other churn matters only to a restart.
      const servingChanged = event.type !== 'updated' || podServes(event.object) !== podServes(event.old);
      if (servingChanged || this.rollouts.get(pod.namespace, owner.name)?.spec.restartAt) this.queue.add(`${pod.namespace}/${owner.name}`);
    });
    this.deployments.on((event) => {
      const { namespace, name } = event.object.metadata;
      for (const key of this.namedObjects.rolloutsOf(namedObjectKey(DEPLOYMENT_KIND, namespace, name))) this.queue.add(key);
    });
    this.services.on((event) => {
      const { namespace, name } = event.object.metadata;
      for (const key of this.namedObjects.rolloutsOf(namedObjectKey(SERVICE_KIND, namespace, name))) this.queue.add(key);
    });
  }

  private enqueueRoutingObjectUsers(object: KubeObject, kind: { group: string; plural: string }): void {
    const meta = object.metadata;
    const owner = meta.ownerReferences?.find((o) => o.kind === ROLLOUT_KIND);
    if (owner) {
      this.queue.add(`${meta.namespace}/${owner.name}`);
      return;
    }
    for (const key of this.namedObjects.rolloutsOf(namedObjectKey(kind, meta.namespace, meta.name))) this.queue.add(key);
  }

  async start(): Promise<void> {
    this.rollouts.start();
    this.replicaSets.start();
    this.services.start();
    this.pods.start();
    this.deployments.start();
    await Promise.all([this.rollouts.waitForSync(), this.replicaSets.waitForSync(), this.services.waitForSync(), this.pods.waitForSync(), this.deployments.waitForSync(), this.analysis.start(), this.experiments.start()]);
    // stop() may come while starting (a SIGTERM right after the pod starts): each later part starts
    // only if it has not, since stop() has already stopped it and would not again.
    for (const part of [this.analysisRuns, this.experimentRuns, this.routingWatch]) {
      if (this.stopping) return;
      await part.start();
    }
    if (this.stopping) return;
    this.queue.start((key) => this.reconcileTimed(key));
    this.log('info', 'controller started', { rollouts: this.rollouts.list().length });
    await this.releaseOrphans();
  }

  /**
   * Routing left applied by Rollouts deleted while no controller ran (their finalizer stripped by
   * hand): back to 100% stable, with a Warning Event on each routing object. Never fails a start.
   */
  async releaseOrphans(): Promise<OrphanedRouting[]> {
    let orphans: OrphanedRouting[] = [];
    try {
      orphans = await findOrphanedRouting(this.client, this.namespace);
      for (const orphan of orphans) await this.releaseOrphaned(orphan);
    } catch (err) {
      this.log('error', 'looking for routing left by deleted Rollouts failed', { error: String(err) });
    }
    return orphans;
  }

  private async releaseOrphaned(orphan: OrphanedRouting): Promise<void> {
    const key = `${orphan.namespace}/${orphan.name}`;
    const outcome = await releaseOrphan(this.client, orphan, (level, msg, fields) => this.log(level, msg, { rollout: key, ...fields }));
    const message = outcome.released
      ? `Rollout ${key} (uid ${orphan.uid}) no longer exists but its traffic routing was still applied (its finalizer was removed while no controller ran?): ${describeObjects(orphan.objects)} set back to 100% stable`
      : `Rollout ${key} (uid ${orphan.uid}) no longer exists but left traffic routing on ${describeObjects(orphan.objects)} that could not be released: ${outcome.problem ?? ''}`;
    this.log('warn', message, { rollout: key });
    for (const o of orphan.objects) {
      await this.events.record({ apiVersion: o.apiVersion, kind: o.kind, name: o.name, namespace: o.namespace, uid: o.uid }, { type: 'Warning', reason: 'OrphanedTrafficRouting', message });
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.rollouts.stop();
    this.replicaSets.stop();
    this.services.stop();
    this.pods.stop();
    this.deployments.stop();
    this.analysis.stop();
    this.experiments.stop();
    this.routingWatch.stop();
    await this.analysisRuns.stop();
    await this.experimentRuns.stop();
    await this.queue.stop();
    await this.events.flush();
  }

  /** Plans every cached Rollout again (after writes were held back, e.g. while the lease lapsed). */
  requeueAll(): void {
    this.queue.forgetAll(); // failures while writes were held back say nothing about now
    for (const ro of this.rollouts.list()) this.queue.add(keyOf(ro));
  }

  synced(): boolean {
    return this.rollouts.hasSynced() && this.replicaSets.hasSynced() && this.services.hasSynced() && this.pods.hasSynced() && this.deployments.hasSynced() && this.analysis.synced() && this.experiments.synced() && this.analysisRuns.synced() && this.experimentRuns.synced();
  }

  private async reconcileTimed(key: string): Promise<ReconcileOutcome | void> {
    const started = performance.now();
    try {
      return await this.reconcile(key);
    } catch (err) {
      if (isGoneWhileWriting(err, ROLLOUT_PLURAL, splitKey(key).name)) {
        this.log('debug', 'rollout or its namespace deleted during the reconcile', { rollout: key });
        return; // its deletion event comes next; no backoff, no error
      }
      if (!isConflict(err)) throw err;
      // Someone changed the Rollout since our cache saw it: not a failure to back off from (a
      // backoff grown during an outage would stall it). Plan again shortly from the fresh copy.
      this.conflicts.record(Date.now());
      this.log('info', 'write conflict, re-planning from fresh state', { rollout: key });
      return { requeueAfterMs: CONFLICT_RETRY_MS };
    } finally {
      const seconds = (performance.now() - started) / 1000;
      this.stats.reconciles++;
      this.stats.latencies.push(seconds);
      this.onReconciled?.(seconds);
      if (this.stats.latencies.length > 1000) this.stats.latencies.splice(0, this.stats.latencies.length - 1000);
    }
  }

  async reconcile(key: string): Promise<ReconcileOutcome | void> {
    if (!this.canWrite()) throw new Error('not the leader: no writes');
    const { namespace, name } = splitKey(key);
    const rollout = this.rollouts.get(namespace, name);
    if (!rollout) return this.forgetRollout(key, namespace, name);
    // Our last write of this Rollout has not reached the cache yet (another object's event came
    // first): planning from the older copy would redo what that write recorded, such as a second
    // AnalysisRun for one retry. The write's own watch event enqueues the Rollout again.
    if (this.writtenOver.get(key)?.has(rollout.metadata.resourceVersion ?? '')) return;
    this.writtenOver.delete(key);
    if (rollout.metadata.deletionTimestamp) return this.releaseOnDeletion(rollout); // owned objects go with it (ownerReferences)
    const prepared = await this.prepare(key, rollout);
    if (!prepared) return; // the Rollout changed: its watch event reconciles again
    return this.carryOut(key, rollout, prepared);
  }

  /** A Rollout gone from the cache: its memos go, and a deletion we saw releases its Services. */
  private async forgetRollout(key: string, namespace: string | undefined, name: string): Promise<void> {
    this.writtenOver.delete(key);
    this.validations.forget(key);
    this.templateHashes.forget(key);
    // Only a deletion we saw: a key from another instance's ReplicaSet names a Rollout that is not ours.
    if (namespace && this.deleted.delete(key)) await this.releaseServices(namespace, name, undefined);
  }

  /**
   * Readies a Rollout for planning, and gathers what the planner reads. It writes first: Services
   * the Rollout no longer names are released, its finalizer and remembered routing follow the
   * spec, its routing objects are marked. Then it reads, from the caches, the parsed spec and what
   * is wrong with it, the ReplicaSets, pods, Services, router, analysis and experiments. Undefined
   * when the finalizer or the remembered routing was just written: the Rollout's own watch event
   * reconciles it again.
   */
  private async prepare(key: string, rollout: RolloutObject): Promise<Prepared | undefined> {
    const ns = rollout.metadata.namespace as string;
    const name = rollout.metadata.name as string;
    const validation = this.validations.validate(key, rollout);
    const specIssues: SpecIssue[] = validation.ok ? [] : [...validation.issues];
    const notImplemented = validation.ok ? validation.notImplemented : [];
    const canary = rollout.spec.strategy?.canary;
    const services: PlanInput['services'] = {};
    if (validation.ok && canary) specIssues.push(...this.canaryServices(ns, canary, services));
    if (validation.ok) specIssues.push(...this.analysis.missingTemplates(rollout), ...this.experiments.missingKind(canary?.steps ?? []));
    if (validation.ok) await this.releaseServices(ns, name, referencedServices(rollout.spec));
    // A router RBAC forbids is disabled: the Rollout says so instead of retrying 403s (and holds no finalizer for it).
    const forbiddenRouting = validation.ok ? this.routingWatch.forbiddenIssues(canary?.trafficRouting) : [];
    specIssues.push(...forbiddenRouting);
    // spec.workloadRef: plan (and create ReplicaSets) with the Deployment's template as the Rollout's own.
    const workloadName = rollout.spec.workloadRef?.name;
    const workload = workloadName ? observeWorkload(this.deployments.get(ns, workloadName)) : undefined;
    const resolved = validation.ok ? resolveWorkloadSpec(rollout.spec, ns, workload) : { spec: rollout.spec, issues: [] };
    specIssues.push(...resolved.issues);
    const planned: RolloutObject = resolved.spec === rollout.spec ? rollout : { ...rollout, spec: { ...rollout.spec, template: resolved.spec.template, selector: resolved.spec.selector } };
    const blueGreen = rollout.spec.strategy?.blueGreen;
    if (validation.ok && blueGreen) {
      // activeService / previewService must exist and select the template's pods (bluegreen.ts).
      const found = blueGreenServices(blueGreen, planned.spec.template?.metadata?.labels, (svc) => observeService(this.services.get(ns, svc)), ns);
      specIssues.push(...found.issues);
      Object.assign(services, found.services);
    }
    const { replicaSets, pods } = this.observeOwned(rollout);
    if (validation.ok && forbiddenRouting.length === 0 && (await this.trackTrafficRouting(rollout))) return undefined;
    if (validation.ok && forbiddenRouting.length === 0) await this.markRouting(rollout); // a disabled router's objects are not ours to mark
    const router = this.routerFor(rollout);
    // The planners read the parsed spec (defaults filled in) with the pod template resolved above;
    // an invalid Rollout is planned from its issues alone, so its spec is never read.
    const spec = validation.ok ? { ...planSpec(validation.rollout.spec), template: planned.spec.template, selector: planned.spec.selector } : UNREAD_SPEC;
    const view: PlannedInput['rollout'] = { name, namespace: ns, uid: rollout.metadata.uid ?? '', generation: rollout.metadata.generation ?? 0, spec, status: rollout.status };
    // Kept per generation for the Rollout's own template; a Deployment's (workloadRef) is hashed each time.
    const templateHash = validation.ok && planned === rollout ? this.templateHashes.hash(key, rollout.metadata, spec.template, rollout.status?.collisionCount ?? 0) : undefined;
    const input: PlannedInput = { rollout: view, replicaSets, pods, services, specIssues, notImplemented, router, trafficVerified: true, now: this.now(), analysisRuns: this.analysis.observe(rollout), experiments: this.experiments.observe(rollout), workload, templateHash };
    return { input, planned, router };
  }

  /** The canary and stable Services into `services`; answers an issue for each one missing. */
  private canaryServices(ns: string, canary: CanaryView, services: PlanInput['services']): SpecIssue[] {
    const issues: SpecIssue[] = [];
    for (const [field, serviceName] of [['canaryService', canary.canaryService], ['stableService', canary.stableService]] as const) {
      if (!serviceName) continue;
      const svc = this.services.get(ns, serviceName);
      if (svc) services[serviceName] = { name: serviceName, selector: svc.spec.selector ?? {} };
      else issues.push({ path: `spec.strategy.canary.${field}`, message: `Service "${serviceName}" not found in namespace ${ns}`, fix: 'create the Service or correct the name' });
    }
    return issues;
  }

  /** The Rollout's ReplicaSets, and their pods when a plan reads them. */
  private observeOwned(rollout: RolloutObject): Pick<PlanInput, 'replicaSets' | 'pods'> {
    const ownedSets = this.replicaSetsByRollout.ownedBy(rollout.metadata.uid);
    const replicaSets = ownedSets.map((rs) => observeReplicaSet(rs, this.podsByReplicaSet.ownedBy(rs.metadata.uid)));
    const strategy = rollout.spec.strategy;
    // Pods are planned for spec.restartAt and for ephemeral metadata (set, or still to be removed).
    const podsPlanned = rollout.spec.restartAt || usesPodTemplateExtras(strategy?.canary ?? blueGreenPodExtras(strategy?.blueGreen)) || replicaSets.some((rs) => rs.ephemeralRecord !== undefined);
    if (!podsPlanned) return { replicaSets, pods: [] };
    const pods = ownedSets.flatMap((rs) => this.podsByReplicaSet.ownedBy(rs.metadata.uid)).map((p) => ({
      name: p.metadata.name ?? '',
      hash: p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '',
      createdAt: p.metadata.creationTimestamp ?? '',
      ready: podReady(p),
      deleting: p.metadata.deletionTimestamp !== undefined,
      labels: p.metadata.labels,
      annotations: p.metadata.annotations,
    }));
    return { replicaSets, pods };
  }

  /**
   * Plans the Rollout and carries the plan out. Grow first, then point Services, then move
   * traffic, then shrink: pods exist before traffic reaches them, and traffic has left before
   * pods go. Traffic that leaves the canary (its pods stopped serving, or an abort) moves before
   * anything else.
   */
  private async carryOut(key: string, rollout: RolloutObject, { input, planned, router }: Prepared): Promise<ReconcileOutcome | void> {
    const { namespace: ns, name } = input.rollout;
    let plan = planRollout(input);
    const currentWeight = rollout.status?.canary?.weights?.canary.weight ?? 0;
    const trafficFirst = plan.traffic !== undefined && percentOf(plan.traffic.weight) < currentWeight;
    // A routing write the API server refuses is a spec issue; after the status says so, the
    // reconcile still fails so that the queue retries with backoff (a fixed object recovers).
    let rejectedWrite: Error | undefined;
    const onRejected = (err: Error): void => void (rejectedWrite = err);
    if (trafficFirst) plan = await this.applyTraffic(router, input, plan, onRejected);
    // A pause that ends is seen at its deadline, not after this reconcile's scaling (status-first.ts).
    const early = planStatusFirst(rollout.status, plan, !router.capabilities.replicaBased && plan.traffic !== undefined && percentOf(plan.traffic.weight) !== currentWeight);
    const statusBase = early ? await this.writeStatus(rollout, rollout, plan.status) : rollout;
    if (early) this.notePauseEnded(plan);
    if (plan.create) {
      const rejected = await this.createReplicaSet(planned, plan);
      // The API server refused the pod template: the spec is invalid, say so on the Rollout.
      if (rejected) plan = planRollout({ ...input, specIssues: [...input.specIssues, rejected] });
    }
    await this.applyScales(ns, plan, 'up');
    await this.applyServices(ns, name, plan);
    if (!trafficFirst) plan = await this.applyTraffic(router, input, plan, onRejected);
    await this.applyPodTemplates(ns, plan);
    await this.shrink(ns, plan);
    const rsNamed = (hash: string | undefined): string | undefined => (hash === plan.create?.hash ? plan.create?.name : input.replicaSets.find((rs) => rs.hash === hash)?.name);
    await this.experiments.apply(rollout, plan.experiments, { stable: rsNamed(plan.status.stableRS), canary: rsNamed(plan.status.currentPodHash) });
    await this.writeStatus(rollout, statusBase, plan.status);
    if (!early) this.notePauseEnded(plan);
    // AnalysisRuns only once the status naming them is written: a plan from an older copy fails
    // that write (409) instead of starting a second run under another name (rollout-plan.ts).
    await this.analysis.apply(rollout, plan.analysis);
    this.announce(key, rollout, plan);
    if (rejectedWrite !== undefined) throw rejectedWrite;
    return plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs } : undefined;
  }

  /** The plan's shrinking: the Deployment of spec.workloadRef, ReplicaSets scaled down or deleted, pods deleted. */
  private async shrink(ns: string, plan: Plan): Promise<void> {
    if (plan.workloadScale) {
      const { name: deployment, to } = plan.workloadScale;
      await this.client.patch({ group: 'apps', version: 'v1', plural: 'deployments', namespace: ns, name: deployment }, 'merge', { spec: { replicas: to } }).catch(ignoreNotFound);
    }
    await this.applyScales(ns, plan, 'down');
    for (const rsName of plan.deleteReplicaSets) {
      await this.client.delete({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name: rsName }).catch(ignoreNotFound);
    }
    for (const podName of plan.deletePods) {
      await this.client.delete({ group: '', version: 'v1', plural: 'pods', namespace: ns, name: podName }).catch(ignoreNotFound);
    }
  }

  /** The plan's events in the log, and one Event for what this reconcile did (Warnings apart), written after it, in order per Rollout. */
  private announce(key: string, rollout: RolloutObject, plan: Plan): void {
    const { name = '', namespace = '', uid = '' } = rollout.metadata;
    const involved = { apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND, name, namespace, uid };
    for (const event of plan.events) this.log(event.type === 'Warning' ? 'warn' : 'info', event.message, { rollout: key, reason: event.reason });
    this.events.enqueue(involved, stepEvents(plan.events));
  }

  /** After the status that ends a timed pause is written: how late that was, for /metrics. */
  private notePauseEnded(plan: Plan): void {
    if (plan.timedPauseDeadline !== undefined) this.onTimedPauseEnded?.((this.now() - plan.timedPauseDeadline) / 1000);
  }

  /**
   * Writes the planned status over `base` (the cached copy, or our earlier write of this
   * reconcile) unless it already says so; answers the copy written. PUT carries base's
   * resourceVersion: a concurrent change (a CLI promote) fails it with 409 and the reconcile
   * re-plans from the fresh object instead of overwriting it.
   */
  private async writeStatus(cached: RolloutObject, base: RolloutObject, status: Plan['status']): Promise<RolloutObject> {
    if (isDeepStrictEqual(normalize(status), normalize(base.status ?? {}))) return base;
    if (!this.canWrite()) throw new Error('lost leadership mid-reconcile: status not written');
    const { namespace, name } = cached.metadata;
    // The write that ends a pause goes ahead of the other writes waiting (kube/request-lanes.ts).
    const urgent = endsPause(base.status, status);
    const written = await this.client.replace<RolloutObject>({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace, name, subresource: 'status' }, { ...base, status }, { urgent });
    this.noteWrite(cached, written, base); // the cache is older than this write until its watch event
    return written;
  }

  /** Hands the planned traffic to the router; answers the plan as it stands after the write. */
  private async applyTraffic(router: TrafficRouter, input: PlannedInput, plan: Plan, onRejected: (err: Error) => void): Promise<Plan> {
    if (!plan.traffic) return plan;
    this.routerWrites.get(router)?.splice(0); // writes of earlier reconciles are seen or moot
    try {
      const result = await router.reconcile(plan.traffic);
      if (result.verified === false) return planRollout({ ...input, trafficVerified: false });
      if (result.writes === 0) return plan;
      if (plan.timedPauseBegins) await this.weightSeen(router);
      return startPausesAt(plan, input.rollout.status, input.now, this.now());
    } catch (err) {
      const rejected = rejectedWriteIssue(err);
      if (rejected && err instanceof Error) onRejected(err);
      const issues = err instanceof RouterSpecError ? err.issues : rejected ? [rejected] : undefined;
      if (!issues) throw err;
      return planRollout({ ...input, specIssues: [...input.specIssues, ...issues] });
    }
  }

  /**
   * Waits (at most WEIGHT_SEEN_WAIT_MS) until the routing watch shows what the router just wrote:
   * a pause that begins counts from then, not from the write's answer, because the mesh, like
   * any watcher, gets the new weight through a watch that can lag the answer under load.
   */
  private async weightSeen(router: TrafficRouter): Promise<void> {
    const written = this.routerWrites.get(router)?.splice(0) ?? [];
    await Promise.all(written.map((w) => this.routingWatch.seen(w.ref, w.resourceVersion, WEIGHT_SEEN_WAIT_MS)));
  }

  /** One router per Rollout, made again when its trafficRouting changes. */
  private routerFor(rollout: RolloutObject): TrafficRouter {
    const key = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
    const trafficRouting = rollout.spec.strategy?.canary?.trafficRouting as Record<string, unknown> | undefined;
    const config = JSON.stringify(trafficRouting ?? null);
    const cached = this.routers.get(key);
    if (cached && cached.config === config) return cached.router;
    const written: WrittenVersion[] = [];
    const router = createRouter({
      // Routers read routing objects from the routing watch's cache (no GET per reconcile).
      client: noteWrites(
        cachedKubeApi(kubeApiOf(this.client), (ref) => this.routingWatch.cached(ref)),
        written,
      ),
      namespace: rollout.metadata.namespace as string,
      rollout: { name: rollout.metadata.name as string, uid: rollout.metadata.uid as string, apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND },
      trafficRouting,
      log: (level, msg, fields) => this.log(level, msg, { rollout: key, ...fields }),
      requeue: (afterMs) => this.queue.addAfter(key, afterMs),
    });
    this.routers.set(key, { config, router });
    this.routerWrites.set(router, written);
    return router;
  }

  // --- Releasing routing objects: on deletion, and when trafficRouting is removed or moved ------
  // While a Rollout routes traffic it carries a finalizer and remembers what it applied (an
  // annotation), so that deleting it, or removing or re-pointing its trafficRouting, first puts
  // the routing objects back to 100% stable and removes what we added, even after a restart.

  /** Keeps the finalizer and the remembered routing in step with the spec; true when it wrote. */
  private async trackTrafficRouting(rollout: RolloutObject): Promise<boolean> {
    const current = appliedRoutingOf(rollout.spec.strategy?.canary);
    const remembered = rememberedRouting(rollout);
    if (remembered && (!current || !isDeepStrictEqual(routingObjects(remembered), routingObjects(current)))) {
      await this.releaseRouting(rollout, remembered);
    }
    const finalizers = rollout.metadata.finalizers ?? [];
    const hasFinalizer = finalizers.includes(TRAFFIC_ROUTING_FINALIZER);
    const text = current ? JSON.stringify(current) : undefined;
    if (hasFinalizer === (current !== undefined) && text === rollout.metadata.annotations?.[APPLIED_ROUTING_ANNOTATION]) return false;
    const others = finalizers.filter((f) => f !== TRAFFIC_ROUTING_FINALIZER);
    await this.patchRolloutMetadata(rollout, current ? [...others, TRAFFIC_ROUTING_FINALIZER] : others, text);
    return true;
  }

  /** Marks the objects the routing edits in place before they are written (once per routing and start). */
  private async markRouting(rollout: RolloutObject): Promise<void> {
    const applied = appliedRoutingOf(rollout.spec.strategy?.canary);
    const key = keyOf(rollout);
    const text = applied ? `${rollout.metadata.uid ?? ''} ${JSON.stringify(applied)}` : undefined;
    if (!applied || this.marked.get(key) === text) return;
    // Objects still missing are marked on a later reconcile (the router reports them meanwhile).
    if (await markRoutingObjects(this.client, subjectOf(rollout), applied)) this.marked.set(key, text!);
  }

  private async releaseOnDeletion(rollout: RolloutObject): Promise<void> {
    const key = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
    this.routers.delete(key);
    const finalizers = rollout.metadata.finalizers ?? [];
    if (!finalizers.includes(TRAFFIC_ROUTING_FINALIZER)) return;
    const applied = rememberedRouting(rollout) ?? appliedRoutingOf(rollout.spec.strategy?.canary);
    if (applied) await this.releaseRouting(rollout, applied);
    await this.patchRolloutMetadata(rollout, finalizers.filter((f) => f !== TRAFFIC_ROUTING_FINALIZER), undefined);
  }

  private async releaseRouting(rollout: RolloutObject, applied: AppliedRouting): Promise<void> {
    const key = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
    this.marked.delete(key);
    const outcome = await releaseTrafficRouting(this.client, subjectOf(rollout), applied, (level, msg, fields) => this.log(level, msg, { rollout: key, ...fields }));
    if (outcome.released) this.log('info', 'released traffic routing', { rollout: key, router: outcome.router });
    else this.log('warn', 'traffic routing could not be released', { rollout: key, error: outcome.problem });
  }

  /** Sets the finalizers and the remembered routing, guarded by the resourceVersion we read. */
  private async patchRolloutMetadata(rollout: RolloutObject, finalizers: string[], applied: string | undefined): Promise<void> {
    const ref = { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: rollout.metadata.namespace, name: rollout.metadata.name };
    const written = await this.client.patch<RolloutObject>(ref, 'merge', rolloutMetadataPatch(rollout, finalizers, applied));
    this.noteWrite(rollout, written);
  }

  /** Remembers that the cached copy is older than our write (only if the write made a new version). */
  private noteWrite(cached: RolloutObject, written: RolloutObject, replaced: RolloutObject = cached): void {
    const key = keyOf(cached);
    // Every version up to this write is behind it: the cached one and, after a second write in
    // one reconcile, our own first one (its watch event may come before the second's).
    for (const before of new Set([cached.metadata.resourceVersion, replaced.metadata.resourceVersion])) {
      if (before === undefined || written.metadata.resourceVersion === before) continue;
      const versions = this.writtenOver.get(key) ?? new Set<string>();
      this.writtenOver.set(key, versions.add(before));
    }
  }

  /** Creates the planned ReplicaSet; answers the spec issue when the API server rejects it as invalid. */
  private async createReplicaSet(rollout: RolloutObject, plan: Plan): Promise<SpecIssue | undefined> {
    const create = plan.create!;
    const ns = rollout.metadata.namespace as string;
    const template = (rollout.spec.template ?? {}) as { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
    // The planned pod metadata (ephemeral metadata applied) and affinity (anti-affinity injected)
    // differ from the Rollout's template, which gave the hash, only where the plan says so.
    const podMetadata = create.podMetadata ?? template.metadata ?? {};
    const labels = { ...(podMetadata.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: create.hash };
    const podSpec = 'affinity' in create ? { ...template.spec, affinity: create.affinity } : template.spec;
    const selector = (rollout.spec.selector ?? {}) as { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    const body: ReplicaSetObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: {
        name: create.name,
        namespace: ns,
        labels,
        annotations: { ...create.annotations, [REVISION_ANNOTATION]: String(create.revision) },
        ownerReferences: [{ apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND, name: rollout.metadata.name!, uid: rollout.metadata.uid!, controller: true, blockOwnerDeletion: true }],
      },
      spec: {
        replicas: create.replicas,
        minReadySeconds: rollout.spec.minReadySeconds ?? 0,
        selector: { ...selector, matchLabels: { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: create.hash } },
        template: { ...template, metadata: { ...(template.metadata ?? {}), labels, ...(podMetadata.annotations ? { annotations: podMetadata.annotations } : {}) }, ...(podSpec !== undefined ? { spec: podSpec } : {}) },
      },
    };
    try {
      await this.client.create({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns }, body);
    } catch (err) {
      if (err instanceof KubeApiError && (err.statusCode === 422 || err.statusCode === 400)) return rejectedTemplateIssue(create.name, err);
      // Created by our previous incarnation before it could record it: ours, nothing to do.
      if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err;
      const existing = await this.client.get<ReplicaSetObject>({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name: create.name });
      if (!existing.metadata.ownerReferences?.some((o) => o.uid === rollout.metadata.uid)) {
        throw new Error(`ReplicaSet ${create.name} exists and is not owned by Rollout ${rollout.metadata.name}`, { cause: err });
      }
    }
  }

  /**
   * Ephemeral metadata and anti-affinity: ReplicaSet templates first (pods created meanwhile are
   * born right), then the running pods, in place. Merge patches of our own keys only, so no
   * resourceVersion precondition: a pod's status changes all the time and would only conflict.
   */
  private async applyPodTemplates(ns: string, plan: Plan): Promise<void> {
    for (const change of plan.templatePatches ?? []) {
      await this.client.patch({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name: change.name }, 'merge', change.patch).catch(ignoreNotFound);
    }
    for (const change of plan.podPatches ?? []) {
      await this.client.patch({ group: '', version: 'v1', plural: 'pods', namespace: ns, name: change.name }, 'merge', { metadata: { labels: change.labels, annotations: change.annotations } }).catch(ignoreNotFound);
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

  /** Services this Rollout pinned and no longer names (or all, once it is gone) are released (service-release.ts). */
  private async releaseServices(ns: string, rolloutName: string, referenced: ReadonlySet<string> | undefined): Promise<void> {
    // Only this Rollout's marks are of interest: each reconcile looked at every Service of the
    // namespace (about 4% of the controller's CPU with 100 Rollouts stepping, bench/cpu-profile.ts).
    const marks = this.services
      .list(ns)
      .filter((s) => s.metadata.annotations?.[MANAGED_BY_ANNOTATION] === rolloutName)
      .map((s) => ({ name: s.metadata.name ?? '', managedBy: s.metadata.annotations?.[MANAGED_BY_ANNOTATION], resourceVersion: s.metadata.resourceVersion }));
    for (const svc of servicesToRelease(marks, rolloutName, referenced)) {
      await this.client.patch({ group: '', version: 'v1', plural: 'services', namespace: ns, name: svc.name }, 'merge', releasePatch(svc.resourceVersion)).catch(ignoreNotFound);
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

/**
 * A ReplicaSet the API server refused as invalid, as a spec issue of the Rollout. The ReplicaSet's
 * `spec.template...` paths are the Rollout's own, so the API's field paths point at the fix.
 */
export function rejectedTemplateIssue(replicaSetName: string, err: KubeApiError): SpecIssue {
  const causes = (err.body as { details?: { causes?: { field?: string }[] } } | undefined)?.details?.causes ?? [];
  const field = causes.map((c) => c.field).find((f) => f?.startsWith('spec.template'));
  return {
    path: field ?? 'spec.template',
    message: `the API server rejected ReplicaSet ${replicaSetName}: ${err.message}`,
    fix: 'correct the pod template so that a ReplicaSet with it is valid',
  };
}

const podReady = (pod: PodObject): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
/** A pod that can take requests: Ready and not on its way out. */
const podServes = (pod: PodObject | undefined): boolean => pod !== undefined && pod.metadata.deletionTimestamp === undefined && podReady(pod);

/**
 * What the planner sees of a ReplicaSet. Available pods are also bounded by the pods that serve
 * right now: the ReplicaSet's status lags its pods, and traffic must follow the pods.
 */
export function observeReplicaSet(rs: ReplicaSetObject, pods?: readonly PodObject[]): ObservedReplicaSet {
  const annotations = rs.metadata.annotations ?? {};
  const reported = rs.status?.availableReplicas ?? 0;
  const serving = pods?.filter(podServes).length;
  return {
    name: rs.metadata.name ?? '',
    hash: rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '',
    revision: Number(annotations[REVISION_ANNOTATION] ?? 0) || 0,
    replicas: rs.spec.replicas ?? 0,
    current: rs.status?.replicas ?? 0,
    ready: rs.status?.readyReplicas ?? 0,
    available: serving === undefined ? reported : Math.min(reported, serving),
    scaleDownDeadline: annotations[SCALE_DOWN_DEADLINE_ANNOTATION],
    settled: (rs.status?.observedGeneration ?? 0) >= (rs.metadata.generation ?? 0),
    createdAt: rs.metadata.creationTimestamp,
    podMetadata: rs.spec.template?.metadata,
    affinity: rs.spec.template?.spec?.affinity,
    ephemeralRecord: annotations[EPHEMERAL_METADATA_ANNOTATION],
    templateKey: templateKeys.get(rs) ?? (rs.spec.template?.spec?.containers ? templateKey(rs.spec.template) : undefined),
  };
}

// The template digest of each cached ReplicaSet, taken before the cache drops its pod spec.
const templateKeys = new WeakMap<object, string>();

/**
 * The caches a RolloutController plans from. Only ReplicaSets and pods that carry our hash label:
 * a cluster's other ones cost no memory. Each keeps only the fields reconciles read, so memory
 * grows with the objects, not with their size.
 */
function cacheInformers(client: KubeClient, namespace: string | undefined, instanceId: string | undefined, log: Logger) {
  const rolloutSelector = instanceId ? `${INSTANCE_ID_LABEL}=${instanceId}` : `!${INSTANCE_ID_LABEL}`;
  return {
    rollouts: new Informer<RolloutObject>(client, { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace }, { labelSelector: rolloutSelector, log, transform: trimRollout }),
    replicaSets: new Informer<ReplicaSetObject>(client, { group: 'apps', version: 'v1', plural: 'replicasets', namespace }, { labelSelector: POD_TEMPLATE_HASH_LABEL, log, transform: trimReplicaSet }),
    services: new Informer<ServiceObject>(client, { group: '', version: 'v1', plural: 'services', namespace }, { log, transform: trimService }),
    // Pods of our ReplicaSets only: their readiness bounds the traffic a ReplicaSet may get, and spec.restartAt.
    pods: new Informer<PodObject>(client, { group: '', version: 'v1', plural: 'pods', namespace }, { labelSelector: POD_TEMPLATE_HASH_LABEL, log, transform: trimPod }),
    deployments: new Informer<DeploymentObject>(client, { group: 'apps', version: 'v1', plural: 'deployments', namespace }, { log, transform: trimDeployment }),
  };
}

/** The part of a ReplicaSet reconciles read: memory grows with objects, not with their size. */
function trimReplicaSet(o: KubeObject): KubeObject {
  const spec = (o as ReplicaSetObject).spec;
  const template = spec?.template;
  const kept = template ? { metadata: { labels: template.metadata?.labels, annotations: template.metadata?.annotations }, spec: { affinity: template.spec?.affinity } } : undefined;
  const trimmed = { ...o, spec: { replicas: spec?.replicas, ...(kept ? { template: kept } : {}) } } as KubeObject;
  if (template) templateKeys.set(trimmed, templateKey(template));
  return trimmed;
}

export interface DeploymentObject extends KubeObject {
  spec?: { replicas?: number; selector?: SpecView['selector']; template?: SpecView['template'] };
}

/** What spec.workloadRef reads of a Deployment. */
function trimDeployment(o: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, generation } = o.metadata;
  const spec = (o as DeploymentObject).spec;
  return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name, namespace, uid, resourceVersion, generation }, spec: { replicas: spec?.replicas, selector: spec?.selector, template: spec?.template } } as KubeObject;
}

function observeWorkload(deployment: DeploymentObject | undefined): ObservedWorkload | undefined {
  if (deployment === undefined) return undefined;
  return { name: deployment.metadata.name ?? '', replicas: deployment.spec?.replicas ?? 1, generation: deployment.metadata.generation ?? 0, template: deployment.spec?.template, selector: deployment.spec?.selector };
}

function observeService(svc: ServiceObject | undefined): { selector: Record<string, string> } | undefined {
  return svc ? { selector: svc.spec.selector ?? {} } : undefined;
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
}

/** JSON round trip: drops undefined fields so comparing planned and stored status is exact. */
function normalize(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? {})) as unknown;
}
