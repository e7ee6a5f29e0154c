// Analysis inside the Rollout planner, against a small simulated world: pods become available at
// once, the AnalysisRuns the plan creates appear with no phase, and the test decides their phase.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { podTemplateHash } from '../api/hash.ts';
import type { ObservedAnalysisRun, ObservedReplicaSet, Plan, SpecView, StatusView, StepView } from '../controller/model.ts';
import { planRollout } from '../controller/planner.ts';
import { replicaRatioCapabilities } from '../routers/replica-ratio/router.ts';
import { PAUSE_REASON_INCONCLUSIVE } from './rollout-plan.ts';
import { parsePlanSpec } from '../controller/plan-spec.ts';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const template = (image: string) => ({ metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'demo', image }] } });
const STEP = { analysis: { templates: [{ templateName: 'error-rate' }], args: [{ name: 'address', value: 'http://prom' }] } };

class World {
  spec: SpecView;
  status: StatusView | undefined;
  replicaSets = new Map<string, ObservedReplicaSet>();
  runs: ObservedAnalysisRun[] = [];
  now = T0;
  generation = 1;
  events: { reason: string; message: string }[] = [];
  lastPlan: Plan | undefined;

  constructor(spec: SpecView) {
    this.spec = spec;
  }

  reconcile(): Plan {
    const plan = planRollout({
      rollout: { name: 'demo', namespace: 'ns', uid: 'u1', generation: this.generation, spec: parsePlanSpec(this.spec), status: this.status },
      replicaSets: [...this.replicaSets.values()],
      pods: [],
      services: {},
      specIssues: [],
      notImplemented: [],
      router: { name: 'test', capabilities: replicaRatioCapabilities },
      trafficVerified: true,
      now: this.now,
      analysisRuns: this.runs.map((r) => ({ ...r })),
    });
    this.lastPlan = plan;
    if (plan.create) this.replicaSets.set(plan.create.hash, { name: plan.create.name, hash: plan.create.hash, revision: plan.create.revision, replicas: plan.create.replicas, current: 0, ready: 0, available: 0, settled: true });
    for (const s of plan.scale) {
      const rs = [...this.replicaSets.values()].find((r) => r.name === s.name)!;
      rs.replicas = s.to;
    }
    for (const rs of this.replicaSets.values()) rs.current = rs.ready = rs.available = rs.replicas;
    for (const create of plan.analysis?.create ?? []) {
      this.runs.push({ name: create.name, podHash: create.podHash, type: create.type, stepIndex: create.stepIndex, phase: '', terminated: false, createdAt: new Date(this.now).toISOString() });
    }
    for (const name of plan.analysis?.terminate ?? []) {
      const run = this.run(name);
      run.terminated = true;
      run.phase = 'Successful';
      run.message = 'Run Terminated';
    }
    this.runs = this.runs.filter((r) => !(plan.analysis?.delete ?? []).includes(r.name));
    this.status = structuredClone(plan.status);
    this.events.push(...plan.events);
    this.now += 1000;
    return plan;
  }

  settle(rounds = 15): void {
    for (let i = 0; i < rounds; i++) {
      const before = JSON.stringify([this.status, this.runs, [...this.replicaSets.values()]]);
      this.reconcile();
      if (JSON.stringify([this.status, this.runs, [...this.replicaSets.values()]]) === before) return;
    }
  }

  run(name: string): ObservedAnalysisRun {
    const run = this.runs.find((r) => r.name === name);
    assert.ok(run, `run ${name} exists (runs: ${this.runs.map((r) => r.name).join(', ')})`);
    return run;
  }

  setRun(name: string, phase: string, message?: string): void {
    const run = this.run(name);
    run.phase = phase;
    run.message = message;
  }

  setImage(image: string): string {
    this.spec = { ...this.spec, template: template(image) };
    this.generation++;
    return podTemplateHash(this.spec.template);
  }

  reasons(): string[] {
    return this.events.map((e) => e.reason);
  }
}

function deployed(steps: StepView[], extra: Record<string, unknown> = {}): World {
  const world = new World({ replicas: 4, selector: { matchLabels: { app: 'demo' } }, template: template('v1'), strategy: { canary: { steps, ...extra } } });
  world.settle();
  assert.equal(world.status?.phase, 'Healthy');
  world.events = [];
  return world;
}

void describe('an analysis step', () => {
  void it('creates one run named <rollout>-<hash>-<step> and waits for it, without a progress deadline', () => {
    const world = deployed([{ setWeight: 25 }, STEP, { setWeight: 50 }]);
    const hash = world.setImage('v2');
    world.settle();
    const name = `demo-${hash}-1`;
    assert.deepEqual(world.runs.map((r) => [r.name, r.type, r.stepIndex, r.podHash]), [[name, 'step', 1, hash]]);
    const created = world.events.find((e) => e.reason === 'AnalysisRunCreated');
    assert.match(created?.message ?? '', new RegExp(`Created AnalysisRun ${name} for step 2/3`));
    assert.equal(world.status?.currentStepIndex, 1);
    assert.equal(world.status?.phase, 'Progressing');
    assert.deepEqual(world.status?.canary?.currentStepAnalysisRunStatus, { name, status: 'Pending' });
    world.setRun(name, 'Running');
    world.now += 20 * 60_000; // longer than the 600 s progress deadline
    world.settle();
    assert.equal(world.status?.phase, 'Progressing', 'measuring is progress, not a stall');
    assert.equal(world.runs.length, 1, 'no second run');
    assert.equal(world.status?.canary?.currentStepAnalysisRunStatus?.status, 'Running');
  });

  void it('completes when the run is Successful, and the rollout goes on to promotion', () => {
    const world = deployed([{ setWeight: 25 }, STEP, { setWeight: 50 }]);
    const hash = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${hash}-1`, 'Successful');
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, hash);
    assert.ok(world.reasons().includes('AnalysisRunSuccessful'));
    assert.ok(world.events.some((e) => e.reason === 'RolloutStepCompleted' && /step 2\/3 completed \(analysis/.test(e.message)));
    assert.equal(world.status?.canary?.currentStepAnalysisRunStatus, undefined);
  });

  void it('Failed aborts: weight 0, Degraded, the message and Event name the metric and value', () => {
    const world = deployed([{ setWeight: 25 }, STEP, { setWeight: 50 }]);
    const hash = world.setImage('v2');
    world.settle();
    const why = 'Metric "error-rate" assessed Failed due to failed (1) > failureLimit (0); last value [0.5]';
    world.setRun(`demo-${hash}-1`, 'Failed', why);
    world.settle();
    assert.equal(world.status?.abort, true);
    assert.equal(world.status?.phase, 'Degraded');
    assert.equal(world.status?.message, `RolloutAborted: Rollout aborted update to revision 2: AnalysisRun demo-${hash}-1 Failed: ${why}`);
    assert.equal(world.status?.canary?.weights?.canary.weight, 0);
    assert.equal(world.replicaSets.get(hash)?.replicas, 0);
    const failed = world.events.find((e) => e.reason === 'AnalysisRunFailed');
    assert.equal(failed?.message, `Step AnalysisRun demo-${hash}-1 Failed: ${why}`);
    assert.ok(world.reasons().includes('RolloutAborted'));
    assert.equal(world.events.filter((e) => e.reason === 'AnalysisRunFailed').length, 1, 'once');
  });

  void it('Error aborts the same way', () => {
    const world = deployed([{ setWeight: 25 }, STEP]);
    const hash = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${hash}-1`, 'Error', 'metric "latency": provider datadog is not supported');
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    assert.match(world.status?.message ?? '', /AnalysisRun demo-\w+-1 Error: metric "latency": provider datadog is not supported/);
    assert.ok(world.reasons().includes('AnalysisRunError'));
  });

  void it('Inconclusive pauses with InconclusiveAnalysisRun; the run stays; promote completes the step', () => {
    const world = deployed([{ setWeight: 25 }, STEP, { setWeight: 50 }]);
    const hash = world.setImage('v2');
    world.settle();
    const name = `demo-${hash}-1`;
    world.setRun(name, 'Inconclusive', 'Metric "error-rate" assessed Inconclusive');
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.deepEqual(world.status?.pauseConditions?.map((c) => c.reason), [PAUSE_REASON_INCONCLUSIVE]);
    assert.equal(world.status?.controllerPause, true);
    assert.equal(world.status?.currentStepIndex, 1);
    assert.ok(world.reasons().includes('AnalysisRunInconclusive'));
    assert.equal(world.runs.length, 1, 'paused: no new run');
    world.settle();
    assert.equal(world.status?.phase, 'Paused', 'still paused on the next reconciles');
    // promote: the CLI removes the pause conditions
    world.status = { ...world.status, pauseConditions: [] };
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, hash);
    assert.equal(world.status?.controllerPause, false);
    assert.equal(world.runs.length, 1, 'promote does not measure again');
  });

  void it('a promote while measuring moves on and terminates the run', () => {
    const world = deployed([{ setWeight: 25 }, STEP, { pause: {} }]);
    const hash = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${hash}-1`, 'Running');
    world.status = { ...world.status, currentStepIndex: 2 }; // `promote` when not paused: next step
    world.reconcile();
    assert.deepEqual(world.lastPlan?.analysis?.terminate, [`demo-${hash}-1`]);
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.equal(world.status?.canary?.currentStepAnalysisRunStatus, undefined);
  });

  void it('abort and promote-full terminate the running run', () => {
    const aborted = deployed([{ setWeight: 25 }, STEP]);
    const h1 = aborted.setImage('v2');
    aborted.settle();
    aborted.setRun(`demo-${h1}-1`, 'Running');
    aborted.status = { ...aborted.status, abort: true };
    aborted.reconcile();
    assert.deepEqual(aborted.lastPlan?.analysis?.terminate, [`demo-${h1}-1`]);

    const full = deployed([{ setWeight: 25 }, STEP, { setWeight: 50 }]);
    const h2 = full.setImage('v2');
    full.settle();
    full.setRun(`demo-${h2}-1`, 'Running');
    full.status = { ...full.status, promoteFull: true };
    full.reconcile();
    assert.deepEqual(full.lastPlan?.analysis?.terminate, [`demo-${h2}-1`]);
    full.settle();
    assert.equal(full.status?.stableRS, h2);
  });

  void it('a retry after a failed analysis measures again with a new run name', () => {
    const world = deployed([{ setWeight: 25 }, STEP]);
    const hash = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${hash}-1`, 'Failed', 'bad');
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    world.status = { ...world.status, abort: false }; // `retry`
    world.settle();
    assert.deepEqual(world.runs.map((r) => r.name), [`demo-${hash}-1`, `demo-${hash}-1.1`]);
    assert.equal(world.status?.abort, false);
    world.setRun(`demo-${hash}-1.1`, 'Successful');
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, hash);
  });

  void it('a new revision in the middle of an analysis terminates the old run and starts over', () => {
    const world = deployed([{ setWeight: 25 }, STEP]);
    const h2 = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${h2}-1`, 'Running');
    const h3 = world.setImage('v3');
    world.settle();
    assert.equal(world.run(`demo-${h2}-1`).terminated, true);
    assert.equal(world.status?.canary?.currentStepAnalysisRunStatus?.name, `demo-${h3}-1`);
  });

  void it('a run its status names is created under that name when it does not exist (created after the status write, which may be lost)', () => {
    // The retry race: a reconcile from a copy older than the record would pick the next free name
    // once the recorded run completed; runs are created only after the status write naming them
    // (that write fails from an older copy), so the record alone decides the name.
    const world = deployed([{ setWeight: 25 }, STEP]);
    const hash = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${hash}-1`, 'Failed', 'bad');
    world.settle();
    world.status = { ...world.status, abort: false }; // `retry`
    for (let i = 0; i < 10 && !world.status?.canary?.currentStepAnalysisRunStatus?.name.endsWith('.1'); i++) world.reconcile();
    const retryName = `demo-${hash}-1.1`;
    assert.equal(world.status?.canary?.currentStepAnalysisRunStatus?.name, retryName);
    world.runs = world.runs.filter((r) => r.name !== retryName); // written to status, its create not done (yet)
    const plan = world.reconcile();
    assert.deepEqual(plan.analysis?.create.map((c) => c.name), [retryName], 'the recorded name, not a fresh one');
    world.setRun(retryName, 'Successful');
    world.settle();
    assert.deepEqual(world.runs.map((r) => r.name), [`demo-${hash}-1`, retryName]);
    assert.equal(world.status?.phase, 'Healthy');
  });

  void it('adopts a running run it created before a restart lost the status write', () => {
    const world = deployed([{ setWeight: 25 }, STEP]);
    const hash = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${hash}-1`, 'Running');
    const canary = { ...world.status!.canary };
    delete canary.currentStepAnalysisRunStatus;
    world.status = { ...world.status, canary };
    world.settle();
    assert.equal(world.runs.length, 1);
    assert.equal(world.status?.canary?.currentStepAnalysisRunStatus?.name, `demo-${hash}-1`);
  });
});

void describe('background analysis', () => {
  const background = { analysis: { templates: [{ templateName: 'error-rate' }], startingStep: 1 } };

  void it('starts at startingStep, runs until promotion, then is terminated', () => {
    const world = deployed([{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }], background);
    const hash = world.setImage('v2');
    world.reconcile();
    assert.equal(world.runs.length, 0, 'not before step 1');
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.deepEqual(world.runs.map((r) => [r.name, r.type]), [[`demo-${hash}-background`, 'background']]);
    world.setRun(`demo-${hash}-background`, 'Running');
    world.status = { ...world.status, pauseConditions: [] };
    world.settle();
    assert.equal(world.status?.stableRS, hash);
    assert.equal(world.run(`demo-${hash}-background`).terminated, true);
    assert.equal(world.status?.canary?.currentBackgroundAnalysisRunStatus, undefined);
  });

  void it('Failed between steps aborts the update', () => {
    const world = deployed([{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }], background);
    const hash = world.setImage('v2');
    world.settle();
    world.setRun(`demo-${hash}-background`, 'Failed', 'Metric "error-rate" assessed Failed');
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    assert.match(world.status?.message ?? '', /AnalysisRun demo-\w+-background Failed: Metric "error-rate"/);
    assert.ok(world.events.some((e) => e.reason === 'AnalysisRunFailed' && /^Background AnalysisRun/.test(e.message)));
  });

  void it('Inconclusive pauses once; after a promote the rollout goes on and is not paused again', () => {
    const world = deployed([{ setWeight: 25 }, { setWeight: 50 }, { pause: { duration: 5 } }], { analysis: { templates: [{ templateName: 'x' }] } });
    const hash = world.setImage('v2');
    world.reconcile();
    world.setRun(`demo-${hash}-background`, 'Inconclusive');
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.deepEqual(world.status?.pauseConditions?.map((c) => c.reason), [PAUSE_REASON_INCONCLUSIVE]);
    world.status = { ...world.status, pauseConditions: [] };
    world.reconcile();
    assert.equal(world.status?.controllerPause, true, 'the timed pause step now holds the rollout');
    world.now += 10_000;
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, hash);
    assert.equal(world.events.filter((e) => e.reason === 'AnalysisRunInconclusive').length, 1);
  });
});

void describe('inconclusive background analysis during a timed pause', () => {
  // Argo: when a background run turns Inconclusive while a timed pause runs, the pause still ends
  // on time; its condition goes and the Rollout's message becomes InconclusiveAnalysisRun (the
  // first pause condition left). Issue 10 item 7.
  void it('the timed pause ends on time, its condition goes, and the message names the inconclusive run', () => {
    const world = deployed([{ setWeight: 25 }, { pause: { duration: 5 } }, { setWeight: 50 }], { analysis: { templates: [{ templateName: 'x' }] } });
    const hash = world.setImage('v2');
    world.settle();
    assert.deepEqual(world.status?.pauseConditions?.map((c) => c.reason), ['CanaryPauseStep']);
    world.setRun(`demo-${hash}-background`, 'Inconclusive');
    world.reconcile();
    assert.deepEqual(world.status?.pauseConditions?.map((c) => c.reason), ['CanaryPauseStep', PAUSE_REASON_INCONCLUSIVE]);
    world.now += 6_000;
    const plan = world.reconcile();
    assert.deepEqual(world.status?.pauseConditions?.map((c) => c.reason), [PAUSE_REASON_INCONCLUSIVE], 'the expired timed pause is gone');
    assert.equal(world.status?.message, PAUSE_REASON_INCONCLUSIVE);
    assert.equal(world.status?.currentStepIndex, 2, 'the pause step is done; the next step waits for a promote');
    assert.ok(plan.events.some((e) => e.reason === 'RolloutStepCompleted' && /2\/3 completed \(pause\)/.test(e.message)));
    world.settle();
    assert.equal(world.status?.currentStepIndex, 2, 'still held by the inconclusive run');
  });
});

void describe('run history', () => {
  void it('keeps 5 successful and 5 unsuccessful completed runs by default, fewer when the spec says so', () => {
    const world = deployed([{ setWeight: 25 }]);
    const old = (name: string, phase: string, minute: number): ObservedAnalysisRun => ({ name, podHash: 'old', type: 'step', stepIndex: 0, phase, terminated: false, createdAt: new Date(T0 - minute * 60_000).toISOString() });
    world.runs = [...Array.from({ length: 7 }, (_, i) => old(`ok-${i}`, 'Successful', i)), ...Array.from({ length: 6 }, (_, i) => old(`ko-${i}`, i % 2 ? 'Failed' : 'Error', i))];
    world.reconcile();
    assert.deepEqual(world.lastPlan?.analysis?.delete, ['ok-5', 'ok-6', 'ko-5']);
    world.spec = { ...world.spec, analysis: { successfulRunHistoryLimit: 1, unsuccessfulRunHistoryLimit: 0 } };
    world.reconcile();
    assert.deepEqual(world.lastPlan?.analysis?.delete, ['ok-1', 'ok-2', 'ok-3', 'ok-4', 'ko-0', 'ko-1', 'ko-2', 'ko-3', 'ko-4']);
  });
});
