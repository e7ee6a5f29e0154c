// Makes the router a Rollout's spec.strategy.canary.trafficRouting asks for, from the registered
// plugins. Several routers may be configured at once (an Ingress in front of a mesh, say): they
// then all carry the same weight.
import { KubeClient } from '../kube/client.ts';
import { commonCapabilities } from './capabilities.ts';
import { kubeApiOf, type KubeApi } from './kube-api.ts';
import { configuredPlugins, routerPlugins, routingObjectsOf } from './registry.ts';
import { ReplicaRatioRouter } from './replica-ratio/router.ts';
import type { DesiredTraffic, ReleaseTarget, RouterCapabilities, RouterContext, RouterOptions, RouterReconcileResult, TrafficRouter } from './types.ts';
import { needsCanaryStableServices } from './validation.ts';

export type { RouterContext } from './types.ts';
export { commonCapabilities, configuredRouters } from './capabilities.ts';
export { servedVersions } from './discovery.ts';

/** What createRouter needs: the Rollout, its trafficRouting, and a KubeApi (or a client to make one of). */
export interface RouterSetup extends Omit<RouterContext, 'client' | 'managedRoutes' | 'path'> {
  client: KubeApi | KubeClient;
  /** spec.strategy.canary.trafficRouting as written (validated) */
  trafficRouting: Record<string, unknown> | undefined;
}

/** Controller-wide router settings, set once at start from `rollway controller`'s flags. */
let defaults: RouterOptions = {};
export function setRouterDefaults(options: RouterOptions): void {
  defaults = { ...options };
}

export function createRouter(setup: RouterSetup): TrafficRouter {
  const { trafficRouting, client, ...rest } = setup;
  // Options given here, else the controller's flags, else the environment.
  const smiApiVersion = setup.options?.smiApiVersion ?? defaults.smiApiVersion ?? process.env.ROLLWAY_SMI_API_VERSION;
  const base = {
    ...rest,
    client: client instanceof KubeClient ? kubeApiOf(client) : client,
    managedRoutes: ((trafficRouting?.managedRoutes ?? []) as { name: string }[]).map((r) => r.name),
    options: { ...setup.options, smiApiVersion },
  };
  const routers = configuredPlugins(trafficRouting).map(({ plugin, config, path }) => plugin.create({ ...base, path }, config));
  if (routers.length === 0) return new ReplicaRatioRouter(); // no router, or only ones not implemented yet
  return routers.length === 1 ? routers[0]! : new CombinedRouter(routers);
}

/** Several routers as one: each gets the same traffic; verified only when all are. */
export class CombinedRouter implements TrafficRouter {
  readonly name: string;
  readonly capabilities: RouterCapabilities;
  readonly routers: TrafficRouter[];

  constructor(routers: TrafficRouter[]) {
    this.routers = routers;
    this.name = routers.map((r) => r.name).join('+');
    this.capabilities = commonCapabilities(routers.map((r) => r.capabilities));
  }

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    let writes = 0;
    let verified: boolean | undefined;
    let first: RouterReconcileResult | undefined;
    for (const router of this.routers) {
      const result = await router.reconcile(desired);
      first ??= result;
      writes += result.writes;
      if (result.verified === false) verified = false;
      else if (result.verified === true && verified === undefined) verified = true;
    }
    return { writes, verified, actualWeight: first?.actualWeight ?? desired.weight };
  }

  async release(target: ReleaseTarget): Promise<void> {
    for (const router of this.routers) await router.release(target);
  }
}

/**
 * The routing a Rollout last had applied, remembered on the Rollout (an annotation) so that its
 * routing objects can still be released after trafficRouting was removed or pointed elsewhere,
 * and across a controller restart.
 */
export interface AppliedRouting {
  trafficRouting: Record<string, unknown>;
  stableService: string;
  canaryService: string;
}

/** What a canary strategy routes through, or undefined when no implemented router is configured. */
export function appliedRoutingOf(canary: { trafficRouting?: unknown; stableService?: string; canaryService?: string } | undefined): AppliedRouting | undefined {
  const trafficRouting = canary?.trafficRouting as Record<string, unknown> | undefined;
  if (!trafficRouting || configuredPlugins(trafficRouting).length === 0) return undefined;
  if (needsCanaryStableServices(trafficRouting) && (!canary?.stableService || !canary.canaryService)) return undefined;
  // Istio subset-level splitting may name no Services: '' then.
  return { trafficRouting, stableService: canary?.stableService ?? '', canaryService: canary?.canaryService ?? '' };
}

/**
 * The routing objects an applied routing edits or owns, as comparable strings: when a new routing
 * no longer names one of them, the old routing is released first.
 */
export function routingObjects(applied: AppliedRouting, rollout: { namespace: string; name: string } = { namespace: '', name: '' }): string[] {
  const where = { namespace: rollout.namespace, rolloutName: rollout.name, canaryService: applied.canaryService, stableService: applied.stableService };
  const out = [`services:${applied.stableService}/${applied.canaryService}`];
  for (const o of routingObjectsOf(applied.trafficRouting, where)) out.push(`${o.plugin.key}:${o.kind}:${o.namespace}/${o.name}:${JSON.stringify(o.part ?? null)}`);
  return out.sort();
}

/** A routing object a router edits in place (a user's object, not one it creates and owns). */
export interface InPlaceObject {
  group: string;
  plural: string;
  kind: string;
  namespace: string;
  name: string;
}

/**
 * The kinds routers edit in place: the only ones that can keep our changes after a Rollout is gone.
 * Asked each time: third-party plugins register after this module has loaded.
 */
export function inPlaceKinds(): Omit<InPlaceObject, 'namespace' | 'name'>[] {
  return routerPlugins().flatMap((p) => p.kinds.filter((k) => k.editedInPlace).map(({ group, plural, kind }) => ({ group, plural, kind })));
}

/**
 * The user's objects an applied routing edits in place. Objects the routers create (NGINX canary
 * Ingresses, SMI TrafficSplits) are owned by the Rollout and go with it (garbage collector).
 */
export function inPlaceObjects(applied: AppliedRouting, namespace: string, rolloutName = ''): InPlaceObject[] {
  const where = { namespace, rolloutName, canaryService: applied.canaryService, stableService: applied.stableService };
  return routingObjectsOf(applied.trafficRouting, where)
    .filter((o) => o.access === 'edits')
    .map(({ group, plural, kind, namespace: ns, name }) => ({ group, plural, kind, namespace: ns, name }));
}
