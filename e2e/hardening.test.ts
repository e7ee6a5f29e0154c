// Hardening on the real control plane: traffic follows the canary's pods the moment they stop
// serving, a timed pause lasts its full length from when its weight is in place, and a pod
// template the API server rejects becomes InvalidSpec instead of a silent retry loop.
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject, ResourceRef, WatchEvent } from '../kube/client.ts';
import type { VirtualService } from '../routers/istio/render.ts';
import { expectEvent } from './analysis-fixtures.ts';
import { rollway, scenario, startController, type Cluster } from './harness.ts';
import { APP, CANARY, pausedAt, removeRollout, rollout, rolloutRef, services, STABLE, waitForWeights, type RouterUnderTest } from './routers-support.ts';

const vsRef = (ns: string): ResourceRef => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns, name: 'web' });
const podsRef = (ns: string): ResourceRef => ({ group: '', version: 'v1', plural: 'pods', namespace: ns });

const istio: RouterUnderTest = {
  trafficRouting: { istio: { virtualService: { name: 'web', routes: ['primary'] } } },
  async setup(cluster, ns) {
    await cluster.apply(
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'web' },
        spec: {
          hosts: ['web.example.com'],
          http: [{ name: 'primary', route: [{ destination: { host: STABLE }, weight: 100 }, { destination: { host: CANARY }, weight: 0 }] }],
        },
      },
      ns,
    );
  },
  async weights(cluster, ns) {
    const route = (await cluster.get<VirtualService>(vsRef(ns)))?.spec?.http?.find((r) => r.name === 'primary')?.route ?? [];
    const canary = route.find((d) => d.destination.host === CANARY)?.weight;
    const stable = route.find((d) => d.destination.host === STABLE)?.weight;
    return canary === undefined || stable === undefined ? [] : [{ canary, stable }];
  },
  leftovers: async () => [],
};

/** The canary share (percent) a VirtualService gives. */
function canaryPercent(vs: VirtualService): number {
  const route = vs.spec?.http?.find((r) => r.name === 'primary')?.route ?? [];
  const canary = route.find((d) => d.destination.host === CANARY)?.weight ?? 0;
  const total = route.reduce((sum, d) => sum + (d.weight ?? 0), 0);
  return total === 0 ? 0 : (canary / total) * 100;
}

type Recorded = { rv: bigint; at: number; kind: 'pod' | 'vs'; type: string; object: KubeObject };

/** Records every watch event of the namespace's pods and VirtualService, with the time it arrived. */
function record(cluster: Cluster, ns: string, signal: AbortSignal): Recorded[] {
  const seen: Recorded[] = [];
  const watch = (ref: ResourceRef, kind: Recorded['kind']): void => {
    void cluster.client
      .watch(ref, {}, (event: WatchEvent<KubeObject>) => {
        if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
        seen.push({ rv: BigInt(event.object.metadata.resourceVersion ?? '0'), at: Date.now(), kind, type: event.type, object: event.object });
      }, { signal })
      .catch(() => {});
  };
  watch(podsRef(ns), 'pod');
  watch({ ...vsRef(ns), name: undefined }, 'vs');
  return seen;
}

const serving = (pod: KubeObject & { status?: { conditions?: { type: string; status: string }[] } }): boolean =>
  !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

scenario('traffic follows the canary pods: when every canary pod goes away at 50%, no moment routes more than the ready pods can serve', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const watching = new AbortController();
  let canaryHash = '';
  let events: Recorded[] = [];
  try {
    await given('a Rollout of 4 replicas paused at 50% through Istio, 2 ready canary pods', async () => {
      await cluster.apply(services(), ns);
      await istio.setup(cluster, ns);
      await cluster.apply(rollout(istio.trafficRouting, [{ setWeight: 50 }, { pause: {} }], 4), ns);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy' });
      rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`);
      const paused = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'paused at 50%' });
      canaryHash = paused?.status?.currentPodHash ?? '';
      await waitForWeights(istio, cluster, ns, 50);
    });
    await when('all canary pods are deleted at once', async () => {
      events = record(cluster, ns, watching.signal);
      await new Promise((resolve) => setTimeout(resolve, 300)); // both watches are open
      await cluster.client.request('DELETE', `/api/v1/namespaces/${ns}/pods`, { query: { labelSelector: `rollouts-pod-template-hash=${canaryHash}` } });
    });
    await then('the weight leaves the canary, and comes back once new canary pods are ready', async () => {
      await waitForWeights(istio, cluster, ns, 0, 10_000);
      await waitForWeights(istio, cluster, ns, 50, 20_000);
    });
    await then('replayed in resourceVersion order, no weight is written above what ready canary pods can serve once they are down', () => {
      watching.abort();
      const ordered = [...events].sort((a, b) => (a.rv < b.rv ? -1 : a.rv > b.rv ? 1 : 0));
      // The servable share (ready canary pods of 4) after each event, and how often it went down.
      const ready = new Map<string, boolean>();
      const servableAt: number[] = [];
      let drops = 0;
      for (const e of ordered) {
        const before = [...ready.values()].filter(Boolean).length;
        if (e.kind === 'pod' && e.object.metadata.labels?.['rollouts-pod-template-hash'] === canaryHash) {
          ready.set(e.object.metadata.name ?? '', e.type !== 'DELETED' && serving(e.object));
        }
        const after = [...ready.values()].filter(Boolean).length;
        if (after < before) drops++;
        servableAt.push((after / 4) * 100);
      }
      // A write planned from pod states a moment old (a second pod went down while the first
      // one's reconcile was writing) may still trail the pods, but only ever on its way down:
      // no write raises or keeps the weight above what the ready pods serve.
      let weight = 50;
      let exposedSince: number | undefined;
      let exposure = 0;
      const violations: string[] = [];
      for (const [i, e] of ordered.entries()) {
        if (e.kind === 'vs') {
          const next = canaryPercent(e.object as VirtualService);
          if (next > servableAt[i]! + 1e-9 && next >= weight) violations.push(`rv ${e.rv}: weight ${next}% with ${servableAt[i]}% servable`);
          weight = next;
        }
        if (weight > servableAt[i]! + 1e-9) exposedSince ??= e.at;
        else if (exposedSince !== undefined) {
          exposure += e.at - exposedSince;
          exposedSince = undefined;
        }
      }
      assert.deepEqual(violations, [], 'weights written above the servable share');
      assert.ok(drops > 0, 'the canary pods were seen going down');
      console.log(`weight above the servable share for ${exposure} ms in all (watch receipt times)`);
    });
  } finally {
    watching.abort();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('a timed pause after a weight lasts its full length from when the weight is in place, for several Rollouts at once', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const names = ['web', 'web2', 'web3', 'web4'];
  const watching = new AbortController();
  const seen: { name: string; at: number; percent: number }[] = [];
  try {
    await given('four Rollouts with setWeight 20, pause 2s, setWeight 40, pause', async () => {
      await cluster.apply(services(), ns);
      for (const name of names) {
        await cluster.apply({ apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name }, spec: { hosts: [`${name}.example.com`], http: [{ name: 'primary', route: [{ destination: { host: STABLE }, weight: 100 }, { destination: { host: CANARY }, weight: 0 }] }] } }, ns);
        const ro = rollout({ istio: { virtualService: { name, routes: ['primary'] } } }, [{ setWeight: 20 }, { pause: { duration: '2s' } }, { setWeight: 40 }, { pause: {} }], 2);
        await cluster.apply({ ...ro, metadata: { name } }, ns);
      }
      for (const name of names) await cluster.waitFor<RolloutObject>(rolloutRef(ns, name), (r) => r?.status?.phase === 'Healthy', { what: `${name} Healthy` });
      void cluster.client
        .watch({ ...vsRef(ns), name: undefined }, {}, (e: WatchEvent<KubeObject>) => {
          if (e.type === 'MODIFIED' || e.type === 'ADDED') seen.push({ name: e.object.metadata.name ?? '', at: Date.now(), percent: canaryPercent(e.object as VirtualService) });
        }, { signal: watching.signal })
        .catch(() => {});
    });
    await when('all four are updated at once', async () => {
      // Patched from here, not through the CLI: a synchronous child process would stall this
      // process's event loop, and with it the receipt times of the watch.
      const image = [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'example.com/web:green' }];
      await Promise.all(names.map((name) => cluster.patch(rolloutRef(ns, name), image, 'json')));
    });
    await then('each stays at 20% for at least the 2 s of its pause', async () => {
      for (const name of names) await cluster.waitFor<RolloutObject>(rolloutRef(ns, name), pausedAt(3), { what: `${name} paused at 40%` });
      watching.abort();
      const gaps: string[] = [];
      for (const name of names) {
        const mine = seen.filter((s) => s.name === name);
        const at20 = mine.find((s) => Math.round(s.percent) === 20)?.at;
        const at40 = mine.find((s) => Math.round(s.percent) === 40)?.at;
        assert.ok(at20 !== undefined && at40 !== undefined, `${name}: both weights seen (${JSON.stringify(mine)}; ${seen.length} events in all)`);
        // Both times are when this watcher received the change; their delivery delays cancel out.
        assert.ok(at40 - at20 >= 1990, `${name}: 20% was in place only ${at40 - at20} ms of a 2 s pause`);
        gaps.push(`${name} ${at40 - at20} ms`);
      }
      console.log(`20% in place (watch receipt times): ${gaps.join(', ')}`);
    });
  } finally {
    watching.abort();
    for (const name of names) await cluster.delete(rolloutRef(ns, name));
    await controller.kill();
  }
});

scenario('a pod template the API server rejects is InvalidSpec with its message and a Warning Event, and fixing it recovers', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const badName = '<img src=x onerror=alert(1)>';
  try {
    await given('a Rollout whose container name is not a valid DNS label', async () => {
      const ro = rollout({}, [{ setWeight: 50 }, { pause: {} }], 2) as KubeObject & { spec: { strategy: { canary: Record<string, unknown> }; template: { spec: { containers: { name: string }[] } } } };
      delete ro.spec.strategy.canary.trafficRouting;
      ro.spec.template.spec.containers[0]!.name = badName;
      await cluster.apply(services(), ns);
      await cluster.apply(ro, ns);
    });
    await then('the Rollout is Degraded with InvalidSpec naming the field and the API server\'s reason, for its current generation', async () => {
      const r = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (x) => x?.status?.phase === 'Degraded', { what: 'Rollout Degraded' });
      const invalid = r?.status?.conditions?.find((c) => c.type === 'InvalidSpec');
      assert.equal(invalid?.status, 'True');
      assert.match(invalid?.message ?? '', /spec\.template\.spec\.containers\[0\]\.name/);
      assert.match(invalid?.message ?? '', /rejected ReplicaSet/);
      assert.equal(r?.status?.observedGeneration, String(r?.metadata.generation));
      // Events are written after the reconcile: the status comes first.
      await expectEvent(cluster, ns, { kind: 'Rollout', name: APP }, 'InvalidSpec', [/containers\[0\]\.name/]);
      assert.ok(!controller.logs().includes('reconcile failed'), 'not a retry loop of failed reconciles');
    });
    await when('the container name is corrected', () => cluster.patch(rolloutRef(ns), [{ op: 'replace', path: '/spec/template/spec/containers/0/name', value: APP }], 'json'));
    await then('the Rollout becomes Healthy and the condition goes', async () => {
      const r = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (x) => x?.status?.phase === 'Healthy', { what: 'Rollout Healthy' });
      assert.equal(r?.status?.conditions?.find((c) => c.type === 'InvalidSpec')?.status ?? 'False', 'False');
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});
