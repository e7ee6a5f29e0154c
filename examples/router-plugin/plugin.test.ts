// The example plugin checked the way a plugin author checks theirs: loaded and validated like the
// controller loads it, then the router conformance suite on the in-memory KubeApi.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { inMemorySuite, loadRouterPlugin, pluginProblems, routerConformance, unregisterRouterPlugins } from '../../routers/sdk-testing.ts';
import { configMapFixture } from './fixture.ts';
import { configMapWeights } from './index.ts';

const here = fileURLToPath(new URL('.', import.meta.url));

void describe('example router plugin: loading', () => {
  void it('loads from its file and passes the plugin checks', async () => {
    unregisterRouterPlugins();
    const plugin = await loadRouterPlugin('./index.ts', here);
    assert.equal(plugin.key, 'example.com/configmap-weights');
    assert.deepEqual(pluginProblems(plugin), []);
  });
});

// The suite finds the plugin through the registry, as the controller does.
unregisterRouterPlugins();
await loadRouterPlugin('./index.ts', here);
routerConformance(configMapFixture(), inMemorySuite([configMapWeights]));
