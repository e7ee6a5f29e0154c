// For a router plugin's tests: the in-memory KubeApi, the conformance suite and its fixture
// helpers, and loading a plugin the way the controller does. Test-only (node:test): not in the
// controller image.
export { InMemoryKubeApi } from './memory-kube.ts';
export { inMemorySuite, read, recreate, routerConformance, userView, CANARY_SERVICE, STABLE_SERVICE, ROLLOUT_NAME, type ConformanceEnv, type RouterFixture, type SuiteContext, type TrafficState } from './conformance.ts';
export { registerRouterPlugin, unregisterRouterPlugins } from './registry.ts';
export { loadRouterPlugin, pluginProblems } from './load.ts';
