// Measured traffic splits: a Rollout steps through 0.5, 1, 5, 20 and 50 percent, and at each pause
// real requests go through Traefik to pods that answer with their ReplicaSet hash. The canary's
// share of N requests must fall inside the 99.9% binomial interval of the set weight, through the
// Gateway API (HTTPRoute backendRef weights) and through the NGINX canary annotations (Traefik's
// Ingress NGINX provider). Header routes: every request with the header reaches the canary, none
// without it. Runs inside hack/netns.sh's namespace (make e2e-dataplane).
import assert from 'node:assert/strict';
import type { RolloutObject } from '../../api/views.ts';
import type { KubeObject } from '../../kube/client.ts';
import { ratioFromPercent } from '../../routers/types.ts';
import { scenario, sleep, startController, type Cluster } from '../harness.ts';
import { APP, CANARY, HEADER_STEPS, pausedAt, removeRollout, rollout, rolloutRef, rollway, services, STABLE } from '../routers-support.ts';
import { applyClasses, binomialInterval, failed, GATEWAY_CLASS, INGRESS_CLASS, sendRequests, servedShares, useDataPlane, waitServing, type Tally } from './support.ts';

/** Requests per measured step: at 1% the 99.9% interval is 200 ± 46 canary answers. */
const N = Number(process.env.ROLLWAY_DATAPLANE_REQUESTS ?? 20_000);
const WEIGHTS = [0.5, 1, 5, 20, 50];
const REPLICAS = 4;

const plane = useDataPlane();

interface Path {
  name: string;
  trafficRouting: Record<string, unknown>;
  objects: (ns: string) => KubeObject[];
  /** which of Traefik's weighted children is the canary (the names its provider gives them) */
  isCanary: (ns: string) => (serviceName: string) => boolean;
}

const hostOf = (ns: string) => `${ns}.example.test`;

const gatewayPath = (): Path => ({
  name: 'Gateway API',
  trafficRouting: { gatewayAPI: { httpRoutes: [{ name: 'web' }] } },
  isCanary: (ns) => (name) => name.includes(`-svc-${ns}-${CANARY}-`),
  objects: (ns) => [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: GATEWAY_CLASS, listeners: [{ name: 'web', protocol: 'HTTP', port: plane.traefik.webPort }] } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web' },
      spec: {
        parentRefs: [{ name: 'gw' }],
        hostnames: [hostOf(ns)],
        rules: [{ name: 'web', backendRefs: [{ name: STABLE, port: 80, weight: 100 }, { name: CANARY, port: 80, weight: 0 }] }],
      },
    },
  ],
});

const nginxPath = (): Path => ({
  name: 'NGINX annotations',
  trafficRouting: { nginx: { stableIngress: 'web' } },
  isCanary: (ns) => (name) => name.startsWith(`${ns}-`) && name.endsWith('-canary'),
  objects: (ns) => [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'web' },
      spec: { ingressClassName: INGRESS_CLASS, rules: [{ host: hostOf(ns), http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: STABLE, port: { number: 80 } } } }] } }] },
    },
  ],
});

const STEPS = WEIGHTS.flatMap((setWeight) => [{ setWeight }, { pause: {} }]);
const share = (tally: Tally, hash: string) => tally.byHash.get(hash) ?? 0;
const hashesOf = (ro: RolloutObject | undefined) => ({ stable: ro?.status?.stableRS ?? '', canary: ro?.status?.currentPodHash ?? '' });

/** Waits until Traefik serves the new weights (its API), so a measurement never mixes two steps. */
async function waitForSplit(path: Path, ns: string, percent: number): Promise<void> {
  const ratio = ratioFromPercent(percent);
  const want = ratio.canary / ratio.total;
  const deadline = Date.now() + 30_000;
  let last: number[] = [];
  while (Date.now() < deadline) {
    last = await servedShares(plane.traefik, path.isCanary(ns));
    if (last.length > 0 && last.every((share_) => Math.abs(share_ - want) < 1e-9)) return;
    await sleep(200);
  }
  assert.fail(`Traefik did not serve ${percent}% to the canary within 30 s (served shares ${JSON.stringify(last)})`);
}

export const measured: { path: string; percent: number; n: number; canary: number; low: number; high: number; rps: number }[] = [];

async function splitScenario(path: Path, ctx: { cluster: Cluster; ns: string; given: (t: string, fn: () => unknown) => Promise<void>; when: (t: string, fn: () => unknown) => Promise<void>; then: (t: string, fn: () => unknown) => Promise<void> }): Promise<void> {
  const { cluster, ns, given, when, then } = ctx;
  const host = hostOf(ns);
  const controller = startController(ns);
  try {
    let hashes = { stable: '', canary: '' };
    await given(`a ${REPLICAS}-replica Rollout behind Traefik (${path.name}), all traffic on stable`, async () => {
      await applyClasses(cluster);
      await cluster.apply([...services(), ...path.objects(ns)], ns);
      await cluster.apply(rollout(path.trafficRouting, STEPS, REPLICAS), ns);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy after create', timeoutMs: 60_000 });
      await waitServing(plane.traefik, host, hashesOf(ro).stable);
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    for (const [i, percent] of WEIGHTS.entries()) {
      await then(`at setWeight ${percent} the canary gets ${percent}% of ${N} requests (99.9% binomial interval)`, async () => {
        const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(2 * i + 1), { what: `paused after setWeight ${percent}`, timeoutMs: 60_000 });
        hashes = hashesOf(ro);
        if (i === 0) await waitServing(plane.traefik, host, hashes.canary);
        await waitForSplit(path, ns, percent);
        const started = Date.now();
        const tally = await sendRequests(N, { port: plane.traefik.webPort, host, concurrency: 32 });
        const seconds = (Date.now() - started) / 1000;
        const ratio = ratioFromPercent(percent);
        const { low, high } = binomialInterval(N, ratio.canary / ratio.total);
        const canary = share(tally, hashes.canary);
        measured.push({ path: path.name, percent, n: N, canary, low, high, rps: Math.round(N / seconds) });
        console.log(`data plane: ${path.name} setWeight ${percent}: ${canary}/${N} to the canary (${((100 * canary) / N).toFixed(3)}%), 99.9% interval [${low}, ${high}], ${Math.round(N / seconds)} req/s`);
        assert.equal(failed(tally), 0, `failed requests: ${JSON.stringify(tally.errorSamples)} statuses ${JSON.stringify([...tally.byStatus])}`);
        assert.equal(canary + share(tally, hashes.stable), N, 'every answer comes from the stable or the canary ReplicaSet');
        assert.ok(canary >= low && canary <= high, `canary share ${canary}/${N} outside the 99.9% interval [${low}, ${high}] of ${percent}%`);
      });
      if (i < WEIGHTS.length - 1) await when('promoted to the next step', () => rollway('-n', ns, 'promote', APP));
    }
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
}

scenario('Data plane, Gateway API: measured canary share at 0.5, 1, 5, 20 and 50 percent through Traefik', (ctx) => splitScenario(gatewayPath(), ctx), { timeoutMs: 300_000 });

scenario('Data plane, NGINX annotations: measured canary share at 0.5, 1, 5, 20 and 50 percent through Traefik', (ctx) => splitScenario(nginxPath(), ctx), { timeoutMs: 300_000 });

/** Given a header route (and no weight yet): with the header every request reaches the canary, without it none. */
async function headerScenario(path: Path, ctx: Parameters<typeof splitScenario>[1]): Promise<void> {
  const { cluster, ns, given, when, then } = ctx;
  const host = hostOf(ns);
  const controller = startController(ns);
  try {
    await given(`a 4-replica Rollout behind Traefik (${path.name}) whose first steps set a header route x-beta: yes`, async () => {
      await applyClasses(cluster);
      await cluster.apply([...services(), ...path.objects(ns)], ns);
      await cluster.apply(rollout({ managedRoutes: [{ name: 'beta' }], ...path.trafficRouting }, HEADER_STEPS, 4), ns);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy after create', timeoutMs: 60_000 });
      await waitServing(plane.traefik, host, hashesOf(ro).stable);
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    await then('requests with the header all reach the canary, requests without it none', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(2), { what: 'paused after the header route', timeoutMs: 60_000 });
      const hashes = hashesOf(ro);
      const headers = { 'x-beta': 'yes' };
      await waitServing(plane.traefik, host, hashes.canary, headers);
      const withHeader = await sendRequests(2000, { port: plane.traefik.webPort, host, headers, concurrency: 16 });
      const without = await sendRequests(2000, { port: plane.traefik.webPort, host, concurrency: 16 });
      const other = await sendRequests(500, { port: plane.traefik.webPort, host, headers: { 'x-beta': 'no' }, concurrency: 16 });
      console.log(`data plane: ${path.name} header route: ${share(withHeader, hashes.canary)}/2000 with x-beta: yes to the canary, ${share(without, hashes.canary)}/2000 without, ${share(other, hashes.canary)}/500 with x-beta: no`);
      assert.equal(share(withHeader, hashes.canary), 2000, `with the header: ${JSON.stringify([...withHeader.byHash])}`);
      assert.equal(share(without, hashes.stable), 2000, `without the header: ${JSON.stringify([...without.byHash])}`);
      assert.equal(share(other, hashes.stable), 500, `with another header value: ${JSON.stringify([...other.byHash])}`);
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
}

scenario('Data plane, Gateway API: a header route sends every request with the header to the canary and none without', (ctx) => headerScenario(gatewayPath(), ctx), { timeoutMs: 180_000 });

scenario('Data plane, NGINX annotations: a header route (canary-by-header) sends every request with the header to the canary and none without', (ctx) => headerScenario(nginxPath(), ctx), { timeoutMs: 180_000 });
