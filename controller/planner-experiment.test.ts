// The experiment step inside the whole canary plan: the Experiment is created at the step, its
// weighted templates get their share while it runs, the step completes when it succeeds (the
// shares go in the same traffic as the next step's weight), and a failed one aborts the Rollout.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RouterCapabilities } from '../routers/types.ts';
import type { ObservedExperiment } from './experiment-step.ts';
import { podTemplateHash } from '../api/hash.ts';
import type { ObservedReplicaSet, Plan, SpecView, StatusView } from './model.ts';
import { planRollout } from './planner.ts';
import { parsePlanSpec } from './plan-spec.ts';

const istio: RouterCapabilities = { weightResolutionPercent: 0.01, headerMatch: ['exact'], mirror: true, verification: false, replicaBased: false, weightedDestinations: true };
const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });

class World {
  spec: SpecView;
  status: StatusView | undefined;
  replicaSets = new Map<string, ObservedReplicaSet>();
  experiments: ObservedExperiment[] = [];
  now = Date.parse('2026-11-30T10:00:00Z');
  last!: Plan;

  constructor(spec: SpecView) {
    this.spec = spec;
  }

  reconcile(): Plan {
    const plan = planRollout({
      rollout: { name: 'web', namespace: 'ns', uid: 'u1', generation: 1, spec: parsePlanSpec(this.spec), status: this.status },
      replicaSets: [...this.replicaSets.values()],
      pods: [],
      services: {},
      specIssues: [],
      notImplemented: [],
      router: { name: 'istio', capabilities: istio },
      trafficVerified: true,
      now: this.now,
      experiments: this.experiments,
    });
    if (plan.create) this.replicaSets.set(plan.create.hash, { name: plan.create.name, hash: plan.create.hash, revision: plan.create.revision, replicas: plan.create.replicas, current: 0, ready: 0, available: 0, settled: true });
    for (const s of plan.scale) {
      const rs = [...this.replicaSets.values()].find((r) => r.name === s.name)!;
      rs.replicas = s.to;
    }
    for (const rs of this.replicaSets.values()) rs.current = rs.ready = rs.available = rs.replicas;
    for (const c of plan.experiments?.create ?? []) this.experiments.push({ name: c.name, podHash: c.podHash, stepIndex: c.stepIndex, phase: '', terminated: false, createdAt: '', templates: [] });
    for (const name of plan.experiments?.terminate ?? []) this.experiments.find((e) => e.name === name)!.terminated = true;
    this.status = structuredClone(plan.status);
    this.now += 1000;
    this.last = plan;
    return plan;
  }

  settle(): void {
    for (let i = 0; i < 10; i++) this.reconcile();
  }

  /** The Experiment's controller reports on it. */
  report(phase: string, message?: string): void {
    const e = this.experiments.at(-1)!;
    e.phase = phase;
    e.message = message;
    e.templates = [
      { name: 'baseline', serviceName: `${e.name}-baseline`, podTemplateHash: 'bbb' },
      { name: 'canary', serviceName: `${e.name}-canary`, podTemplateHash: 'ccc' },
    ];
  }
}

/** The experiment shares a plan sends, as [Service, weight] pairs. */
const shares = (plan: Plan): [string, number][] | undefined => plan.traffic?.extraDestinations?.map((d) => [d.service, d.weight]);

function world(): World {
  const w = new World({
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: template('web:1'),
    strategy: {
      canary: {
        canaryService: 'web-canary',
        stableService: 'web-stable',
        trafficRouting: { istio: { virtualService: { name: 'web' } } },
        steps: [
          { setWeight: 0 },
          { experiment: { duration: '5m', templates: [{ name: 'baseline', specRef: 'stable', weight: 5 }, { name: 'canary', specRef: 'canary', weight: 5 }] } },
          { setWeight: 50 },
          { pause: {} },
        ],
      },
    },
  });
  w.settle();
  w.spec = { ...w.spec, template: template('web:2') };
  return w;
}

void describe('planner: the canary experiment step', () => {
  void it('runs the Experiment, sends the weighted templates 5 + 5 while it runs, and moves on when it succeeds', () => {
    const w = world();
    w.settle();
    const hash = podTemplateHash(template('web:2'));
    assert.equal(w.status?.currentStepIndex, 1, 'waits at the experiment step');
    assert.equal(w.experiments.length, 1, 'one Experiment, created once');
    assert.match(w.experiments[0]!.name, new RegExp(`^web-${hash}-2-1$`));
    assert.equal(w.last.traffic?.extraDestinations, undefined, 'no share before it runs');

    w.report('Running');
    w.reconcile();
    assert.deepEqual(w.last.traffic?.weight, { canary: 0, total: 100 });
    assert.deepEqual(shares(w.last), [
      [`web-${hash}-2-1-baseline`, 5],
      [`web-${hash}-2-1-canary`, 5],
    ]);

    w.report('Successful');
    const next = w.reconcile();
    assert.equal(w.status?.currentStepIndex, 2, 'the experiment step is done');
    // The shares go in the same router write as the weight planned for the next step (here still
    // 0: the canary's pods for 50% are not available yet, and traffic never outruns them).
    assert.equal(next.traffic?.extraDestinations, undefined);
    assert.deepEqual(next.traffic?.weight, { canary: 0, total: 100 });
    assert.deepEqual(next.experiments?.terminate ?? [], [], 'a completed Experiment is not terminated');
    w.reconcile();
    assert.deepEqual(w.last.traffic?.weight, { canary: 50, total: 100 });
    assert.equal(w.status?.currentStepIndex, 3);
  });

  void it('no progress deadline while the Experiment runs (as while an analysis runs)', () => {
    const w = world();
    w.spec = { ...w.spec, progressDeadlineSeconds: 10 };
    w.settle();
    w.report('Running');
    w.now += 120_000;
    w.reconcile();
    assert.equal(w.status?.phase, 'Progressing');
    assert.equal(w.status?.currentStepIndex, 1);
  });

  void it('a failed Experiment aborts the Rollout with its message; a promote --full instead terminates a running one', () => {
    const w = world();
    w.settle();
    w.report('Failed', 'analysis compare: success-rate 0.71 below 0.95');
    w.reconcile();
    assert.equal(w.status?.abort, true);
    assert.equal(w.status?.phase, 'Degraded');
    assert.match(w.status?.message ?? '', /RolloutAborted: .*Experiment web-.*-2-1 Failed: analysis compare: success-rate 0.71 below 0.95/);
    assert.deepEqual(w.last.traffic?.weight, { canary: 0, total: 100 });
    assert.equal(w.last.traffic?.extraDestinations, undefined);

    const p = world();
    p.settle();
    p.report('Running');
    p.status = { ...p.status, promoteFull: true };
    p.reconcile();
    assert.deepEqual(p.last.experiments?.terminate, [p.experiments[0]!.name]);
    assert.equal(p.last.traffic?.extraDestinations, undefined);
  });
});
