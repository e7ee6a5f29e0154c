// Reading what a rollout view needs from the API server: once (`get rollout`), or kept up to date
// with informers (`get rollout -w`, `list rollouts -w`, the dashboard). Only the objects that
// matter are listed: ReplicaSets and pods carrying the pod-template-hash label, AnalysisRuns when
// the API server serves them, and the routing objects the Rollouts name.
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/labels.ts';
import type { ReplicaSetObject, RolloutObject } from '../api/views.ts';
import { Informer, type Logger } from '../kube/informer.ts';
import { KubeApiError, type KubeClient, type KubeObject, type RequestOptions, type ResourceRef } from '../kube/client.ts';
import { EXPERIMENT_PLURAL } from '../api/experiment.ts';
import { ActionError, getRollout } from './actions.ts';
import { experimentRef, type ExperimentObject } from './experiments.ts';
import { routingTargets, type RoutingTarget } from './routing.ts';
import { buildView, type AnalysisRunObject, type PodObject, type RolloutSnapshot, type RolloutViewModel, type RoutingObservation } from './view.ts';

export const ANALYSIS_RUN_PLURAL = 'analysisruns';

const rsRef = (namespace?: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace });
const podRef = (namespace?: string): ResourceRef => ({ group: '', version: 'v1', plural: 'pods', namespace });
const arRef = (namespace?: string): ResourceRef => ({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ANALYSIS_RUN_PLURAL, namespace });
const rolloutsRef = (namespace?: string): ResourceRef => ({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace });

/** Whether the API server serves a resource (a CRD may be missing). */
export async function serves(client: KubeClient, group: string, version: string, plural: string): Promise<boolean> {
  try {
    const doc = await client.request<{ resources?: { name: string }[] }>('GET', group === '' ? `/api/${version}` : `/apis/${group}/${version}`);
    return (doc.resources ?? []).some((r) => r.name === plural);
  } catch (err) {
    if (err instanceof KubeApiError && err.isNotFound) return false;
    throw err;
  }
}

/**
 * The items of an optional part of a view (AnalysisRuns, Experiments), or undefined when the
 * user may not list them: a role made before Experiments existed must not break `get rollout`.
 */
async function listIfAllowed<T extends KubeObject>(client: KubeClient, ref: ResourceRef, query: RequestOptions['query'] = {}): Promise<T[] | undefined> {
  try {
    return (await client.list<T>(ref, query)).items;
  } catch (err) {
    if (err instanceof KubeApiError && err.statusCode === 403) return undefined;
    throw err;
  }
}

/** What a user without the list permission is told instead of the objects (kubectl auth can-i's resource name). */
export const forbiddenNote = (plurals: readonly string[]): string =>
  `not shown: ${plurals.map((p) => `${p}.${ROLLOUT_GROUP}`).join(', ')} (you may not list them: ask for list and watch)`;

/** The version of an API group the API server prefers; undefined when the group is not served. */
export async function preferredVersion(client: KubeClient, group: string): Promise<string | undefined> {
  try {
    const doc = await client.request<{ preferredVersion?: { version?: string } }>('GET', `/apis/${group}`);
    return doc.preferredVersion?.version;
  } catch (err) {
    if (err instanceof KubeApiError && err.isNotFound) return undefined;
    throw err;
  }
}

export function analysisRunsMissing(): ActionError {
  return new ActionError(
    `the API server does not serve ${ANALYSIS_RUN_PLURAL}.${ROLLOUT_GROUP} (kind AnalysisRun, ${ROLLOUT_GROUP}/${ROLLOUT_VERSION}): is the AnalysisRun CRD installed? (kubectl apply -f crds/rollway/)`,
  );
}

function errorText(err: unknown): string {
  if (err instanceof KubeApiError) return err.isNotFound ? 'not found' : `${err.reason}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

const ownedBy = (object: KubeObject, uids: Set<string>): boolean => (object.metadata.ownerReferences ?? []).some((o) => uids.has(o.uid));

/** The objects of one rollout, picked from wider lists. */
export function assembleSnapshot(
  rollout: RolloutObject,
  replicaSets: readonly ReplicaSetObject[],
  pods: readonly PodObject[],
  analysisRuns: readonly AnalysisRunObject[],
  routing: RoutingObservation[],
  experiments: readonly ExperimentObject[] = [],
): RolloutSnapshot {
  const uid = new Set([rollout.metadata.uid ?? '']);
  const own = experiments.filter((e) => ownedBy(e, uid));
  // The Experiments' ReplicaSets, pods and AnalysisRuns come along for the tree.
  const owners = new Set([...uid, ...own.map((e) => e.metadata.uid ?? '')]);
  const sets = replicaSets.filter((rs) => ownedBy(rs, owners));
  const setUids = new Set(sets.map((rs) => rs.metadata.uid ?? ''));
  return {
    rollout,
    replicaSets: sets,
    pods: pods.filter((p) => ownedBy(p, setUids)),
    analysisRuns: analysisRuns.filter((ar) => ownedBy(ar, owners)),
    routing,
    ...(own.length > 0 ? { experiments: own } : {}),
  };
}

async function readTargets(client: KubeClient, targets: RoutingTarget[], versions: Map<string, string | undefined>): Promise<RoutingObservation[]> {
  const out: RoutingObservation[] = [];
  for (const t of targets) {
    const base = { kind: t.kind, name: t.name, namespace: t.namespace };
    try {
      if (!versions.has(t.group)) versions.set(t.group, await preferredVersion(client, t.group));
      const version = versions.get(t.group);
      if (!version) {
        out.push({ ...base, error: `API group ${t.group} is not served (CRD not installed?)` });
        continue;
      }
      const object = await client.get({ group: t.group, version, plural: t.plural, namespace: t.namespace, name: t.name });
      const weight = t.read(object);
      out.push(weight ? { ...base, weight } : { ...base, error: 'no canary/stable destinations found' });
    } catch (err) {
      out.push({ ...base, error: errorText(err) });
    }
  }
  return out;
}

/** One rollout and everything its view shows, read once. */
export async function fetchSnapshot(client: KubeClient, namespace: string, name: string): Promise<RolloutSnapshot> {
  const rollout = await getRollout(client, namespace, name);
  const selector = { labelSelector: POD_TEMPLATE_HASH_LABEL };
  const optional = <T extends KubeObject>(plural: string, ref: ResourceRef): Promise<T[] | undefined> =>
    serves(client, ROLLOUT_GROUP, ROLLOUT_VERSION, plural).then((ok) => (ok ? listIfAllowed<T>(client, ref) : []));
  const [sets, pods, runs, experiments] = await Promise.all([
    client.list<ReplicaSetObject>(rsRef(namespace), selector),
    client.list<PodObject>(podRef(namespace), selector),
    optional<AnalysisRunObject>(ANALYSIS_RUN_PLURAL, arRef(namespace)),
    optional<ExperimentObject>(EXPERIMENT_PLURAL, experimentRef(namespace)),
  ]);
  const routing = await readTargets(client, routingTargets(rollout), new Map());
  const forbidden = [...(runs ? [] : [ANALYSIS_RUN_PLURAL]), ...(experiments ? [] : [EXPERIMENT_PLURAL])];
  return { ...assembleSnapshot(rollout, sets.items, pods.items, runs ?? [], routing, experiments ?? []), ...(forbidden.length > 0 ? { forbidden } : {}) };
}

/** The views of every rollout of a namespace (all namespaces when undefined), from one LIST each. */
export async function fetchRolloutViews(client: KubeClient, namespace: string | undefined): Promise<RolloutViewModel[]> {
  const list = await client.list<RolloutObject>(rolloutsRef(namespace));
  const selector = { labelSelector: POD_TEMPLATE_HASH_LABEL };
  const sets = list.items.length > 0 ? (await client.list<ReplicaSetObject>(rsRef(namespace), selector)).items : [];
  return sortViews(list.items.map((ro) => buildView(assembleSnapshot(ro, sets, [], [], []))));
}

export function sortViews(views: RolloutViewModel[]): RolloutViewModel[] {
  return views.sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name));
}

/**
 * Informers on the objects rollout views are made of, in one namespace (or all). Any change
 * calls the listeners; a caller throttles its redraws. Errors are kept, not printed, so a
 * live terminal view stays clean.
 */
export class RolloutWatch {
  readonly namespace: string | undefined;
  readonly rollouts: Informer<RolloutObject>;
  readonly replicaSets: Informer<ReplicaSetObject>;
  readonly pods: Informer<PodObject>;
  private analysisRuns: Informer<AnalysisRunObject> | undefined;
  private experiments: Informer<ExperimentObject> | undefined;
  private readonly routing = new Map<string, { informer?: Informer<KubeObject> | undefined; error?: string | undefined }>();
  private readonly client: KubeClient;
  private readonly listeners = new Set<() => void>();
  private readonly log: Logger;
  private stopped = false;
  lastError: string | undefined;
  /** kinds the user may not list, left out of every snapshot */
  readonly forbidden: string[] = [];

  constructor(client: KubeClient, namespace: string | undefined, options: { rolloutName?: string } = {}) {
    this.client = client;
    this.namespace = namespace;
    this.log = (level, msg, fields) => {
      if (level === 'warn' || level === 'error') this.lastError = `${msg}${fields.error ? `: ${String(fields.error)}` : ''}`;
    };
    const quiet = { log: this.log };
    this.rollouts = new Informer<RolloutObject>(client, rolloutsRef(namespace), { ...quiet, ...(options.rolloutName ? { fieldSelector: `metadata.name=${options.rolloutName}` } : {}) });
    this.replicaSets = new Informer<ReplicaSetObject>(client, rsRef(namespace), { ...quiet, labelSelector: POD_TEMPLATE_HASH_LABEL });
    this.pods = new Informer<PodObject>(client, podRef(namespace), { ...quiet, labelSelector: POD_TEMPLATE_HASH_LABEL });
    for (const informer of [this.rollouts, this.replicaSets, this.pods] as Informer<KubeObject>[]) informer.on(() => this.changed());
    this.rollouts.on(() => void this.followRouting());
  }

  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private changed(): void {
    if (this.stopped) return;
    for (const listener of this.listeners) {
      try {
        listener();
      } catch (err) {
        this.lastError = String(err);
      }
    }
  }

  async start(): Promise<void> {
    this.analysisRuns = await this.optionalInformer<AnalysisRunObject>(ANALYSIS_RUN_PLURAL, arRef(this.namespace));
    this.experiments = await this.optionalInformer<ExperimentObject>(EXPERIMENT_PLURAL, experimentRef(this.namespace));
    this.rollouts.start();
    this.replicaSets.start();
    this.pods.start();
    await Promise.all([this.rollouts.waitForSync(), this.replicaSets.waitForSync(), this.pods.waitForSync(), this.analysisRuns?.waitForSync(), this.experiments?.waitForSync()]);
    await this.followRouting();
  }

  /** An informer on a kind the view can do without: none when it is not served or the user may not list it. */
  private async optionalInformer<T extends KubeObject>(plural: string, ref: ResourceRef): Promise<Informer<T> | undefined> {
    if (!(await serves(this.client, ROLLOUT_GROUP, ROLLOUT_VERSION, plural))) return undefined;
    // A forbidden informer would retry for ever and never sync; one LIST of one item asks first.
    if ((await listIfAllowed(this.client, ref, { limit: 1 })) === undefined) {
      this.forbidden.push(plural);
      return undefined;
    }
    const informer = new Informer<T>(this.client, ref, { log: this.log });
    informer.on(() => this.changed());
    informer.start();
    return informer;
  }

  stop(): void {
    this.stopped = true;
    this.rollouts.stop();
    this.replicaSets.stop();
    this.pods.stop();
    this.analysisRuns?.stop();
    this.experiments?.stop();
    for (const r of this.routing.values()) r.informer?.stop();
  }

  /** Starts an informer for each kind of routing object the rollouts name (once per kind and namespace). */
  private async followRouting(): Promise<void> {
    for (const ro of this.rollouts.list()) {
      for (const t of routingTargets(ro)) {
        const key = `${t.group}/${t.plural}/${t.namespace}`;
        if (this.routing.has(key)) continue;
        const entry: { informer?: Informer<KubeObject>; error?: string } = {};
        this.routing.set(key, entry);
        try {
          const version = await preferredVersion(this.client, t.group);
          if (!version) {
            entry.error = `API group ${t.group} is not served (CRD not installed?)`;
          } else if (!this.stopped) {
            entry.informer = new Informer<KubeObject>(this.client, { group: t.group, version, plural: t.plural, namespace: t.namespace }, { log: this.log });
            entry.informer.on(() => this.changed());
            entry.informer.start();
            await entry.informer.waitForSync();
          }
        } catch (err) {
          entry.error = errorText(err);
        }
        this.changed();
      }
    }
  }

  private observe(rollout: RolloutObject): RoutingObservation[] {
    return routingTargets(rollout).map((t) => {
      const base = { kind: t.kind, name: t.name, namespace: t.namespace };
      const entry = this.routing.get(`${t.group}/${t.plural}/${t.namespace}`);
      if (!entry) return { ...base, error: 'not read yet' };
      if (entry.error) return { ...base, error: entry.error };
      const object = entry.informer?.get(t.namespace, t.name);
      if (!object) return { ...base, error: entry.informer?.hasSynced() ? 'not found' : 'not read yet' };
      const weight = t.read(object);
      return weight ? { ...base, weight } : { ...base, error: 'no canary/stable destinations found' };
    });
  }

  snapshot(namespace: string, name: string): RolloutSnapshot | undefined {
    const rollout = this.rollouts.get(namespace, name);
    if (!rollout) return undefined;
    const snapshot = assembleSnapshot(rollout, this.replicaSets.list(namespace), this.pods.list(namespace), this.analysisRuns?.list(namespace) ?? [], this.observe(rollout), this.experiments?.list(namespace) ?? []);
    return this.forbidden.length > 0 ? { ...snapshot, forbidden: this.forbidden } : snapshot;
  }

  views(): RolloutViewModel[] {
    return sortViews(this.rollouts.list().map((ro) => buildView(this.snapshot(ro.metadata.namespace ?? '', ro.metadata.name ?? '')!)));
  }

  analysisRunsServed(): boolean {
    return this.analysisRuns !== undefined;
  }
}
