import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, type JsonPatchOp } from '../json-patch.ts';
import type { KubeApi, KubeObject, ResourceRef } from '../kube-api.ts';
import { ratioFromPercent, type DesiredTraffic } from '../types.ts';
import type { HTTPRoute } from './render.ts';
import { gatewayApiCapabilities } from './index.ts';
import { GatewayApiRouter, recheckDelayMs } from './router.ts';

/** Just enough of an API server for one HTTPRoute: discovery, get, JSON patch (generation bumps). */
class FakeApi {
  route: HTTPRoute;
  patches = 0;
  constructor(route: HTTPRoute) {
    this.route = route;
  }
  servedVersions(group: string): Promise<string[]> {
    assert.equal(group, 'gateway.networking.k8s.io');
    return Promise.resolve(['v1']);
  }
  get(_ref: ResourceRef): Promise<KubeObject> {
    return Promise.resolve(structuredClone(this.route));
  }
  getOptional(ref: ResourceRef): Promise<KubeObject> {
    return this.get(ref);
  }
  patch(_ref: ResourceRef, _type: string, ops: JsonPatchOp[]): Promise<KubeObject> {
    this.patches++;
    const next = applyJsonPatch(this.route, ops);
    next.metadata.generation = (this.route.metadata.generation ?? 0) + 1;
    this.route = next;
    return this.get(_ref);
  }
  accept(status: 'True' | 'False'): void {
    const generation = this.route.metadata.generation;
    this.route.status = {
      parents: [{ controllerName: 'example.net/gw', parentRef: { name: 'gw' }, conditions: [{ type: 'Accepted', status, reason: 'R', message: 'm', observedGeneration: generation, lastTransitionTime: '2025-01-01T00:00:00Z' }] }],
    } as HTTPRoute['status'];
  }
}

const route = (): HTTPRoute => ({
  apiVersion: 'gateway.networking.k8s.io/v1',
  kind: 'HTTPRoute',
  metadata: { name: 'web', namespace: 'shop', generation: 1 },
  spec: {
    rules: [
      {
        name: 'web',
        matches: [{ path: { type: 'PathPrefix', value: '/' } }],
        backendRefs: [
          { group: '', kind: 'Service', name: 'web-stable', port: 80, weight: 100 },
          { group: '', kind: 'Service', name: 'web-canary', port: 80, weight: 0 },
        ],
      },
    ],
  },
});

const desired = (percent: number): DesiredTraffic => ({ weight: ratioFromPercent(percent), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [] });

function setup(verify?: { mode?: 'wait' | 'off'; timeoutSeconds?: number }) {
  const api = new FakeApi(route());
  const requeues: number[] = [];
  let now = 1_000_000;
  const router = new GatewayApiRouter(
    {
      client: api as unknown as KubeApi,
      namespace: 'shop',
      rollout: { name: 'web', uid: 'u', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' },
      managedRoutes: [],
      path: 'spec.strategy.canary.trafficRouting.gatewayAPI',
      log: () => {},
      requeue: (ms) => requeues.push(ms),
    },
    { httpRoutes: [{ name: 'web' }], ...(verify ? { verify } : {}) },
    gatewayApiCapabilities,
    () => now,
  );
  return { api, router, requeues, advance: (ms: number) => (now += ms) };
}

void describe('Gateway API verification', () => {
  void it('waits until the gateway accepts the generation carrying the weight, asking to be called back', async () => {
    const { api, router, requeues } = setup();
    const first = await router.reconcile(desired(5));
    assert.equal(first.writes, 1);
    assert.equal(first.verified, false);
    assert.deepEqual(requeues, [recheckDelayMs(1)]);
    api.accept('True'); // for generation 2, the one with the weight
    const second = await router.reconcile(desired(5));
    assert.deepEqual([second.writes, second.verified], [0, true]);
    assert.equal(requeues.length, 1, 'no recheck once verified');
  });

  void it('does not count an acceptance of an older generation', async () => {
    const { api, router } = setup();
    api.accept('True'); // generation 1
    assert.equal((await router.reconcile(desired(5))).verified, false);
  });

  void it('stays unverified when the gateway rejects the route', async () => {
    const { api, router } = setup({ timeoutSeconds: 1 });
    await router.reconcile(desired(5));
    api.accept('False');
    assert.equal((await router.reconcile(desired(5))).verified, false);
  });

  void it('gives up waiting after verify.timeoutSeconds when no gateway reports, and never waits with mode off', async () => {
    const timed = setup({ mode: 'wait', timeoutSeconds: 5 });
    assert.equal((await timed.router.reconcile(desired(5))).verified, false);
    timed.advance(4_000);
    assert.equal((await timed.router.reconcile(desired(5))).verified, false);
    timed.advance(1_000);
    assert.equal((await timed.router.reconcile(desired(5))).verified, undefined);
    assert.deepEqual(timed.requeues, [recheckDelayMs(1), recheckDelayMs(2)]);

    const off = setup({ mode: 'off' });
    assert.equal((await off.router.reconcile(desired(5))).verified, undefined);
    assert.deepEqual(off.requeues, []);
  });
});
