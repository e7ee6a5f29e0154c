// The Istio router on the real control plane with Istio's CRDs: host-level weights through a
// whole rollout, subset-level with a header route, a 0.5% step and a user's extra subset, and
// subset-level with no canary or stable Service at all (valid in Argo).
import assert from 'node:assert/strict';
import { APPLIED_ROUTING_ANNOTATION, TRAFFIC_ROUTING_FINALIZER, type RolloutObject } from '../controller/controller.ts';
import { MANAGED_BY_ANNOTATION } from '../controller/model.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { MANAGED_ROUTES_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from '../routers/common.ts';
import type { DestinationRule, VirtualService } from '../routers/istio/render.ts';
import { scenario, startController, type Cluster } from './harness.ts';
import { APP, CANARY, headerRouteScenario, healthyOn, pausedAt, removeRollout, rollout, rolloutRef, rollway, services, STABLE, stepsToFiftyScenario, waitForWeights, type RouterUnderTest } from './routers-support.ts';

const vsRef = (ns: string): ResourceRef => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns, name: 'web' });
const drRef = (ns: string): ResourceRef => ({ group: 'networking.istio.io', version: 'v1', plural: 'destinationrules', namespace: ns, name: 'web' });

function virtualService(subsetLevel: boolean): VirtualService {
  const dest = (service: string, subset: string) => (subsetLevel ? { host: 'web', subset, port: { number: 80 } } : { host: service, port: { number: 80 } });
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'web' },
    spec: {
      hosts: ['web.example.com'],
      gateways: ['web-gateway'],
      http: [
        { name: 'status', match: [{ uri: { exact: '/status' } }], route: [{ destination: { host: 'status-page' } }] },
        {
          name: 'primary',
          timeout: '15s',
          route: [
            { destination: dest(STABLE, 'stable'), weight: 100 },
            { destination: dest(CANARY, 'canary'), weight: 0 },
          ],
        },
      ],
    },
  };
}

async function primaryWeights(cluster: Cluster, ns: string, subsetLevel: boolean): Promise<{ canary: number; stable: number }[]> {
  const vs = await cluster.get<VirtualService>(vsRef(ns));
  const route = vs?.spec?.http?.find((r) => r.name === 'primary')?.route ?? [];
  const find = (service: string, subset: string) => route.find((d) => (subsetLevel ? d.destination.subset === subset : d.destination.host === service))?.weight;
  const canary = find(CANARY, 'canary');
  const stable = find(STABLE, 'stable');
  return canary === undefined || stable === undefined ? [] : [{ canary, stable }];
}

function istio(subsetLevel: boolean): RouterUnderTest {
  return {
    trafficRouting: {
      istio: {
        virtualService: { name: 'web', routes: ['primary'] },
        ...(subsetLevel ? { destinationRule: { name: 'web', stableSubsetName: 'stable', canarySubsetName: 'canary' } } : {}),
      },
    },
    async setup(cluster, ns) {
      await cluster.apply(virtualService(subsetLevel), ns);
      if (subsetLevel) {
        await cluster.apply(
          {
            apiVersion: 'networking.istio.io/v1',
            kind: 'DestinationRule',
            metadata: { name: 'web' },
            spec: {
              host: 'web',
              subsets: [
                { name: 'stable', labels: { app: 'web' } },
                { name: 'canary', labels: { app: 'web' } },
                { name: 'debug', labels: { app: 'web', track: 'debug' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
              ],
            },
          },
          ns,
        );
      }
    },
    weights: (cluster, ns) => primaryWeights(cluster, ns, subsetLevel),
    async headerRoute(cluster, ns) {
      const vs = await cluster.get<VirtualService>(vsRef(ns));
      const names = (vs?.spec?.http ?? []).map((r) => r.name);
      return names[0] === 'beta' && names.includes('primary');
    },
    async leftovers(cluster, ns) {
      const left: string[] = [];
      const vs = await cluster.get<VirtualService>(vsRef(ns));
      if (vs?.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION]) left.push('managed-routes annotation');
      if ((vs?.spec?.http ?? []).some((r) => r.name === 'beta')) left.push('header route');
      if (subsetLevel) {
        const dr = await cluster.get<DestinationRule>(drRef(ns));
        for (const s of dr?.spec?.subsets ?? []) if (s.labels?.[POD_TEMPLATE_HASH_LABEL]) left.push(`hash label on subset ${s.name}`);
      }
      return left;
    },
  };
}

scenario('Istio, host-level: 1%, 5%, 20%, 50% written exactly, promoted to 100% new stable, a second update aborted, released on deletion', (ctx) => stepsToFiftyScenario(ctx, istio(false)), { timeoutMs: 150_000 });

scenario('Istio, subset-level: a header route on and off around a 0.5% step, the user\'s extra DestinationRule subset untouched', (ctx) =>
  headerRouteScenario(ctx, istio(true), async ({ stable, canary }) => {
    const dr = await ctx.cluster.get<DestinationRule>(drRef(ctx.ns));
    assert.deepEqual(dr?.spec?.subsets, [
      { name: 'stable', labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: stable } },
      { name: 'canary', labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: canary } },
      { name: 'debug', labels: { app: 'web', track: 'debug' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
    ]);
    const vs = await ctx.cluster.get<VirtualService>(vsRef(ctx.ns));
    assert.deepEqual(vs?.spec?.http?.find((r) => r.name === 'status'), { name: 'status', match: [{ uri: { exact: '/status' } }], route: [{ destination: { host: 'status-page' } }] });
  }),
);

scenario('Istio: removing trafficRouting from a Rollout mid-update puts the VirtualService back to 100% stable and drops the finalizer', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const router = istio(false);
  try {
    await given('a Rollout paused at 20% through the VirtualService', async () => {
      await cluster.apply(services(), ns);
      await router.setup(cluster, ns);
      await cluster.apply(rollout(router.trafficRouting, [{ setWeight: 20 }, { pause: {} }], 2), ns);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy after create' });
      rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'paused at 20%' });
      await waitForWeights(router, cluster, ns, 20);
      assert.ok(ro?.metadata.finalizers?.includes(TRAFFIC_ROUTING_FINALIZER));
      assert.ok(ro?.metadata.annotations?.[APPLIED_ROUTING_ANNOTATION]);
    });
    await when('trafficRouting is removed from the spec', () => cluster.patch(rolloutRef(ns), [{ op: 'remove', path: '/spec/strategy/canary/trafficRouting' }], 'json'));
    await then('the VirtualService is back to 100% stable, and the Rollout no longer holds the finalizer or the remembered routing', async () => {
      await waitForWeights(router, cluster, ns, 0);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => !r?.metadata.finalizers?.includes(TRAFFIC_ROUTING_FINALIZER) && !r?.metadata.annotations?.[APPLIED_ROUTING_ANNOTATION], { what: 'finalizer and annotation removed' });
      assert.ok(ro);
      assert.deepEqual(await router.leftovers(cluster, ns), []);
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('Istio, subset-level without canary or stable Services: weights on the subsets, the one Service never touched, released on deletion', async (ctx) => {
  const { cluster, ns, given, when, then } = ctx;
  const controller = startController(ns);
  const router = istio(true);
  const serviceRef: ResourceRef = { group: '', version: 'v1', plural: 'services', namespace: ns, name: APP };
  const subsetHashes = async (): Promise<Record<string, string | undefined>> => {
    const dr = await cluster.get<DestinationRule>(drRef(ns));
    return Object.fromEntries((dr?.spec?.subsets ?? []).map((s) => [s.name, s.labels?.[POD_TEMPLATE_HASH_LABEL]]));
  };
  try {
    let blue = '';
    await given('one Service, the VirtualService and DestinationRule, and a Rollout that names neither canaryService nor stableService', async () => {
      await cluster.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: APP }, spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }, ns);
      await router.setup(cluster, ns);
      const manifest = rollout(router.trafficRouting, [{ setWeight: 20 }, { pause: {} }], 4) as KubeObject & { spec: { strategy: { canary: Record<string, unknown> } } };
      delete manifest.spec.strategy.canary.stableService;
      delete manifest.spec.strategy.canary.canaryService;
      await cluster.apply(manifest, ns);
      blue = (await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn(), { what: 'Rollout Healthy after create' }))!.status!.stableRS!;
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    let green = '';
    await then('it pauses at 20% written on the subsets, each subset selecting its hash, and the Service is as it was', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'paused at 20%' });
      green = ro!.status!.currentPodHash!;
      await waitForWeights(router, cluster, ns, 20);
      assert.deepEqual(await subsetHashes(), { stable: blue, canary: green, debug: undefined });
      assert.equal(ro!.status?.canary?.weights?.canary.weight, 20);
      const svc = await cluster.get<KubeObject & { spec: { selector?: Record<string, string> } }>(serviceRef);
      assert.deepEqual(svc?.spec.selector, { app: APP });
      assert.equal(svc?.metadata.annotations?.[MANAGED_BY_ANNOTATION], undefined);
    });
    await when('it is promoted', () => rollway('-n', ns, 'promote', APP));
    await then('the new version is stable with all the traffic', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn((r) => r.status?.stableRS === green), { what: 'Rollout Healthy on green' });
      await waitForWeights(router, cluster, ns, 0);
      assert.equal((await subsetHashes()).stable, green);
    });
    await when('the Rollout is deleted', () => cluster.delete(rolloutRef(ns)));
    await then('its finalizer released the subsets: no hash labels and 100% on the stable subset', async () => {
      await cluster.waitFor(rolloutRef(ns), (r) => r === undefined, { what: 'Rollout gone (finalizer released)' });
      assert.deepEqual(await router.weights(cluster, ns), [{ canary: 0, stable: 100 }]);
      assert.deepEqual(await router.leftovers(cluster, ns), []);
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});
