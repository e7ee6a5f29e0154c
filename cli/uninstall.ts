// `rollway uninstall`: what must happen before the controller goes, so that nothing is left stuck
// (Rollouts holding our finalizer block their namespace's deletion for ever) or half-shifted
// (routing objects keeping a canary weight). For each Rollout: the same release the controller
// does on deletion, then the finalizer off; then routing left by Rollouts already gone.
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import { APPLIED_ROUTING_ANNOTATION, INSTANCE_ID_LABEL, TRAFFIC_ROUTING_FINALIZER } from '../api/labels.ts';
import type { RolloutObject } from '../api/views.ts';
import { describeObjects, dropFinalizer, findOrphanedRouting, releaseOrphan, releaseTrafficRouting, routingToRelease, subjectOf, type ReleaseOutcome } from '../controller/index.ts';
import { isConflict, KubeApiError, type KubeClient, type KubeObject } from '../kube/client.ts';
import { inPlaceObjects, type AppliedRouting } from '../routers/index.ts';
import { ActionError, rolloutRef } from '../client/actions.ts';

export interface LeaseObject extends KubeObject {
  spec?: { holderIdentity?: string; renewTime?: string; leaseDurationSeconds?: number };
}

/** The Lease names `rollway controller` elects a leader with (with and without --instance-id). */
export const isControllerLease = (name: string | undefined): boolean => name === 'rollway-controller' || (name ?? '').startsWith('rollway-controller-');

/** Held by someone and renewed within its duration: a controller is running behind it. */
export function leaseIsLive(lease: LeaseObject, now: number): boolean {
  const spec = lease.spec ?? {};
  if (!spec.holderIdentity || !spec.renewTime) return false;
  return Date.parse(spec.renewTime) + (spec.leaseDurationSeconds ?? 15) * 1000 > now;
}

/** The Lease of the controller that handles a Rollout: its instance id's, else the default one. */
export const leaseNameFor = (rollout: KubeObject): string => {
  const id = rollout.metadata.labels?.[INSTANCE_ID_LABEL];
  return id ? `rollway-controller-${id}` : 'rollway-controller';
};

/**
 * The live controller Leases that could reconcile Rollouts of a namespace: those in it, in the
 * namespaces controllers keep them by default, and in any extra ones; with no namespace, all.
 * With `names`, only Leases of those names (the controllers of the Rollouts in question).
 */
export async function liveControllerLeases(client: KubeClient, namespace: string | undefined, extra: readonly string[], now: number, names?: ReadonlySet<string>): Promise<string[]> {
  const ref = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases' };
  const places = namespace === undefined ? [undefined] : [...new Set([namespace, ...extra, 'rollway', 'kube-system'])];
  const live: string[] = [];
  for (const ns of places) {
    const list = await client.list<LeaseObject>({ ...ref, namespace: ns }).catch((err: unknown) => {
      // The default places may be out of reach of a namespaced user: nothing to see there.
      const optional = ns !== namespace && !extra.includes(ns ?? '');
      if (optional && err instanceof KubeApiError && err.statusCode === 403) return { items: [] as LeaseObject[] };
      throw err;
    });
    for (const lease of list.items) {
      const relevant = names ? names.has(lease.metadata.name ?? '') : isControllerLease(lease.metadata.name);
      if (relevant && leaseIsLive(lease, now)) live.push(`${lease.metadata.namespace}/${lease.metadata.name} (held by ${lease.spec?.holderIdentity})`);
    }
  }
  return live;
}

/** What releasing a routing does, in words: one phrase per object. */
export function describeRelease(applied: AppliedRouting, rollout: { namespace: string; name: string }): string[] {
  const routing = applied.trafficRouting;
  const out = inPlaceObjects(applied, rollout.namespace).map((o) => `${o.kind} ${o.name} set back to 100% stable (our routes, subset labels and marks removed)`);
  const nginx = routing.nginx as { stableIngress?: string; stableIngresses?: string[] } | undefined;
  if (nginx) out.push(`canary Ingress of ${(nginx.stableIngress ? [nginx.stableIngress] : (nginx.stableIngresses ?? [])).join(', ')} deleted`);
  const smi = routing.smi as { trafficSplitName?: string } | undefined;
  if (smi) out.push(`TrafficSplit ${smi.trafficSplitName ?? rollout.name} deleted (if ours)`);
  return out;
}

export interface UninstallOptions {
  /** one namespace, or undefined for all */
  namespace: string | undefined;
  dryRun: boolean;
  force: boolean;
  /** more namespaces to look for controller Leases in */
  leaseNamespaces?: readonly string[];
  /** only the Rollouts of this controller instance ('' : those without an instance id) */
  instanceId?: string | undefined;
  /** scale this controller Deployment to 0 first and wait until its Lease is given up (Helm's pre-delete hook) */
  stopController?: { namespace: string; name: string; timeoutMs?: number } | undefined;
  out: (line: string) => void;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface UninstallResult {
  released: number;
  failed: number;
}

export async function uninstall(client: KubeClient, options: UninstallOptions): Promise<UninstallResult> {
  const id = options.instanceId;
  const labelSelector = id === undefined ? undefined : id === '' ? `!${INSTANCE_ID_LABEL}` : `${INSTANCE_ID_LABEL}=${id}`;
  const list = await client.list<RolloutObject>({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: options.namespace }, labelSelector ? { labelSelector } : {});
  // Only the controllers of these Rollouts matter (with no Rollouts, any controller's).
  const names = list.items.length > 0 ? new Set(list.items.map(leaseNameFor)) : undefined;
  const leases = (): Promise<string[]> => liveControllerLeases(client, options.namespace, options.leaseNamespaces ?? [], (options.now ?? Date.now)(), names);
  if (options.stopController && !options.dryRun) await stopController(client, options.stopController, leases, options);
  const live = await leases();
  if (live.length > 0) {
    const what = `a Rollway controller still runs (Lease ${live.join(', ')}): it would put the weights and finalizers back`;
    if (!options.force && !options.dryRun) throw new ActionError(`${what}. Stop it first (scale its Deployment to 0, or uninstall its Helm release, whose hook does this), or pass --force`);
    options.out(`warning: ${what}`);
  }
  const result: UninstallResult = { released: 0, failed: 0 };
  const rollouts = [...list.items].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
  for (const rollout of rollouts) await uninstallRollout(client, rollout, options, result);
  if (rollouts.length === 0) options.out(`no Rollouts in ${options.namespace === undefined ? 'any namespace' : `namespace ${options.namespace}`}`);
  for (const orphan of await findOrphanedRouting(client, options.namespace)) {
    const key = `${orphan.namespace}/${orphan.name}`;
    if (options.dryRun) {
      options.out(`${key} (deleted, uid ${orphan.uid}): would set ${describeObjects(orphan.objects)} back to 100% stable`);
      continue;
    }
    const outcome = await releaseOrphan(client, orphan, quiet);
    report(options, `${key} (deleted, uid ${orphan.uid})`, outcome, [`${describeObjects(orphan.objects)} set back to 100% stable`], result);
  }
  return result;
}

/** Scales the controller's Deployment to 0 and waits (bounded) until no Lease of it is live: it gives the Lease up on SIGTERM. */
async function stopController(client: KubeClient, target: NonNullable<UninstallOptions['stopController']>, leases: () => Promise<string[]>, options: UninstallOptions): Promise<void> {
  const where = `${target.namespace}/${target.name}`;
  try {
    await client.patch({ group: 'apps', version: 'v1', plural: 'deployments', namespace: target.namespace, name: target.name }, 'merge', { spec: { replicas: 0 } });
    options.out(`Deployment ${where} scaled to 0`);
  } catch (err) {
    if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
    options.out(`Deployment ${where} not found: nothing to stop`);
  }
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + (target.timeoutMs ?? 90_000);
  while ((await leases()).length > 0 && Date.now() < deadline) await sleep(1000);
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace}/${o.metadata.name}`;
const quiet = (): void => {};

function report(options: UninstallOptions, key: string, outcome: ReleaseOutcome, done: string[], result: UninstallResult): void {
  if (outcome.released) {
    result.released++;
    options.out(`${key}: ${outcome.router}: ${done.join('; ')}`);
  } else {
    result.failed++;
    options.out(`${key}: ${outcome.router}: could not be released: ${outcome.problem ?? ''}`);
  }
}

async function uninstallRollout(client: KubeClient, rollout: RolloutObject, options: UninstallOptions, result: UninstallResult): Promise<void> {
  const key = keyOf(rollout);
  const applied = routingToRelease(rollout);
  const holds = rollout.metadata.finalizers?.includes(TRAFFIC_ROUTING_FINALIZER) === true;
  const remembers = rollout.metadata.annotations?.[APPLIED_ROUTING_ANNOTATION] !== undefined;
  // Without either, the controller never routed this Rollout's traffic (it takes the finalizer first).
  if (!holds && !remembers) {
    options.out(`${key}: no traffic routing applied, nothing to do`);
    return;
  }
  const finalizerNote = `finalizer ${TRAFFIC_ROUTING_FINALIZER} removed`;
  if (options.dryRun) {
    const would = [...(applied ? describeRelease(applied, subjectOf(rollout)) : []), ...(holds ? [finalizerNote] : [])];
    options.out(`${key}: would do: ${would.join('; ') || 'remove the remembered routing annotation'}`);
    return;
  }
  if (applied) {
    const outcome = await releaseTrafficRouting(client, subjectOf(rollout), applied, quiet);
    // A routing that cannot be released (its API is gone) leaves nothing behind: the finalizer goes too.
    report(options, key, outcome, describeRelease(applied, subjectOf(rollout)), result);
  }
  await dropFinalizerFresh(client, rollout);
  if (holds) options.out(`${key}: ${finalizerNote}`);
}

/** Drops the finalizer, reading the Rollout again when someone wrote it in between. */
async function dropFinalizerFresh(client: KubeClient, rollout: RolloutObject): Promise<void> {
  let current: RolloutObject | undefined = rollout;
  for (let attempt = 1; current; attempt++) {
    try {
      await dropFinalizer(client, current);
      return;
    } catch (err) {
      if (!isConflict(err) || attempt >= 5) throw err;
      current = await client.getOptional<RolloutObject>(rolloutRef(current.metadata.namespace ?? '', current.metadata.name ?? ''));
    }
  }
}
