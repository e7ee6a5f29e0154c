// The canary share as the routing objects carry it, read for display (`rollway get`, the live
// views, the dashboard). Which objects to read and how to read them is each router plugin's own
// (routingObjects and read, routers/registry.ts): the CLI names no router.
import type { RolloutObject } from '../api/views.ts';
import type { KubeObject } from '../kube/client.ts';
import { routingObjectsOf } from '../routers/registry.ts';
import type { WeightRatio } from '../routers/types.ts';

export type { WeightRatio } from '../routers/types.ts';

export interface RoutingTarget {
  kind: string;
  group: string;
  plural: string;
  name: string;
  namespace: string;
  read: (object: KubeObject) => WeightRatio | undefined;
}

/** The routing objects whose weights a Rollout's routers write, each with its reader. */
export function routingTargets(rollout: RolloutObject): RoutingTarget[] {
  const canary = rollout.spec.strategy?.canary;
  const routing = canary?.trafficRouting as Record<string, unknown> | undefined;
  if (!canary || !routing) return [];
  const where = {
    namespace: rollout.metadata.namespace ?? 'default',
    rolloutName: rollout.metadata.name ?? '',
    canaryService: canary.canaryService ?? '',
    stableService: canary.stableService ?? '',
  };
  return routingObjectsOf(routing, where)
    .filter((o) => o.carriesWeight)
    .map(({ kind, group, plural, name, namespace, plugin, config }) => ({ kind, group, plural, name, namespace, read: (object: KubeObject) => plugin.read(object, config, where) }));
}
