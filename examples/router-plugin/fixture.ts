// The example plugin as a conformance fixture: a ConfigMap full of the proxy's other settings,
// of which only our two entries and our annotation may change.
import type { KubeObject, ResourceRef } from '../../routers/sdk.ts';
import { read, recreate, userView, type ConformanceEnv, type RouterFixture, type TrafficState } from '../../routers/sdk-testing.ts';
import { configMapWeights, MANAGED_ANNOTATION } from './index.ts';

const ref = (env: ConformanceEnv): ResourceRef => ({ group: '', version: 'v1', plural: 'configmaps', namespace: env.namespace, name: 'proxy-weights' });

/** The ConfigMap without what the router manages (its entries and annotation). */
function masked(object: KubeObject | undefined): KubeObject | undefined {
  const view = userView(object);
  if (!view) return undefined;
  const { 'canary-weight': _c, 'stable-weight': _s, ...data } = (view.data as Record<string, string> | undefined) ?? {};
  const { [MANAGED_ANNOTATION]: _a, ...annotations } = view.metadata.annotations ?? {};
  return { ...view, data, metadata: { ...view.metadata, annotations } };
}

export function configMapFixture(): RouterFixture {
  return {
    title: 'example plugin: ConfigMap weights',
    key: configMapWeights.key,
    supports: { header: false, mirror: false },

    async setup(env) {
      await recreate(env, ref(env), {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'proxy-weights', labels: { app: 'proxy' }, annotations: { 'team.example.com/owner': 'edge' } },
        data: { 'upstreams.conf': 'upstream web { server conf-stable; server conf-canary; }\n', 'canary-weight': '0', 'stable-weight': '100' },
      });
      return { plugins: { [configMapWeights.key]: { configMap: 'proxy-weights' } } };
    },

    async read(env): Promise<TrafficState> {
      const data = ((await read(env, ref(env)))?.data as Record<string, string> | undefined) ?? {};
      return { weights: [{ canary: Number(data['canary-weight']), stable: Number(data['stable-weight']) }], headerRoutes: [], mirrorRoutes: [] };
    },

    async userContent(env, managed) {
      const object = await read(env, ref(env));
      return JSON.stringify(managed === 'masked' ? masked(object) : userView(object));
    },

    async ourMarks(env) {
      return (await read(env, ref(env)))?.metadata.annotations?.[MANAGED_ANNOTATION] ? [MANAGED_ANNOTATION] : [];
    },

    async revertWeight(env) {
      await env.client.patch(ref(env), 'merge', { metadata: { annotations: { 'gitops.example.com/synced': 'true' } }, data: { 'canary-weight': '0', 'stable-weight': '100' } }, { fieldManager: 'gitops-sync' });
    },

    async otherWritersChangeKept(env) {
      return (await read(env, ref(env)))?.metadata.annotations?.['gitops.example.com/synced'] === 'true';
    },
  };
}
