// The Gateway API router on the real control plane with the HTTPRoute CRD. The test plays the
// gateway controller: it writes the route's status (the status subresource) for each generation,
// and each step waits until that status says the generation carrying its weight was accepted.
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { ResourceRef } from '../kube/client.ts';
import { MANAGED_ROUTES_ANNOTATION } from '../routers/common.ts';
import { acceptance, type HTTPRoute, type HTTPRouteRule } from '../routers/gateway-api/render.ts';
import { scenario, sleep, startController, type Cluster } from './harness.ts';
import { APP, CANARY, headerRouteScenario, pausedAt, removeRollout, rollout, rolloutRef, rollway, services, STABLE, STEPS_1_5_20_50, stepsToFiftyScenario, waitForWeights, type RouterUnderTest } from './routers-support.ts';

const routeRef = (ns: string): ResourceRef => ({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: ns, name: 'web' });

function httpRoute(): HTTPRoute {
  const rules: HTTPRouteRule[] = [
    { name: 'docs', matches: [{ path: { type: 'PathPrefix', value: '/docs' } }], backendRefs: [{ group: '', kind: 'Service', name: 'docs', port: 80, weight: 1 }] },
    {
      name: 'web',
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      timeouts: { request: '15s' },
      backendRefs: [
        { group: '', kind: 'Service', name: STABLE, port: 80, weight: 100 },
        { group: '', kind: 'Service', name: CANARY, port: 80, weight: 0 },
      ],
    },
  ];
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'web' }, spec: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }], hostnames: ['web.example.com'], rules } };
}

/** What a gateway controller does: report Accepted (and ResolvedRefs) for the route's generation. */
async function acceptRoute(cluster: Cluster, ns: string): Promise<void> {
  const route = await cluster.get<HTTPRoute>(routeRef(ns));
  if (!route || acceptance(route).state === 'accepted') return;
  const generation = route.metadata.generation;
  const condition = (type: string) => ({ type, status: 'True', reason: type, message: '', observedGeneration: generation, lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') });
  await cluster.client.patch({ ...routeRef(ns), subresource: 'status' }, 'merge', {
    status: { parents: [{ parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }, controllerName: 'example.net/gateway-controller', conditions: [condition('Accepted'), condition('ResolvedRefs')] }] },
  });
}

function webWeights(route: HTTPRoute | undefined): { canary: number; stable: number }[] {
  const web = route?.spec?.rules.find((r) => r.name === 'web');
  const weight = (service: string) => web?.backendRefs?.find((b) => b.name === service)?.weight;
  const canary = weight(CANARY);
  const stable = weight(STABLE);
  return canary === undefined || stable === undefined ? [] : [{ canary, stable }];
}

function gateway(verify: Record<string, unknown> | undefined, playGateway: boolean): RouterUnderTest {
  return {
    trafficRouting: { gatewayAPI: { httpRoutes: [{ name: 'web' }], ...(verify ? { verify } : {}) } },
    setup: async (cluster, ns) => void (await cluster.apply(httpRoute(), ns)),
    weights: async (cluster, ns) => webWeights(await cluster.get<HTTPRoute>(routeRef(ns))),
    async headerRoute(cluster, ns) {
      const route = await cluster.get<HTTPRoute>(routeRef(ns));
      const beta = route?.spec?.rules.find((r) => r.name === 'beta');
      return beta !== undefined && JSON.stringify(beta.matches) === JSON.stringify([{ headers: [{ name: 'x-beta', type: 'Exact', value: 'yes' }], path: { type: 'PathPrefix', value: '/' } }]);
    },
    async leftovers(cluster, ns) {
      const route = await cluster.get<HTTPRoute>(routeRef(ns));
      const left = (route?.spec?.rules ?? []).filter((r) => r.name !== 'web' && r.name !== 'docs').map((r) => `rule ${r.name}`);
      if (route?.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION]) left.push('managed-routes annotation');
      return left;
    },
    ...(playGateway
      ? {
          async dataPlane(cluster: Cluster, ns: string, signal: AbortSignal) {
            while (!signal.aborted) {
              await acceptRoute(cluster, ns);
              await sleep(100);
            }
          },
        }
      : {}),
  };
}

scenario('Gateway API: backendRef weights 1%, 5%, 20%, 50%, each step verified from route status, promoted, a second update aborted, released on deletion', (ctx) => stepsToFiftyScenario(ctx, gateway(undefined, true)), { timeoutMs: 150_000 });

scenario("Gateway API configured as Argo's argoproj-labs/gatewayAPI plugin (httpRoute): the same steps on the same router", (ctx) =>
  stepsToFiftyScenario(ctx, { ...gateway(undefined, true), trafficRouting: { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'web' } } } }), { timeoutMs: 150_000 });

scenario('Gateway API: a header rule on and off around a 0.5% step (verification off)', (ctx) => headerRouteScenario(ctx, gateway({ mode: 'off' }, false)));

scenario('Gateway API: a step waits while no gateway reports on the generation with its weight, and goes on once one accepts it', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  try {
    await given('an HTTPRoute no gateway controller reports on, and the Rollout', async () => {
      await cluster.apply(services(), ns);
      await cluster.apply(httpRoute(), ns);
      await cluster.apply(rollout(gateway(undefined, false).trafficRouting, STEPS_1_5_20_50, 2), ns);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy after create' });
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    await then('1% is written but the step does not complete: the weight is not verified', async () => {
      await waitForWeights(gateway(undefined, false), cluster, ns, 1);
      await sleep(3000);
      const ro = await cluster.get<RolloutObject>(rolloutRef(ns));
      assert.equal(ro?.status?.currentStepIndex, 0, 'still at the setWeight step');
      assert.equal(ro?.status?.canary?.weights?.verified, false);
    });
    await when('the gateway accepts the route generation', () => acceptRoute(cluster, ns));
    await then('the step completes and the Rollout pauses at step 1', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'paused at step 1 once verified', timeoutMs: 10_000 });
      assert.equal(ro?.status?.canary?.weights?.verified, true);
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});
