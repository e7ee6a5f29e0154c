// The whole loop on real parts: requests through Traefik, Prometheus scraping Traefik's metrics, a
// background analysis on the canary's 5xx share, and the abort. The new revision's pods answer
// 500 (e2e.rollway.dev/http-status); the analysis fails it and all traffic goes back to stable.
// The scenario reports how many failed requests users saw before the abort. Inside hack/netns.sh.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { RolloutObject } from '../../api/views.ts';
import type { KubeObject } from '../../kube/client.ts';
import { scenario, startController } from '../harness.ts';
import { startPrometheus, type PrometheusServer } from '../prometheus.ts';
import { APP, CANARY, removeRollout, rollout, rolloutRef, services, STABLE } from '../routers-support.ts';
import { STATUS_ANNOTATION } from './pod-server.ts';
import { applyClasses, failed, GATEWAY_CLASS, requireNetns, sendRequests, startPodServer, startTraefik, waitServing, type Process, type Tally, type Traefik } from './support.ts';

let traefik: Traefik;
let podServer: Process;
let prometheus: PrometheusServer;

before(async () => {
  requireNetns();
  podServer = startPodServer();
  traefik = await startTraefik();
  prometheus = await startPrometheus([traefik.metricsTarget]);
});
after(async () => {
  await prometheus?.stop();
  await traefik?.stop();
  await podServer?.stop();
});

// The query people write against Traefik: the canary Service's share of 5xx answers over 10 s
// (Traefik names a Gateway API backend `<router>-svc-<namespace>-<service>-<index>`).
const TEMPLATE = `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: canary-5xx
spec:
  args:
  - name: namespace
  - name: address
  metrics:
  - name: canary-5xx-share
    interval: 2s
    failureLimit: 0
    successCondition: result[0] < 0.05
    provider:
      prometheus:
        address: "{{args.address}}"
        query: |
          (sum(rate(traefik_service_requests_total{service=~".*-svc-{{args.namespace}}-${CANARY}-.*", code=~"5.."}[10s])) or vector(0))
          / (sum(rate(traefik_service_requests_total{service=~".*-svc-{{args.namespace}}-${CANARY}-.*"}[10s])) > 0 or vector(1))
`;

function gatewayObjects(host: string): KubeObject[] {
  return [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: GATEWAY_CLASS, listeners: [{ name: 'web', protocol: 'HTTP', port: traefik.webPort }] } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web' },
      spec: { parentRefs: [{ name: 'gw' }], hostnames: [host], rules: [{ name: 'web', backendRefs: [{ name: STABLE, port: 80, weight: 100 }, { name: CANARY, port: 80, weight: 0 }] }] },
    },
  ];
}

function analysedRollout(ns: string): KubeObject {
  const ro = rollout({ gatewayAPI: { httpRoutes: [{ name: 'web' }] } }, [{ setWeight: 20 }, { pause: { duration: '120s' } }, { setWeight: 50 }, { pause: {} }], 4) as KubeObject & { spec: { strategy: { canary: Record<string, unknown> } } };
  ro.spec.strategy.canary.analysis = { templates: [{ templateName: 'canary-5xx' }], startingStep: 1, args: [{ name: 'namespace', value: ns }, { name: 'address', value: prometheus.url }] };
  return ro;
}

scenario('Data plane: a canary answering 500s is aborted by a Prometheus analysis on Traefik metrics; the failed requests users saw are counted', async ({ cluster, ns, given, when, then }) => {
  const host = `${ns}.example.test`;
  const controller = startController(ns);
  const stream = new AbortController();
  let running: Promise<Tally> | undefined;
  let updatedAt = 0;
  try {
    await given('a Rollout behind Traefik with a background analysis on the canary 5xx share, and a steady stream of requests', async () => {
      await applyClasses(cluster);
      await cluster.apply([...services(), ...gatewayObjects(host)], ns);
      await cluster.apply(TEMPLATE, ns);
      await cluster.apply(analysedRollout(ns), ns);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy after create', timeoutMs: 60_000 });
      await waitServing(traefik, host, ro!.status!.stableRS!);
      running = sendRequests(Number.MAX_SAFE_INTEGER, { port: traefik.webPort, host, concurrency: 8, signal: stream.signal });
    });
    await when('a new revision whose pods answer 500 is rolled out (20% canary)', async () => {
      updatedAt = Date.now();
      await cluster.patch(rolloutRef(ns), {
        spec: { template: { metadata: { annotations: { [STATUS_ANNOTATION]: '500' } }, spec: { containers: [{ name: APP, image: 'example.com/web:broken', ports: [{ name: 'http', containerPort: 8080 }] }] } } },
      });
    });
    await then('the analysis fails, the Rollout is aborted and all traffic is back on stable', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Degraded' && r.status.abort === true, { what: 'aborted by the analysis', timeoutMs: 120_000 });
      const abortedAfter = (Date.now() - updatedAt) / 1000;
      stream.abort();
      const tally = await running!;
      console.log(`data plane: 500s canary aborted ${abortedAfter.toFixed(1)} s after the update; users saw ${failed(tally)} failed of ${tally.total} requests (statuses ${JSON.stringify([...tally.byStatus])}); message: ${ro?.status?.message}`);
      assert.ok(failed(tally) > 0, 'the canary did answer 500 to some users before the abort');
      // After the abort the route is back to stable: a fresh batch sees no failure (once Traefik has the new weights).
      let after_ = await sendRequests(500, { port: traefik.webPort, host, concurrency: 8 });
      for (let i = 0; i < 20 && failed(after_) > 0; i++) after_ = await sendRequests(500, { port: traefik.webPort, host, concurrency: 8 });
      assert.equal(failed(after_), 0, `after the abort: ${JSON.stringify([...after_.byStatus])}`);
      assert.equal(after_.byHash.get(ro!.status!.stableRS!), 500, 'every answer from the stable ReplicaSet');
    });
  } finally {
    stream.abort();
    await running?.catch(() => undefined);
    await removeRollout(cluster, ns);
    await controller.kill();
  }
}, { timeoutMs: 240_000 });
