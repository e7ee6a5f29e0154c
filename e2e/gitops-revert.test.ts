// GitOps: another writer (a second field manager, as Argo CD or Flux would be) puts a managed
// weight back to its own value while the Rollout sits in a pause. The controller sees the change
// through its watch on routing objects and restores the weight at once; the other writer's
// change to a field we do not manage stays.
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject } from '../kube/client.ts';
import { scenario, sleep, startController } from './harness.ts';
import { pausedAt, rollout, rolloutRef, rollway, services, CANARY, STABLE } from './routers-support.ts';

type Route = { name?: string; route: { destination: { host: string }; weight?: number }[]; timeout?: string };
type VirtualService = KubeObject & { spec: { hosts: string[]; http: Route[] } };

scenario('a weight reverted by another field manager during a pause is restored at once, its other change kept', async ({ cluster, ns, given, when, then, t }) => {
  const vsRef = await cluster.ref('networking.istio.io/v1', 'VirtualService', 'web', ns);
  const controller = startController(ns);
  try {
    await given('an Istio canary paused at 20%', async () => {
      await cluster.apply(services(), ns);
      await cluster.apply(
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'web' },
          spec: { hosts: ['web'], http: [{ name: 'primary', route: [{ destination: { host: STABLE }, weight: 100 }, { destination: { host: CANARY }, weight: 0 }] }] },
        },
        ns,
      );
      await cluster.apply(rollout({ istio: { virtualService: { name: 'web', routes: ['primary'] } } }, [{ setWeight: 20 }, { pause: {} }], 4), ns);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Healthy' });
      rollway('-n', ns, 'set', 'image', 'web', 'web=example.com/web:green');
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'paused at step 1' });
      const vs = await cluster.get<VirtualService>(vsRef);
      assert.deepEqual(vs!.spec.http[0]!.route.map((r) => r.weight), [80, 20]);
    });
    let revertedAt = 0;
    await when('a GitOps tool re-applies its manifest: weights 100/0 and a new route timeout', async () => {
      const vs = await cluster.get<VirtualService>(vsRef);
      const http = structuredClone(vs!.spec.http);
      http[0]!.route[0]!.weight = 100;
      http[0]!.route[1]!.weight = 0;
      http[0]!.timeout = '7s';
      revertedAt = Date.now();
      await cluster.client.patch(vsRef, 'merge', { spec: { http } }, { fieldManager: 'argocd-controller' });
    });
    await then('the weight is back to 80/20 within a few seconds, and the timeout stays', async () => {
      let restoredAt = 0;
      let vs: VirtualService | undefined;
      for (let i = 0; i < 100; i++) {
        vs = await cluster.get<VirtualService>(vsRef);
        if (vs?.spec.http[0]!.route[1]!.weight === 20) {
          restoredAt = Date.now();
          break;
        }
        await sleep(50);
      }
      assert.ok(restoredAt > 0, `weights not restored: ${JSON.stringify(vs?.spec.http)}`);
      assert.equal(vs!.spec.http[0]!.timeout, '7s', "the other writer's field is kept");
      assert.ok(restoredAt - revertedAt < 5000, `restored after ${restoredAt - revertedAt} ms`);
      t.diagnostic(`weight restored ${restoredAt - revertedAt} ms after the revert (polled every 50 ms)`);
      const ro = await cluster.get<RolloutObject>(rolloutRef(ns));
      assert.equal(ro?.status?.currentStepIndex, 1, 'still paused at the same step');
    });
  } finally {
    await controller.kill();
  }
});
