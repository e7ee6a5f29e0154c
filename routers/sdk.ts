// What a router plugin is written against, in one module: the plugin object and its types, the
// KubeApi a router writes through, the guarded write helper, and RouterBase (the constructor every
// router shares; the built-in routers extend it too). Its tests use routers/sdk-testing.ts (the
// in-memory KubeApi and the conformance suite), which the controller image leaves out.
// examples/router-plugin/ imports only these two.
import { FULL_STABLE, type DesiredTraffic, type ReleaseTarget, type RouterCapabilities, type RouterContext, type RouterReconcileResult, type TrafficRouter } from './types.ts';

export { definePlugin, RouterCapabilitiesSchema, type ReadContext, type RouterPlugin, type RoutingKind, type RoutingObject } from './plugin.ts';
export { isNotFound, KubeApiError, pickVersion, type KubeApi, type KubeObject, type ResourceRef, type WriteOptions } from './kube-api.ts';
export { FIELD_MANAGER, patchToRendered } from './common.ts';
export { FULL_STABLE, percentOf, ratioFromPercent, RouterSpecError, routingRead } from './types.ts';
export type { DesiredTraffic, ExtraDestination, ReleaseTarget, RouterCapabilities, RouterContext, RouterReconcileResult, RoutingRead, SpecIssue, TrafficRouter, WeightRatio } from './types.ts';

/**
 * What every router's constructor would otherwise repeat: the context it writes through, its
 * configuration (as its plugin's schema parsed it) and its capabilities. A router extends it and
 * writes `name`, `reconcile` and `release`.
 */
export abstract class RouterBase<Config> implements TrafficRouter {
  abstract readonly name: string;
  readonly capabilities: RouterCapabilities;
  protected readonly ctx: RouterContext;
  protected readonly config: Config;

  constructor(ctx: RouterContext, config: Config, capabilities: RouterCapabilities) {
    this.ctx = ctx;
    this.config = config;
    this.capabilities = capabilities;
  }

  abstract reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult>;
  abstract release(target: ReleaseTarget): Promise<void>;
}

/** The traffic a release renders: all of it on stable, no header or mirror routes of ours. */
export function releasedTraffic(target: ReleaseTarget): DesiredTraffic {
  const { stableService, stableHash } = target;
  return { weight: FULL_STABLE, stableService, canaryService: target.canaryService ?? '', stableHash, canaryHash: stableHash, headerRoutes: [], mirrorRoutes: [] };
}
