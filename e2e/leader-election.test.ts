// Two controller replicas: only the Lease holder writes; when it dies, the other takes over.
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject } from '../kube/client.ts';
import { scenario, sleep, startController } from './harness.ts';

const rolloutYaml = (image: string): string => `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "${image}"}]}
  strategy: {canary: {steps: [{setWeight: 50}, {pause: {duration: 1}}]}}
`;

scenario('leader election: one writer at a time, and a standby takes over when the leader is killed', async ({ cluster, ns, given, when, then }) => {
  const first = startController(ns);
  let second: ReturnType<typeof startController> | undefined;
  const ro = { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name: 'web' };
  try {
    await given('two controllers for the same namespace, the first one leading', async () => {
      for (let i = 0; i < 50 && !first.logs().includes('became leader'); i++) await sleep(100);
      assert.match(first.logs(), /became leader/);
      second = startController(ns);
      await cluster.apply(rolloutYaml('web:1'), ns);
      await cluster.waitFor<RolloutObject>(ro, (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy' });
    });
    await then('the standby holds no lease and reconciles nothing', () => {
      assert.doesNotMatch(second!.logs(), /became leader|Created ReplicaSet/);
      assert.match(first.logs(), /Created ReplicaSet/);
    });
    await when('the leader is killed with SIGKILL and the Rollout is updated', async () => {
      await first.kill('SIGKILL');
      await cluster.patch(ro, { spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:2' }] } } } });
    });
    await then('the standby takes the Lease and completes the update', async () => {
      const done = await cluster.waitFor<RolloutObject>(ro, (r) => r?.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash && r.metadata.generation === 2 && r.status.observedGeneration === '2', {
        what: 'the update completed by the new leader',
        timeoutMs: 30_000,
      });
      assert.ok(done);
      assert.match(second!.logs(), /became leader/);
      const lease = await cluster.get<KubeObject & { spec: { holderIdentity?: string; leaseTransitions?: number } }>({
        group: 'coordination.k8s.io',
        version: 'v1',
        plural: 'leases',
        namespace: ns,
        name: 'rollway-controller',
      });
      assert.equal(lease?.spec.leaseTransitions, 1);
    });
  } finally {
    await first.kill();
    await second?.kill();
  }
});

scenario('a SIGTERM is a clean stop: the leader gives the Lease up, and a standby waiting for it exits without an error', async ({ cluster, ns, given, when, then }) => {
  const leader = startController(ns);
  let standby: ReturnType<typeof startController> | undefined;
  const lease = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: ns, name: 'rollway-controller' };
  try {
    await given('a leader and a standby that waits for the Lease', async () => {
      for (let i = 0; i < 50 && !leader.logs().includes('became leader'); i++) await sleep(100);
      assert.match(leader.logs(), /became leader/);
      standby = startController(ns);
      for (let i = 0; i < 50 && !standby.logs().includes('starting'); i++) await sleep(100);
      assert.match(standby.logs(), /starting/);
    });
    await when('the standby gets a SIGTERM while it waits', () => standby!.kill('SIGTERM'));
    await then('it exits 0 and logs no error', () => {
      assert.doesNotMatch(standby!.logs(), /became leader/);
      assert.deepEqual(standby!.ended(), { code: 0, signal: null }, standby!.logs());
      assert.doesNotMatch(standby!.logs(), /error/i);
    });
    await when('the leader gets a SIGTERM', () => leader.kill('SIGTERM'));
    await then('it exits 0 and the Lease has no holder: a successor need not wait it out', async () => {
      assert.deepEqual(leader.ended(), { code: 0, signal: null }, leader.logs());
      const released = await cluster.get<KubeObject & { spec: { holderIdentity?: string } }>(lease);
      assert.equal(released?.spec.holderIdentity ?? '', '');
    });
  } finally {
    await leader.kill();
    await standby?.kill();
  }
});
