// The Rollout controller on the real control plane: the getting-started walkthrough users know
// from Argo Rollouts, a crash in the middle of a rollout, and an invalid Rollout beside a valid one.
import assert from 'node:assert/strict';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import type { RolloutObject } from '../controller/controller.ts';
import { rollway, scenario, startController, type Cluster } from './harness.ts';

const rolloutRef = (ns: string, name: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const rsRef = (ns: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns });
const podRef = (ns: string): ResourceRef => ({ group: '', version: 'v1', plural: 'pods', namespace: ns });

type Pod = KubeObject & { spec: { containers: { image: string }[] }; status?: { conditions?: { type: string; status: string }[] } };
type ReplicaSet = KubeObject & { spec: { replicas: number } };

function rolloutYaml(name: string, steps: string, image = 'argoproj/rollouts-demo:blue'): string {
  return `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: ${name}
spec:
  replicas: 5
  revisionHistoryLimit: 2
  selector:
    matchLabels:
      app: ${name}
  template:
    metadata:
      labels:
        app: ${name}
    spec:
      containers:
      - name: ${name}
        image: ${image}
        ports:
        - {name: http, containerPort: 8080, protocol: TCP}
  strategy:
    canary:
      steps:
${steps}
`;
}

const walkthroughSteps = `
      - setWeight: 20
      - pause: {}
      - setWeight: 40
      - pause: {duration: 10}
      - setWeight: 60
      - pause: {duration: 10}
      - setWeight: 80
      - pause: {duration: 10}`;


/** Ready pods per image, e.g. {'…:blue': 4, '…:yellow': 1}. */
async function readyPodsByImage(cluster: Cluster, ns: string, app: string): Promise<Record<string, number>> {
  const pods = await cluster.list<Pod>(podRef(ns), `app=${app}`);
  const counts: Record<string, number> = {};
  for (const pod of pods) {
    if (pod.metadata.deletionTimestamp) continue;
    if (!pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const image = pod.spec.containers[0]!.image.split(':').at(-1)!;
    counts[image] = (counts[image] ?? 0) + 1;
  }
  return counts;
}

async function waitForPods(cluster: Cluster, ns: string, app: string, expected: Record<string, number>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, number> = {};
  while (Date.now() < deadline) {
    last = await readyPodsByImage(cluster, ns, app);
    const pods = await cluster.list<Pod>(podRef(ns), `app=${app}`);
    if (JSON.stringify(sorted(last)) === JSON.stringify(sorted(expected)) && pods.length === Object.values(expected).reduce((a, b) => a + b, 0)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  assert.fail(`pods of ${app}: expected ${JSON.stringify(expected)}, last observed ready pods ${JSON.stringify(last)}`);
}

/** The step numbers the Events say completed, in order (a step's Events are one, controller/step-event.ts). */
const stepsCompleted = (events: { message?: string; count?: number }[]): string[] =>
  events.flatMap((e) => Array.from({ length: e.count ?? 1 }, () => [...(e.message ?? '').matchAll(/Rollout step (\d+)\/\d+ completed/g)].map((m) => m[1]!)).flat());
const sorted = (o: Record<string, number>): [string, number][] => Object.entries(o).sort(([a], [b]) => a.localeCompare(b));

const phaseIs = (phase: string, extra: (ro: RolloutObject) => boolean = () => true) => (ro: RolloutObject | undefined): boolean =>
  ro?.status?.phase === phase && ro.status.observedGeneration === String(ro.metadata.generation) && extra(ro);

scenario(
  'the getting-started walkthrough: canary with a manual gate, timed pauses, abort and fast rollback',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    const ro = rolloutRef(ns, 'rollouts-demo');
    try {
      await given('a Rollout of 5 replicas with the walkthrough steps', () => cluster.apply(rolloutYaml('rollouts-demo', walkthroughSteps), ns));
      await then('5 blue pods come up, the Rollout is Healthy and no step ran', async () => {
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'Rollout Healthy after create' });
        await waitForPods(cluster, ns, 'rollouts-demo', { blue: 5 });
        const events = await cluster.events(ns, { kind: 'Rollout', name: 'rollouts-demo' });
        assert.ok(!events.some((e) => e.reason === 'RolloutStepCompleted'), 'no steps on the first deploy');
      });

      await when('the image changes from blue to yellow', () => rollway('-n', ns, 'set', 'image', 'rollouts-demo', 'rollouts-demo=argoproj/rollouts-demo:yellow'));
      await then('it pauses at step 1 with exactly 1 yellow and 4 blue pods', async () => {
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'Rollout Paused at step 1' });
        await waitForPods(cluster, ns, 'rollouts-demo', { blue: 4, yellow: 1 });
      });

      await when('it is promoted', () => rollway('-n', ns, 'promote', 'rollouts-demo'));
      await then('the remaining steps run unattended and revision 2 becomes stable', async () => {
        const done = await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.currentStepIndex === 8), { what: 'Rollout Healthy after promote', timeoutMs: 90_000 });
        await waitForPods(cluster, ns, 'rollouts-demo', { yellow: 5 });
        const sets = await cluster.list<ReplicaSet>(rsRef(ns));
        const stable = sets.find((rs) => rs.metadata.name === `rollouts-demo-${done!.status!.stableRS}`);
        assert.equal(stable?.metadata.annotations?.['rollway.dev/revision'], '2');
        const completed = stepsCompleted(await cluster.events(ns, { kind: 'Rollout', name: 'rollouts-demo' }));
        assert.deepEqual(completed, ['1', '2', '3', '4', '5', '6', '7', '8'], 'each of the 8 steps completed once');
      });

      await when('the image changes to red and the update is aborted at its first pause', async () => {
        rollway('-n', ns, 'set', 'image', 'rollouts-demo', '*=argoproj/rollouts-demo:red');
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'Rollout Paused on red' });
        await waitForPods(cluster, ns, 'rollouts-demo', { yellow: 4, red: 1 });
        rollway('-n', ns, 'abort', 'rollouts-demo');
      });
      await then('5 yellow pods serve again, red is scaled to 0 and the phase is Degraded', async () => {
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Degraded', (r) => /RolloutAborted/.test(r.status?.message ?? '')), { what: 'Rollout Degraded after abort' });
        await waitForPods(cluster, ns, 'rollouts-demo', { yellow: 5 });
        const red = (await cluster.list<ReplicaSet>(rsRef(ns))).find((rs) => rs.metadata.annotations?.['rollway.dev/revision'] === '3');
        assert.equal(red?.spec.replicas, 0);
        const events = await cluster.events(ns, { kind: 'Rollout', name: 'rollouts-demo' });
        assert.ok(events.some((e) => e.reason === 'RolloutAborted' && e.type === 'Warning'));
      });

      let replicaSetsBefore: string[] = [];
      let stepEventsBefore = 0;
      await when('the image is set back to yellow', async () => {
        replicaSetsBefore = (await cluster.list(rsRef(ns))).map((rs) => rs.metadata.name!).sort();
        stepEventsBefore = stepsCompleted(await cluster.events(ns, { kind: 'Rollout', name: 'rollouts-demo' })).length;
        rollway('-n', ns, 'set', 'image', 'rollouts-demo', 'rollouts-demo=argoproj/rollouts-demo:yellow');
      });
      await then('it is Healthy at once, with no new ReplicaSet and no steps', async () => {
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'Rollout Healthy after going back to yellow', timeoutMs: 10_000 });
        await waitForPods(cluster, ns, 'rollouts-demo', { yellow: 5 });
        assert.deepEqual((await cluster.list(rsRef(ns))).map((rs) => rs.metadata.name!).sort(), replicaSetsBefore);
        const stepEvents = stepsCompleted(await cluster.events(ns, { kind: 'Rollout', name: 'rollouts-demo' })).length;
        assert.equal(stepEvents, stepEventsBefore);
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 240_000 },
);

scenario(
  'a controller killed mid-rollout resumes at the same step, repeating and skipping nothing',
  async ({ cluster, ns, given, when, then }) => {
    const steps = `
      - setWeight: 20
      - pause: {}
      - setWeight: 40
      - pause: {duration: 15}
      - setWeight: 60
      - pause: {}`;
    const ro = rolloutRef(ns, 'resume');
    let controller = startController(ns);
    try {
      await given('a Rollout updated and promoted into its timed pause at step 3', async () => {
        await cluster.apply(rolloutYaml('resume', steps), ns);
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'first deploy Healthy' });
        rollway('-n', ns, 'set', 'image', 'resume', 'resume=argoproj/rollouts-demo:yellow');
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'paused at step 1' });
        rollway('-n', ns, 'promote', 'resume');
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 3), { what: 'in the timed pause at step 3' });
      });
      let pauseStartedAt = '';
      await when('the controller is killed with SIGKILL and started again', async () => {
        const paused = await cluster.get<RolloutObject>(ro);
        pauseStartedAt = paused!.status!.pauseConditions![0]!.startTime;
        await controller.kill('SIGKILL');
        controller = startController(ns);
      });
      await then('it keeps the pause it was in (same start time) and stops at step 5', async () => {
        const resumed = await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 5), { what: 'paused at step 5 after restart', timeoutMs: 60_000 });
        assert.ok(resumed);
        const events = await cluster.events(ns, { kind: 'Rollout', name: 'resume' });
        const pauseEnded = events.find((e) => /pause of 15 at step 4\/6 ended/.test(e.message ?? ''));
        assert.ok(pauseEnded, 'the timed pause ended');
        const endedAt = Date.parse(pauseEnded.lastTimestamp ?? '');
        const elapsed = endedAt - Date.parse(pauseStartedAt);
        // Event timestamps have whole-second precision: a 15 s pause shows as 14–16 s.
        assert.ok(elapsed >= 14_000 && elapsed < 20_000, `the pause lasted ${elapsed}ms from its original start, not restarted`);
      });
      await then('no step completed twice, none was skipped, and no ReplicaSet was created twice', async () => {
        const events = await cluster.events(ns, { kind: 'Rollout', name: 'resume' });
        assert.deepEqual(stepsCompleted(events), ['1', '2', '3', '4', '5']);
        const created = events.filter((e) => /Created ReplicaSet /.test(e.message ?? ''));
        assert.equal(created.length, 2, 'one ReplicaSet per revision');
        assert.equal((await cluster.list(rsRef(ns))).length, 2);
        await waitForPods(cluster, ns, 'resume', { blue: 2, yellow: 3 });
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 180_000 },
);

scenario('an invalid Rollout beside a valid one: the invalid one is Degraded with the field named, the valid one completes', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('a Rollout whose selector does not match its template labels, and a valid Rollout', async () => {
      const invalid = rolloutYaml('broken', walkthroughSteps).replace('matchLabels:\n      app: broken', 'matchLabels:\n      app: something-else');
      await cluster.apply(invalid, ns);
      await cluster.apply(rolloutYaml('fine', '      - setWeight: 50\n      - pause: {duration: 1}'), ns);
    });
    await then('the invalid Rollout is Degraded with InvalidSpec naming spec.selector and a Warning Event', async () => {
      const broken = await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'broken'), phaseIs('Degraded'), { what: 'invalid Rollout Degraded' });
      const condition = broken!.status!.conditions!.find((c) => c.type === 'InvalidSpec');
      assert.equal(condition?.status, 'True');
      assert.match(condition?.message ?? '', /spec\.selector/);
      await cluster.waitForEvent(ns, { kind: 'Rollout', name: 'broken' }, (e) => e.type === 'Warning' && e.reason === 'InvalidSpec' && /spec\.selector/.test(e.message ?? ''), { what: 'a Warning InvalidSpec naming spec.selector' });
      assert.equal((await cluster.list(rsRef(ns), 'app=something-else')).length, 0, 'nothing was created for it');
    });
    await then('the valid Rollout deploys and completes an update', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'fine'), phaseIs('Healthy'), { what: 'valid Rollout Healthy' });
      rollway('-n', ns, 'set', 'image', 'fine', 'fine=argoproj/rollouts-demo:green');
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'fine'), phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && r.status?.currentStepIndex === 2 && (r.metadata.generation ?? 0) > 1), {
        what: 'valid Rollout updated',
        timeoutMs: 60_000,
      });
      await waitForPods(cluster, ns, 'fine', { green: 5 });
    });
  } finally {
    await controller.kill();
  }
});

scenario('restart recreates every pod, oldest first, at most maxUnavailable at a time', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const ro = rolloutRef(ns, 'restart');
  try {
    let before: string[] = [];
    await given('a Healthy Rollout of 5 pods with maxUnavailable 1', async () => {
      await cluster.apply(rolloutYaml('restart', '      - setWeight: 50').replace('      steps:', '      maxUnavailable: 1\n      maxSurge: 0\n      steps:'), ns);
      await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'Healthy' });
      await waitForPods(cluster, ns, 'restart', { blue: 5 });
      before = (await cluster.list<Pod>(podRef(ns), 'app=restart')).map((p) => p.metadata.name!);
    });
    let worstUnavailable = 0;
    await when('it is restarted', async () => {
      rollway('-n', ns, 'restart', 'restart');
      // Watch availability while the pods are replaced.
      const deadline = Date.now() + 60_000;
      for (;;) {
        const pods = (await cluster.list<Pod>(podRef(ns), 'app=restart')).filter((p) => !p.metadata.deletionTimestamp);
        const ready = pods.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length;
        worstUnavailable = Math.max(worstUnavailable, 5 - ready);
        const r = await cluster.get<RolloutObject>(ro);
        if (r?.status?.restartedAt && r.status.restartedAt === r.spec.restartAt && ready === 5) break;
        if (Date.now() > deadline) assert.fail(`restart did not finish; rollout status ${JSON.stringify(r?.status)}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    });
    await then('every pod is new and no more than one was unavailable at a time', async () => {
      const after = (await cluster.list<Pod>(podRef(ns), 'app=restart')).map((p) => p.metadata.name!);
      assert.equal(after.length, 5);
      assert.deepEqual(after.filter((name) => before.includes(name)), []);
      assert.ok(worstUnavailable <= 1, `at worst ${worstUnavailable} pods were unavailable`);
    });
  } finally {
    await controller.kill();
  }
});
