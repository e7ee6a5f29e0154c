import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutObject } from '../api/views.ts';
import { DEPLOYMENT_KIND, NamedObjectIndex, namedObjectKey, SERVICE_KIND } from './named-object-index.ts';

const VS = { group: 'networking.istio.io', plural: 'virtualservices' };
const DR = { group: 'networking.istio.io', plural: 'destinationrules' };

const rollout = (namespace: string, name: string, generation: number, virtualService: string, uid = 'u1'): RolloutObject =>
  ({
    metadata: { namespace, name, uid, generation },
    spec: {
      strategy: {
        canary: {
          canaryService: `${name}-canary`,
          stableService: `${name}-stable`,
          trafficRouting: { istio: { virtualService: { name: virtualService, routes: ['primary'] }, destinationRule: { name: `${name}-dr`, canarySubsetName: 'canary', stableSubsetName: 'stable' } } },
        },
      },
    },
  }) as unknown as RolloutObject;

void test("a routing object's event finds exactly the Rollouts that name it, in its namespace", () => {
  const index = new NamedObjectIndex();
  index.update('shop/web', rollout('shop', 'web', 1, 'web-vs'));
  index.update('shop/api', rollout('shop', 'api', 1, 'web-vs'));
  index.update('other/web', rollout('other', 'web', 1, 'web-vs'));
  index.update('shop/cart', rollout('shop', 'cart', 1, 'web-vs-2'));
  assert.deepEqual(index.rolloutsOf(namedObjectKey(VS, 'shop', 'web-vs')).sort(), ['shop/api', 'shop/web']);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(DR, 'shop', 'web-dr')), ['shop/web']);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(DR, 'shop', 'web-vs')), [], 'another kind of the same name');
  assert.deepEqual(index.rolloutsOf(namedObjectKey(VS, 'shop', 'unnamed')), []);
  index.update('shop/gw', rollout('shop', 'gw', 1, 'gateway-vs.mesh'));
  assert.deepEqual(index.rolloutsOf(namedObjectKey(VS, 'mesh', 'gateway-vs')), ['shop/gw'], 'a VirtualService in another namespace (name.namespace)');
});

void test('a new generation re-indexes the Rollout; a deleted one leaves no entry', () => {
  const index = new NamedObjectIndex();
  index.update('shop/web', rollout('shop', 'web', 1, 'web-vs'));
  // Same generation: the spec is the same by definition, so the objects are not computed again.
  index.update('shop/web', rollout('shop', 'web', 1, 'ignored'));
  assert.deepEqual(index.rolloutsOf(namedObjectKey(VS, 'shop', 'web-vs')), ['shop/web']);
  index.update('shop/web', rollout('shop', 'web', 2, 'web-vs-new'));
  assert.deepEqual(index.rolloutsOf(namedObjectKey(VS, 'shop', 'web-vs')), [], 'no longer named');
  assert.deepEqual(index.rolloutsOf(namedObjectKey(VS, 'shop', 'web-vs-new')), ['shop/web']);
  index.update('shop/web', rollout('shop', 'web', 2, 'web-vs-recreated', 'u2'));
  assert.deepEqual(index.rolloutsOf(namedObjectKey(VS, 'shop', 'web-vs-recreated')), ['shop/web'], 'recreated under the same name');
  index.update('shop/web', undefined);
  assert.equal(index.objectCount, 0);
});

void test("a Service's or Deployment's event finds the Rollouts that name it as a canary/stable/active/preview Service or workloadRef", () => {
  const index = new NamedObjectIndex();
  index.update('shop/web', rollout('shop', 'web', 1, 'web-vs'));
  const blueGreen = { metadata: { namespace: 'shop', name: 'bg', uid: 'u3', generation: 1 }, spec: { workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'bg-deploy' }, strategy: { blueGreen: { activeService: 'bg-active', previewService: 'bg-preview' } } } } as unknown as RolloutObject;
  index.update('shop/bg', blueGreen);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(SERVICE_KIND, 'shop', 'web-canary')), ['shop/web']);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(SERVICE_KIND, 'shop', 'web-stable')), ['shop/web']);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(SERVICE_KIND, 'shop', 'bg-active')), ['shop/bg']);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(SERVICE_KIND, 'shop', 'bg-preview')), ['shop/bg']);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(DEPLOYMENT_KIND, 'shop', 'bg-deploy')), ['shop/bg']);
  assert.deepEqual(index.rolloutsOf(namedObjectKey(SERVICE_KIND, 'other', 'bg-active')), [], 'another namespace');
  assert.deepEqual(index.rolloutsOf(namedObjectKey(DEPLOYMENT_KIND, 'shop', 'bg-active')), [], 'a Deployment named like a Service');
});
