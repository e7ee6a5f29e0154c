// The planner against a small simulated world: ReplicaSets whose pods become available on the
// next tick, a clock, and the Rollout's status carried from one plan to the next, exactly as the
// controller carries it through the API server.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { SpecIssue } from '../api/issues.ts';
import { replicaRatioCapabilities } from '../routers/replica-ratio/router.ts';
import type { RouterCapabilities } from '../routers/types.ts';
import { podTemplateHash, stepsHash } from '../api/hash.ts';
import type { ObservedReplicaSet, Plan, SpecView, StatusView, StepView } from './model.ts';
import { durationMs, effectiveWeight, planRollout, podTargets, resolveRevision, startPausesAt, type Draft, type Revision } from './planner.ts';
import { parsePlanSpec, type PlannedInput } from './plan-spec.ts';

const exactRouter: RouterCapabilities = { weightResolutionPercent: 0.01, headerMatch: ['exact', 'prefix', 'regex'], mirror: true, verification: false, replicaBased: false };

const walkthroughSteps = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 40 },
  { pause: { duration: 10 } },
  { setWeight: 60 },
  { pause: { duration: 10 } },
  { setWeight: 80 },
  { pause: { duration: 10 } },
];

function template(image: string) {
  return { metadata: { labels: { app: 'demo' } }, spec: { containers: [{ name: 'demo', image }] } };
}

class World {
  spec: SpecView;
  status: StatusView | undefined;
  replicaSets = new Map<string, ObservedReplicaSet>();
  services: Record<string, { name: string; selector: Record<string, string> }> = {};
  now = Date.parse('2026-11-26T10:00:00Z');
  generation = 1;
  router: RouterCapabilities;
  /** pods of these hashes never become available */
  broken = new Set<string>();
  specIssues: SpecIssue[] = [];
  trafficVerified = true;
  lastPlan: Plan | undefined;
  events: string[] = [];
  pods: { name: string; hash: string; createdAt: string; ready: boolean; deleting: boolean }[] = [];

  constructor(spec: SpecView, router: RouterCapabilities = replicaRatioCapabilities) {
    this.spec = spec;
    this.router = router;
  }

  plan(): Plan {
    const plan = planRollout({
      rollout: { name: 'demo', namespace: 'ns', uid: 'u1', generation: this.generation, spec: parsePlanSpec(this.spec), status: this.status },
      replicaSets: [...this.replicaSets.values()],
      pods: this.pods,
      services: this.services,
      specIssues: this.specIssues,
      notImplemented: [],
      router: { name: 'test', capabilities: this.router },
      trafficVerified: this.trafficVerified,
      now: this.now,
    });
    this.lastPlan = plan;
    return plan;
  }

  /** One reconcile, applied; then pods that were asked for become available. */
  reconcile(): Plan {
    const plan = this.plan();
    if (plan.create) {
      this.replicaSets.set(plan.create.hash, { name: plan.create.name, hash: plan.create.hash, revision: plan.create.revision, replicas: plan.create.replicas, current: 0, ready: 0, available: 0, settled: true });
    }
    for (const s of plan.scale) {
      const rs = [...this.replicaSets.values()].find((r) => r.name === s.name)!;
      rs.replicas = s.to;
      for (const [k, v] of Object.entries(s.annotations ?? {})) {
        if (k === 'rollway.dev/scale-down-deadline') rs.scaleDownDeadline = v ?? undefined;
        if (k === 'rollway.dev/revision' && v) rs.revision = Number(v);
      }
    }
    for (const name of plan.deleteReplicaSets) for (const [h, rs] of this.replicaSets) if (rs.name === name) this.replicaSets.delete(h);
    for (const change of plan.services) this.services[change.service]!.selector['rollouts-pod-template-hash'] = change.to;
    this.status = structuredClone(plan.status);
    this.events.push(...plan.events.map((e) => e.reason));
    for (const rs of this.replicaSets.values()) {
      rs.current = rs.replicas;
      rs.ready = this.broken.has(rs.hash) ? 0 : rs.replicas;
      rs.available = rs.ready;
    }
    return plan;
  }

  settle(maxRounds = 20): void {
    for (let i = 0; i < maxRounds; i++) {
      const before = JSON.stringify([this.status, [...this.replicaSets.values()]]);
      this.reconcile();
      if (JSON.stringify([this.status, [...this.replicaSets.values()]]) === before) return;
    }
  }

  sizes(): Record<string, number> {
    return Object.fromEntries([...this.replicaSets.values()].map((rs) => [rs.hash, rs.replicas]));
  }

  setImage(image: string): string {
    this.spec = { ...this.spec, template: template(image) };
    this.generation++;
    return podTemplateHash(this.spec.template);
  }
}

const walkthroughSpec = (): SpecView => ({
  replicas: 5,
  selector: { matchLabels: { app: 'demo' } },
  template: template('rollouts-demo:blue'),
  strategy: { canary: { steps: walkthroughSteps } },
});

const basicSpec = (replicas: number, steps: StepView[]): SpecView => ({
  replicas,
  selector: { matchLabels: { app: 'demo' } },
  template: template('v1'),
  strategy: { canary: { steps } },
});

const routedSpec = (canary: NonNullable<NonNullable<SpecView['strategy']>['canary']>): SpecView => ({
  replicas: 10,
  selector: { matchLabels: { app: 'demo' } },
  template: template('v1'),
  strategy: { canary: { canaryService: 'c', stableService: 's', ...canary } },
});

/** The first phase on its own: the input, the revision it resolves and what it wrote to the status. */
function phaseInput(spec: SpecView, replicaSets: ObservedReplicaSet[], router: RouterCapabilities, status?: StatusView): { input: PlannedInput; rev: Revision; draft: Draft } {
  const input: PlannedInput = {
    rollout: { name: 'demo', namespace: 'ns', uid: 'u1', generation: 1, spec: parsePlanSpec(spec), status },
    replicaSets,
    pods: [],
    services: {},
    specIssues: [],
    notImplemented: [],
    router: { name: 'test', capabilities: router },
    trafficVerified: true,
    now: Date.parse('2026-11-26T10:00:00Z'),
  };
  const draft: Draft = { status: structuredClone(status ?? {}), events: [], requeueAt: () => undefined };
  return { input, rev: resolveRevision(input, status ?? {}, draft), draft };
}

function routedWorld(spec: SpecView): World {
  const world = new World(spec, exactRouter);
  world.services = { c: { name: 'c', selector: { app: 'demo' } }, s: { name: 's', selector: { app: 'demo' } } };
  world.settle();
  return world;
}

void describe('phases 1–2, revision and step position: template changes, abort, retry, promote-full, pause, invalid specs', () => {
  void test('resolveRevision directly: a new template starts over at step 0 and clears pause, abort and promote-full; edited steps restart; same steps resume', () => {
    const spec = basicSpec(3, [{ setWeight: 50 }, { pause: {} }]);
    const old: ObservedReplicaSet = { name: 'demo-old', hash: 'old', revision: 4, replicas: 3, current: 3, ready: 3, available: 3, settled: true };
    const paused: StatusView = { stableRS: 'old', currentStepIndex: 1, pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-26T09:00:00Z' }], controllerPause: true, abort: true, abortedAt: '2026-11-26T09:00:00Z', promoteFull: true };

    const updated = phaseInput(spec, [old], replicaRatioCapabilities, { ...paused, currentPodHash: 'old', currentStepHash: 'x' });
    assert.deepEqual([updated.rev.templateChanged, updated.rev.stepIndex, updated.rev.revision, updated.rev.stableHash], [true, 0, 5, 'old']);
    assert.equal(updated.rev.currentHash, podTemplateHash(spec.template));
    const { status } = updated.draft;
    assert.deepEqual([status.pauseConditions, status.controllerPause, status.abort, status.abortedAt, status.promoteFull], [[], false, false, undefined, false]);
    assert.deepEqual(updated.draft.events.map((e) => e.message), ['Rollout updated to revision 5']);

    const current = podTemplateHash(spec.template);
    const edited = phaseInput(spec, [old], replicaRatioCapabilities, { ...paused, currentPodHash: current, currentStepHash: 'x' });
    assert.deepEqual([edited.rev.templateChanged, edited.rev.stepIndex, edited.draft.status.pauseConditions, edited.draft.status.abort], [false, 0, [], true], 'edited steps restart; an abort stays');
    const same = phaseInput(spec, [old], replicaRatioCapabilities, { ...paused, currentPodHash: current, currentStepHash: stepsHash(spec.strategy!.canary!.steps) });
    assert.deepEqual([same.rev.stepIndex, same.draft.status.pauseConditions?.length, same.draft.events], [1, 1, []], 'same template, same steps: resumes where it was');
  });

  void test('first deploy: no steps run, the first ReplicaSet is stable at full size, Healthy', () => {
    const world = new World(walkthroughSpec());
    const plan = world.reconcile();
    const blue = podTemplateHash(template('rollouts-demo:blue'));
    assert.equal(plan.create?.name, `demo-${blue}`);
    assert.equal(plan.create?.replicas, 5);
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, blue);
    assert.equal(world.status?.currentStepIndex, 8);
    assert.ok(!world.events.includes('RolloutStepCompleted'));
  });

  void test('retry clears the abort and runs the steps again from the first', () => {
    const world = new World(walkthroughSpec());
    world.settle();
    world.setImage('rollouts-demo:yellow');
    world.settle();
    world.status!.abort = true;
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    world.status!.abort = false; // kubectl rollway retry
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.equal(world.status?.currentStepIndex, 1);
  });

  void test('promote-full skips the remaining steps', () => {
    const world = new World(walkthroughSpec());
    world.settle();
    const yellow = world.setImage('rollouts-demo:yellow');
    world.settle();
    world.status!.promoteFull = true;
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, yellow);
  });

  void test('promote --full after an abort clears the abort and completes the update (as Argo does)', () => {
    const world = new World(walkthroughSpec());
    world.settle();
    const yellow = world.setImage('rollouts-demo:yellow');
    world.settle();
    world.status!.abort = true;
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    world.status!.promoteFull = true; // kubectl rollway promote --full
    world.settle();
    assert.equal(world.status?.abort, false);
    assert.equal(world.status?.abortedAt, undefined);
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, yellow);
    assert.equal(world.status?.promoteFull, false, 'reset once complete');
    assert.ok(!world.events.includes('RolloutRetried'), 'a full promotion, not a retry');
  });

  void test('spec.paused holds the rollout at its step', () => {
    const world = new World(walkthroughSpec());
    world.settle();
    world.spec = { ...world.spec, paused: true };
    world.setImage('rollouts-demo:yellow');
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.equal(world.status?.currentStepIndex, 0);
  });

  void test('an invalid spec is Degraded with InvalidSpec and changes nothing', () => {
    const world = new World(walkthroughSpec());
    world.specIssues = [{ path: 'spec.strategy.canary.steps[0].setWeight', message: 'must be between 0 and 100, got 120', fix: 'use a percentage' }];
    const plan = world.reconcile();
    assert.equal(plan.create, undefined);
    assert.equal(world.status?.phase, 'Degraded');
    const condition = world.status?.conditions?.find((c) => c.type === 'InvalidSpec');
    assert.match(condition?.message ?? '', /steps\[0\]\.setWeight/);
    assert.deepEqual(plan.events.map((e) => e.reason), ['InvalidSpec']);
    assert.deepEqual(world.plan().events, [], 'the Warning Event is not repeated while the spec stays the same');
  });

  void test('fields accepted but not implemented yet are reported in a NotImplemented condition, and the rollout still runs', () => {
    const world = new World(walkthroughSpec());
    const plan = planRollout({
      rollout: { name: 'demo', namespace: 'ns', uid: 'u1', generation: 1, spec: parsePlanSpec(world.spec), status: undefined },
      replicaSets: [],
      pods: [],
      services: {},
      specIssues: [],
      notImplemented: [{ path: 'spec.strategy.canary.antiAffinity', message: 'not implemented', fix: 'remove it' }],
      router: { name: 'replicaRatio', capabilities: replicaRatioCapabilities },
      trafficVerified: true,
      now: world.now,
    });
    const condition = plan.status.conditions?.find((c) => c.type === 'NotImplemented');
    assert.equal(condition?.status, 'True');
    assert.match(condition?.message ?? '', /spec\.strategy\.canary\.antiAffinity/);
    assert.ok(plan.create, 'the ReplicaSet is still created');
  });
});

void describe('phases 3 and 8, pod targets and ReplicaSet sizes: the replica arithmetic of Argo', () => {
  void test('podTargets directly: a header route gets a canary pod at weight 0; without a router an earlier canary with available pods holds the step', () => {
    const headerFirst = routedSpec({ minPodsPerReplicaSet: 2, steps: [{ setHeaderRoute: { name: 'h', match: [{ headerName: 'x', headerValue: { exact: 'y' } }] } }, { setWeight: 50 }] });
    const routed = phaseInput(headerFirst, [], exactRouter);
    const t = podTargets(routed.input, {}, routed.input.rollout.spec.strategy!.canary!, routed.rev);
    assert.equal(t.podsAt(0).canary, 0, 'weight 0 by itself asks for no canary pod');
    assert.equal(t.desiredCanaryAt(0), 2, 'the header route needs somewhere to go: minPodsPerReplicaSet pods');
    assert.deepEqual([t.desiredCanaryAt(1), t.podsAt(1).stable], [5, 10], 'with a router the stable stays at full size');

    const spec = basicSpec(3, [{ setWeight: 50 }]);
    const stable = podTemplateHash(spec.template);
    const rs = (hash: string, revision: number, replicas: number, available: number): ObservedReplicaSet => ({ name: `demo-${hash}`, hash, revision, replicas, current: replicas, ready: available, available, settled: true });
    const withEarlier = (available: number) => {
      const next = { ...spec, template: template('v3') };
      const { input, rev } = phaseInput(next, [rs(stable, 1, 2, 2), rs('earlier', 2, 1, available)], replicaRatioCapabilities, { stableRS: stable, currentPodHash: stable });
      return podTargets(input, {}, input.rollout.spec.strategy!.canary!, rev);
    };
    assert.deepEqual(withEarlier(1).podsAt(0), { canary: 2, stable: 2 }, '3 at 50% is 2/2 (the surge pod)');
    assert.equal(withEarlier(1).stableSettledAt(0), false, 'an earlier canary still serves');
    assert.equal(withEarlier(0).stableSettledAt(0), true);
  });

  void test('without a router the surge pod keeps stable pods: 3 at 50% is 2/2, 3 at 10% is 1/3, 1 at 50% keeps its stable pod', () => {
    for (const [replicas, weight, canary, stable] of [
      [3, 50, 2, 2],
      [3, 10, 1, 3],
      [1, 50, 1, 1],
    ] as const) {
      const world = new World(basicSpec(replicas, [{ setWeight: weight }, { pause: {} }]));
      world.settle();
      const v1 = world.status!.stableRS!;
      const v2 = world.setImage('v2');
      world.settle();
      assert.equal(world.status?.phase, 'Paused', `${replicas} at ${weight}%`);
      assert.deepEqual(world.sizes(), { [v1]: stable, [v2]: canary }, `${replicas} at ${weight}%`);
      assert.equal(world.status?.canary?.weights?.canary.weight, Math.round((canary / (canary + stable)) * 10000) / 100, 'the weight shown is the pod ratio');
    }
  });

  void test('without a router an update while paused keeps all 3 stable pods; the earlier canary makes room for the new one', () => {
    const world = new World(basicSpec(3, [{ setWeight: 20 }, { pause: {} }]));
    world.settle();
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 3, [v2]: 1 });
    const v3 = world.setImage('v3');
    for (let i = 0; i < 10; i++) {
      world.reconcile();
      assert.equal(world.sizes()[v1], 3, 'the stable keeps its 3 pods throughout');
      const total = Object.values(world.sizes()).reduce((a, b) => a + b, 0);
      assert.ok(total <= 4, `never more than replicas + maxSurge pods, got ${total}`);
    }
    assert.deepEqual(world.sizes(), { [v1]: 3, [v2]: 0, [v3]: 1 });
    assert.equal(world.status?.phase, 'Paused');
  });

  void test('without a router, an earlier canary shrinks within maxUnavailable instead of all at once', () => {
    const spec: SpecView = {
      replicas: 10,
      selector: { matchLabels: { app: 'demo' } },
      template: template('a'),
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
    };
    const world = new World(spec);
    world.settle();
    const b = world.setImage('b');
    world.settle();
    assert.equal(world.sizes()[b], 5);
    const c = world.setImage('c');
    world.broken.add(c);
    world.reconcile();
    const available = [...world.replicaSets.values()].reduce((n, rs) => n + Math.min(rs.available, rs.replicas), 0);
    assert.ok(available >= 8, `available pods fell to ${available}, below replicas − maxUnavailable (8)`);
    world.broken.delete(c);
    world.settle();
    assert.equal(world.sizes()[b], 0, 'the earlier canary is gone in the end');
    assert.equal(world.sizes()[c], 5);
  });

  void test('minPodsPerReplicaSet: with a router the canary gets at least that many pods once it has any', () => {
    const world = routedWorld(routedSpec({ minPodsPerReplicaSet: 2, steps: [{ pause: {} }, { setWeight: 5 }, { pause: {} }] }));
    const v2 = world.setImage('v2');
    world.settle();
    assert.equal(world.sizes()[v2], 0, 'weight 0: no canary pods at all');
    world.status!.pauseConditions = [];
    world.settle();
    assert.equal(world.sizes()[v2], 2, '5% of 10 is one pod, raised to minPodsPerReplicaSet');
    assert.equal(world.status?.canary?.weights?.canary.weight, 5);
  });

  void test('dynamicStableScale: the stable shrinks only after traffic has left it, and is gone at once on promotion', () => {
    const world = routedWorld(routedSpec({ dynamicStableScale: true, steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: {} }] }));
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    world.settle();
    assert.equal(world.status?.canary?.weights?.canary.weight, 20);
    assert.deepEqual(world.sizes(), { [v1]: 8, [v2]: 2 });
    world.status!.pauseConditions = [];
    // The reconcile that moves the weight to 60 still leaves the stable at 8: it serves 80% until then.
    const weightNow = (): number | undefined => world.status?.canary?.weights?.canary.weight;
    for (let i = 0; i < 10 && weightNow() !== 60; i++) {
      world.reconcile();
      assert.ok(world.sizes()[v1]! >= Math.ceil((10 * (world.status?.canary?.weights?.stable.weight ?? 100)) / 100), 'never fewer stable pods than its traffic needs');
    }
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 4, [v2]: 6 });
    world.status!.pauseConditions = [];
    world.settle();
    assert.equal(world.status?.stableRS, v2);
    assert.equal(world.sizes()[v1], 0, 'no scaleDownDelaySeconds: the old stable had already shrunk');
    assert.equal(world.status?.phase, 'Healthy');
  });

  void test('dynamicStableScale abort: the stable grows back first, traffic follows its available pods, then the canary goes', () => {
    const world = routedWorld(routedSpec({ dynamicStableScale: true, steps: [{ setWeight: 60 }, { pause: {} }] }));
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 4, [v2]: 6 });
    world.broken.add(v1); // the stable's new pods take a while: none of its pods counts as available
    world.status!.abort = true;
    world.reconcile();
    assert.equal(world.sizes()[v1], 10, 'the stable scales back up at once');
    assert.equal(world.lastPlan?.traffic?.weight.canary, 60, 'traffic stays on the canary while the stable cannot take it');
    assert.equal(world.sizes()[v2], 6, 'the canary keeps the pods its traffic needs');
    assert.equal(world.services.c!.selector['rollouts-pod-template-hash'], v2, 'canary Service still on the canary');
    world.broken.delete(v1);
    world.settle();
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0);
    assert.deepEqual(world.sizes(), { [v1]: 10, [v2]: 0 });
    assert.equal(world.services.c!.selector['rollouts-pod-template-hash'], v1);
    assert.equal(world.status?.phase, 'Degraded');
  });

  void test('dynamicStableScale abort with abortScaleDownDelaySeconds: the canary keeps all its pods until the stable is whole, then drains by the delay', () => {
    const world = routedWorld(routedSpec({ dynamicStableScale: true, abortScaleDownDelaySeconds: 10, steps: [{ setWeight: 60 }, { pause: {} }] }));
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    world.settle();
    world.broken.add(v1);
    world.status!.abort = true;
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 10, [v2]: 6 }, 'canary untouched while the stable cannot serve');
    assert.equal(world.replicaSets.get(v2)?.scaleDownDeadline, undefined, 'the delay has not started');
    world.broken.delete(v1);
    world.settle();
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0);
    assert.equal(world.sizes()[v2], 6, 'kept through abortScaleDownDelaySeconds');
    assert.ok(world.replicaSets.get(v2)?.scaleDownDeadline);
    world.now += 10_000;
    world.settle();
    assert.equal(world.sizes()[v2], 0);
  });
  // Argo documents 0 with a traffic router as "does not scale down" (the user keeps the aborted
  // canary to debug it); the next update replaces it.
  void test('abort with a router and abortScaleDownDelaySeconds 0: traffic back to stable, the aborted canary keeps its pods until the next update', () => {
    const world = routedWorld(routedSpec({ abortScaleDownDelaySeconds: 0, steps: [{ setWeight: 20 }, { pause: {} }] }));
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    world.settle();
    world.status!.abort = true;
    world.settle();
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0);
    assert.equal(world.sizes()[v1], 10);
    const kept = world.sizes()[v2];
    assert.ok((kept ?? 0) > 0, 'the aborted canary keeps its pods');
    assert.equal(world.replicaSets.get(v2)?.scaleDownDeadline, undefined, 'no scale-down deadline is set');
    world.now += 3_600_000;
    world.settle();
    assert.equal(world.sizes()[v2], kept, 'still there an hour later');
    const v3 = world.setImage('v3');
    world.settle();
    assert.equal(world.sizes()[v2], 0, 'the next update scales it down');
    assert.ok((world.sizes()[v3] ?? 0) > 0);
  });
});

void describe('phase 4, the step walk: weights, pauses, routes, and what a step waits for', () => {
  void test('the plan that ends a timed pause names its deadline (for the lateness metric); plans before it and a promoted pause do not', () => {
    const world = new World(walkthroughSpec());
    world.settle();
    world.setImage('rollouts-demo:yellow');
    world.settle();
    world.status!.pauseConditions = []; // promote the untimed pause
    world.settle();
    assert.equal(world.lastPlan?.timedPauseDeadline, undefined, 'the untimed pause ended by a promote has no deadline');
    const started = Date.parse(world.status!.pauseConditions![0]!.startTime);
    world.now = started + 9_999;
    assert.equal(world.plan().timedPauseDeadline, undefined, 'still paused');
    world.now = started + 10_250;
    assert.equal(world.plan().timedPauseDeadline, started + 10_000);
  });

  void test('the walkthrough: update pauses at 1/4, promote runs the rest unattended, abort returns to stable, going back is instant', () => {
    const world = new World(walkthroughSpec());
    world.settle();
    const blue = world.status!.stableRS!;

    const yellow = world.setImage('rollouts-demo:yellow');
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.equal(world.status?.currentStepIndex, 1);
    assert.deepEqual(world.sizes(), { [blue]: 4, [yellow]: 1 });
    assert.equal(world.replicaSets.get(yellow)?.revision, 2);

    // promote: what the CLI does, remove the pause condition
    world.status!.pauseConditions = [];
    world.settle();
    assert.equal(world.status?.currentStepIndex, 3, 'stops in the timed pause after setWeight 40');
    assert.deepEqual(world.sizes(), { [blue]: 3, [yellow]: 2 });
    assert.equal(world.lastPlan?.requeueAfterMs, 10_000, 'wakes up exactly when the pause ends');
    for (let i = 0; i < 3; i++) {
      world.now += 10_000;
      world.settle();
    }
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.status?.stableRS, yellow);
    assert.deepEqual(world.sizes(), { [blue]: 0, [yellow]: 5 });

    const red = world.setImage('rollouts-demo:red');
    world.settle();
    assert.equal(world.status?.phase, 'Paused');
    assert.deepEqual(world.sizes(), { [blue]: 0, [yellow]: 4, [red]: 1 });
    world.status!.abort = true; // kubectl rollway abort
    world.settle();
    assert.equal(world.status?.phase, 'Degraded');
    assert.match(world.status?.message ?? '', /RolloutAborted/);
    assert.deepEqual(world.sizes(), { [blue]: 0, [yellow]: 5, [red]: 0 });
    assert.ok(world.events.includes('RolloutAborted'));

    const eventsBefore = world.events.length;
    const back = world.setImage('rollouts-demo:yellow');
    assert.equal(back, yellow);
    const plan = world.reconcile();
    assert.equal(plan.create, undefined, 'no new ReplicaSet for a fast rollback');
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.ok(!world.events.slice(eventsBefore).includes('RolloutStepCompleted'), 'no steps on a fast rollback');
  });

  void test('durations and effective weights', () => {
    assert.equal(durationMs(10), 10_000);
    assert.equal(durationMs('10s'), 10_000);
    assert.equal(durationMs('1h30m'), 5_400_000);
    assert.equal(durationMs('ten'), undefined);
    assert.equal(effectiveWeight(walkthroughSteps, 0), 20);
    assert.equal(effectiveWeight(walkthroughSteps, 3), 40);
    assert.equal(effectiveWeight(walkthroughSteps, 8), 100);
    assert.equal(effectiveWeight([{ pause: {} }, { setWeight: 5 }], 0), 0);
  });

  void test('an unverified weight holds the step', () => {
    const spec: SpecView = {
      replicas: 2,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: { canary: { canaryService: 'c', stableService: 's', steps: [{ setWeight: 10 }, { pause: {} }] } },
    };
    const world = new World(spec, { ...exactRouter, verification: true });
    world.services = { c: { name: 'c', selector: {} }, s: { name: 's', selector: {} } };
    world.settle();
    world.setImage('v2');
    world.trafficVerified = false;
    world.settle();
    assert.equal(world.status?.currentStepIndex, 0);
    world.trafficVerified = true;
    world.settle();
    assert.equal(world.status?.currentStepIndex, 1);
  });

  void test('a pause that begins with a weight counts from when the weight was written, not when it was planned', () => {
    const spec: SpecView = {
      replicas: 2,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: { canary: { canaryService: 'c', stableService: 's', steps: [{ setWeight: 50 }, { pause: { duration: '2s' } }, { setWeight: 80 }] } },
    };
    const world = new World(spec, exactRouter);
    world.services = { c: { name: 'c', selector: { app: 'demo' } }, s: { name: 's', selector: { app: 'demo' } } };
    world.settle();
    world.setImage('v2');
    // Reconcile until a plan begins the pause; keep the status it started from.
    let prev = world.status;
    let plan = world.reconcile();
    for (let i = 0; i < 10 && !plan.status.pauseConditions?.length; i++) {
      prev = world.status;
      plan = world.reconcile();
    }
    assert.equal(plan.status.pauseConditions?.length, 1, 'the pause began');
    assert.equal(plan.timedPauseBegins, true, 'the plan says a timed pause begins (the controller waits for the watch to show its weight)');
    const planned = world.now;
    // As if the router's write of the 50% weight took 400 ms.
    const moved = startPausesAt(plan, prev, planned, planned + 400);
    assert.equal(moved.status.pauseConditions?.[0]?.startTime, new Date(planned + 400).toISOString(), 'the pause starts when the weight is in place');
    assert.equal(moved.requeueAfterMs, (plan.requeueAfterMs ?? 0) + 400, 'and the requeue moves with it');
    assert.equal(plan.status.pauseConditions?.[0]?.startTime, new Date(planned).toISOString(), 'the planned status is not mutated');
    assert.equal(startPausesAt(plan, plan.status, planned, planned + 400), plan, 'a pause that had already begun keeps its start');
    assert.equal(world.reconcile().timedPauseBegins, undefined, 'a plan during the pause does not begin it again');
  });

  void test('header and mirror routes: set by their steps, removed by a step without match, gone on completion', () => {
    const spec: SpecView = {
      replicas: 2,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: {
        canary: {
          canaryService: 'c',
          stableService: 's',
          steps: [
            { setWeight: 10 },
            { setHeaderRoute: { name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] } },
            { setMirrorRoute: { name: 'shadow', percentage: 30, match: [{ method: { exact: 'GET' } }] } },
            { pause: {} },
            { setHeaderRoute: { name: 'beta' } },
            { pause: {} },
          ],
        },
      },
    };
    const world = new World(spec, exactRouter);
    world.services = { c: { name: 'c', selector: {} }, s: { name: 's', selector: {} } };
    world.settle();
    world.setImage('v2');
    world.settle();
    assert.equal(world.status?.currentStepIndex, 3);
    assert.deepEqual(world.lastPlan?.traffic?.headerRoutes, [{ name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] }]);
    assert.deepEqual(world.lastPlan?.traffic?.mirrorRoutes, [{ name: 'shadow', percentage: 30, match: [{ method: { exact: 'GET' } }] }]);
    world.status!.pauseConditions = [];
    world.settle();
    assert.equal(world.status?.currentStepIndex, 5);
    assert.deepEqual(world.lastPlan?.traffic?.headerRoutes, [], 'removed by the step without match');
    assert.equal(world.lastPlan?.traffic?.mirrorRoutes.length, 1);
    world.status!.abort = true;
    world.settle();
    assert.deepEqual(world.lastPlan?.traffic?.mirrorRoutes, [], 'abort removes every managed route');
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0);
  });

  void test('a header route waits for a canary pod to serve it, and gets one even at weight 0', () => {
    const spec: SpecView = {
      replicas: 4,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: {
        canary: {
          canaryService: 'c',
          stableService: 's',
          steps: [{ setHeaderRoute: { name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] } }, { pause: {} }],
        },
      },
    };
    const world = new World(spec, exactRouter);
    world.services = { c: { name: 'c', selector: {} }, s: { name: 's', selector: {} } };
    world.settle();
    const v2 = world.setImage('v2');
    world.broken.add(v2);
    world.settle();
    assert.equal(world.sizes()[v2], 1, 'one canary pod for the header route');
    assert.deepEqual(world.lastPlan?.traffic?.headerRoutes, [], 'no route to a canary that cannot serve');
    assert.equal(world.status?.currentStepIndex, 0);
    world.broken.delete(v2);
    world.settle();
    assert.equal(world.lastPlan?.traffic?.headerRoutes.length, 1);
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0, 'no weighted traffic: only the header route');
    assert.equal(world.status?.currentStepIndex, 1);
  });

  void test('a step combining setCanaryScale with a header route completes once both are in place', () => {
    const world = routedWorld(
      routedSpec({
        steps: [{ setCanaryScale: { replicas: 3 }, setHeaderRoute: { name: 'beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }] } }, { pause: {} }],
      }),
    );
    const v2 = world.setImage('v2');
    world.broken.add(v2);
    world.settle();
    assert.equal(world.status?.currentStepIndex, 0, 'waits for the 3 canary pods');
    world.broken.delete(v2);
    world.settle();
    assert.equal(world.sizes()[v2], 3);
    assert.equal(world.lastPlan?.traffic?.headerRoutes.length, 1);
    assert.equal(world.status?.currentStepIndex, 1);
    assert.ok(world.events.includes('RolloutStepCompleted'));
  });
});

void describe('phases 5, 6 and 11, traffic and promotion: the weight the router gets', () => {
  void test('with a router: stable stays at full size, the weight waits for available canary pods', () => {
    const spec: SpecView = {
      replicas: 10,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: { canary: { canaryService: 'demo-canary', stableService: 'demo-stable', steps: [{ setWeight: 0.5 }, { pause: {} }, { setWeight: 20 }, { pause: {} }] } },
    };
    const world = new World(spec, exactRouter);
    world.services = { 'demo-canary': { name: 'demo-canary', selector: { app: 'demo' } }, 'demo-stable': { name: 'demo-stable', selector: { app: 'demo' } } };
    world.settle();
    const v1 = world.status!.stableRS!;
    assert.equal(world.services['demo-stable']!.selector['rollouts-pod-template-hash'], v1);
    const v2 = world.setImage('v2');
    world.broken.add(v2);
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 10, [v2]: 1 });
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0, 'no traffic to a canary with no available pods');
    assert.equal(world.status?.currentStepIndex, 0);
    assert.equal(world.services['demo-canary']!.selector['rollouts-pod-template-hash'], v1, 'canary Service not pinned to pods that cannot serve');

    world.broken.delete(v2);
    world.settle();
    assert.deepEqual(world.lastPlan?.traffic?.weight, { canary: 1, total: 200 }, '0.5% as an exact ratio');
    assert.equal(world.status?.canary?.weights?.canary.weight, 0.5);
    assert.equal(world.status?.currentStepIndex, 1);
    assert.equal(world.services['demo-canary']!.selector['rollouts-pod-template-hash'], v2);

    world.status!.pauseConditions = [];
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 10, [v2]: 2 });
    assert.deepEqual(world.lastPlan?.traffic?.weight, { canary: 20, total: 100 });

    // abort: weight 0 at once, stable untouched, canary kept for abortScaleDownDelaySeconds
    world.status!.abort = true;
    world.reconcile();
    assert.deepEqual(world.lastPlan?.traffic?.weight, { canary: 0, total: 100 });
    assert.equal(world.services['demo-canary']!.selector['rollouts-pod-template-hash'], v1, 'canary Service back to stable');
    assert.deepEqual(world.sizes(), { [v1]: 10, [v2]: 2 });
    world.now += 30_000;
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 10, [v2]: 0 });
  });

  void test('with a router, promotion goes weight 100 → stable switch → weight 0, and the old ReplicaSet waits scaleDownDelaySeconds', () => {
    const spec: SpecView = {
      replicas: 4,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: { canary: { canaryService: 'c', stableService: 's', steps: [{ setWeight: 50 }] } },
    };
    const world = new World(spec, exactRouter);
    world.services = { c: { name: 'c', selector: { app: 'demo' } }, s: { name: 's', selector: { app: 'demo' } } };
    world.settle();
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    const weights: number[] = [];
    for (let i = 0; i < 10; i++) {
      world.reconcile();
      weights.push(world.lastPlan!.traffic!.weight.canary);
    }
    assert.equal(world.status?.stableRS, v2);
    // 0 (canary not available yet) → 50 → 100 → 0 on the all-new stable
    assert.deepEqual([...new Set(weights)], [0, 50, 100, 0].filter((w, i, a) => a.indexOf(w) === i));
    const hundredAt = weights.indexOf(100);
    assert.ok(hundredAt > 0 && weights[hundredAt + 1] === 0, `weights ${weights.join(',')}`);
    assert.equal(world.services.s!.selector['rollouts-pod-template-hash'], v2);
    assert.equal(world.sizes()[v1], 4, 'old stable kept during scaleDownDelaySeconds');
    assert.ok(world.replicaSets.get(v1)?.scaleDownDeadline, 'the deadline is recorded on the old ReplicaSet');
    world.now += 30_000;
    world.settle();
    assert.equal(world.sizes()[v1], 0);
    // Argo removes its scale-down-deadline annotation once the ReplicaSet is scaled down; so do we.
    assert.equal(world.replicaSets.get(v1)?.scaleDownDeadline, undefined, 'the spent deadline is removed');
    assert.equal(world.status?.phase, 'Healthy');
  });

  void test('maxTrafficWeight: setWeight counts out of it for pods and for the exact traffic ratio', () => {
    const spec: SpecView = {
      replicas: 10,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: { canary: { canaryService: 'c', stableService: 's', trafficRouting: { maxTrafficWeight: 3 }, steps: [{ setWeight: 1 }, { pause: {} }] } },
    };
    const world = new World(spec, exactRouter);
    world.services = { c: { name: 'c', selector: {} }, s: { name: 's', selector: {} } };
    world.settle();
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    world.settle();
    assert.deepEqual(world.sizes(), { [v1]: 10, [v2]: 4 }, 'a third of 10 pods, rounded up');
    assert.deepEqual(world.lastPlan?.traffic?.weight, { canary: 1, total: 3 }, 'exactly one third');
    assert.equal(world.status?.canary?.weights?.canary.weight, 33.33);
  });

  void test('Istio subset-level splitting without canary and stable Services still sends the weight and hashes to the router', () => {
    const spec: SpecView = {
      replicas: 4,
      selector: { matchLabels: { app: 'demo' } },
      template: template('v1'),
      strategy: { canary: { trafficRouting: { istio: { virtualService: { name: 'demo' }, destinationRule: { name: 'demo', canarySubsetName: 'canary', stableSubsetName: 'stable' } } }, steps: [{ setWeight: 25 }, { pause: {} }] } },
    };
    const world = new World(spec, exactRouter);
    world.settle();
    const v1 = world.status!.stableRS!;
    const v2 = world.setImage('v2');
    world.settle();
    assert.equal(world.status?.currentStepIndex, 1);
    assert.deepEqual(world.lastPlan?.traffic && { ...world.lastPlan.traffic, headerRoutes: undefined, mirrorRoutes: undefined }, {
      weight: { canary: 25, total: 100 },
      stableService: '',
      canaryService: '',
      stableHash: v1,
      canaryHash: v2,
      headerRoutes: undefined,
      mirrorRoutes: undefined,
    });
    assert.deepEqual(world.lastPlan?.services, [], 'no Service to point');
  });

  void test('a fast rollback keeps the abandoned canary through scaleDownDelaySeconds, as Argo does once fully promoted: the proxy may not have applied the weight change yet', () => {
    const spec: SpecView = {
      replicas: 4,
      selector: { matchLabels: { app: 'demo' } },
      template: template('a'),
      strategy: { canary: { canaryService: 'c', stableService: 's', scaleDownDelaySeconds: 30, steps: [{ setWeight: 50 }, { pause: {} }] } },
    };
    const world = new World(spec, exactRouter);
    world.services = { c: { name: 'c', selector: {} }, s: { name: 's', selector: {} } };
    world.settle();
    const a = world.status!.stableRS!;
    const b = world.setImage('b');
    world.settle();
    assert.equal(world.lastPlan?.traffic?.weight.canary, 50);
    assert.equal(world.setImage('a'), a, 'back to the stable template');
    world.settle();
    assert.equal(world.status?.phase, 'Healthy');
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0);
    assert.equal(world.sizes()[b], 2, 'the canary keeps its pods while the weight change reaches the proxy');
    assert.equal(world.replicaSets.get(b)?.scaleDownDeadline, new Date(world.now + 30_000).toISOString());
    world.now += 30_000;
    world.settle();
    assert.equal(world.sizes()[b], 0, 'scaled down once the delay is over');
  });

  void test('a new template mid-canary: the router keeps the old canary hash until the new pods are available, and the old canary goes at once', () => {
    const spec: SpecView = {
      replicas: 4,
      selector: { matchLabels: { app: 'demo' } },
      template: template('a'),
      strategy: { canary: { canaryService: 'c', stableService: 's', steps: [{ setWeight: 50 }, { pause: {} }] } },
    };
    const world = new World(spec, exactRouter);
    world.services = { c: { name: 'c', selector: {} }, s: { name: 's', selector: {} } };
    world.settle();
    const b = world.setImage('b');
    world.settle();
    assert.equal(world.lastPlan?.traffic?.canaryHash, b);
    const c = world.setImage('c');
    world.broken.add(c);
    world.reconcile();
    assert.equal(world.lastPlan?.traffic?.canaryHash, b, 'no subset relabelled to a hash without pods');
    assert.equal(world.lastPlan?.traffic?.weight.canary, 0);
    // Argo scales an intermediate canary down at once (no scale-down deadline is set on it): its
    // weight is already 0, so nothing is lost. Issue 10 item 6.
    assert.equal(world.sizes()[b], 0, 'the replaced canary does not wait for scaleDownDelaySeconds');
    assert.equal(world.replicaSets.get(b)?.scaleDownDeadline, undefined);
    world.broken.delete(c);
    world.settle();
    assert.equal(world.lastPlan?.traffic?.canaryHash, c);
  });
});

void describe('phase 12, status: counts, phase, progress deadline, restartAt', () => {
  void test('a settled rollout plans no change at all', () => {
    const world = new World(walkthroughSpec());
    world.settle();
    const before = structuredClone(world.status);
    const plan = world.plan();
    assert.deepEqual(plan.status, before);
    assert.deepEqual(plan.scale, []);
    assert.deepEqual(plan.events, []);
    assert.equal(plan.create, undefined);
  });

  void test('progress deadline: a canary that never becomes available turns Degraded, and aborts with progressDeadlineAbort', () => {
    const world = new World({ ...walkthroughSpec(), progressDeadlineSeconds: 60, progressDeadlineAbort: true });
    world.settle();
    const v2 = world.setImage('broken');
    world.broken.add(v2);
    world.settle();
    assert.equal(world.status?.phase, 'Progressing');
    world.now += 61_000;
    world.settle();
    assert.ok(world.events.includes('RolloutProgressDeadlineExceeded'));
    assert.equal(world.status?.abort, true);
    assert.equal(world.status?.phase, 'Degraded');
    assert.equal(world.sizes()[v2], 0);
  });

  void test('restartAt: pods older than it go oldest first, never more unavailable than maxUnavailable, then restartedAt is recorded', () => {
    const world = new World({ ...walkthroughSpec(), strategy: { canary: { steps: [], maxUnavailable: 2 } } });
    world.settle();
    const hash = world.status!.stableRS!;
    const pod = (name: string, createdAt: string, ready = true, deleting = false) => ({ name, hash, createdAt, ready, deleting });
    world.spec = { ...world.spec, restartAt: '2026-11-26T10:00:00Z' };
    world.pods = [pod('p3', '2026-11-26T09:03:00Z'), pod('p1', '2026-11-26T09:01:00Z'), pod('p5', '2026-11-26T09:05:00Z'), pod('p2', '2026-11-26T09:02:00Z'), pod('p4', '2026-11-26T09:04:00Z')];
    world.now = Date.parse('2026-11-26T09:59:00Z');
    let plan = world.plan();
    assert.deepEqual(plan.deletePods, [], 'nothing before restartAt');
    assert.equal(plan.requeueAfterMs, 60_000, 'wakes up at restartAt');
    world.now = Date.parse('2026-11-26T10:00:01Z');
    plan = world.plan();
    assert.deepEqual(plan.deletePods, ['p1', 'p2'], 'the two oldest (maxUnavailable 2)');
    world.pods = [pod('p1', '2026-11-26T09:01:00Z', false, true), pod('n1', '2026-11-26T10:00:02Z', false), ...world.pods.filter((p) => !['p1', 'p2'].includes(p.name))];
    assert.deepEqual(world.plan().deletePods, [], 'two pods unavailable: wait');
    world.pods = ['a', 'b', 'c', 'd', 'e'].map((n) => pod(n, '2026-11-26T10:01:00Z'));
    plan = world.plan();
    assert.equal(plan.status.restartedAt, '2026-11-26T10:00:00Z');
    assert.ok(plan.events.some((e) => e.reason === 'RolloutRestarted'));
  });
});
