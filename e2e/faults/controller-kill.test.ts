// Fault: the controller is killed with SIGKILL at random moments, again and again, while routed
// canaries run (Istio VirtualService, host-level), and started again each time. All progress
// lives in the Rollouts' status, so each new process must resume at the step the last one
// reached: from a watch of the VirtualServices and Rollouts, replayed in resourceVersion order,
// no step is skipped (every setWeight value reaches the VirtualService, in order, and each pause
// lasts its duration) and none is repeated (no weight goes back, except to 0 once the new version
// is stable). A new update starts whenever every Rollout has finished the previous one, so every
// kill lands while canaries run. Sizes: FAULTS_KILLS, FAULTS_KILL_ROLLOUTS; FAULTS_SEED replays a run.
import assert from 'node:assert/strict';
import { scenario, sleep, startController, type ControllerProcess } from '../harness.ts';
import { replay, roundProblems, type Round } from './replay.ts';
import {
  canaryWeight,
  crashSigns,
  deleteRollouts,
  envInt,
  healthyOnSpec,
  imageOf,
  ISTIO_VS,
  printFigures,
  quantile,
  Random,
  recordWatch,
  retrying,
  ROLLOUTS,
  routedRollout,
  runSeed,
  seconds,
  waitUntil,
  type RolloutLike,
} from './support.ts';

const KILLS = envInt('FAULTS_KILLS', 10);
const COUNT = envInt('FAULTS_KILL_ROLLOUTS', 20);
/** the longest a controller runs (after its caches synced) before it is killed */
const MAX_ALIVE_MS = envInt('FAULTS_MAX_ALIVE_MS', 2500);
const PAUSE_MS = 1000;
const STEPS = [{ setWeight: 10 }, { pause: { duration: '1s' } }, { setWeight: 30 }, { pause: { duration: '1s' } }, { setWeight: 60 }, { pause: { duration: '1s' } }];
const STEP_WEIGHTS = [10, 30, 60];

const names = Array.from({ length: COUNT }, (_, i) => `canary-${i}`);

scenario(`${KILLS} SIGKILLs of the controller during ${COUNT} routed canaries: every Rollout ends Healthy, no step skipped or repeated`, async ({ cluster, ns, given, when, then }) => {
  const seed = runSeed();
  const rand = new Random(seed);
  const spawn = (): ControllerProcess => startController(ns);
  let controller = spawn();
  const rolloutsRef = { ...ROLLOUTS, namespace: ns };
  const allHealthyOn = async (image: string): Promise<boolean> => {
    const items = await cluster.list<RolloutLike>(rolloutsRef);
    return items.length === COUNT && items.every((r) => healthyOnSpec(r) && imageOf(r) === image);
  };
  const recorders = { rollouts: recordWatch<RolloutLike>(cluster.client, rolloutsRef), routing: recordWatch(cluster.client, { ...ISTIO_VS, namespace: ns }) };
  const kills: { aliveMs: number; startupMs: number }[] = [];
  const deadLogs: string[] = []; // the logs of the killed processes, checked for crashes at the end
  let problems: string[] = [];
  let image = 'example.com/app:1';
  let rounds = 0;
  try {
    await given(`${COUNT} Rollouts, each with its Services and VirtualService, Healthy on app:1`, async () => {
      await cluster.apply(names.flatMap((name) => routedRollout(name, STEPS)), ns);
      await waitUntil('every Rollout Healthy', () => allHealthyOn(image), { timeoutMs: 90_000, intervalMs: 300 });
      await Promise.all([recorders.rollouts.ready, recorders.routing.ready]);
    });

    await when(`the controller is killed ${KILLS} times at random moments (seed ${seed}) while updates run, and started again each time`, async () => {
      const startRound = async (): Promise<void> => {
        rounds++;
        image = `example.com/app:${rounds + 1}`;
        const ops = [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }];
        await Promise.all(names.map((name) => retrying(() => cluster.patch({ ...rolloutsRef, name }, ops, 'json'))));
      };
      await startRound();
      let killing = true;
      const updates = (async () => {
        while (killing) {
          if (await retrying(() => allHealthyOn(image))) await startRound();
          await sleep(300);
        }
      })();
      updates.catch(() => {}); // awaited below; a failure must not count as unhandled meanwhile
      try {
        for (let k = 0; k < KILLS; k++) {
          const spawnedAt = Date.now();
          const syncedAt = await waitUntil(`controller ${k + 1} started`, () => controller.logs().includes('controller started'), { timeoutMs: 60_000, intervalMs: 20 });
          const aliveMs = rand.int(0, MAX_ALIVE_MS);
          await sleep(aliveMs);
          await controller.kill('SIGKILL');
          deadLogs.push(controller.logs());
          kills.push({ aliveMs, startupMs: syncedAt - spawnedAt });
          controller = spawn();
        }
      } finally {
        killing = false;
        await updates;
      }
    });

    await then(`every Rollout becomes Healthy on the last image (${rounds} update rounds)`, async () => {
      await waitUntil(`every Rollout Healthy on ${image}`, () => allHealthyOn(image), { timeoutMs: 120_000, intervalMs: 300 }).catch(async (err: unknown) => {
        // Say where each stuck Rollout is, and what the controller was doing.
        const stuck = (await cluster.list<RolloutLike>(rolloutsRef)).filter((r) => !(healthyOnSpec(r) && imageOf(r) === image));
        const where = stuck.map((r) => `${r.metadata.name}: ${JSON.stringify({ generation: r.metadata.generation, ...r.status, conditions: undefined })}`);
        throw new Error(`${String(err)}\nnot there yet:\n${where.join('\n')}\nlast controller log:\n${controller.logs().split('\n').slice(-60).join('\n')}`);
      });
      for (const name of names) {
        const vs = await cluster.get({ ...ISTIO_VS, namespace: ns, name });
        assert.equal(vs && canaryWeight(vs), 0, `${name}: all traffic on the new stable`);
      }
    });

    let perRollout = new Map<string, Round[]>();
    await then('replayed in resourceVersion order, no step was skipped or repeated in any round', async () => {
      await sleep(500); // the last watch events
      await recorders.rollouts.stop();
      await recorders.routing.stop();
      assert.equal(recorders.rollouts.gaps() + recorders.routing.gaps(), 0, 'the watches lost no history (no 410)');
      perRollout = replay(
        recorders.rollouts.events,
        recorders.routing.events,
        (e) => {
          const r = e.object as RolloutLike;
          return { name: r.metadata.name ?? '', image: imageOf(r), generation: r.metadata.generation ?? 0, observedGeneration: r.status?.observedGeneration, stepIndex: r.status?.currentStepIndex };
        },
        (e) => ({ rollout: e.object.metadata.name ?? '', canaryWeight: canaryWeight(e.object) }),
      );
      problems = [];
      for (const name of names) {
        const list = perRollout.get(name) ?? [];
        if (list.length !== rounds) problems.push(`${name}: ${list.length} rounds recorded, ${rounds} started`);
        list.forEach((round, i) => problems.push(...roundProblems(round, STEP_WEIGHTS, PAUSE_MS, STEPS.length).map((p) => `${name} round ${i + 1} (${round.image}): ${p}`)));
      }
      assert.deepEqual(problems, []);
    });

    await then('no controller process logged a crash', () => assert.deepEqual([...deadLogs, controller.logs()].flatMap(crashSigns), []));

    const rolloutRounds = [...perRollout.values()].flat();
    const durations = rolloutRounds.filter((r) => r.weightTimes.length > 1).map((r) => r.weightTimes.at(-1)! - r.weightTimes[0]!);
    printFigures(`controller SIGKILL x${KILLS} during ${COUNT} routed canaries (seed ${seed})`, [
      ['kills / update rounds / rollout updates checked', `${kills.length} / ${rounds} / ${rolloutRounds.length}`],
      ['time alive before each kill (after caches synced)', `p50 ${quantile(kills.map((k) => k.aliveMs), 0.5)} ms, max ${Math.max(0, ...kills.map((k) => k.aliveMs))} ms`],
      ['restart: process start -> caches synced (lease wait included)', `p50 ${quantile(kills.map((k) => k.startupMs), 0.5)} ms, p99 ${quantile(kills.map((k) => k.startupMs), 0.99)} ms`],
      ['weight events replayed (VirtualService / Rollout)', `${recorders.routing.events.length} / ${recorders.rollouts.events.length}`],
      ['rollout updates with a step skipped or repeated', `${new Set(problems.map((p) => p.split(':')[0])).size} (${problems.length} problems)`],
      ['one rollout update, first weight -> stable (p50 / max)', `${seconds(quantile(durations, 0.5))} / ${seconds(Math.max(0, ...durations))}`],
    ]);
  } finally {
    await recorders.rollouts.stop();
    await recorders.routing.stop();
    await deleteRollouts(cluster.client, ns);
    await controller.kill();
  }
}, { timeoutMs: 600_000 });
