import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ActionError } from '../client/actions.ts';
import { doctor } from './doctor.ts';
import { FakeCluster } from './uninstall-fake.ts';
import { leaseIsLive, uninstall, type UninstallOptions } from './uninstall.ts';
import { APPLIED_ROUTING_ANNOTATION, TRAFFIC_ROUTING_FINALIZER } from '../controller/release.ts';
import { markRoutingObjects, ROUTED_BY_ANNOTATION } from '../controller/routing-marks.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { appliedRoutingOf, createRouter } from '../routers/index.ts';
import { ratioFromPercent } from '../routers/types.ts';

const vsRef = (ns: string): ResourceRef => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns, name: 'web' });
const routeRef = (ns: string): ResourceRef => ({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: ns, name: 'web' });
const rolloutRef = (ns: string, name = 'web'): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const leaseRef = (ns: string): ResourceRef => ({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: ns, name: 'rollway-controller' });

const ISTIO = { managedRoutes: [{ name: 'beta' }], istio: { virtualService: { name: 'web', routes: ['primary'] } } };
const GATEWAY = { gatewayAPI: { httpRoutes: [{ name: 'web' }], verify: { mode: 'off' } } };

function virtualService(): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'web', labels: { team: 'shop' }, annotations: { 'shop.example/owner': 'web-team' } },
    spec: {
      hosts: ['web'],
      http: [
        { name: 'docs', match: [{ uri: { prefix: '/docs' } }], route: [{ destination: { host: 'docs' } }] },
        { name: 'primary', timeout: '15s', route: [{ destination: { host: 'web-stable' }, weight: 100 }, { destination: { host: 'web-canary' }, weight: 0 }] },
      ],
    },
  } as KubeObject;
}

function httpRoute(): KubeObject {
  const backend = (name: string, weight: number) => ({ group: '', kind: 'Service', name, port: 80, weight });
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web' },
    spec: { parentRefs: [{ name: 'gw' }], rules: [{ name: 'web', matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [backend('web-stable', 100), backend('web-canary', 0)] }] },
  } as KubeObject;
}

function rollout(ns: string, trafficRouting: Record<string, unknown>, extra: Partial<KubeObject['metadata']> = {}): KubeObject {
  const canary = { stableService: 'web-stable', canaryService: 'web-canary', trafficRouting, steps: [{ setWeight: 30 }, { pause: {} }] };
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web', uid: `uid-${ns}-web`, finalizers: [TRAFFIC_ROUTING_FINALIZER], annotations: { [APPLIED_ROUTING_ANNOTATION]: JSON.stringify(appliedRoutingOf(canary)) }, ...extra },
    spec: { strategy: { canary } },
    status: { stableRS: 's1' },
  } as KubeObject;
}

/** What a controller leaves in a namespace: the Rollout, its objects marked, and 30% written (with a header route for Istio). */
async function routedAt30(cluster: FakeCluster, ns: string, trafficRouting: Record<string, unknown>, withRollout = true): Promise<void> {
  if (trafficRouting.istio) cluster.seed(vsRef(ns), virtualService());
  else cluster.seed(routeRef(ns), httpRoute());
  const ro = rollout(ns, trafficRouting);
  if (withRollout) cluster.seed(rolloutRef(ns), ro);
  const applied = appliedRoutingOf((ro.spec as { strategy: { canary: Record<string, unknown> } }).strategy.canary)!;
  await markRoutingObjects(cluster.client, { namespace: ns, name: 'web', uid: ro.metadata.uid! }, applied);
  const router = createRouter({ client: cluster.client, namespace: ns, rollout: { name: 'web', uid: ro.metadata.uid!, apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' }, trafficRouting, log: () => {} });
  const headerRoutes = trafficRouting.istio ? [{ name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] }] : [];
  await router.reconcile({ weight: ratioFromPercent(30), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's1', canaryHash: 'c1', headerRoutes, mirrorRoutes: [] });
}

const userContent = (o: KubeObject | undefined): unknown => o && { labels: o.metadata.labels, annotations: o.metadata.annotations, spec: (o as { spec?: unknown }).spec };
const vsWeights = async (cluster: FakeCluster, ns: string): Promise<number[]> => {
  const vs = (await cluster.getOptional(vsRef(ns))) as unknown as { spec: { http: { name: string; route: { weight?: number }[] }[] } };
  return vs.spec.http.find((r) => r.name === 'primary')!.route.map((d) => d.weight ?? 0);
};

function run(cluster: FakeCluster, options: Partial<UninstallOptions> = {}): Promise<{ lines: string[]; released: number; failed: number }> {
  const lines: string[] = [];
  return uninstall(cluster.client, { namespace: undefined, dryRun: false, force: false, out: (l) => lines.push(l), ...options }).then((r) => ({ lines, ...r }));
}

void describe('rollway uninstall', () => {
  void it('-A: every Rollout of every namespace back to 100% stable, the user\'s content unchanged, finalizers and marks gone', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    await routedAt30(cluster, 'blog', GATEWAY);
    assert.deepEqual(await vsWeights(cluster, 'shop'), [70, 30]);
    const { lines, released, failed } = await run(cluster);
    assert.deepEqual({ released, failed }, { released: 2, failed: 0 });
    assert.deepEqual(userContent(await cluster.getOptional(vsRef('shop'))), userContent(virtualService()));
    assert.deepEqual(userContent(await cluster.getOptional(routeRef('blog'))), userContent(httpRoute()));
    for (const ns of ['shop', 'blog']) {
      const ro = await cluster.getOptional(rolloutRef(ns));
      assert.equal(ro?.metadata.finalizers, undefined);
      assert.equal(ro?.metadata.annotations?.[APPLIED_ROUTING_ANNOTATION], undefined);
    }
    assert.match(lines.join('\n'), /^blog\/web: gatewayAPI: HTTPRoute web set back to 100% stable/m);
    assert.match(lines.join('\n'), /^shop\/web: istio: VirtualService web set back to 100% stable/m);
    assert.match(lines.join('\n'), /^shop\/web: finalizer rollway\.dev\/traffic-routing removed$/m);
  });

  void it('-n touches only that namespace', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    await routedAt30(cluster, 'blog', GATEWAY);
    await run(cluster, { namespace: 'shop' });
    assert.deepEqual(await vsWeights(cluster, 'shop'), [100, 0]);
    const route = (await cluster.getOptional(routeRef('blog'))) as unknown as { spec: { rules: { backendRefs: { weight: number }[] }[] } };
    assert.deepEqual(route.spec.rules[0]!.backendRefs.map((b) => b.weight), [70, 30]);
    assert.deepEqual((await cluster.getOptional(rolloutRef('blog')))?.metadata.finalizers, [TRAFFIC_ROUTING_FINALIZER]);
  });

  void it('a Rollout whose deletion waits on the finalizer is gone afterwards', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    await cluster.patch(rolloutRef('shop'), 'merge', { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } });
    await run(cluster, { namespace: 'shop' });
    assert.equal(await cluster.getOptional(rolloutRef('shop')), undefined);
    assert.deepEqual(await vsWeights(cluster, 'shop'), [100, 0]);
  });

  void it('refuses while a controller holds a live Lease (nothing written), goes on with --force; an expired Lease does not count', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    const now = Date.parse('2026-05-01T12:00:00Z');
    const lease = (renewed: number): KubeObject => ({ metadata: { name: 'rollway-controller' }, spec: { holderIdentity: 'pod-a', renewTime: new Date(renewed).toISOString(), leaseDurationSeconds: 15 } }) as KubeObject;
    cluster.seed(leaseRef('rollway'), lease(now - 5_000));
    const writes = cluster.writes;
    await assert.rejects(run(cluster, { now: () => now }), (err: unknown) => err instanceof ActionError && /controller still runs \(Lease rollway\/rollway-controller \(held by pod-a\)\).*--force/.test(err.message));
    assert.equal(cluster.writes, writes);
    assert.deepEqual(await vsWeights(cluster, 'shop'), [70, 30]);

    const forced = await run(cluster, { now: () => now, force: true });
    assert.match(forced.lines[0]!, /^warning: a Rollway controller still runs/);
    assert.deepEqual(await vsWeights(cluster, 'shop'), [100, 0]);

    // The controller of other Rollouts (another instance id) does not hold these back.
    const other = (await run(cluster, { now: () => now, namespace: 'shop' }).catch((err: Error) => err)) as Error;
    assert.match(other.message, /controller still runs/);
    await cluster.patch(rolloutRef('shop'), 'merge', { metadata: { labels: { 'rollway.dev/controller-instance-id': 'blue' } } });
    assert.equal((await run(cluster, { now: () => now, namespace: 'shop' })).failed, 0);

    cluster.seed(leaseRef('rollway'), lease(now - 60_000));
    await routedAt30(cluster, 'blog', GATEWAY);
    assert.equal((await run(cluster, { now: () => now })).released, 1);
  });

  void it('--instance-id: only the Rollouts of that controller instance (\'\': those without one)', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    await routedAt30(cluster, 'blog', GATEWAY);
    await cluster.patch(rolloutRef('blog'), 'merge', { metadata: { labels: { 'rollway.dev/controller-instance-id': 'blue' } } });
    assert.equal((await run(cluster, { instanceId: 'blue' })).released, 1);
    assert.deepEqual(await vsWeights(cluster, 'shop'), [70, 30]);
    assert.equal((await cluster.getOptional(rolloutRef('blog')))?.metadata.finalizers, undefined);
    assert.equal((await run(cluster, { instanceId: '' })).released, 1);
    assert.deepEqual(await vsWeights(cluster, 'shop'), [100, 0]);
  });

  void it('--stop-controller scales the controller to 0 and goes on once its Lease is given up; refuses if it never is', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    const deployment: ResourceRef = { group: 'apps', version: 'v1', plural: 'deployments', namespace: 'rollway', name: 'rollway-controller' };
    cluster.seed(deployment, { metadata: { name: 'rollway-controller' }, spec: { replicas: 2 } } as KubeObject);
    const now = Date.now();
    cluster.seed(leaseRef('rollway'), { metadata: { name: 'rollway-controller' }, spec: { holderIdentity: 'pod-a', renewTime: new Date(now).toISOString(), leaseDurationSeconds: 15 } } as KubeObject);
    const stop = { namespace: 'rollway', name: 'rollway-controller', timeoutMs: 50 };
    await assert.rejects(run(cluster, { stopController: stop, sleep: () => Promise.resolve() }), /controller still runs/);
    assert.deepEqual((await cluster.getOptional(deployment) as { spec?: unknown } | undefined)?.spec, { replicas: 0 });
    assert.deepEqual(await vsWeights(cluster, 'shop'), [70, 30]);

    // A controller that goes on SIGTERM gives its Lease up (as controller/leader.ts release does).
    cluster.afterPatch = (ref) => {
      if (ref.plural === 'deployments') void cluster.patch(leaseRef('rollway'), 'merge', { spec: { holderIdentity: '' } });
    };
    const { lines } = await run(cluster, { stopController: stop, sleep: () => Promise.resolve() });
    assert.equal(lines[0], 'Deployment rollway/rollway-controller scaled to 0');
    assert.deepEqual(await vsWeights(cluster, 'shop'), [100, 0]);
  });

  void it('--dry-run writes nothing and says what it would do', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    const writes = cluster.writes;
    const { lines } = await run(cluster, { dryRun: true });
    assert.equal(cluster.writes, writes);
    assert.deepEqual(lines, ['shop/web: would do: VirtualService web set back to 100% stable (our routes, subset labels and marks removed); finalizer rollway.dev/traffic-routing removed']);
  });

  void it('releases routing left by a Rollout that is already gone, which doctor reports before and not after', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO, false);
    const before = await doctor(cluster.client, 'shop');
    assert.equal(before.length, 1);
    assert.match(before[0]!.message, /traffic routing of Rollout shop\/web \(uid uid-shop-web\) is still applied, but that Rollout no longer exists/);
    const { lines } = await run(cluster, { namespace: 'shop' });
    assert.match(lines.join('\n'), /shop\/web \(deleted, uid uid-shop-web\): istio: VirtualService shop\/web set back to 100% stable/);
    assert.deepEqual(userContent(await cluster.getOptional(vsRef('shop'))), userContent(virtualService()));
    assert.deepEqual(await doctor(cluster.client, 'shop'), []);
  });

  void it('a routing kind it may not list (RBAC) is skipped when looking for routing of deleted Rollouts, not an error', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO, false);
    cluster.forbidden.add('gateway.networking.k8s.io/httproutes');
    assert.equal((await doctor(cluster.client, 'shop')).length, 1);
    cluster.forbidden.add('networking.istio.io/virtualservices');
    cluster.forbidden.add('networking.istio.io/destinationrules');
    assert.deepEqual(await doctor(cluster.client, 'shop'), []);
  });

  void it('doctor reports a deletion stuck on the finalizer only when no controller runs', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    await cluster.patch(rolloutRef('shop'), 'merge', { metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } });
    const now = Date.parse('2026-05-01T12:00:00Z');
    const [finding] = await doctor(cluster.client, undefined, now);
    assert.match(finding!.message, /being deleted since 2026-01-01T00:00:00Z, held by finalizer rollway\.dev\/traffic-routing/);
    cluster.seed(leaseRef('kube-system'), { metadata: { name: 'rollway-controller' }, spec: { holderIdentity: 'pod-a', renewTime: new Date(now).toISOString(), leaseDurationSeconds: 15 } } as KubeObject);
    assert.deepEqual(await doctor(cluster.client, undefined, now), []);
  });
});

void describe('leaseIsLive', () => {
  const now = Date.parse('2026-05-01T12:00:00Z');
  const lease = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'rollway-controller' }, spec }) as KubeObject;
  void it('is live when held and renewed within its duration', () => {
    assert.equal(leaseIsLive(lease({ holderIdentity: 'a', renewTime: '2026-05-01T11:59:50.000000Z', leaseDurationSeconds: 15 }), now), true);
  });
  void it('is not live once expired, released (no holder) or never renewed', () => {
    assert.equal(leaseIsLive(lease({ holderIdentity: 'a', renewTime: '2026-05-01T11:59:40.000000Z', leaseDurationSeconds: 15 }), now), false);
    assert.equal(leaseIsLive(lease({ holderIdentity: '', renewTime: '2026-05-01T11:59:59.000000Z', leaseDurationSeconds: 15 }), now), false);
    assert.equal(leaseIsLive(lease({ holderIdentity: 'a' }), now), false);
  });
});

void describe('routing marks', () => {
  void it('the controller\'s mark sits on the object while routed and is gone after uninstall', async () => {
    const cluster = new FakeCluster();
    await routedAt30(cluster, 'shop', ISTIO);
    const marked = await cluster.getOptional(vsRef('shop'));
    assert.deepEqual(Object.keys(JSON.parse(marked!.metadata.annotations![ROUTED_BY_ANNOTATION]!) as object), ['shop/web']);
    await run(cluster);
    assert.equal((await cluster.getOptional(vsRef('shop')))!.metadata.annotations?.[ROUTED_BY_ANNOTATION], undefined);
  });
});
