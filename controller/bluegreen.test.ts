// The blue-green planner against a small simulated world: ReplicaSets whose pods become available
// on the next tick (unless broken), Services whose selectors the plans change, AnalysisRuns whose
// phase the test sets, a clock, and the status carried from plan to plan as the API server would.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replicaRatioCapabilities } from '../routers/replica-ratio/router.ts';
import { blueGreenServices, PAUSE_REASON_BLUE_GREEN } from './bluegreen.ts';
import { podTemplateHash, POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import type { BlueGreenView, ObservedAnalysisRun, ObservedPod, ObservedReplicaSet, Plan, SpecView, StatusView } from './model.ts';
import { planRollout } from './planner.ts';
import { parsePlanSpec } from './plan-spec.ts';
import { planStatusFirst } from './status-first.ts';

const HASH = POD_TEMPLATE_HASH_LABEL;
const template = (image: string) => ({ metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'demo', image }] } });
const BLUE = podTemplateHash(template('blue'));
const GREEN = podTemplateHash(template('green'));
const YELLOW = podTemplateHash(template('yellow'));

class World {
  spec: SpecView;
  status: StatusView | undefined;
  replicaSets = new Map<string, ObservedReplicaSet>();
  services: Record<string, { name: string; selector: Record<string, string> }> = {
    active: { name: 'active', selector: { app: 'demo' } },
    preview: { name: 'preview', selector: { app: 'demo' } },
  };
  runs: ObservedAnalysisRun[] = [];
  now = Date.parse('2026-11-26T10:00:00Z');
  generation = 1;
  /** pods of these hashes never become available */
  broken = new Set<string>();
  events: string[] = [];
  lastPlan: Plan | undefined;
  /** every (active hash, its available pods) the active Service ever selected */
  activeSeen: { hash: string; available: number }[] = [];

  constructor(blueGreen: Partial<BlueGreenView>, replicas = 3) {
    this.spec = { replicas, selector: { matchLabels: { app: 'demo' } }, template: template('blue'), strategy: { blueGreen: { activeService: 'active', previewService: 'preview', ...blueGreen } } };
  }

  get bg(): BlueGreenView {
    return this.spec.strategy!.blueGreen!;
  }

  plan(): Plan {
    const plan = planRollout({
      rollout: { name: 'demo', namespace: 'ns', uid: 'u1', generation: this.generation, spec: parsePlanSpec(this.spec), status: this.status },
      replicaSets: [...this.replicaSets.values()].map((rs) => ({ ...rs })),
      pods: this.pods(),
      services: structuredClone(this.services),
      specIssues: [],
      notImplemented: [],
      router: { name: 'none', capabilities: replicaRatioCapabilities },
      trafficVerified: true,
      now: this.now,
      analysisRuns: this.runs,
    });
    this.lastPlan = plan;
    return plan;
  }

  reconcile(): Plan {
    const plan = this.plan();
    if (plan.create) {
      const { name, hash, revision, replicas, podMetadata, annotations } = plan.create;
      this.replicaSets.set(hash, { name, hash, revision, replicas, current: 0, ready: 0, available: 0, settled: true, podMetadata, ephemeralRecord: annotations?.['rollway.dev/ephemeral-metadata'] });
    }
    for (const change of plan.templatePatches ?? []) {
      const rs = [...this.replicaSets.values()].find((r) => r.name === change.name)!;
      const patch = change.patch as { spec?: { template?: { metadata?: { labels?: Record<string, string | null> } } }; metadata?: { annotations?: Record<string, string | null> } };
      const labels = { ...(rs.podMetadata?.labels ?? {}), ...(patch.spec?.template?.metadata?.labels ?? {}) };
      for (const [k, v] of Object.entries(labels)) if (v === null) delete labels[k];
      rs.podMetadata = { ...(rs.podMetadata ?? {}), labels: labels as Record<string, string> };
      const record = patch.metadata?.annotations?.['rollway.dev/ephemeral-metadata'];
      if (record !== undefined) rs.ephemeralRecord = record ?? undefined;
    }
    for (const s of plan.scale) {
      const rs = [...this.replicaSets.values()].find((r) => r.name === s.name)!;
      rs.replicas = s.to;
      for (const [k, v] of Object.entries(s.annotations ?? {})) if (k === 'rollway.dev/scale-down-deadline') rs.scaleDownDeadline = v ?? undefined;
      // Pods go at once; the Service must not have been left on them.
      if (s.to < s.from) rs.available = Math.min(rs.available, s.to);
    }
    for (const change of plan.services) this.services[change.service]!.selector[HASH] = change.to;
    this.sampleActive();
    for (const c of plan.analysis?.create ?? []) this.runs.push({ name: c.name, podHash: c.podHash, type: c.type, phase: '', terminated: false, createdAt: new Date(this.now).toISOString() });
    for (const name of plan.analysis?.terminate ?? []) this.runs.find((r) => r.name === name)!.terminated = true;
    this.status = structuredClone(plan.status);
    this.events.push(...plan.events.map((e) => e.reason));
    for (const rs of this.replicaSets.values()) {
      rs.current = rs.replicas;
      rs.ready = this.broken.has(rs.hash) ? 0 : rs.replicas;
      rs.available = rs.ready;
    }
    this.sampleActive();
    return plan;
  }

  private sampleActive(): void {
    const hash = this.services.active!.selector[HASH];
    if (hash) this.activeSeen.push({ hash, available: this.replicaSets.get(hash)?.available ?? 0 });
  }

  settle(maxRounds = 20): void {
    for (let i = 0; i < maxRounds; i++) {
      const before = JSON.stringify([this.status, [...this.replicaSets.values()], this.services]);
      this.reconcile();
      if (JSON.stringify([this.status, [...this.replicaSets.values()], this.services]) === before) return;
    }
  }

  setImage(image: string): void {
    this.spec = { ...this.spec, template: template(image) };
    this.generation++;
  }

  /** one running pod per replica, labelled as its ReplicaSet's template says */
  pods(): ObservedPod[] {
    return [...this.replicaSets.values()].flatMap((rs) =>
      Array.from({ length: rs.current }, (_, i) => ({ name: `${rs.name}-${i}`, hash: rs.hash, createdAt: '2026-11-26T09:00:00Z', ready: true, deleting: false, labels: { ...(rs.podMetadata?.labels ?? {}) }, annotations: {} })),
    );
  }

  active = (): string | undefined => this.services.active!.selector[HASH];
  preview = (): string | undefined => this.services.preview!.selector[HASH];
  size = (hash: string): number | undefined => this.replicaSets.get(hash)?.replicas;
  promote(): void {
    this.status = { ...this.status!, pauseConditions: [] };
  }
  run(kind: string): ObservedAnalysisRun | undefined {
    return this.runs.find((r) => r.type === kind && !r.terminated);
  }
  /** The active Service never selected a ReplicaSet with fewer available pods than spec.replicas. */
  assertNeverUnready(): void {
    const bad = this.activeSeen.filter((s) => s.available < (this.spec.replicas ?? 1));
    assert.deepEqual(bad, [], 'the active Service selected a ReplicaSet that was not fully available');
  }
}

/** A deployed, healthy blue stack. */
function deployed(blueGreen: Partial<BlueGreenView> = {}, replicas = 3): World {
  const world = new World(blueGreen, replicas);
  world.settle();
  return world;
}

void describe('blue-green: first deploy and steady state', () => {
  void it('creates the ReplicaSet at full size; both Services point at it once its pods are available; Healthy', () => {
    const world = new World({});
    const first = world.reconcile();
    assert.equal(first.create?.replicas, 3);
    assert.equal(world.active(), undefined, 'the active Service waits for available pods');
    assert.equal(world.preview(), BLUE, 'the preview Service is pointed at once');
    world.settle();
    assert.equal(world.active(), BLUE);
    assert.equal(world.preview(), BLUE);
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, BLUE);
    assert.deepEqual(world.status?.blueGreen?.activeSelector, BLUE);
    assert.equal(world.services.active!.selector.app, 'demo', "the user's own selector keys stay");
    world.assertNeverUnready();
  });

  void it('is not reported as not implemented', () => {
    const world = deployed();
    assert.ok(!world.status?.conditions?.some((c) => c.type === 'InvalidSpec' || c.type === 'NotImplemented'));
  });
});

void describe('blue-green: the walkthrough', () => {
  void it('update: new ReplicaSet at 0, preview switched, scaled, paused; promote switches active; old scaled down after the delay', () => {
    const world = deployed({ autoPromotionEnabled: false, scaleDownDelaySeconds: 30 });
    world.setImage('green');
    const created = world.reconcile();
    assert.equal(created.create?.replicas, 0, 'created at 0');
    assert.equal(world.preview(), GREEN, 'the preview goes to the new ReplicaSet first');
    assert.equal(world.active(), BLUE);
    world.settle();
    assert.equal(world.size(GREEN), 3);
    assert.equal(world.status?.phase, 'Paused');
    assert.equal(world.status?.message, PAUSE_REASON_BLUE_GREEN);
    assert.deepEqual(world.status?.pauseConditions?.map((c) => c.reason), [PAUSE_REASON_BLUE_GREEN]);
    assert.equal(world.active(), BLUE, 'active stays on blue while paused');
    assert.equal(world.status?.blueGreen?.previewSelector, GREEN);

    world.promote();
    world.reconcile();
    assert.equal(world.active(), GREEN, 'promote switches the active Service');
    assert.equal(world.status?.stableRS, GREEN);
    assert.equal(world.size(BLUE), 3, 'blue keeps its pods through scaleDownDelaySeconds');
    const deadline = world.replicaSets.get(BLUE)?.scaleDownDeadline;
    assert.equal(deadline, new Date(world.now + 30_000).toISOString());
    assert.equal(world.lastPlan?.requeueAfterMs, 30_000, 'a timed requeue, no polling');
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.size(BLUE), 3);
    world.now += 30_000;
    world.settle();
    assert.equal(world.size(BLUE), 0);
    assert.equal(world.replicaSets.get(BLUE)?.scaleDownDeadline, undefined, 'the spent deadline leaves the ReplicaSet');
    world.assertNeverUnready();
  });

  void it('the promote that switches the active Service is not reported Healthy before the switch (status not written first)', () => {
    const world = deployed({ autoPromotionEnabled: false });
    world.setImage('green');
    world.settle();
    world.promote();
    const plan = world.plan();
    assert.deepEqual(plan.services.map((s) => [s.service, s.to]), [['active', GREEN]]);
    assert.equal(plan.status.phase, 'Healthy', 'the plan ends the update in this reconcile');
    assert.equal(planStatusFirst(world.status, plan, false), false, 'a watcher waiting for Healthy on green must find the active Service on green');
  });

  void it('autoPromotionEnabled default: switches as soon as the preview is fully available', () => {
    const world = deployed();
    world.setImage('green');
    world.settle();
    assert.equal(world.active(), GREEN);
    assert.equal(world.status?.stableRS, GREEN);
    assert.ok(!world.events.includes('RolloutPaused'));
    world.assertNeverUnready();
  });
});

void describe('blue-green: timing', () => {
  void it('autoPromotionSeconds: promotes that long after the pause began, not before', () => {
    const world = deployed({ autoPromotionSeconds: 20 });
    world.setImage('green');
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    const pausedAt = Date.parse(world.status!.pauseConditions![0]!.startTime);
    assert.equal(world.lastPlan?.requeueAfterMs, pausedAt + 20_000 - world.now);
    world.now = pausedAt + 19_999;
    world.settle();
    assert.equal(world.active(), BLUE, 'not a moment early');
    world.now = pausedAt + 20_000;
    world.reconcile();
    assert.equal(world.active(), GREEN);
    assert.equal(world.status?.stableRS, GREEN);
  });

  void it('autoPromotionSeconds is ignored with autoPromotionEnabled false (as in Argo): waits for a promote', () => {
    const world = deployed({ autoPromotionEnabled: false, autoPromotionSeconds: 5 });
    world.setImage('green');
    world.settle();
    world.now += 60_000;
    world.settle();
    assert.equal(world.active(), BLUE);
    assert.equal(world.status?.phase, 'Paused');
  });

  void it('progressDeadlineSeconds: pods that never become available leave active alone and end ProgressDeadlineExceeded', () => {
    const world = deployed({});
    world.spec.progressDeadlineSeconds = 60;
    world.broken.add(GREEN);
    world.setImage('green');
    world.settle();
    assert.equal(world.status?.phase, 'Progressing');
    world.now += 61_000;
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    assert.match(world.status?.message ?? '', /ProgressDeadlineExceeded/);
    assert.equal(world.active(), BLUE);
    world.assertNeverUnready();
  });
});

void describe('blue-green: progressDeadlineAbort', () => {
  void it('a missed deadline aborts: the preview goes back to the stable stack, the active never moved', () => {
    const world = deployed({ abortScaleDownDelaySeconds: 5 });
    world.spec.progressDeadlineSeconds = 30;
    world.spec.progressDeadlineAbort = true;
    world.broken.add(GREEN);
    world.setImage('green');
    world.settle();
    world.now += 31_000;
    world.settle();
    assert.equal(world.status?.abort, true);
    assert.equal(world.preview(), BLUE);
    assert.equal(world.active(), BLUE);
    assert.equal(world.status?.phase, 'Degraded');
    world.now += 5_000;
    world.settle();
    assert.equal(world.size(GREEN), 0);
  });
});

void describe('blue-green: sizes', () => {
  void it('previewReplicaCount: the preview runs that many pods; at promotion it grows to spec.replicas before the switch', () => {
    const world = deployed({ previewReplicaCount: 1, autoPromotionEnabled: false }, 4);
    world.setImage('green');
    world.settle();
    assert.equal(world.size(GREEN), 1);
    assert.equal(world.size(BLUE), 4);
    world.promote();
    const grow = world.reconcile();
    assert.equal(world.size(GREEN), 4);
    assert.equal(world.active(), BLUE, 'not switched while only 1 of 4 pods is available');
    assert.ok(!grow.services.some((s) => s.service === 'active'));
    assert.equal(world.status?.blueGreen?.scaleUpPreviewCheckPoint, true);
    world.settle();
    assert.equal(world.active(), GREEN);
    world.assertNeverUnready();
  });

  void it('scaleDownDelayRevisionLimit 0: the old ReplicaSet goes at once after the switch', () => {
    const world = deployed({ scaleDownDelayRevisionLimit: 0 });
    world.setImage('green');
    world.settle();
    assert.equal(world.active(), GREEN);
    assert.equal(world.size(BLUE), 0);
  });
});

void describe('blue-green: abort, retry, rollback', () => {
  void it('abort: active stays, preview back to stable, new stack scaled down after abortScaleDownDelaySeconds; retry runs it again', () => {
    const world = deployed({ autoPromotionEnabled: false, abortScaleDownDelaySeconds: 10 });
    world.setImage('green');
    world.settle();
    world.status = { ...world.status!, abort: true };
    world.reconcile();
    assert.equal(world.status?.phase, 'Degraded');
    assert.match(world.status?.message ?? '', /RolloutAborted/);
    assert.equal(world.active(), BLUE);
    assert.equal(world.preview(), BLUE);
    assert.equal(world.size(GREEN), 3);
    world.now += 10_000;
    world.settle();
    assert.equal(world.size(GREEN), 0);

    world.status = { ...world.status!, abort: false };
    world.settle();
    assert.ok(world.events.includes('RolloutRetried'));
    assert.equal(world.preview(), GREEN);
    assert.equal(world.size(GREEN), 3);
    assert.equal(world.status?.phase, 'Paused');
    world.assertNeverUnready();
  });

  void it('abortScaleDownDelaySeconds 0: the aborted preview keeps its pods', () => {
    const world = deployed({ autoPromotionEnabled: false, abortScaleDownDelaySeconds: 0 });
    world.setImage('green');
    world.settle();
    world.status = { ...world.status!, abort: true };
    world.now += 3_600_000;
    world.settle();
    assert.equal(world.size(GREEN), 3);
  });

  void it('undo to the stable template during the preview: no new pods, preview back to stable, the preview stack goes', () => {
    const world = deployed({ autoPromotionEnabled: false });
    world.setImage('green');
    world.settle();
    world.setImage('blue');
    const plan = world.reconcile();
    assert.equal(plan.create, undefined);
    assert.equal(world.preview(), BLUE);
    assert.equal(world.size(GREEN), 0);
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
  });

  void it('undo right after a promotion, to the stack still in its scale-down delay: a fast rollback with no pause and no new pods', () => {
    const world = deployed({ autoPromotionEnabled: false, scaleDownDelaySeconds: 30 });
    world.setImage('green');
    world.settle();
    world.promote();
    world.settle();
    assert.equal(world.active(), GREEN);
    assert.ok(world.replicaSets.get(BLUE)?.scaleDownDeadline, 'blue waits out its delay');
    world.now += 5_000;
    world.setImage('blue');
    const plan = world.reconcile();
    assert.equal(plan.create, undefined);
    world.settle();
    assert.equal(world.active(), BLUE, 'switched back without a pause');
    assert.equal(world.status?.stableRS, BLUE);
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.replicaSets.get(BLUE)?.scaleDownDeadline, undefined, 'the deadline goes once blue serves again');
    assert.equal(world.size(BLUE), 3);
    world.assertNeverUnready();
  });

  void it('a later update of a stack that served before pauses as usual once its deadline is gone', () => {
    const world = deployed({ autoPromotionEnabled: false, scaleDownDelaySeconds: 30 });
    world.setImage('green');
    world.settle();
    world.promote();
    world.settle();
    world.now += 31_000;
    world.settle();
    assert.equal(world.size(BLUE), 0);
    world.setImage('blue');
    world.settle();
    assert.equal(world.status?.phase, 'Paused', 'blue had to be scaled up again: a normal update');
    assert.equal(world.active(), GREEN);
  });

  void it('promote --full skips the pause and the analysis', () => {
    const world = deployed({ autoPromotionEnabled: false, prePromotionAnalysis: { templates: [{ templateName: 't' }] } });
    world.setImage('green');
    world.settle();
    world.status = { ...world.status!, promoteFull: true };
    world.settle();
    assert.equal(world.active(), GREEN);
    assert.equal(world.status?.stableRS, GREEN);
    assert.equal(world.status?.promoteFull, false);
  });

  void it('spec.paused: the update goes no further than the preview', () => {
    const world = deployed({});
    world.spec.paused = true;
    world.setImage('green');
    world.settle();
    assert.equal(world.active(), BLUE);
    assert.equal(world.status?.phase, 'Paused');
    world.spec = { ...world.spec, paused: false };
    world.settle();
    assert.equal(world.active(), GREEN);
  });

  void it('a new revision during the preview: the preview moves to it, the intermediate stack goes at once', () => {
    const world = deployed({ autoPromotionEnabled: false });
    world.setImage('green');
    world.settle();
    world.setImage('yellow');
    world.settle();
    assert.equal(world.preview(), YELLOW);
    assert.equal(world.size(GREEN), 0);
    assert.equal(world.active(), BLUE);
    assert.equal(world.status?.phase, 'Paused');
    world.promote();
    world.settle();
    assert.equal(world.active(), YELLOW);
    world.assertNeverUnready();
  });
});

void describe('blue-green: analysis', () => {
  const analysis = { templates: [{ templateName: 'checks' }] };

  void it('prePromotionAnalysis runs once the preview is available; Failed aborts with the active untouched', () => {
    const world = deployed({ prePromotionAnalysis: analysis });
    world.setImage('green');
    world.settle();
    const run = world.run('prePromotion');
    assert.ok(run, 'a pre-promotion run was created');
    assert.equal(run.podHash, GREEN);
    assert.equal(world.active(), BLUE);
    run.phase = 'Running';
    world.now += 601_000;
    world.settle();
    assert.notEqual(world.status?.phase, 'Degraded', 'no progress deadline while the analysis measures');
    run.phase = 'Failed';
    run.message = 'metric "errors" assessed Failed';
    world.settle();
    assert.equal(world.status?.abort, true);
    assert.equal(world.status?.phase, 'Degraded');
    assert.match(world.status?.message ?? '', /RolloutAborted/);
    assert.equal(world.active(), BLUE);
    assert.equal(world.preview(), BLUE);
    assert.ok(world.events.includes('AnalysisRunFailed'));
  });

  void it('retry after a failed pre-promotion run: a fresh run, not a second abort', () => {
    const world = deployed({ prePromotionAnalysis: analysis });
    world.setImage('green');
    world.settle();
    world.run('prePromotion')!.phase = 'Failed';
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    world.status = { ...world.status!, abort: false };
    world.settle();
    assert.equal(world.status?.abort, false, 'the failed run of the aborted attempt does not abort the retry');
    const fresh = world.runs.filter((r) => r.type === 'prePromotion' && r.phase === '');
    assert.equal(fresh.length, 1);
    assert.match(fresh[0]!.name, /-pre\.1$/);
    fresh[0]!.phase = 'Successful';
    world.settle();
    assert.equal(world.active(), GREEN);
  });

  void it('prePromotionAnalysis Successful: then the pause, then the switch', () => {
    const world = deployed({ prePromotionAnalysis: analysis, autoPromotionEnabled: false });
    world.setImage('green');
    world.settle();
    assert.ok(!world.status?.pauseConditions?.length, 'no pause before the analysis passed');
    world.run('prePromotion')!.phase = 'Successful';
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    world.promote();
    world.settle();
    assert.equal(world.active(), GREEN);
  });

  void it('Inconclusive pauses; a promote counts as passed', () => {
    const world = deployed({ prePromotionAnalysis: analysis });
    world.setImage('green');
    world.settle();
    world.run('prePromotion')!.phase = 'Inconclusive';
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.equal(world.active(), BLUE);
    world.promote();
    world.settle();
    assert.equal(world.active(), GREEN);
  });

  void it('postPromotionAnalysis Failed: the active Service is switched back to the previous stack, which kept its pods', () => {
    const world = deployed({ postPromotionAnalysis: analysis });
    world.setImage('green');
    world.settle();
    assert.equal(world.active(), GREEN, 'switched before the post-promotion analysis');
    assert.equal(world.status?.stableRS, BLUE, 'not stable until the analysis passes');
    assert.equal(world.size(BLUE), 3);
    const run = world.run('postPromotion')!;
    run.phase = 'Error';
    world.settle();
    assert.equal(world.active(), BLUE);
    assert.equal(world.status?.phase, 'Degraded');
    world.assertNeverUnready();
  });

  void it('postPromotionAnalysis Successful: the new stack becomes stable', () => {
    const world = deployed({ postPromotionAnalysis: analysis });
    world.setImage('green');
    world.settle();
    world.run('postPromotion')!.phase = 'Successful';
    world.settle();
    assert.equal(world.status?.stableRS, GREEN);
    assert.equal(world.status?.phase, 'Healthy');
  });

  void it('a restarted controller (status only) resumes without creating a second run or switching twice', () => {
    const world = deployed({ prePromotionAnalysis: analysis });
    world.setImage('green');
    world.settle();
    const before = world.runs.length;
    const again = world.plan();
    assert.equal(again.analysis?.create.length ?? 0, 0);
    assert.equal(again.services.length, 0);
    assert.equal(world.runs.length, before);
  });
});

void describe('blue-green: activeMetadata and previewMetadata', () => {
  void it('preview pods carry previewMetadata, active pods activeMetadata; at the switch the same pods move to activeMetadata', () => {
    const world = deployed({ autoPromotionEnabled: false, previewMetadata: { labels: { role: 'preview' } }, activeMetadata: { labels: { role: 'active' } } });
    assert.equal(world.replicaSets.get(BLUE)?.podMetadata?.labels?.role, 'active');
    world.setImage('green');
    const created = world.reconcile();
    assert.equal(created.create?.podMetadata?.labels?.role, 'preview');
    world.settle();
    world.promote();
    const switched = world.reconcile();
    assert.equal(world.active(), GREEN);
    const greenPods = (switched.podPatches ?? []).filter((p) => p.name.startsWith(`demo-${GREEN}-`));
    assert.equal(greenPods.length, 3, 'every running green pod is relabelled in place');
    assert.ok(greenPods.every((p) => p.labels.role === 'active'));
    assert.equal(world.replicaSets.get(GREEN)?.podMetadata?.labels?.role, 'active');
  });
});

void describe('blue-green: antiAffinity', () => {
  void it('the preview stack is created keeping off the nodes of the active stack', () => {
    const world = deployed({ antiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { weight: 50 } } });
    world.setImage('green');
    const created = world.reconcile();
    const affinity = JSON.stringify(created.create?.affinity ?? null);
    assert.match(affinity, /podAntiAffinity/);
    assert.ok(affinity.includes(BLUE), 'the term names the active stack');
    assert.ok(affinity.includes('"weight":50'));
  });
});

void describe('blue-green: restart', () => {
  void it('spec.restartAt deletes pods created before it, within maxUnavailable (1 of 3 at a time)', () => {
    const world = deployed({ maxUnavailable: 1 });
    const restartAt = new Date(world.now).toISOString();
    world.spec = { ...world.spec, restartAt };
    const created = new Date(world.now - 60_000).toISOString();
    const pods = ['a', 'b', 'c'].map((n) => ({ name: `demo-${BLUE}-${n}`, hash: BLUE, createdAt: created, ready: true, deleting: false }));
    const plan = planRollout({
      rollout: { name: 'demo', namespace: 'ns', uid: 'u1', generation: world.generation, spec: parsePlanSpec(world.spec), status: world.status },
      replicaSets: [...world.replicaSets.values()],
      pods,
      services: world.services,
      specIssues: [],
      notImplemented: [],
      router: { name: 'none', capabilities: replicaRatioCapabilities },
      trafficVerified: true,
      now: world.now,
    });
    assert.deepEqual(plan.deletePods, [`demo-${BLUE}-a`]);
    assert.deepEqual(plan.services, [], 'a restart does not move the Services');
  });
});

void describe('blue-green: Services', () => {
  void it('a missing Service and a selector the template labels do not match are spec issues naming the field', () => {
    const bg = { activeService: 'web', previewService: 'web-preview' };
    const found = blueGreenServices(bg, { app: 'demo' }, (name) => (name === 'web' ? { selector: { app: 'other' } } : undefined), 'ns');
    assert.deepEqual(found.services, {});
    assert.deepEqual(found.issues.map((i) => i.path), ['spec.strategy.blueGreen.activeService', 'spec.strategy.blueGreen.previewService']);
    assert.match(found.issues[0]!.message, /selects app=other/);
    assert.match(found.issues[0]!.fix, /spec.template.metadata.labels/);
    assert.match(found.issues[1]!.message, /not found/);
    const ok = blueGreenServices(bg, { app: 'demo' }, () => ({ selector: { app: 'demo', [HASH]: 'abc' } }), 'ns');
    assert.deepEqual(ok.issues, []);
  });
});
