import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeClient } from '../kube/client.ts';
import { appliedRoutingOf, CombinedRouter, createRouter, routingObjects, setRouterDefaults } from './index.ts';
import { InMemoryKubeApi } from './memory-kube.ts';
import { ratioFromPercent } from './types.ts';

const make = (trafficRouting: Record<string, unknown> | undefined) =>
  createRouter({ client: {} as KubeClient, namespace: 'shop', rollout: { name: 'web', uid: 'u', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' }, trafficRouting, log: () => {} });

void describe('createRouter', () => {
  void it('picks the router trafficRouting names', () => {
    assert.equal(make({ istio: { virtualService: { name: 'web' } } }).name, 'istio');
    assert.equal(make({ nginx: { stableIngress: 'web' } }).name, 'nginx');
    assert.equal(make({ smi: {} }).name, 'smi');
    assert.equal(make({ gatewayAPI: { httpRoutes: [{ name: 'web' }] } }).name, 'gatewayAPI');
  });

  void it('falls back to pod counts without a router it implements', () => {
    assert.equal(make(undefined).name, 'replicaRatio');
    assert.equal(make({ alb: { ingress: 'web', servicePort: 80 } }).name, 'replicaRatio');
  });

  void it('combines several routers, with what all of them can express', () => {
    const router = make({ nginx: { stableIngress: 'web' }, istio: { virtualService: { name: 'web' } } });
    assert.ok(router instanceof CombinedRouter);
    assert.equal(router.name, 'istio+nginx');
    assert.equal(router.capabilities.mirror, false);
    assert.equal(router.capabilities.maxHeadersPerRoute, 1);
    assert.equal(router.capabilities.weightResolutionPercent, 0.01);
  });
});

void describe('applied routing', () => {
  const canary = (trafficRouting: Record<string, unknown>) => ({ stableService: 'a', canaryService: 'b', trafficRouting });

  void it('is remembered only for routers that write routing objects', () => {
    assert.equal(appliedRoutingOf(canary({ alb: {} })), undefined);
    assert.equal(appliedRoutingOf({ trafficRouting: { smi: {} } }), undefined, 'no Services: nothing routed');
    assert.deepEqual(appliedRoutingOf(canary({ smi: {} })), { stableService: 'a', canaryService: 'b', trafficRouting: { smi: {} } });
  });

  void it('names the routing objects, so a change of objects (not of steps or annotations) releases the old ones', () => {
    const base = appliedRoutingOf(canary({ managedRoutes: [{ name: 'x' }], istio: { virtualService: { name: 'web', routes: ['primary'] } } }))!;
    const moreRoutes = appliedRoutingOf(canary({ managedRoutes: [{ name: 'x' }, { name: 'y' }], istio: { virtualService: { name: 'web', routes: ['primary'] } } }))!;
    const otherVs = appliedRoutingOf(canary({ istio: { virtualService: { name: 'web2', routes: ['primary'] } } }))!;
    assert.deepEqual(routingObjects(base), routingObjects(moreRoutes));
    assert.notDeepEqual(routingObjects(base), routingObjects(otherVs));
  });
});

void describe('controller-wide router settings', () => {
  void it('writes the TrafficSplit in the SMI API version the controller was started with (--smi-api-version), not the newest served', async () => {
    const api = new InMemoryKubeApi({ 'split.smi-spec.io': ['v1alpha4', 'v1alpha2'] });
    const setup = { client: api, namespace: 'shop', rollout: { name: 'web', uid: 'u', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' }, trafficRouting: { smi: {} }, log: () => {} };
    const traffic = { weight: ratioFromPercent(10), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [] };
    try {
      setRouterDefaults({ smiApiVersion: 'v1alpha2' });
      await createRouter(setup).reconcile(traffic);
      const split = await api.get({ group: 'split.smi-spec.io', version: 'v1alpha2', plural: 'trafficsplits', namespace: 'shop', name: 'web' });
      assert.equal(split.apiVersion, 'split.smi-spec.io/v1alpha2');
      setRouterDefaults({ smiApiVersion: 'v1alpha3' });
      await assert.rejects(createRouter(setup).reconcile(traffic), /does not serve split\.smi-spec\.io\/v1alpha3 \(the controller's SMI API version\)/);
    } finally {
      setRouterDefaults({});
    }
  });
});
