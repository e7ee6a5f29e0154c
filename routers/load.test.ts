import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { createRouter, inPlaceKinds } from './index.ts';
import { describeRouterPlugins, loadRouterPlugin, pluginProblems, routerPluginSpecs } from './load.ts';
import { configuredPlugins, unregisterRouterPlugins } from './registry.ts';
import { needsCanaryStableServices, trafficRoutingIssues } from './validation.ts';
import { istioPlugin } from './istio/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'rollway-plugins-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
  unregisterRouterPlugins();
});

const zodUrl = import.meta.resolve('zod');
/** A plugin module on disk, as a third party would ship it (plain JavaScript). */
function pluginFile(name: string, body: string): string {
  writeFileSync(join(dir, name), `import { z } from ${JSON.stringify(zodUrl)};\n${body}\n`);
  return join(dir, name);
}
const goodBody = (key: string): string => `export default {
  key: ${JSON.stringify(key)}, label: 'the test router', schema: z.object({ target: z.string() }),
  capabilities: { weightResolutionPercent: 1, headerMatch: [], mirror: false, verification: false, replicaBased: false },
  kinds: [{ kind: 'ConfigMap', group: '', plural: 'configmaps', versions: ['v1'], editedInPlace: true }],
  routingObjects: () => [], read: () => undefined,
  create: () => ({ name: ${JSON.stringify(key)}, capabilities: {}, reconcile: async (d) => ({ writes: 0, verified: undefined, actualWeight: d.weight }), release: async () => {} }),
};`;

void describe('third-party router plugins', () => {
  void it('takes the flag (repeated or comma-separated) and ROLLWAY_ROUTER_PLUGINS, each once', () => {
    assert.deepEqual(routerPluginSpecs('./a.js,b-pkg', 'b-pkg, ./c.js'), ['./a.js', 'b-pkg', './c.js']);
    assert.deepEqual(routerPluginSpecs(undefined, ''), []);
  });

  void it('loads a plugin file, registers it under trafficRouting.plugins, validates its configuration with its schema, and lists it', async () => {
    unregisterRouterPlugins();
    const editsConfigMaps = (): boolean => inPlaceKinds().some((k) => k.plural === 'configmaps');
    assert.equal(editsConfigMaps(), false);
    const file = pluginFile('good.mjs', goodBody('example.org/test'));
    await loadRouterPlugin(file);
    assert.deepEqual(describeRouterPlugins(), [{ name: 'example.org/test', label: 'the test router', source: file }]);
    assert.ok(editsConfigMaps(), 'the objects it edits in place are among those doctor and uninstall look for');
    const routing = { plugins: { 'example.org/test': { target: 'x' } } };
    assert.equal(createRouter({ client: {} as never, namespace: 'shop', rollout: { name: 'web', uid: 'u', apiVersion: 'v', kind: 'Rollout' }, trafficRouting: routing, log: () => {} }).name, 'example.org/test');
    assert.deepEqual(trafficRoutingIssues(routing, [{ setWeight: 5 }]), []);
    const bad = trafficRoutingIssues({ plugins: { 'example.org/test': { target: 3 } } }, [{ setWeight: 5.5 }]);
    assert.deepEqual(bad.map((i) => i.path).sort(), ['spec.strategy.canary.steps[0].setWeight', 'spec.strategy.canary.trafficRouting.plugins["example.org/test"].target']);
  });

  void it('refuses a plugin whose capabilities are not well formed or that has no schema, naming the fields', async () => {
    const file = pluginFile('bad.mjs', goodBody('example.org/bad').replace("weightResolutionPercent: 1, headerMatch: []", "weightResolutionPercent: 0, headerMatch: ['glob']").replace("schema: z.object({ target: z.string() }),", ''));
    await assert.rejects(loadRouterPlugin(file), (err: Error) => /not a valid plugin/.test(err.message) && /schema: must be a zod schema/.test(err.message) && /capabilities\.weightResolutionPercent/.test(err.message) && /capabilities\.headerMatch\.0/.test(err.message));
    assert.deepEqual(pluginProblems(istioPlugin), [], 'the built-in plugins pass the same checks');
  });

  void it('refuses a second plugin with a name already taken', async () => {
    unregisterRouterPlugins();
    await loadRouterPlugin(pluginFile('one.mjs', goodBody('example.org/same')));
    await assert.rejects(loadRouterPlugin(pluginFile('two.mjs', goodBody('example.org/same'))), /already taken/);
    await assert.rejects(loadRouterPlugin(pluginFile('three.mjs', goodBody('argoproj-labs/gatewayAPI'))), /already taken by the Gateway API router/);
  });
});

void describe('trafficRouting.plugins', () => {
  void it('names an unknown plugin with the plugins that are loaded', () => {
    unregisterRouterPlugins();
    const issues = trafficRoutingIssues({ plugins: { 'argoproj-labs/contour': { trafficRouting: 'x' } } }, [{ setWeight: 5 }]);
    assert.deepEqual(issues, [
      {
        path: 'spec.strategy.canary.trafficRouting.plugins["argoproj-labs/contour"]',
        message: 'no traffic router plugin named "argoproj-labs/contour" is loaded (loaded: argoproj-labs/gatewayAPI)',
        fix: 'use one of the loaded plugin names, or start the controller with --router-plugin naming the plugin',
      },
    ]);
  });

  void it("runs Argo's argoproj-labs/gatewayAPI configuration (httpRoute, httpRoutes, namespace) on the Gateway API router", () => {
    const one = configuredPlugins({ plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'web-route', namespace: 'edge' } } });
    assert.deepEqual(one.map((c) => [c.plugin.key, c.config, c.valid]), [['gatewayAPI', { httpRoutes: [{ name: 'web-route', namespace: 'edge' }] }, true]]);
    const many = configuredPlugins({ plugins: { 'argoproj-labs/gatewayAPI': { httpRoutes: [{ name: 'a', useHeaderRoutes: true }, { name: 'b' }] } } });
    assert.deepEqual(many[0]?.config, { httpRoutes: [{ name: 'a' }, { name: 'b' }] });
    const routing = { managedRoutes: [{ name: 'beta' }], plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'web-route' } } };
    assert.equal(createRouter({ client: {} as never, namespace: 'shop', rollout: { name: 'web', uid: 'u', apiVersion: 'v', kind: 'Rollout' }, trafficRouting: routing, log: () => {} }).name, 'gatewayAPI');
    assert.deepEqual(trafficRoutingIssues(routing, [{ setHeaderRoute: { name: 'beta', match: [{ headerName: 'x', headerValue: { exact: 'y' } }] } }]), []);
    assert.equal(needsCanaryStableServices(routing), true);
  });

  void it('says which Argo gatewayAPI plugin fields it cannot carry out', () => {
    const issues = trafficRoutingIssues({ plugins: { 'argoproj-labs/gatewayAPI': { grpcRoute: 'g' } } }, []);
    assert.deepEqual(issues.map((i) => i.path), ['spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].grpcRoute']);
  });
});
