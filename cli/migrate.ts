// `rollway migrate`: moves live Argo Rollouts to Rollway without touching a pod. Per Rollout: the
// Rollway Rollout is created from the Argo one with its status (step, pauses, hashes, abort); the
// ReplicaSets, canary Ingresses and TrafficSplits it owns are re-pointed at the new object (names
// and hash labels stay, so no pod changes) and its AnalysisRuns copied with their status; then
// the Argo Rollout is deleted without cascading. Routing objects keep their weights. A failure undoes what was done to that Rollout,
// so each one is either fully Argo or fully Rollway. `--back` does the same the other way.
import { formatIssue } from '../api/issues.ts';
import { ROLLOUT_API_VERSION, ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION, validateRollout } from '../api/rollout.ts';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { ANALYSIS_TYPE_LABEL, ROLLOUT_LABEL, STEP_INDEX_LABEL } from '../analysis/rollout-plan.ts';
import { labelValue } from '../analysis/providers/job.ts';
import { ARGO_API_VERSION, convertObjectValue, INSTANCE_ID_LABEL } from './convert.ts';

export type Side = 'argo' | 'rollway';
type Obj = Record<string, unknown>;
interface OwnerRef { apiVersion: string; kind: string; name: string; uid: string; controller?: boolean; blockOwnerDeletion?: boolean }

const ARGO_GROUP = 'argoproj.io';
const REVISION = { argo: 'rollout.argoproj.io/revision', rollway: 'rollway.dev/revision' };
const MIGRATED_ANNOTATION = 'rollway.dev/migrated-from';
const ROLLWAY_FINALIZERS = /^rollway\.dev\//;
const rolloutRef = (side: Side, namespace?: string, name?: string, subresource?: string): ResourceRef => ({
  group: side === 'argo' ? ARGO_GROUP : ROLLOUT_GROUP,
  version: ROLLOUT_VERSION,
  plural: ROLLOUT_PLURAL,
  namespace,
  name,
  subresource,
});
const runRef = (side: Side, namespace: string, name?: string): ResourceRef => ({ group: side === 'argo' ? ARGO_GROUP : ROLLOUT_GROUP, version: 'v1alpha1', plural: 'analysisruns', namespace, name });

/** What a Rollout owns besides AnalysisRuns: re-pointed in place (Argo names them as we do). */
const DEPENDENTS = [
  { kind: 'ReplicaSet', group: 'apps', versions: ['v1'], plural: 'replicasets' },
  { kind: 'Ingress', group: 'networking.k8s.io', versions: ['v1'], plural: 'ingresses' },
  { kind: 'TrafficSplit', group: 'split.smi-spec.io', versions: ['v1alpha4', 'v1alpha3', 'v1alpha2', 'v1alpha1'], plural: 'trafficsplits' },
];
interface Dependent { ref: ResourceRef; object: KubeObject; kind: string }

/** Status fields that mean something only to the controller that wrote them. */
const FOREIGN_STATUS = ['currentStepHash', 'collisionCount', 'observedGeneration'];

/** The Rollout as the other side will have it: spec converted, status carried over. Pure. */
export function translateRollout(from: KubeObject, to: Side): { object: Obj; status: Obj; notes: string[] } {
  const meta = from.metadata;
  const annotations = { ...(meta.annotations ?? {}) };
  delete annotations['kubectl.kubernetes.io/last-applied-configuration'];
  const base: Obj = { apiVersion: from.apiVersion, kind: 'Rollout', metadata: { name: meta.name, namespace: meta.namespace, labels: meta.labels, annotations }, spec: (from as Obj).spec };
  let object: Obj;
  let notes: string[] = [];
  if (to === 'rollway') {
    const converted = convertObjectValue(base);
    object = converted.object;
    notes = converted.notes.map((n) => `${n.path}: ${n.message}`);
    (object.metadata as { annotations: Obj }).annotations[MIGRATED_ANNOTATION] = 'argo-rollouts';
  } else {
    object = structuredClone({ ...base, apiVersion: ARGO_API_VERSION });
    const a = (object.metadata as { annotations: Record<string, string> }).annotations;
    delete a[MIGRATED_ANNOTATION];
    const revision = a[REVISION.rollway];
    if (revision !== undefined) a[REVISION.argo] = revision;
    delete a[REVISION.rollway];
  }
  const status = structuredClone(((from as Obj).status as Obj | undefined) ?? {});
  for (const key of FOREIGN_STATUS) delete status[key];
  return { object, status, notes };
}

/** An owner reference list with `from` replaced by `to`; undefined when `from` is not in it. */
export function repoint(refs: readonly OwnerRef[] | undefined, fromUid: string, to: OwnerRef): OwnerRef[] | undefined {
  if (!refs?.some((r) => r.uid === fromUid)) return undefined;
  return refs.map((r) => (r.uid === fromUid ? { ...to, controller: r.controller ?? true, blockOwnerDeletion: r.blockOwnerDeletion ?? true } : r));
}

export interface MigrateOptions {
  namespace?: string | undefined;
  rollout?: string | undefined;
  dryRun: boolean;
  /** from Rollway back to Argo */
  back: boolean;
  say: (line: string) => void;
}

export interface MigrateSummary {
  moved: string[];
  failed: string[];
}

export async function migrate(client: KubeClient, options: MigrateOptions): Promise<MigrateSummary> {
  const from: Side = options.back ? 'rollway' : 'argo';
  const to: Side = options.back ? 'argo' : 'rollway';
  const all = (await client.list<KubeObject>(rolloutRef(from, options.namespace))).items;
  const rollouts = all.filter((r) => options.rollout === undefined || r.metadata.name === options.rollout);
  if (options.rollout !== undefined && rollouts.length === 0) throw new Error(`no ${from === 'argo' ? 'Argo' : 'Rollway'} Rollout ${options.rollout} in ${options.namespace ?? 'any namespace'}`);
  await refuseWhileRunning(client, from, options.namespace, rollouts);
  const summary: MigrateSummary = { moved: [], failed: [] };
  for (const [i, rollout] of rollouts.entries()) {
    const key = `${rollout.metadata.namespace}/${rollout.metadata.name}`;
    const prefix = `[${i + 1}/${rollouts.length}] ${key}`;
    try {
      const line = await moveOne(client, rollout, to, options.dryRun, (what) => options.say(`${prefix}: ${what}`));
      options.say(`${prefix}: ${options.dryRun ? 'would move' : 'moved'} to ${to === 'rollway' ? 'Rollway' : 'Argo Rollouts'}: ${line}`);
      summary.moved.push(key);
    } catch (err) {
      summary.failed.push(key);
      options.say(`${prefix}: FAILED, left fully on ${from === 'argo' ? 'Argo Rollouts' : 'Rollway'}: ${(err as Error).message}`);
    }
  }
  options.say(`${summary.moved.length} Rollout${summary.moved.length === 1 ? '' : 's'} ${options.dryRun ? 'would move' : 'moved'}, ${summary.failed.length} failed`);
  return summary;
}

/** Refuses while the controller of the side being left may still act on its Rollouts. */
async function refuseWhileRunning(client: KubeClient, from: Side, namespace: string | undefined, rollouts: readonly KubeObject[]): Promise<void> {
  const leases = (await client.list<KubeObject & { spec?: { renewTime?: string; leaseDurationSeconds?: number; holderIdentity?: string } }>({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases' })).items;
  // A Rollway controller with an instance id (Lease rollway-controller-<id>) only handles Rollouts
  // labelled with that id; one scoped to a namespace holds its Lease there.
  const names = new Set(rollouts.map((r) => ((id) => (id ? `rollway-controller-${id}` : 'rollway-controller'))(r.metadata.labels?.[INSTANCE_ID_LABEL])));
  const name = (lease: string) => (from === 'argo' ? lease === 'argo-rollouts-controller-lock' : names.has(lease));
  const where = (ns: string | undefined) => from === 'argo' || namespace === undefined || ns === namespace || ns === 'rollway' || ns === 'kube-system';
  for (const lease of leases.filter((l) => name(l.metadata.name ?? '') && where(l.metadata.namespace))) {
    const renewed = Date.parse(lease.spec?.renewTime ?? '');
    const live = lease.spec?.holderIdentity && Date.now() - renewed < ((lease.spec?.leaseDurationSeconds ?? 15) + 5) * 1000;
    if (live) {
      throw new Error(`the ${from === 'argo' ? 'Argo Rollouts' : 'Rollway'} controller still runs (Lease ${lease.metadata.namespace}/${lease.metadata.name} held by ${lease.spec?.holderIdentity}, renewed ${Math.round((Date.now() - renewed) / 1000)}s ago): scale it to 0 first, e.g. kubectl -n ${lease.metadata.namespace} scale deployment --all --replicas=0`);
    }
  }
}

/** Moves one Rollout; on failure, undoes its own steps and throws. Answers a one-line summary. */
async function moveOne(client: KubeClient, rollout: KubeObject, to: Side, dryRun: boolean, say: (line: string) => void): Promise<string> {
  const ns = rollout.metadata.namespace!;
  const uid = rollout.metadata.uid!;
  const owned = (o: KubeObject) => o.metadata.ownerReferences?.some((r) => r.uid === uid) === true;
  const dependents = await ownedDependents(client, ns, owned);
  const runs = (await client.list<KubeObject>(runRef(to === 'rollway' ? 'argo' : 'rollway', ns))).items.filter(owned);
  const { object, status, notes } = translateRollout(rollout, to);
  const blocked = to === 'rollway' ? blockers(object, status) : [];
  if (blocked.length > 0) throw new Error(`cannot move: ${blocked.join('; ')}`);
  const count = (kind: string, n: number) => `${n} ${kind}${n === 1 ? '' : kind.endsWith('s') ? 'es' : 's'}`;
  const kinds = DEPENDENTS.map((d) => count(d.kind, dependents.filter((x) => x.kind === d.kind).length));
  const counts = `${[...kinds, count('AnalysisRun', runs.length)].join(', ')}; ${describeStatus(status)}${notes.length ? `; notes: ${notes.join('; ')}` : ''}`;
  await awaitNameFree(client, rolloutRef(to, ns, rollout.metadata.name), say, !dryRun);
  if (dryRun) return counts;
  const undo: (() => Promise<unknown>)[] = [];
  try {
    const created = await client.create<KubeObject>(rolloutRef(to, ns), object as KubeObject);
    undo.push(() => client.delete(rolloutRef(to, ns, created.metadata.name), { propagationPolicy: 'Orphan' }));
    await client.patch(rolloutRef(to, ns, created.metadata.name, 'status'), 'merge', { status });
    const owner: OwnerRef = { apiVersion: to === 'rollway' ? ROLLOUT_API_VERSION : ARGO_API_VERSION, kind: 'Rollout', name: created.metadata.name!, uid: created.metadata.uid! };
    for (const { ref, object: o } of dependents) {
      const refs = repoint(o.metadata.ownerReferences as OwnerRef[], uid, owner)!;
      await client.patch(ref, 'merge', { metadata: { ownerReferences: refs, annotations: revisionAnnotations(o, to) } });
      undo.push(() => client.patch(ref, 'merge', { metadata: { ownerReferences: o.metadata.ownerReferences } }));
    }
    for (const run of runs) await moveRun(client, run, to, owner, undo);
    if (to === 'rollway') await copyTemplates(client, rollout, undo);
    await releaseFinalizers(client, rollout, to === 'rollway' ? 'argo' : 'rollway');
    await client.delete(rolloutRef(to === 'rollway' ? 'argo' : 'rollway', ns, rollout.metadata.name), { propagationPolicy: 'Orphan', preconditions: { uid } });
    return counts;
  } catch (err) {
    for (const step of undo.reverse()) await step().catch(() => undefined);
    throw err;
  }
}

const NAME_FREE_TIMEOUT_MS = 120_000;

/**
 * The side we move to may still hold a Rollout of this name that an earlier move deleted: deleted
 * without cascading, it goes only once the garbage collector removes its orphan finalizer, which
 * can take a discovery resync (30 s) after that side's CRDs were installed. Waits for it to go
 * (a dry run does not wait); a live one of that name is an error.
 */
async function awaitNameFree(client: KubeClient, ref: ResourceRef, say: (line: string) => void, wait: boolean): Promise<void> {
  const side = ref.group === ARGO_GROUP ? 'Argo' : 'Rollway';
  const deadline = Date.now() + NAME_FREE_TIMEOUT_MS;
  for (let told = false; ; told = true) {
    const existing = await client.getOptional<KubeObject>(ref);
    if (!existing) return;
    const held = `finalizers: ${(existing.metadata.finalizers ?? []).join(', ') || 'none'}`;
    if (!existing.metadata.deletionTimestamp) throw new Error(`a ${side} Rollout named ${ref.name} already exists in ${ref.namespace}: delete it, or move this one under another name`);
    if (!wait) return;
    if (Date.now() > deadline) throw new Error(`the ${side} Rollout ${ref.name} it would replace is still being deleted after ${NAME_FREE_TIMEOUT_MS / 1000} s (${held}); run migrate again once it is gone`);
    if (!told) say(`waiting for the ${side} Rollout ${ref.name} that is being deleted to go (${held})`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/**
 * Why Rollway must not take a Rollout over yet: a spec it would refuse, a feature it does not
 * implement (it would sit on it while traffic stays where it is), an Experiment in progress. Pure.
 */
export function blockers(object: Obj, status: Obj): string[] {
  const result = validateRollout(object);
  if (!result.ok) return result.issues.map((i) => `Rollway would refuse its spec: ${formatIssue(i)}`);
  const found = result.notImplemented.map((i) => `${i.path} is not implemented in Rollway yet`);
  const experiment = (status.canary as { currentExperiment?: unknown } | undefined)?.currentExperiment;
  if (typeof experiment === 'string' && experiment !== '') found.push(`its Experiment ${experiment} is running, and migrate does not move Experiments: move the Rollout once the experiment ends`);
  return found;
}

/** The objects of DEPENDENTS kinds a Rollout owns; a kind the API server does not serve has none. */
async function ownedDependents(client: KubeClient, ns: string, owned: (o: KubeObject) => boolean): Promise<Dependent[]> {
  const found: Dependent[] = [];
  for (const d of DEPENDENTS) {
    for (const version of d.versions) {
      const base = { group: d.group, version, plural: d.plural, namespace: ns };
      try {
        const items = (await client.list<KubeObject>(base)).items.filter(owned);
        found.push(...items.map((object) => ({ ref: { ...base, name: object.metadata.name }, object, kind: d.kind })));
        break;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
      }
    }
  }
  return found;
}

/** The revision annotation of the side we move to, copied from the side we leave. */
function revisionAnnotations(o: KubeObject, to: Side): Record<string, string> {
  const a = o.metadata.annotations ?? {};
  const value = to === 'rollway' ? a[REVISION.argo] : a[REVISION.rollway];
  return value === undefined ? {} : { [REVISION[to]]: value };
}

/** AnalysisRuns are of the Rollout's group: a copy with the same name, spec and status replaces each. */
async function moveRun(client: KubeClient, run: KubeObject, to: Side, owner: OwnerRef, undo: (() => Promise<unknown>)[]): Promise<void> {
  const ns = run.metadata.namespace!;
  const { object, status } = translateRun(run, to, owner);
  // Argo's AnalysisRun has no status subresource: its status is written with the object.
  const created = await client.create<KubeObject>(runRef(to, ns), (to === 'argo' ? { ...object, status } : object) as KubeObject);
  undo.push(() => client.delete(runRef(to, ns, created.metadata.name)));
  if (to === 'rollway') await client.patch({ ...runRef(to, ns, created.metadata.name), subresource: 'status' }, 'merge', { status });
  await client.delete(runRef(to === 'rollway' ? 'argo' : 'rollway', ns, run.metadata.name), { preconditions: { uid: run.metadata.uid! } });
}

export function translateRun(run: KubeObject, to: Side, owner: OwnerRef): { object: Obj; status: Obj } {
  const m = run.metadata;
  // Our controller watches the runs labelled with their Rollout's name.
  const labels = to === 'rollway' ? { ...m.labels, [ROLLOUT_LABEL]: labelValue(owner.name) } : argoRunLabels(m.labels ?? {});
  const annotations = to === 'rollway' ? m.annotations : argoAnnotations(m.annotations ?? {});
  const base: Obj = { apiVersion: run.apiVersion, kind: 'AnalysisRun', metadata: { name: m.name, namespace: m.namespace, labels, annotations, ownerReferences: repoint(m.ownerReferences as OwnerRef[], (m.ownerReferences as OwnerRef[])[0]!.uid, owner) }, spec: (run as Obj).spec };
  const object = to === 'rollway' ? convertObjectValue(base).object : { ...base, apiVersion: ARGO_API_VERSION };
  return { object, status: structuredClone(((run as Obj).status as Obj | undefined) ?? {}) };
}

/** Our run labels as Argo's: it tells step from background runs by rollout-type (Step, Background). */
function argoRunLabels(labels: Record<string, string>): Record<string, string> {
  const { [ROLLOUT_LABEL]: _rollout, [ANALYSIS_TYPE_LABEL]: type, [STEP_INDEX_LABEL]: step, ...rest } = labels;
  return { ...rest, ...(type ? { 'rollout-type': type.charAt(0).toUpperCase() + type.slice(1) } : {}), ...(step !== undefined ? { 'step-index': step } : {}) };
}

function argoAnnotations(annotations: Record<string, string>): Record<string, string> {
  const { [REVISION.rollway]: revision, ...rest } = annotations;
  return { ...rest, ...(revision !== undefined ? { [REVISION.argo]: revision } : {}) };
}

/** The analysis templates a spec names: `templateName` with `clusterScope`, anywhere in it. */
export function templateRefs(spec: unknown): { name: string; cluster: boolean }[] {
  const found = new Map<string, { name: string; cluster: boolean }>();
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const o = v as Obj;
    if (typeof o.templateName === 'string') found.set(`${o.clusterScope === true}/${o.templateName}`, { name: o.templateName, cluster: o.clusterScope === true });
    Object.values(o).forEach(walk);
  };
  walk(spec);
  return [...found.values()];
}

/**
 * The Argo analysis templates the Rollout names, copied as Rollway's where ours is missing (Argo's
 * stay: other Argo Rollouts may use them). Without them the Rollout would be InvalidSpec.
 */
async function copyTemplates(client: KubeClient, rollout: KubeObject, undo: (() => Promise<unknown>)[]): Promise<void> {
  const ns = rollout.metadata.namespace!;
  for (const { name, cluster } of templateRefs((rollout as Obj).spec)) {
    const plural = cluster ? 'clusteranalysistemplates' : 'analysistemplates';
    const at = (group: string): ResourceRef => ({ group, version: 'v1alpha1', plural, namespace: cluster ? undefined : ns, name });
    if (await client.getOptional(at(ROLLOUT_GROUP))) continue;
    const argo = await client.getOptional<KubeObject>(at(ARGO_GROUP));
    if (!argo) throw new Error(`the ${cluster ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate'} ${name} it names exists neither in Argo's group nor in ours`);
    const { metadata: m } = argo;
    const { object } = convertObjectValue({ apiVersion: argo.apiVersion, kind: argo.kind, metadata: { name: m.name, namespace: m.namespace, labels: m.labels, annotations: m.annotations }, spec: (argo as Obj).spec });
    await client.create({ ...at(ROLLOUT_GROUP), name: undefined }, object as KubeObject);
    undo.push(() => client.delete(at(ROLLOUT_GROUP)));
  }
}

/** Our finalizer on a Rollway Rollout would release its routing on deletion: not when it moves. */
async function releaseFinalizers(client: KubeClient, rollout: KubeObject, side: Side): Promise<void> {
  const finalizers = rollout.metadata.finalizers ?? [];
  if (side !== 'rollway' || !finalizers.some((f) => ROLLWAY_FINALIZERS.test(f))) return;
  try {
    await client.patch(rolloutRef(side, rollout.metadata.namespace, rollout.metadata.name), 'merge', { metadata: { finalizers: finalizers.filter((f) => !ROLLWAY_FINALIZERS.test(f)), resourceVersion: rollout.metadata.resourceVersion } });
  } catch (err) {
    if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
  }
}

function describeStatus(status: Obj): string {
  const step = status.currentStepIndex;
  const paused = Array.isArray(status.pauseConditions) && status.pauseConditions.length > 0;
  return [`phase ${String(status.phase ?? '?')}`, step !== undefined ? `step index ${String(step)}` : '', paused ? 'paused' : '', status.abort === true ? 'aborted' : ''].filter(Boolean).join(', ');
}
