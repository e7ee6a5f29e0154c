// What a router plugin is written against, in one module: the plugin object and its types, the
// KubeApi a router writes through, the guarded write helper, and for its tests the in-memory
// KubeApi and the conformance suite. examples/router-plugin/ imports only this.
export { definePlugin, RouterCapabilitiesSchema, type ReadContext, type RouterPlugin, type RoutingKind, type RoutingObject } from './plugin.ts';
export { isNotFound, KubeApiError, pickVersion, type KubeApi, type KubeObject, type ResourceRef, type WriteOptions } from './kube-api.ts';
export { FIELD_MANAGER, patchToRendered } from './common.ts';
export { FULL_STABLE, percentOf, ratioFromPercent, RouterSpecError } from './types.ts';
export type { DesiredTraffic, ReleaseTarget, RouterCapabilities, RouterContext, RouterReconcileResult, SpecIssue, TrafficRouter, WeightRatio } from './types.ts';
export { InMemoryKubeApi } from './memory-kube.ts';
export type { KubeObject as ConformanceObject } from './kube-api.ts';
export { inMemorySuite, read, recreate, routerConformance, userView, CANARY_SERVICE, STABLE_SERVICE, ROLLOUT_NAME, type ConformanceEnv, type RouterFixture, type SuiteContext, type TrafficState } from './conformance.ts';
export { registerRouterPlugin, unregisterRouterPlugins } from './registry.ts';
export { loadRouterPlugin, pluginProblems } from './load.ts';
