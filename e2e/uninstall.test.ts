// Removing Rollway leaves nothing stuck or half-shifted, on the real control plane: Rollouts routed
// through Istio, NGINX, SMI and the Gateway API at 30%; the controller stopped with SIGTERM (which
// must not release anything: a restart or an upgrade keeps the weights); `rollway uninstall`; then
// the namespace goes within 10 s and every routing object is back to 100% stable, the user's own
// content unchanged. And routing left by a Rollout deleted while no controller ran (its finalizer
// stripped by hand): `rollway doctor` reports it, the next controller start releases it.
//
// `rollway uninstall -n NS`, not -A: the cluster is shared with other scenarios (cli/uninstall.test.ts covers -A).
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { TRAFFIC_ROUTING_FINALIZER, type RolloutObject } from '../controller/controller.ts';
import { ROUTED_BY_ANNOTATION } from '../controller/routing-marks.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { kubeconfigPath, parseYamlObjects, repoRoot, rollway, scenario, sleep, startController, type Cluster, type ControllerProcess } from './harness.ts';

const ISTIO = 'networking.istio.io';
const GATEWAY = 'gateway.networking.k8s.io';
const HASH = 'rollouts-pod-template-hash';
const VERSIONS: Record<string, string> = { 'split.smi-spec.io': 'v1alpha4', 'rollway.dev': 'v1alpha1' };
const ref = (group: string, plural: string, ns: string, name?: string): ResourceRef => ({ group, version: VERSIONS[group] ?? 'v1', plural, namespace: ns || undefined, name });
const rolloutRef = (ns: string, name: string): ResourceRef => ref('rollway.dev', 'rollouts', ns, name);
const vsRef = (ns: string): ResourceRef => ref(ISTIO, 'virtualservices', ns, 'istio-web');
const drRef = (ns: string): ResourceRef => ref(ISTIO, 'destinationrules', ns, 'istio-web');
const ingressRef = (ns: string, name = 'nginx-web'): ResourceRef => ref('networking.k8s.io', 'ingresses', ns, name);
const splitRef = (ns: string): ResourceRef => ref('split.smi-spec.io', 'trafficsplits', ns, 'smi-web-split');
const routeRef = (ns: string): ResourceRef => ref(GATEWAY, 'httproutes', ns, 'gw-web');

type Weights = { canary: number; stable: number };
type Spec<T> = KubeObject & { spec: T };

interface Routed {
  name: string;
  trafficRouting: Record<string, unknown>;
  /** the user's own routing objects (created before any Rollout) */
  objects: KubeObject[];
  weights: (cluster: Cluster, ns: string) => Promise<Weights | undefined>;
}

const service = (name: string, app: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });

const istio: Routed = {
  name: 'istio-web',
  trafficRouting: { istio: { virtualService: { name: 'istio-web', routes: ['primary'] }, destinationRule: { name: 'istio-web', stableSubsetName: 'stable', canarySubsetName: 'canary' } } },
  objects: [
    {
      apiVersion: `${ISTIO}/v1`,
      kind: 'VirtualService',
      metadata: { name: 'istio-web', labels: { team: 'shop' } },
      spec: {
        hosts: ['istio-web.example.com'],
        http: [
          { name: 'status', match: [{ uri: { exact: '/status' } }], route: [{ destination: { host: 'status-page' } }] },
          { name: 'primary', timeout: '15s', route: [{ destination: { host: 'istio-web', subset: 'stable' }, weight: 100 }, { destination: { host: 'istio-web', subset: 'canary' }, weight: 0 }] },
        ],
      },
    } as KubeObject,
    {
      apiVersion: `${ISTIO}/v1`,
      kind: 'DestinationRule',
      metadata: { name: 'istio-web', annotations: { 'shop.example/owner': 'web-team' } },
      spec: { host: 'istio-web', subsets: [{ name: 'stable', labels: { app: 'istio-web' } }, { name: 'canary', labels: { app: 'istio-web' } }, { name: 'debug', labels: { app: 'istio-web', track: 'debug' } }] },
    } as KubeObject,
  ],
  async weights(cluster, ns) {
    const vs = await cluster.get<Spec<{ http: { name: string; route: { destination: { subset: string }; weight?: number }[] }[] }>>(vsRef(ns));
    const route = vs?.spec.http.find((r) => r.name === 'primary')?.route ?? [];
    const of = (subset: string): number => route.find((d) => d.destination.subset === subset)?.weight ?? 0;
    return { canary: of('canary'), stable: of('stable') };
  },
};

const nginx: Routed = {
  name: 'nginx-web',
  trafficRouting: { nginx: { stableIngress: 'nginx-web' } },
  objects: [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'nginx-web', annotations: { 'nginx.ingress.kubernetes.io/proxy-read-timeout': '30' } },
      spec: { ingressClassName: 'nginx', rules: [{ host: 'nginx-web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'nginx-web-stable', port: { name: 'http' } } } }] } }] },
    } as KubeObject,
  ],
  async weights(cluster, ns) {
    // The canary Ingress is the one the Rollout owns; without it, the stable Ingress takes everything.
    const owned = (await cluster.list(ingressRef(ns))).find((i) => i.metadata.ownerReferences?.some((o) => o.kind === 'Rollout'));
    const weight = Number(owned?.metadata.annotations?.['nginx.ingress.kubernetes.io/canary-weight'] ?? 0);
    return { canary: weight, stable: 100 - weight };
  },
};

const smi: Routed = {
  name: 'smi-web',
  trafficRouting: { smi: { trafficSplitName: 'smi-web-split', rootService: 'smi-web' } },
  objects: [service('smi-web', 'smi-web')],
  async weights(cluster, ns) {
    const split = await cluster.get<Spec<{ backends: { service: string; weight: number | string }[] }>>(splitRef(ns));
    if (!split) return { canary: 0, stable: 100 };
    const of = (svc: string): number => Number(split.spec.backends.find((b) => b.service === svc)?.weight ?? 0);
    return { canary: of('smi-web-canary'), stable: of('smi-web-stable') };
  },
};

const gateway: Routed = {
  name: 'gw-web',
  trafficRouting: { gatewayAPI: { httpRoutes: [{ name: 'gw-web' }], verify: { mode: 'off' } } },
  objects: [
    {
      apiVersion: `${GATEWAY}/v1`,
      kind: 'HTTPRoute',
      metadata: { name: 'gw-web' },
      spec: {
        parentRefs: [{ group: GATEWAY, kind: 'Gateway', name: 'gw' }],
        hostnames: ['gw-web.example.com'],
        rules: [
          {
            name: 'web',
            matches: [{ path: { type: 'PathPrefix', value: '/' } }],
            backendRefs: [
              { group: '', kind: 'Service', name: 'gw-web-stable', port: 80, weight: 100 },
              { group: '', kind: 'Service', name: 'gw-web-canary', port: 80, weight: 0 },
            ],
          },
        ],
      },
    } as KubeObject,
  ],
  async weights(cluster, ns) {
    const route = await cluster.get<Spec<{ rules: { backendRefs: { name: string; weight: number }[] }[] }>>(routeRef(ns));
    const of = (svc: string): number => route?.spec.rules[0]?.backendRefs.find((b) => b.name === svc)?.weight ?? 0;
    return { canary: of('gw-web-canary'), stable: of('gw-web-stable') };
  },
};

const ALL = [istio, nginx, smi, gateway];

function rollout(r: Routed): KubeObject {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: r.name },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: r.name } },
      // No grace period: the namespace's deletion then waits on nothing but what holds it.
      template: { metadata: { labels: { app: r.name } }, spec: { terminationGracePeriodSeconds: 0, containers: [{ name: 'app', image: 'example.com/web:blue' }] } },
      strategy: { canary: { stableService: `${r.name}-stable`, canaryService: `${r.name}-canary`, scaleDownDelaySeconds: 0, trafficRouting: r.trafficRouting, steps: [{ setWeight: 30 }, { pause: {} }] } },
    },
  };
}

/** What the user wrote on a routing object: labels, annotations and spec (what the server adds left out). */
const userContent = (o: KubeObject | undefined): unknown => o && { labels: o.metadata.labels, annotations: o.metadata.annotations, spec: (o as { spec?: unknown }).spec };

/** A Service's spec gets server defaults (clusterIP, protocol...): its selector is what routing could change. */
const serviceContent = (o: KubeObject | undefined): unknown => o && { labels: o.metadata.labels, annotations: o.metadata.annotations, selector: (o as Spec<{ selector?: unknown }>).spec.selector };

async function readUserObjects(cluster: Cluster, ns: string): Promise<unknown[]> {
  const objects = await Promise.all([vsRef(ns), drRef(ns), ingressRef(ns), routeRef(ns)].map((r) => cluster.get(r)));
  return [...objects.map(userContent), serviceContent(await cluster.get(ref('', 'services', ns, 'smi-web')))];
}

async function weightsOf(cluster: Cluster, ns: string, routed: readonly Routed[]): Promise<Record<string, Weights | undefined>> {
  return Object.fromEntries(await Promise.all(routed.map(async (r) => [r.name, await r.weights(cluster, ns)] as const)));
}

async function waitForAllWeights(cluster: Cluster, ns: string, routed: readonly Routed[], canary: number, timeoutMs = 30_000): Promise<void> {
  const want = Object.fromEntries(routed.map((r) => [r.name, { canary, stable: 100 - canary }]));
  const deadline = Date.now() + timeoutMs;
  let last = await weightsOf(cluster, ns, routed);
  while (JSON.stringify(last) !== JSON.stringify(want) && Date.now() < deadline) {
    await sleep(200);
    last = await weightsOf(cluster, ns, routed);
  }
  assert.deepEqual(last, want);
}

/** Creates the user's objects and Services, then the Rollouts; waits until each is paused at 30% after an update. */
async function routeAt30(cluster: Cluster, ns: string, routed: readonly Routed[]): Promise<void> {
  for (const r of routed) {
    await cluster.apply([service(`${r.name}-stable`, r.name), service(`${r.name}-canary`, r.name), ...r.objects], ns);
  }
  for (const r of routed) await cluster.apply(rollout(r), ns);
  for (const r of routed) await cluster.waitFor<RolloutObject>(rolloutRef(ns, r.name), (o) => o?.status?.phase === 'Healthy', { what: `${r.name} Healthy` });
  for (const r of routed) rollway('-n', ns, 'set', 'image', r.name, 'app=example.com/web:green');
  for (const r of routed) {
    await cluster.waitFor<RolloutObject>(rolloutRef(ns, r.name), (o) => o?.status?.phase === 'Paused' && o.status.currentStepIndex === 1, { what: `${r.name} paused at 30%`, timeoutMs: 40_000 });
  }
  await waitForAllWeights(cluster, ns, routed, 30);
}

/**
 * How long the namespace controller takes to delete an empty namespace now: on a loaded machine
 * that alone can take several seconds, which says nothing about what Rollway leaves behind.
 */
async function emptyNamespaceDeletionMs(cluster: Cluster): Promise<number> {
  const probe = await cluster.namespace('uninstall-probe');
  const started = Date.now();
  await probe.remove();
  await cluster.waitFor(ref('', 'namespaces', '', probe.name), (o) => o === undefined, { what: `namespace ${probe.name} gone`, timeoutMs: 60_000, intervalMs: 100 });
  return Date.now() - started;
}

/** Until the controller logs that it started (it holds its Lease then, and a SIGTERM finds it running). */
async function waitForStart(controller: ControllerProcess): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!controller.logs().includes('controller started') && Date.now() < deadline) await sleep(100);
  assert.match(controller.logs(), /controller started/);
}

/** `rollway` with its exit code and both outputs, for commands expected to fail. */
function rollwayResult(...args: string[]): { code: number; stdout: string; stderr: string } {
  try {
    const stdout = execFileSync(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.ts'), '--kubeconfig', kubeconfigPath(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, stdout, stderr: '' };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, stdout: e.stdout, stderr: e.stderr };
  }
}

scenario(
  'uninstall: Istio, NGINX, SMI and Gateway API Rollouts at 30%, controller stopped, rollway uninstall, the namespace deleted within 10 s, all routing back to 100% stable',
  async ({ cluster, ns, given, when, then }) => {
    let controller = startController(ns);
    try {
      await given('four Rollouts, one per router, each paused at 30% of traffic', async () => {
        await routeAt30(cluster, ns, ALL);
      });
      await when('the controller is stopped with SIGTERM', () => controller.kill('SIGTERM'));
      await then('it released nothing: the weights stay at 30% and every Rollout still holds its finalizer', async () => {
        await sleep(1500);
        await waitForAllWeights(cluster, ns, ALL, 30, 0);
        for (const r of ALL) assert.ok((await cluster.get(rolloutRef(ns, r.name)))?.metadata.finalizers?.includes(TRAFFIC_ROUTING_FINALIZER), `${r.name} keeps its finalizer`);
      });
      await then('uninstall refuses while a controller still runs', async () => {
        controller = startController(ns);
        await waitForStart(controller);
        const refused = rollwayResult('-n', ns, 'uninstall');
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, new RegExp(`a Rollway controller still runs \\(Lease ${ns}/rollway-controller .*--force`));
        await controller.kill('SIGTERM');
        await waitForAllWeights(cluster, ns, ALL, 30, 0);
      });
      await when('the user runs rollway uninstall --dry-run, then rollway uninstall', async () => {
        const dry = rollway('-n', ns, 'uninstall', '--dry-run');
        for (const r of ALL) assert.match(dry, new RegExp(`^${ns}/${r.name}: would do: .*finalizer rollway\\.dev/traffic-routing removed$`, 'm'));
        await waitForAllWeights(cluster, ns, ALL, 30, 0);
        const out = rollway('-n', ns, 'uninstall');
        for (const r of ALL) assert.match(out, new RegExp(`^${ns}/${r.name}: finalizer rollway\\.dev/traffic-routing removed$`, 'm'));
        assert.match(out, new RegExp(`^${ns}/istio-web: istio: VirtualService istio-web set back to 100% stable`, 'm'));
        assert.match(out, new RegExp(`^${ns}/nginx-web: nginx: canary Ingress of nginx-web deleted`, 'm'));
      });
      await then("every routing object is back to 100% stable, with the user's own content as it was and nothing of ours left", async () => {
        await waitForAllWeights(cluster, ns, ALL, 0, 0);
        const original = [...istio.objects, ...nginx.objects, ...gateway.objects].map(userContent);
        assert.deepEqual(await readUserObjects(cluster, ns), [...original, serviceContent(smi.objects[0])]);
        assert.equal(await cluster.get(splitRef(ns)), undefined, 'TrafficSplit deleted');
        const ours = (await cluster.list(ingressRef(ns))).filter((i) => i.metadata.name !== 'nginx-web').map((i) => i.metadata.name);
        assert.deepEqual(ours, [], 'canary Ingress deleted');
        for (const r of ALL) assert.equal((await cluster.get(rolloutRef(ns, r.name)))?.metadata.finalizers, undefined);
      });
      let baselineMs = 0;
      await when('the namespace is deleted', async () => {
        baselineMs = await emptyNamespaceDeletionMs(cluster);
        await cluster.delete(ref('', 'namespaces', '', ns));
      });
      await then('it is gone within 10 s (beyond what deleting an empty namespace takes on this cluster right now)', async () => {
        await cluster.waitFor(ref('', 'namespaces', '', ns), (o) => o === undefined, { what: `namespace ${ns} gone (an empty one took ${baselineMs} ms)`, timeoutMs: 10_000 + baselineMs, intervalMs: 100 });
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 180_000 },
);

scenario(
  'orphaned routing: a Rollout deleted while no controller ran, its finalizer stripped by hand; rollway doctor reports it and the next controller start restores 100% stable with a Warning Event',
  async ({ cluster, ns, given, when, then }) => {
    const routed = [istio, gateway];
    let controller = startController(ns);
    try {
      await given('Istio and Gateway API Rollouts at 30%, and the controller stopped', async () => {
        await routeAt30(cluster, ns, routed);
        await controller.kill('SIGTERM');
      });
      await when('the Rollouts are deleted and their finalizers removed by hand', async () => {
        for (const r of routed) {
          await cluster.delete(rolloutRef(ns, r.name));
          await cluster.patch(rolloutRef(ns, r.name), { metadata: { finalizers: null } });
          await cluster.waitFor(rolloutRef(ns, r.name), (o) => o === undefined, { what: `${r.name} gone` });
        }
      });
      await then('the routing objects still carry 30%, and rollway doctor reports each (exit code 1)', async () => {
        await waitForAllWeights(cluster, ns, routed, 30, 0);
        const report = rollwayResult('-n', ns, 'doctor');
        assert.equal(report.code, 1);
        assert.match(report.stdout, new RegExp(`^VirtualService ${ns}/istio-web, DestinationRule ${ns}/istio-web: traffic routing of Rollout ${ns}/istio-web \\(uid [0-9a-f-]+\\) is still applied, but that Rollout no longer exists`, 'm'));
        assert.match(report.stdout, new RegExp(`^HTTPRoute ${ns}/gw-web: traffic routing of Rollout ${ns}/gw-web`, 'm'));
      });
      await when('a controller starts', () => {
        controller = startController(ns);
      });
      await then("every routing object is back to 100% stable with the user's content as it was, and a Warning Event says why", async () => {
        await waitForAllWeights(cluster, ns, routed, 0);
        const deadline = Date.now() + 10_000;
        const objects = async () => Promise.all([vsRef(ns), drRef(ns), routeRef(ns)].map((r) => cluster.get(r)));
        let now = await objects();
        while (now.some((o) => o?.metadata.annotations?.[ROUTED_BY_ANNOTATION]) && Date.now() < deadline) {
          await sleep(200);
          now = await objects();
        }
        assert.deepEqual(now.map(userContent), [istio.objects[0], istio.objects[1], gateway.objects[0]].map(userContent));
        const dr = now[1] as Spec<{ subsets: { labels: Record<string, string> }[] }>;
        assert.ok(dr.spec.subsets.every((s) => !(HASH in s.labels)), 'no hash labels left on the subsets');
        for (const [kind, name] of [['VirtualService', 'istio-web'], ['HTTPRoute', 'gw-web']] as const) {
          const events = await cluster.events(ns, { kind, name });
          const warning = events.find((e) => e.reason === 'OrphanedTrafficRouting');
          assert.equal(warning?.type, 'Warning');
          assert.match(warning?.message ?? '', /no longer exists but its traffic routing was still applied .*set back to 100% stable/);
        }
      });
      await then('rollway doctor finds nothing left', () => {
        assert.match(rollway('-n', ns, 'doctor'), /no problems found/);
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 180_000 },
);

/** A kubeconfig holding only a TokenRequest token of the ServiceAccount namespace/name. */
async function serviceAccountKubeconfig(cluster: Cluster, namespace: string, name: string): Promise<string> {
  const review = await cluster.client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const admin = parse(readFileSync(kubeconfigPath(), 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  const file = path.join(mkdtempSync(path.join(os.tmpdir(), 'rollway-uninstall-')), 'sa.kubeconfig');
  const config = { apiVersion: 'v1', kind: 'Config', clusters: [{ name: 'local', cluster: admin.clusters[0]!.cluster }], users: [{ name, user: { token: review.status.token } }], contexts: [{ name: 'sa', context: { cluster: 'local', user: name, namespace } }], 'current-context': 'sa' };
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

/** The chart's pre-delete hook objects as `helm template` renders them for a namespace (hack/build-helm.sh builds Helm once, then reuses it). */
function renderHook(ns: string, ...sets: string[]): KubeObject[] {
  const helm = execFileSync(path.join(repoRoot, 'hack/build-helm.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 }).trim().split('\n').pop()!;
  const args = ['template', 'rollway', path.join(repoRoot, 'charts/rollway'), '-n', ns, '--show-only', 'templates/pre-delete-hook.yaml', ...sets.flatMap((x) => ['--set', x])];
  return parseYamlObjects(execFileSync(helm, args, { encoding: 'utf8' }));
}

const jobArgs = (objects: KubeObject[]): string[] => (objects.find((o) => o.kind === 'Job') as Spec<{ template: { spec: { containers: { args: string[] }[] } } }>).spec.template.spec.containers[0]!.args;

scenario(
  "Helm's pre-delete hook: its Job's command, run under the hook's own ServiceAccount token (namespaced mode), scales the controller down, then releases the Rollout and drops its finalizer",
  async ({ cluster, ns, given, when, then }) => {
    const clusterMode = renderHook('rollway');
    assert.deepEqual(jobArgs(clusterMode), ['uninstall', '--all-namespaces', '--instance-id=', '--stop-controller=rollway/rollway-controller', '--leader-election-namespace=rollway']);
    for (const o of clusterMode) assert.equal(o.metadata.annotations?.['helm.sh/hook'], 'pre-delete', `${o.kind} ${o.metadata.name} is a hook object`);
    const hook = renderHook(ns, 'namespaced=true', 'instanceId=');
    const controller = startController(ns);
    try {
      await given("an Istio Rollout at 30%, the hook's ServiceAccount and rights, and a Deployment standing for the controller's", async () => {
        await routeAt30(cluster, ns, [istio]);
        await cluster.apply(hook.filter((o) => o.kind !== 'Job'), ns);
        await cluster.apply({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'rollway-controller' }, spec: { replicas: 1, selector: { matchLabels: { app: 'stand-in' } }, template: { metadata: { labels: { app: 'stand-in' } }, spec: { containers: [{ name: 'c', image: 'example.com/rollway' }] } } } }, ns);
      });
      await when('the Job runs its command while the controller still runs (the controller stops when its Deployment is scaled to 0)', async () => {
        const kubeconfig = await serviceAccountKubeconfig(cluster, ns, 'rollway-uninstall');
        // What the kubelet would do: the controller's pod gets SIGTERM once its Deployment is at 0.
        const stopped = (async () => {
          await cluster.waitFor(ref('apps', 'deployments', ns, 'rollway-controller'), (d) => (d as Spec<{ replicas: number }> | undefined)?.spec.replicas === 0, { what: 'controller Deployment at 0', timeoutMs: 60_000, intervalMs: 100 });
          await controller.kill('SIGTERM');
        })();
        const node = path.join(repoRoot, 'node_modules/.bin/node');
        const out = await new Promise<string>((resolve, reject) => {
          const child = execFile(node, [path.join(repoRoot, 'cli/rollway.ts'), '--kubeconfig', kubeconfig, ...jobArgs(hook)], { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout)));
          child.stdin?.end();
        });
        await stopped;
        assert.match(out, new RegExp(`^Deployment ${ns}/rollway-controller scaled to 0$`, 'm'));
        assert.match(out, new RegExp(`^${ns}/istio-web: finalizer rollway\\.dev/traffic-routing removed$`, 'm'));
      });
      await then("the routing is back to 100% stable with the user's content as it was, and the Rollout holds no finalizer", async () => {
        await waitForAllWeights(cluster, ns, [istio], 0, 0);
        assert.deepEqual(userContent(await cluster.get(vsRef(ns))), userContent(istio.objects[0]));
        assert.deepEqual(userContent(await cluster.get(drRef(ns))), userContent(istio.objects[1]));
        assert.equal((await cluster.get(rolloutRef(ns, 'istio-web')))?.metadata.finalizers, undefined);
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 180_000 },
);
