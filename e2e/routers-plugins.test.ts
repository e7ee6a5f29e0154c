// A third-party router plugin on the real control plane: the controller loads the example plugin
// (examples/router-plugin/) with --router-plugin, lists it in /metrics, and a Rollout configured
// under trafficRouting.plugins goes through its steps with the weights in the plugin's ConfigMap.
import assert from 'node:assert/strict';
import path from 'node:path';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { repoRoot, rollway, scenario, startController } from './harness.ts';
import { removeRollout, rollout, services, STEPS_1_5_20_50, stepsToFiftyScenario, type RouterUnderTest } from './routers-support.ts';

const PLUGIN = path.join(repoRoot, 'examples/router-plugin/index.ts');
const cmRef = (ns: string): ResourceRef => ({ group: '', version: 'v1', plural: 'configmaps', namespace: ns, name: 'proxy-weights' });

const configMapRouter: RouterUnderTest = {
  trafficRouting: { plugins: { 'example.com/configmap-weights': { configMap: 'proxy-weights' } } },
  controllerArgs: ['--router-plugin', PLUGIN],
  async setup(cluster, ns) {
    await cluster.apply({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'proxy-weights' }, data: { 'upstreams.conf': 'keep me\n', 'canary-weight': '0', 'stable-weight': '100' } }, ns);
  },
  async weights(cluster, ns) {
    const data = ((await cluster.get<KubeObject>(cmRef(ns)))?.data ?? {}) as Record<string, string>;
    assert.equal(data['upstreams.conf'], 'keep me\n', "the ConfigMap's other entries stay");
    return [{ canary: Number(data['canary-weight']), stable: Number(data['stable-weight']) }];
  },
  async leftovers(cluster, ns) {
    return (await cluster.get<KubeObject>(cmRef(ns)))?.metadata.annotations?.['example.com/weights-managed-by'] ? ['managed-by annotation'] : [];
  },
};

scenario('example router plugin loaded with --router-plugin: weights 1%, 5%, 20%, 50% in its ConfigMap, promoted, a second update aborted, released on deletion', (ctx) => stepsToFiftyScenario(ctx, configMapRouter), { timeoutMs: 150_000 });

scenario('a loaded router plugin is listed by rollway version and in /metrics; a Rollout naming an unknown plugin is InvalidSpec listing the loaded ones', async ({ cluster, ns, then }) => {
  const controller = startController(ns, ['--router-plugin', PLUGIN]);
  try {
    await then('rollway version --router-plugin lists it', () => {
      assert.match(rollway('version', '--router-plugin', PLUGIN), /router plugin example\.com\/configmap-weights: the ConfigMap weights router \(example plugin\)/);
    });
    await then('the controller logs it and serves it in /metrics', async () => {
      const deadline = Date.now() + 20_000;
      let address: string | undefined;
      while (!address && Date.now() < deadline) {
        address = /metrics listening address=(\S+)/.exec(controller.logs())?.[1];
        if (!address) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(address, controller.logs());
      assert.match(controller.logs(), /router plugin loaded/);
      const text = await (await fetch(`http://${address}/metrics`)).text();
      assert.match(text, /rollway_router_plugin_info\{name="example\.com\/configmap-weights",source="[^"]+index\.ts"\} 1/);
    });
    await then('a Rollout naming another plugin is Degraded with InvalidSpec naming the loaded plugins', async () => {
      await cluster.apply(services(), ns);
      await cluster.apply(rollout({ plugins: { 'acme/mesh': {} } }, STEPS_1_5_20_50), ns);
      const ro = await cluster.waitFor<KubeObject>({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name: 'web' }, (r) => (r?.status as { phase?: string } | undefined)?.phase === 'Degraded', { what: 'Rollout Degraded' });
      const conditions = ((ro!.status as { conditions?: { type: string; message?: string }[] }).conditions ?? []);
      assert.match(conditions.find((c) => c.type === 'InvalidSpec')?.message ?? '', /no traffic router plugin named "acme\/mesh" is loaded \(loaded: argoproj-labs\/gatewayAPI, example\.com\/configmap-weights\)/);
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});
