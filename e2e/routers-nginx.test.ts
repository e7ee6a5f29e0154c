// The NGINX router on the real control plane: canary Ingresses for two stable Ingresses through a
// whole rollout, and a header route around a 0.5% step (weight 1 of canary-weight-total 200).
import assert from 'node:assert/strict';
import type { ResourceRef } from '../kube/client.ts';
import { parseCanaryAnnotations } from '../routers/nginx/annotations.ts';
import { canaryIngressName, type Ingress } from '../routers/nginx/render.ts';
import { scenario, type Cluster } from './harness.ts';
import { APP, headerRouteScenario, STABLE, stepsToFiftyScenario, type RouterUnderTest } from './routers-support.ts';

const PREFIX = 'nginx.ingress.kubernetes.io';
const STABLE_INGRESSES = ['web', 'web-internal'];
const ingressRef = (ns: string, name: string): ResourceRef => ({ group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: ns, name });

function stableIngress(name: string): Ingress {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: { name, annotations: { [`${PREFIX}/proxy-read-timeout`]: '30' } },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: [`${name}.example.com`], secretName: `${name}-tls` }],
      rules: [
        {
          host: `${name}.example.com`,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: STABLE, port: { name: 'http' } } } },
              { path: '/status', pathType: 'Exact', backend: { service: { name: 'status-page', port: { number: 80 } } } },
            ],
          },
        },
      ],
    },
  };
}

async function canaries(cluster: Cluster, ns: string): Promise<(Ingress | undefined)[]> {
  return Promise.all(STABLE_INGRESSES.map((name) => cluster.get<Ingress>(ingressRef(ns, canaryIngressName(APP, name)))));
}

let stableSnapshot = '';
const nginx: RouterUnderTest = {
  trafficRouting: { nginx: { stableIngresses: STABLE_INGRESSES } },
  async setup(cluster, ns) {
    for (const name of STABLE_INGRESSES) await cluster.apply(stableIngress(name), ns);
    stableSnapshot = await stableIngresses(cluster, ns);
  },
  async weights(cluster, ns) {
    return (await canaries(cluster, ns)).map((ingress) => {
      if (!ingress) return { canary: 0, stable: 100 }; // no canary Ingress: the stable one takes everything
      const parsed = parseCanaryAnnotations(ingress.metadata.annotations);
      assert.ok(parsed.ok && parsed.value.canary, `canary Ingress ${ingress.metadata.name} carries valid canary annotations`);
      const weight = parsed.value.weight ?? 0;
      return { canary: weight, stable: (parsed.value.weightTotal ?? 100) - weight };
    });
  },
  async headerRoute(cluster, ns) {
    const all = await canaries(cluster, ns);
    return all.every((i) => i?.metadata.annotations?.[`${PREFIX}/canary-by-header`] === 'x-beta' && i.metadata.annotations[`${PREFIX}/canary-by-header-value`] === 'yes');
  },
  async leftovers(cluster, ns) {
    const left = (await canaries(cluster, ns)).filter((i) => i !== undefined).map((i) => `Ingress ${i.metadata.name}`);
    if ((await stableIngresses(cluster, ns)) !== stableSnapshot) left.push('a stable Ingress was changed');
    return left;
  },
};

/** The stable Ingresses' metadata and spec as text: they must never change. */
async function stableIngresses(cluster: Cluster, ns: string): Promise<string> {
  const all = await Promise.all(STABLE_INGRESSES.map((name) => cluster.get<Ingress>(ingressRef(ns, name))));
  return JSON.stringify(all.map((i) => [i?.metadata.annotations, i?.metadata.labels, i?.metadata.generation, i?.spec]));
}

scenario('NGINX: canary Ingresses at 1%, 5%, 20%, 50%, promoted to 100% new stable, a second update aborted, removed on deletion', (ctx) => stepsToFiftyScenario(ctx, nginx), { timeoutMs: 150_000 });

scenario('NGINX: a header route (canary-by-header) on and off around a 0.5% step written as 1 of 200', (ctx) =>
  headerRouteScenario(ctx, nginx, async () => {
    const [canary] = await canaries(ctx.cluster, ctx.ns);
    assert.deepEqual(canary?.spec?.rules, [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web-canary', port: { name: 'http' } } } }] } }]);
    assert.equal(canary?.spec?.ingressClassName, 'nginx');
    assert.equal(canary?.metadata.ownerReferences?.[0]?.kind, 'Rollout');
  }),
);
