// What the router e2e files (e2e/routers-*.test.ts) share: the 10-replica Rollout stepping through
// 1, 5, 20 and 50 percent with manual gates, promoted to the end and then aborted on a second
// update, with the routing object's exact weights and the canary pod count asserted at each step;
// and the header-route scenario (header route on, a 0.5% step, header route off).
import assert from 'node:assert/strict';
import type { RolloutObject } from '../api/views.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { ratioFromPercent } from '../routers/types.ts';
import { rollway, sleep, startController, type Cluster, type ScenarioContext } from './harness.ts';

export const STABLE = 'web-stable';
export const CANARY = 'web-canary';
export const APP = 'web';

export type Weights = { canary: number; stable: number };

export interface RouterUnderTest {
  trafficRouting: Record<string, unknown>;
  /** creates the routing objects the Rollout refers to */
  setup(cluster: Cluster, ns: string): Promise<void>;
  /** the weights each routing object carries now */
  weights(cluster: Cluster, ns: string): Promise<Weights[]>;
  /** whether the header route is in place (routers that have header routes) */
  headerRoute?(cluster: Cluster, ns: string): Promise<boolean>;
  /** after the Rollout is deleted: what of ours is still there (should be nothing) */
  leftovers(cluster: Cluster, ns: string): Promise<string[]>;
  /** extra `rollway controller` flags, e.g. --router-plugin for a third-party router */
  controllerArgs?: string[];
  /** runs beside the controller, e.g. a gateway controller writing route status; stops with the scenario */
  dataPlane?(cluster: Cluster, ns: string, signal: AbortSignal): Promise<void>;
}

export const rolloutRef = (ns: string, name = APP): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const rsRef = (ns: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns });
const svcRef = (ns: string, name: string): ResourceRef => ({ group: '', version: 'v1', plural: 'services', namespace: ns, name });

type ReplicaSet = KubeObject & { spec: { replicas: number }; status?: { availableReplicas?: number } };

export { rollway } from './harness.ts';

export function services(): KubeObject[] {
  return [STABLE, CANARY].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: APP }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } }));
}

export const STEPS_1_5_20_50 = [{ setWeight: 1 }, { pause: {} }, { setWeight: 5 }, { pause: {} }, { setWeight: 20 }, { pause: {} }, { setWeight: 50 }, { pause: {} }];

export function rollout(trafficRouting: Record<string, unknown>, steps: Record<string, unknown>[], replicas = 10): KubeObject {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: APP },
    spec: {
      replicas,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: APP } },
      template: { metadata: { labels: { app: APP } }, spec: { containers: [{ name: APP, image: 'example.com/web:blue', ports: [{ name: 'http', containerPort: 8080 }] }] } },
      strategy: { canary: { stableService: STABLE, canaryService: CANARY, scaleDownDelaySeconds: 0, abortScaleDownDelaySeconds: 1, trafficRouting, steps } },
    },
  };
}

export const expectedWeights = (percent: number): Weights => {
  if (percent === 0) return { canary: 0, stable: 100 };
  const ratio = ratioFromPercent(percent);
  return { canary: ratio.canary, stable: ratio.total - ratio.canary };
};

const settled = (r: RolloutObject | undefined): boolean => r !== undefined && r.status?.observedGeneration === String(r.metadata.generation);
export const pausedAt = (index: number) => (r: RolloutObject | undefined): boolean => settled(r) && r!.status?.phase === 'Paused' && r!.status.currentStepIndex === index;
export const healthyOn = (predicate: (r: RolloutObject) => boolean = () => true) => (r: RolloutObject | undefined): boolean => settled(r) && r!.status?.phase === 'Healthy' && predicate(r!);

/** Waits until every routing object carries exactly `percent` (as the routers write it). */
export async function waitForWeights(router: RouterUnderTest, cluster: Cluster, ns: string, percent: number, timeoutMs = 15_000): Promise<void> {
  const want = expectedWeights(percent);
  const deadline = Date.now() + timeoutMs;
  let last: Weights[] = [];
  while (Date.now() < deadline) {
    last = await router.weights(cluster, ns);
    if (last.length > 0 && last.every((w) => w.canary === want.canary && w.stable === want.stable)) return;
    await sleep(100);
  }
  assert.fail(`routing objects should carry ${percent}% as ${JSON.stringify(want)}, last read ${JSON.stringify(last)}`);
}

/** Spec and available replicas of the ReplicaSet of a pod-template hash. */
async function replicaSetOf(cluster: Cluster, ns: string, hash: string): Promise<{ spec: number; available: number }> {
  const rs = (await cluster.list<ReplicaSet>(rsRef(ns))).find((r) => r.metadata.labels?.['rollouts-pod-template-hash'] === hash);
  return { spec: rs?.spec.replicas ?? 0, available: rs?.status?.availableReplicas ?? 0 };
}

export async function waitForReplicas(cluster: Cluster, ns: string, hash: string, replicas: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  let last = { spec: -1, available: -1 };
  while (Date.now() < deadline) {
    last = await replicaSetOf(cluster, ns, hash);
    if (last.spec === replicas && last.available === replicas) return;
    await sleep(150);
  }
  assert.fail(`ReplicaSet ${hash} should have ${replicas} available pods, has ${JSON.stringify(last)}`);
}

async function selectorOf(cluster: Cluster, ns: string, service: string): Promise<string | undefined> {
  const svc = await cluster.get<KubeObject & { spec: { selector?: Record<string, string> } }>(svcRef(ns, service));
  return svc?.spec.selector?.['rollouts-pod-template-hash'];
}

/**
 * Cleanup for a scenario that may have failed half-way: deletes the Rollout while the controller
 * still runs (its finalizer releases the routing), and if it is still there after a while, drops
 * the finalizer so the namespace can go.
 */
export async function removeRollout(cluster: Cluster, ns: string): Promise<void> {
  await cluster.delete(rolloutRef(ns));
  try {
    await cluster.waitFor(rolloutRef(ns), (r) => r === undefined, { what: 'Rollout gone', timeoutMs: 10_000 });
  } catch {
    await cluster.patch(rolloutRef(ns), { metadata: { finalizers: null } }).catch(() => {});
  }
}

/** Runs a data plane beside the scenario, if the router needs one. */
function startDataPlane(router: RouterUnderTest, cluster: Cluster, ns: string): () => Promise<void> {
  if (!router.dataPlane) return () => Promise.resolve();
  const stop = new AbortController();
  const running = router.dataPlane(cluster, ns, stop.signal).catch((err: unknown) => {
    if (!stop.signal.aborted) throw err;
  });
  return async () => {
    stop.abort();
    await running;
  };
}

/** Deletes the Rollout with the controller still running, so its finalizer releases the routing. */
async function deleteAndExpectRelease(ctx: ScenarioContext, router: RouterUnderTest): Promise<void> {
  const { cluster, ns, when, then } = ctx;
  await when('the Rollout is deleted', () => cluster.delete(rolloutRef(ns)));
  await then('the routing objects are back to 100% stable and nothing of ours is left', async () => {
    await cluster.waitFor(rolloutRef(ns), (r) => r === undefined, { what: 'Rollout gone (finalizer released)' });
    for (const w of await router.weights(cluster, ns)) assert.deepEqual(w, { canary: 0, stable: 100 });
    const deadline = Date.now() + 15_000;
    let left = await router.leftovers(cluster, ns);
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(200); // objects we created go with the Rollout (garbage collector)
      left = await router.leftovers(cluster, ns);
    }
    assert.deepEqual(left, []);
  });
}

/**
 * Given a 10-replica Rollout stepping 1, 5, 20, 50 percent with a pause after each: the routing
 * objects carry each weight exactly and the canary has ceil(10 × weight) pods; promoted to the
 * end, all traffic goes to the new stable; a second update aborted at its first pause goes back
 * to 100% stable; deleting the Rollout releases the routing objects.
 */
export async function stepsToFiftyScenario(ctx: ScenarioContext, router: RouterUnderTest): Promise<void> {
  const { cluster, ns, given, when, then } = ctx;
  const controller = startController(ns, router.controllerArgs);
  const stopDataPlane = startDataPlane(router, cluster, ns);
  try {
    let blue = '';
    await given('Services, the routing objects and a 10-replica Rollout with the 1/5/20/50 steps', async () => {
      await cluster.apply(services(), ns);
      await router.setup(cluster, ns);
      await cluster.apply(rollout(router.trafficRouting, STEPS_1_5_20_50), ns);
    });
    await then('it is Healthy with 100% of traffic on stable', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn(), { what: 'Rollout Healthy after create' });
      blue = ro!.status!.stableRS!;
      await waitForWeights(router, cluster, ns, 0);
      await waitForReplicas(cluster, ns, blue, 10);
    });

    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    let green = '';
    for (const [index, percent, canaryPods] of [
      [1, 1, 1],
      [3, 5, 1],
      [5, 20, 2],
      [7, 50, 5],
    ] as const) {
      await then(`it pauses at step ${index} with exactly ${percent}% in the routing objects and ${canaryPods} canary pod(s)`, async () => {
        const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(index), { what: `Rollout paused at step ${index}`, timeoutMs: 30_000 });
        green = ro!.status!.currentPodHash!;
        await waitForWeights(router, cluster, ns, percent);
        await waitForReplicas(cluster, ns, green, canaryPods);
        await waitForReplicas(cluster, ns, blue, 10);
        assert.equal(ro!.status?.canary?.weights?.canary.weight, percent);
        assert.equal(await selectorOf(cluster, ns, CANARY), green);
        assert.equal(await selectorOf(cluster, ns, STABLE), blue);
      });
      await when(`it is promoted from step ${index}`, () => rollway('-n', ns, 'promote', APP));
    }
    await then('the new version becomes stable with all traffic and the old pods go', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn((r) => r.status?.stableRS === green && r.status.currentStepIndex === 8), { what: 'Rollout Healthy on green', timeoutMs: 40_000 });
      await waitForWeights(router, cluster, ns, 0); // 0 to canary: both Services on green
      assert.equal(await selectorOf(cluster, ns, STABLE), green);
      assert.equal(await selectorOf(cluster, ns, CANARY), green);
      await waitForReplicas(cluster, ns, green, 10);
      await waitForReplicas(cluster, ns, blue, 0);
    });

    await when('a second update is aborted at its first pause', async () => {
      rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:red`);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'red paused at step 1', timeoutMs: 30_000 });
      await waitForWeights(router, cluster, ns, 1);
      rollway('-n', ns, 'abort', APP);
    });
    await then('all traffic is back on stable at once and the phase is Degraded', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => settled(r) && r!.status?.phase === 'Degraded', { what: 'Rollout Degraded after abort' });
      await waitForWeights(router, cluster, ns, 0);
      assert.equal(await selectorOf(cluster, ns, CANARY), green);
      await waitForReplicas(cluster, ns, ro!.status!.currentPodHash!, 0);
      await waitForReplicas(cluster, ns, green, 10);
    });
    await deleteAndExpectRelease(ctx, router);
  } finally {
    await removeRollout(cluster, ns);
    await stopDataPlane();
    await controller.kill();
  }
}

export const HEADER_STEPS = [
  { setCanaryScale: { replicas: 1 } },
  { setHeaderRoute: { name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] } },
  { pause: {} },
  { setWeight: 0.5 },
  { pause: {} },
  { setHeaderRoute: { name: 'beta' } },
  { pause: {} },
];

/**
 * A header route goes on (before any weight), a 0.5% step is written exactly with the header
 * route still there, then the header route goes off; `extra` checks more at the first pause.
 */
export async function headerRouteScenario(ctx: ScenarioContext, router: RouterUnderTest, extra?: (hashes: { stable: string; canary: string }) => Promise<void>): Promise<void> {
  const { cluster, ns, given, when, then } = ctx;
  const controller = startController(ns);
  const stopDataPlane = startDataPlane(router, cluster, ns);
  try {
    let stable = '';
    await given('a 4-replica Rollout whose steps set a header route, 0.5%, and remove the header route', async () => {
      await cluster.apply(services(), ns);
      await router.setup(cluster, ns);
      await cluster.apply(rollout({ managedRoutes: [{ name: 'beta' }], ...router.trafficRouting }, HEADER_STEPS, 4), ns);
      stable = (await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn(), { what: 'Rollout Healthy after create' }))!.status!.stableRS!;
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    let canary = '';
    await then('the header route is in place, with no weight yet, and one canary pod', async () => {
      canary = (await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(2), { what: 'paused after the header route' }))!.status!.currentPodHash!;
      assert.ok(await router.headerRoute!(cluster, ns), 'header route in place');
      await waitForWeights(router, cluster, ns, 0);
      await waitForReplicas(cluster, ns, canary, 1);
      await extra?.({ stable, canary });
    });
    await when('it is promoted', () => rollway('-n', ns, 'promote', APP));
    await then('0.5% is written exactly, the header route still in place', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(4), { what: 'paused at 0.5%' });
      await waitForWeights(router, cluster, ns, 0.5);
      assert.ok(await router.headerRoute!(cluster, ns), 'header route still in place');
    });
    await when('it is promoted again', () => rollway('-n', ns, 'promote', APP));
    await then('the header route is gone and 0.5% stays', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(6), { what: 'paused after removing the header route' });
      const deadline = Date.now() + 10_000;
      while ((await router.headerRoute!(cluster, ns)) && Date.now() < deadline) await sleep(100);
      assert.equal(await router.headerRoute!(cluster, ns), false, 'header route removed');
      await waitForWeights(router, cluster, ns, 0.5);
    });
    await deleteAndExpectRelease(ctx, router);
  } finally {
    await removeRollout(cluster, ns);
    await stopDataPlane();
    await controller.kill();
  }
}
