// A clean shutdown hands over at once: SIGTERM makes the leader finish the reconcile in flight and
// release its Lease, and the standby (watching the Lease) takes over in well under the lease
// duration it would otherwise wait out. Prints the measured hand-over time (README quotes it).
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { rollway, scenario, sleep, startController, type ControllerProcess } from './harness.ts';

type Lease = KubeObject & { spec: { holderIdentity?: string } };

scenario('SIGTERM of the leader: it finishes, releases the Lease, and the standby leads in under 2 s (lease 15 s)', async ({ cluster, ns, given, when, then }) => {
  const leaseRef: ResourceRef = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: ns, name: 'rollway-controller' };
  const ro: ResourceRef = { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name: 'web' };
  const args = ['--lease-duration=15s'];
  let leader: ControllerProcess | undefined;
  let standby: ControllerProcess | undefined;
  let leaderIdentity = '';
  try {
    await given('a leader and a standby with a 15 s lease, and a Rollout paused mid-update', async () => {
      leader = startController(ns, args);
      const lease = await cluster.waitFor<Lease>(leaseRef, (l) => (l?.spec.holderIdentity ?? '') !== '', { what: 'the first controller leading' });
      leaderIdentity = lease!.spec.holderIdentity!;
      standby = startController(ns, args);
      await cluster.apply(
        {
          apiVersion: 'rollway.dev/v1alpha1',
          kind: 'Rollout',
          metadata: { name: 'web' },
          spec: {
            replicas: 4,
            selector: { matchLabels: { app: 'web' } },
            template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'example.com/web:1' }] } },
            strategy: { canary: { scaleDownDelaySeconds: 0, steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 75 }, { pause: {} }] } },
          },
        } as KubeObject,
        ns,
      );
      await cluster.waitFor<RolloutObject>(ro, (r) => r?.status?.phase === 'Healthy', { what: 'Healthy after create' });
      rollway('-n', ns, 'set', 'image', 'web', 'app=example.com/web:2');
      await cluster.waitFor<RolloutObject>(ro, (r) => r?.status?.phase === 'Paused' && r.status.currentStepIndex === 1, { what: 'paused at step 1' });
    });

    let handoverMs = 0;
    await when('the leader gets SIGTERM', async () => {
      const started = performance.now();
      const exited = leader!.kill('SIGTERM');
      await cluster.waitFor<Lease>(leaseRef, (l) => !['', leaderIdentity].includes(l?.spec.holderIdentity ?? ''), { what: 'the standby holding the Lease', intervalMs: 10, timeoutMs: 20_000 });
      handoverMs = performance.now() - started;
      await exited;
      console.log(`hand-over after SIGTERM of the leader: ${Math.round(handoverMs)} ms (lease duration 15 s)`);
    });
    await then('the old leader logged a clean stop and the hand-over took under 2 s', () => {
      assert.match(leader!.logs(), /stopping signal=SIGTERM/);
      assert.ok(handoverMs < 2000, `hand-over took ${Math.round(handoverMs)} ms`);
    });
    await then('the new leader carries the Rollout on from where it was', async () => {
      for (let i = 0; i < 50 && !standby!.logs().includes('became leader'); i++) await sleep(100);
      rollway('-n', ns, 'promote', 'web');
      await cluster.waitFor<RolloutObject>(ro, (r) => r?.status?.phase === 'Paused' && r.status.currentStepIndex === 3, { what: 'paused at step 3 under the new leader' });
    });
  } finally {
    await standby?.kill();
    await leader?.kill();
  }
});
