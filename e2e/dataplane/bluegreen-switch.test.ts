// A blue-green switch measured on real requests: Traefik routes one host to the active Service and
// one to the preview Service (Gateway API HTTPRoutes), and a steady stream of keep-alive requests
// runs on the active route all through an update, the preview, the promote (the active Service's
// selector switches), the old stack's scale-down after scaleDownDelaySeconds, and then a second
// update that is aborted without a promote. Users of the active route must see no failed request,
// no answer from the new version before the promote, none from the old one a bounded time after.
// Runs inside hack/netns.sh's namespace (make e2e-dataplane).
import assert from 'node:assert/strict';
import type { RolloutObject } from '../../api/views.ts';
import { abort, promote } from '../../client/actions.ts';
import type { KubeObject, ResourceRef } from '../../kube/client.ts';
import { phaseIs, rolloutRef, setImage } from '../analysis-fixtures.ts';
import { scenario, startController, type Cluster } from '../harness.ts';
import { applyClasses, failed, GATEWAY_CLASS, sendRequests, useDataPlane, waitServing, type Tally } from './support.ts';

const APP = 'bg';
const REPLICAS = 3;
const SCALE_DOWN_DELAY_S = 10;
/**
 * After the promote, no answer from the old stack later than this: the controller's switch plus
 * the EndpointSlice update and Traefik's reload (providersThrottleDuration, 2 s by default) took
 * up to 4.6 s at load average 30; the old stack's delay must outlast it, or its pods go first.
 */
const SWITCH_BOUND_MS = 8_000;

const plane = useDataPlane();

const hosts = (ns: string) => ({ active: `active.${ns}.example.test`, preview: `preview.${ns}.example.test` });
const rsRef = (ns: string, hash: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name: `${APP}-${hash}` });
const svcRef = (ns: string, name: string): ResourceRef => ({ group: '', version: 'v1', plural: 'services', namespace: ns, name });
type Service = KubeObject & { spec: { selector?: Record<string, string> } };
type ReplicaSet = KubeObject & { spec: { replicas?: number } };

function objects(ns: string): KubeObject[] {
  const service = (name: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  const route = (name: string, host: string): KubeObject => ({
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name },
    spec: { parentRefs: [{ name: 'gw' }], hostnames: [host], rules: [{ backendRefs: [{ name, port: 80 }] }] },
  });
  const rollout: KubeObject = {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: APP },
    spec: {
      replicas: REPLICAS,
      selector: { matchLabels: { app: APP } },
      template: { metadata: { labels: { app: APP } }, spec: { containers: [{ name: APP, image: 'example.com/web:blue', ports: [{ name: 'http', containerPort: 8080 }] }] } },
      strategy: { blueGreen: { activeService: 'active', previewService: 'preview', autoPromotionEnabled: false, scaleDownDelaySeconds: SCALE_DOWN_DELAY_S, abortScaleDownDelaySeconds: 2 } },
    },
  };
  return [
    service('active'),
    service('preview'),
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: GATEWAY_CLASS, listeners: [{ name: 'web', protocol: 'HTTP', port: plane.traefik.webPort }] } },
    route('active', hosts(ns).active),
    route('preview', hosts(ns).preview),
    rollout,
  ];
}

/** The new revision's hash once the controller has seen the update. */
async function updated(cluster: Cluster, ns: string, image: string, previous: string): Promise<string> {
  await setImage(cluster, ns, APP, image);
  const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), (r) => (r?.status?.currentPodHash ?? previous) !== previous, { what: 'new revision seen' });
  return ro!.status!.currentPodHash!;
}

/** Paused on the preview: the preview route answers only `hash` (retried while Traefik catches up). */
async function previewServes(cluster: Cluster, ns: string, hash: string): Promise<void> {
  await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Paused', (r) => r.status?.blueGreen?.previewSelector === hash), { what: `Paused with ${hash} in preview` });
  await waitServing(plane.traefik, hosts(ns).preview, hash);
  let batch: Tally | undefined;
  for (let i = 0; i < 20 && (batch === undefined || batch.byHash.get(hash) !== 200); i++) batch = await sendRequests(200, { port: plane.traefik.webPort, host: hosts(ns).preview, concurrency: 4 });
  assert.equal(batch!.byHash.get(hash), 200, `the preview route answers only ${hash}: ${JSON.stringify([...batch!.byHash])}`);
}

const selectorOf = async (cluster: Cluster, ns: string, name: string) => (await cluster.get<Service>(svcRef(ns, name)))?.spec.selector?.['rollouts-pod-template-hash'];

scenario('Data plane: a blue-green switch through Traefik with a steady stream on the active route: no failed request, no new answer before the promote, no old one after the switch', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const stream = new AbortController();
  let running: Promise<Tally> | undefined;
  let blue = '';
  let green = '';
  let v3 = '';
  let promotedAt = 0;
  let switchedAt: Promise<number> | undefined;
  let blueScaledDownAt = 0;
  try {
    await given('a blue-green Rollout of 3 behind Traefik (active and preview routes) and a steady stream of requests on the active route', async () => {
      await applyClasses(cluster);
      await cluster.apply(objects(ns), ns);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy'), { what: 'Rollout Healthy after create', timeoutMs: 60_000 });
      blue = ro!.status!.stableRS!;
      await waitServing(plane.traefik, hosts(ns).active, blue);
      running = sendRequests(Number.MAX_SAFE_INTEGER, { port: plane.traefik.webPort, host: hosts(ns).active, concurrency: 8, signal: stream.signal });
    });
    await when('the image changes to green', async () => {
      green = await updated(cluster, ns, 'example.com/web:green', blue);
    });
    await then('the preview route answers green only, the active Service stays on blue', async () => {
      await previewServes(cluster, ns, green);
      assert.equal(await selectorOf(cluster, ns, 'active'), blue);
    });
    await when('it is promoted', async () => {
      // When the controller's part ends (the Service's selector), apart from the proxy's part.
      switchedAt = cluster.waitFor<Service>(svcRef(ns, 'active'), (s) => s?.spec.selector?.['rollouts-pod-template-hash'] === green, { what: 'active on green', intervalMs: 20 }).then(() => Date.now());
      promotedAt = Date.now();
      await promote(cluster.client, ns, APP);
    });
    await then(`the active Service switches to green; blue keeps its pods for scaleDownDelaySeconds (${SCALE_DOWN_DELAY_S} s), then goes`, async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy', (r) => r.status?.stableRS === green), { what: 'Healthy on green' });
      assert.equal(await selectorOf(cluster, ns, 'active'), green);
      await cluster.waitFor<ReplicaSet>(rsRef(ns, blue), (rs) => rs?.spec.replicas === 0, { what: 'blue scaled down', timeoutMs: 30_000, intervalMs: 50 });
      blueScaledDownAt = Date.now();
      assert.ok(blueScaledDownAt - promotedAt >= SCALE_DOWN_DELAY_S * 1000, `blue kept its pods ${blueScaledDownAt - promotedAt} ms after the promote`);
    });
    await when('a third version is rolled out and aborted from the preview, without a promote', async () => {
      v3 = await updated(cluster, ns, 'example.com/web:v3', green);
      await previewServes(cluster, ns, v3);
      await abort(cluster.client, ns, APP);
    });
    await then('the active Service stays on green, the preview goes back to green, the third stack is scaled down', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Degraded', (r) => r.status?.abort === true), { what: 'aborted' });
      assert.equal(await selectorOf(cluster, ns, 'active'), green);
      await waitServing(plane.traefik, hosts(ns).preview, green);
      await cluster.waitFor<ReplicaSet>(rsRef(ns, v3), (rs) => rs?.spec.replicas === 0, { what: 'v3 scaled down', timeoutMs: 30_000 });
    });
    await then('on the active route: zero failed requests, green only after the promote, blue none later than the switch bound, v3 never', async () => {
      stream.abort();
      const tally = await running!;
      const seenBlue = tally.seenAt.get(blue);
      const seenGreen = tally.seenAt.get(green);
      const firstGreen = (seenGreen?.first ?? NaN) - promotedAt;
      const lastBlue = (seenBlue?.last ?? NaN) - promotedAt;
      console.log(
        `data plane: blue-green, ${tally.total} requests on the active route (blue ${tally.byHash.get(blue) ?? 0}, green ${tally.byHash.get(green) ?? 0}, v3 ${tally.byHash.get(v3) ?? 0}), ` +
          `${failed(tally)} failed (statuses ${JSON.stringify([...tally.byStatus])}, errors ${JSON.stringify(tally.errorSamples)}); ` +
          `promote → active Service switched ${(await switchedAt!) - promotedAt} ms, first green answer ${firstGreen} ms, last blue answer ${lastBlue} ms, blue scaled down ${blueScaledDownAt - promotedAt} ms`,
      );
      assert.equal(failed(tally), 0, 'no failed request on the active route');
      assert.ok(firstGreen >= 0, `no green answer before the promote (first ${firstGreen} ms after)`);
      assert.ok(lastBlue <= SWITCH_BOUND_MS, `no blue answer later than ${SWITCH_BOUND_MS} ms after the promote (last ${lastBlue} ms)`);
      assert.ok(seenBlue!.last < blueScaledDownAt, 'the proxy had left blue before its pods were scaled down');
      assert.equal(tally.byHash.get(v3), undefined, 'the aborted version never answered on the active route');
    });
  } finally {
    stream.abort();
    await running?.catch(() => undefined);
    await cluster.delete(rolloutRef(ns, APP));
    await controller.kill();
  }
}, { timeoutMs: 150_000 });
