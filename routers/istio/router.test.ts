import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRouter } from '../index.ts';
import { InMemoryKubeApi } from '../memory-kube.ts';
import { ratioFromPercent } from '../types.ts';
import { istioPlugin } from './index.ts';
import type { VirtualService } from './render.ts';

const vsRef = (namespace: string) => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace, name: 'web' });

function virtualService(): VirtualService {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'web' },
    spec: {
      hosts: ['web.example.com'],
      http: [{ name: 'primary', route: [{ destination: { host: 'web-stable.shop.svc.cluster.local' }, weight: 100 }, { destination: { host: 'web-canary.shop.svc.cluster.local' }, weight: 0 }] }],
    },
  };
}

void describe('Istio references', () => {
  void it('resolves virtualService name.namespace to that namespace, as Argo does: the router writes there and the readers read there', async () => {
    const api = new InMemoryKubeApi({ 'networking.istio.io': ['v1'] });
    await api.create(vsRef('mesh'), virtualService());
    const config = { virtualService: { name: 'web.mesh', routes: ['primary'] } };
    const router = createRouter({ client: api, namespace: 'shop', rollout: { name: 'app', uid: 'u', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' }, trafficRouting: { istio: config }, log: () => {} });
    const result = await router.reconcile({ weight: ratioFromPercent(20), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [] });
    assert.equal(result.writes, 1);

    const where = { namespace: 'shop', rolloutName: 'app', canaryService: 'web-canary', stableService: 'web-stable' };
    const [object] = istioPlugin.routingObjects(config, where);
    assert.deepEqual([object?.namespace, object?.name], ['mesh', 'web'], 'the CLI and dashboard read the same object');
    const written = await api.get<VirtualService>(vsRef('mesh'));
    assert.deepEqual(istioPlugin.read(written, config, where), { canary: 20, total: 100 });
  });

  void it('says which namespace it looked in when the VirtualService is not there', async () => {
    const api = new InMemoryKubeApi({ 'networking.istio.io': ['v1'] });
    const router = createRouter({ client: api, namespace: 'shop', rollout: { name: 'app', uid: 'u', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' }, trafficRouting: { istio: { destinationRule: { name: 'web.mesh', canarySubsetName: 'c', stableSubsetName: 's' }, virtualService: { name: 'web.mesh' } } }, log: () => {} });
    await assert.rejects(router.reconcile({ weight: ratioFromPercent(20), stableService: '', canaryService: '', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [] }), /DestinationRule "web" not found in namespace mesh.*VirtualService "web" not found in namespace mesh/);
  });
});
