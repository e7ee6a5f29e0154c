// What a router plugin is written against, in one module: the plugin object and its types, the
// KubeApi a router writes through, and the guarded write helper. Its tests use
// routers/sdk-testing.ts (the in-memory KubeApi and the conformance suite), which the controller
// image leaves out. examples/router-plugin/ imports only these two.
export { definePlugin, RouterCapabilitiesSchema, type ReadContext, type RouterPlugin, type RoutingKind, type RoutingObject } from './plugin.ts';
export { isNotFound, KubeApiError, pickVersion, type KubeApi, type KubeObject, type ResourceRef, type WriteOptions } from './kube-api.ts';
export { FIELD_MANAGER, patchToRendered } from './common.ts';
export { FULL_STABLE, percentOf, ratioFromPercent, RouterSpecError } from './types.ts';
export type { DesiredTraffic, ReleaseTarget, RouterCapabilities, RouterContext, RouterReconcileResult, SpecIssue, TrafficRouter, WeightRatio } from './types.ts';
