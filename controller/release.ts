// Putting a Rollout's routing objects back to 100% stable, with our routes, subset labels, marks
// and created objects removed. One implementation for the controller (a Rollout deleted, or its
// trafficRouting removed or moved), `rollway uninstall` (every Rollout, then its finalizer), and a
// controller start that finds routing a deleted Rollout left behind.
import { ROLLOUT_API_VERSION, ROLLOUT_GROUP, ROLLOUT_KIND, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { appliedRoutingOf, createRouter, type AppliedRouting } from '../routers/index.ts';
import { RouterSpecError, type RouterContext } from '../routers/types.ts';
import { unmarkObjects, unmarkRoutingObjects, type OrphanedRouting } from './routing-marks.ts';
import { APPLIED_ROUTING_ANNOTATION, TRAFFIC_ROUTING_FINALIZER } from '../api/labels.ts';

export { APPLIED_ROUTING_ANNOTATION, TRAFFIC_ROUTING_FINALIZER };

interface RolloutLike extends KubeObject {
  spec?: { strategy?: { canary?: { trafficRouting?: unknown; stableService?: string; canaryService?: string } } };
  status?: { stableRS?: string };
}

export function rememberedRouting(rollout: { metadata: { annotations?: Record<string, string> } }): AppliedRouting | undefined {
  const text = rollout.metadata.annotations?.[APPLIED_ROUTING_ANNOTATION];
  if (!text) return undefined;
  try {
    return JSON.parse(text) as AppliedRouting;
  } catch {
    return undefined; // not something we wrote: nothing we can release
  }
}

/** What to release for a Rollout: the routing it remembers applying, else what its spec names. */
export function routingToRelease(rollout: RolloutLike): AppliedRouting | undefined {
  return rememberedRouting(rollout) ?? appliedRoutingOf(rollout.spec?.strategy?.canary);
}

export interface ReleaseSubject {
  namespace: string;
  name: string;
  uid: string;
  /** the stable ReplicaSet's pod-template hash ('' when unknown) */
  stableHash: string;
}

export interface ReleaseOutcome {
  /** the router(s) released, e.g. `istio` or `istio+nginx` */
  router: string;
  released: boolean;
  /** why nothing could be released (the router's API is no longer served, say) */
  problem?: string;
}

export const subjectOf = (rollout: RolloutLike): ReleaseSubject => ({
  namespace: rollout.metadata.namespace ?? '',
  name: rollout.metadata.name ?? '',
  uid: rollout.metadata.uid ?? '',
  stableHash: rollout.status?.stableRS ?? '',
});

/** Releases an applied routing, then removes the Rollout's marks from the objects it edited. */
export async function releaseTrafficRouting(client: KubeClient, subject: ReleaseSubject, applied: AppliedRouting, log: RouterContext['log']): Promise<ReleaseOutcome> {
  const router = createRouter({
    client,
    namespace: subject.namespace,
    rollout: { name: subject.name, uid: subject.uid, apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND },
    trafficRouting: applied.trafficRouting,
    log,
  });
  try {
    await router.release({ stableService: applied.stableService, canaryService: applied.canaryService, stableHash: subject.stableHash });
  } catch (err) {
    // A router whose API is gone (CRDs uninstalled) has nothing left to release.
    if (!(err instanceof RouterSpecError)) throw err;
    return { router: router.name, released: false, problem: err.message };
  }
  await unmarkRoutingObjects(client, subject, applied);
  return { router: router.name, released: true };
}

/** Releases routing a deleted Rollout left behind, and its marks wherever they were found. */
export async function releaseOrphan(client: KubeClient, orphan: OrphanedRouting, log: RouterContext['log']): Promise<ReleaseOutcome> {
  const outcome = await releaseTrafficRouting(client, { ...orphan, stableHash: '' }, orphan.routing, log);
  if (outcome.released) await unmarkObjects(client, orphan, orphan.objects);
  return outcome;
}

/** A merge patch of a Rollout's finalizers and remembered routing, guarded by the resourceVersion read. */
export function rolloutMetadataPatch(rollout: KubeObject, finalizers: readonly string[], applied: string | undefined): Record<string, unknown> {
  return { metadata: { resourceVersion: rollout.metadata.resourceVersion, finalizers: finalizers.length > 0 ? finalizers : null, annotations: { [APPLIED_ROUTING_ANNOTATION]: applied ?? null } } };
}

/** Drops our finalizer and remembered routing from a Rollout (after its routing was released). */
export async function dropFinalizer<T extends KubeObject>(client: KubeClient, rollout: T): Promise<T> {
  const others = (rollout.metadata.finalizers ?? []).filter((f) => f !== TRAFFIC_ROUTING_FINALIZER);
  const ref = { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: rollout.metadata.namespace, name: rollout.metadata.name };
  return client.patch<T>(ref, 'merge', rolloutMetadataPatch(rollout, others, undefined));
}
