// The NGINX router on the real control plane: canary Ingresses for two stable Ingresses through a
// whole rollout, a header route around a 0.5% step (weight 1 of canary-weight-total 200),
// additionalIngressAnnotations given with their prefix, and a canary Ingress the API refuses.
import assert from 'node:assert/strict';
import type { ResourceRef } from '../kube/client.ts';
import { parseCanaryAnnotations } from '../routers/nginx/annotations.ts';
import { canaryIngressName, type Ingress } from '../routers/nginx/render.ts';
import type { RolloutObject } from '../controller/controller.ts';
import { scenario, sleep, startController, type Cluster } from './harness.ts';
import { APP, headerRouteScenario, healthyOn, pausedAt, removeRollout, rollout, rolloutRef, rollway, services, STABLE, stepsToFiftyScenario, type RouterUnderTest } from './routers-support.ts';

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

const canaryRef = (ns: string): ResourceRef => ingressRef(ns, canaryIngressName(APP, 'web'));

scenario('NGINX: additionalIngressAnnotations names that already carry the prefix are kept as they are, as in Argo', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  try {
    await given('a Rollout whose additionalIngressAnnotations give canary-by-header with its prefix and canary-by-header-value without', async () => {
      await cluster.apply(services(), ns);
      await cluster.apply(stableIngress('web'), ns);
      const additionalIngressAnnotations = { [`${PREFIX}/canary-by-header`]: 'X-Canary', 'canary-by-header-value': 'always' };
      await cluster.apply(rollout({ nginx: { stableIngress: 'web', additionalIngressAnnotations } }, [{ setWeight: 20 }, { pause: {} }], 2), ns);
    });
    await then('it is Healthy, and its canary Ingress carries each annotation under the prefix once', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn(), { what: 'Rollout Healthy after create' });
      const annotations = (await cluster.get<Ingress>(canaryRef(ns)))?.metadata.annotations ?? {};
      assert.equal(annotations[`${PREFIX}/canary-by-header`], 'X-Canary');
      assert.equal(annotations[`${PREFIX}/canary-by-header-value`], 'always');
      assert.deepEqual(Object.keys(annotations).filter((key) => key.split('/').length > 2), [], 'no key prefixed twice');
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    await then('it pauses at 20% with the header routing still in place', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'paused at 20%' });
      const deadline = Date.now() + 15_000;
      let parsed = parseCanaryAnnotations((await cluster.get<Ingress>(canaryRef(ns)))?.metadata.annotations);
      while (!(parsed.ok && parsed.value.weight === 20) && Date.now() < deadline) {
        await sleep(100);
        parsed = parseCanaryAnnotations((await cluster.get<Ingress>(canaryRef(ns)))?.metadata.annotations);
      }
      assert.deepEqual(parsed, { ok: true, value: { canary: true, weight: 20, weightTotal: 100, byHeader: 'X-Canary', byHeaderValue: 'always' } });
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('NGINX: a canary Ingress the API server rejects makes the Rollout Degraded with the API message and one Warning Event; fixing the spec recovers', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const badKey = 'example.com/owner team'; // a space: not a valid annotation key
  const invalidSpec = (r: RolloutObject | undefined) => r?.status?.conditions?.find((c: { type: string }) => c.type === 'InvalidSpec') as { status: string; message?: string } | undefined;
  try {
    await given('a Rollout whose canaryIngressAnnotations has a key the API server refuses', async () => {
      await cluster.apply(services(), ns);
      await cluster.apply(stableIngress('web'), ns);
      await cluster.apply(rollout({ nginx: { stableIngress: 'web', canaryIngressAnnotations: { [badKey]: 'shop' } } }, [{ setWeight: 20 }, { pause: {} }], 2), ns);
    });
    await then('the Rollout is Degraded with an InvalidSpec condition carrying the API server\'s message and the Ingress it refused', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Degraded' && invalidSpec(r)?.status === 'True', { what: 'Rollout Degraded with InvalidSpec' });
      const message = invalidSpec(ro)?.message ?? '';
      assert.match(message, /spec\.strategy\.canary\.trafficRouting\.nginx: the API server rejected the write of Ingress "web-web-canary" \(422 Invalid\)/);
      assert.ok(message.includes(badKey) && /Invalid value/.test(message), message);
      assert.equal(await cluster.get(canaryRef(ns)), undefined, 'no canary Ingress was created');
    });
    await then('a Warning Event says so once, while the controller keeps retrying with backoff', async () => {
      const warnings = async () => (await cluster.events(ns, { kind: 'Rollout', name: APP })).filter((e) => e.type === 'Warning' && e.reason === 'InvalidSpec');
      await cluster.waitFor(rolloutRef(ns), () => true); // the Event follows the status write
      let found = await warnings();
      for (let i = 0; i < 50 && found.length === 0; i++) found = (await sleep(100), await warnings());
      assert.equal(found.length, 1);
      assert.match(found[0]!.message ?? '', /the API server rejected the write of Ingress "web-web-canary"/);
      const failures = () => controller.logs().split('\n').filter((line) => line.includes('reconcile failed') && line.includes('web-web-canary')).length;
      const before = failures();
      await sleep(3000);
      assert.ok(failures() > before, `the write is retried (failed attempts logged: ${before}, then ${failures()})`);
      assert.ok(failures() < 40, `with backoff, not in a tight loop (${failures()} attempts)`);
      assert.equal((await warnings()).length, 1, 'no new Event for the same rejection');
    });
    await when('the key is corrected in the spec', () => cluster.patch(rolloutRef(ns), { spec: { strategy: { canary: { trafficRouting: { nginx: { canaryIngressAnnotations: { [badKey]: null, 'example.com/owner': 'shop' } } } } } } }));
    await then('the Rollout is Healthy again, the condition gone, and the canary Ingress carries the annotation', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn((r) => invalidSpec(r) === undefined), { what: 'Rollout Healthy without InvalidSpec' });
      const canary = await cluster.get<Ingress>(canaryRef(ns));
      assert.equal(canary?.metadata.annotations?.['example.com/owner'], 'shop');
      assert.equal(canary?.metadata.annotations?.[`${PREFIX}/canary-weight`], '0');
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});
