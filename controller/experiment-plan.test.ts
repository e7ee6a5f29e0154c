import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExperimentSpec, ExperimentStatus } from '../api/experiment.ts';
import { planExperiment, resolveTemplateArgs, type ExperimentPlan, type ExperimentPlanInput, type ObservedRun, type ObservedTemplateRS } from './experiment-plan.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const sec = (n: number): number => T0 + n * 1000;

const template = (name: string, extra: Partial<ExperimentSpec['templates'][number]> = {}): ExperimentSpec['templates'][number] => ({
  name,
  selector: { matchLabels: { app: 'demo', role: name } },
  template: { metadata: { labels: { app: 'demo', role: name } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } },
  ...extra,
});

const SPEC: ExperimentSpec = {
  duration: '60s',
  progressDeadlineSeconds: 30,
  scaleDownDelaySeconds: 10,
  templates: [template('baseline'), template('canary', { replicas: 2, service: {} })],
  analyses: [{ name: 'check', templateName: 'http-ok', args: [{ name: 'hash', value: '{{templates.canary.podTemplateHash}}' }] }],
};

const rs = (template: string, available: number, replicas = available, extra: Partial<ObservedTemplateRS> = {}): [string, ObservedTemplateRS] => [
  template,
  { name: `demo-${template}`, replicas, statusReplicas: replicas, readyReplicas: available, availableReplicas: available, podTemplateHash: `h-${template}`, ...extra },
];

/** Drives the planner like the controller: each call feeds the previous status back. */
class Sim {
  status: ExperimentStatus | undefined;
  spec: ExperimentSpec;
  replicaSets = new Map<string, ObservedTemplateRS>();
  services = new Map<string, string>();
  runs = new Map<string, ObservedRun>();
  problems = new Map<string, string>();
  constructor(spec: ExperimentSpec = SPEC) {
    this.spec = structuredClone(spec);
  }
  plan(at: number): ExperimentPlan {
    const input: ExperimentPlanInput = { name: 'demo', spec: this.spec, status: this.status, replicaSets: this.replicaSets, services: this.services, runs: this.runs, analysisProblems: this.problems, now: at };
    const plan = planExperiment(input);
    this.status = plan.status;
    return plan;
  }
  /** all templates up with all pods available */
  allUp(): void {
    this.replicaSets = new Map([rs('baseline', 1), rs('canary', 2)]);
    this.services.set('canary', 'demo-canary');
  }
}

void describe('planExperiment: templates', () => {
  void it('creates one ReplicaSet per template at its replicas (default 1) and stays Pending until they are available', () => {
    const sim = new Sim();
    const plan = sim.plan(sec(0));
    assert.deepEqual(plan.createReplicaSets.map((c) => [c.name, c.replicas]), [['demo-baseline', 1], ['demo-canary', 2]]);
    assert.equal(plan.status.phase, 'Pending');
    assert.deepEqual(plan.status.templateStatuses?.map((t) => t.status), ['Progressing', 'Progressing']);
    assert.equal(plan.requeueAfterMs, 30_000, 'wakes at the progress deadline');
    assert.deepEqual(plan.createRuns, [], 'no analysis before the templates are available');
  });

  void it('creates the Service a template asks for once its ReplicaSet exists, named after the ReplicaSet', () => {
    const sim = new Sim();
    sim.plan(sec(0));
    sim.replicaSets = new Map([rs('baseline', 0, 1), rs('canary', 0, 2)]);
    const plan = sim.plan(sec(1));
    assert.deepEqual(plan.createServices.map((s) => [s.name, s.podTemplateHash]), [['demo-canary', 'h-canary']]);
    sim.services.set('canary', 'demo-canary');
    assert.equal(sim.plan(sec(2)).status.templateStatuses?.[1]?.serviceName, 'demo-canary');
  });

  void it('fails a template that is not available within progressDeadlineSeconds, naming it', () => {
    const sim = new Sim();
    sim.plan(sec(0));
    sim.replicaSets = new Map([rs('baseline', 1), rs('canary', 1, 2)]);
    assert.equal(sim.plan(sec(5)).status.phase, 'Pending');
    const plan = sim.plan(sec(36)); // 30 s after the last change (at 5 s)
    assert.equal(plan.status.phase, 'Failed');
    assert.match(plan.status.message ?? '', /Template 'canary' exceeded its progressDeadlineSeconds \(30\): 1 of 2 pods available/);
    assert.ok(plan.events.some((e) => e.type === 'Warning' && e.reason === 'ExperimentFailed'));
  });
});

void describe('planExperiment: duration and analyses', () => {
  void it('marks availableAt when all templates run, starts the analyses with resolved args, and wakes at the end of the duration', () => {
    const sim = new Sim();
    sim.plan(sec(0));
    sim.allUp();
    const plan = sim.plan(sec(10));
    assert.equal(plan.status.phase, 'Running');
    assert.equal(plan.status.availableAt, new Date(sec(10)).toISOString());
    assert.deepEqual(plan.createRuns.map((r) => [r.name, r.args]), [['demo-check', [{ name: 'hash', value: 'h-canary' }]]]);
    assert.equal(plan.requeueAfterMs, 60_000);
    sim.runs.set('check', { name: 'demo-check', phase: 'Running', terminated: false });
    assert.equal(sim.plan(sec(40)).requeueAfterMs, 30_000, 'the duration counts from availableAt, not from the last reconcile');
  });

  void it('ends Successful when the duration has passed, then terminates the analysis and scales down after the delay', () => {
    const sim = new Sim();
    sim.plan(sec(0));
    sim.allUp();
    sim.plan(sec(10));
    sim.runs.set('check', { name: 'demo-check', phase: 'Running', terminated: false });
    const done = sim.plan(sec(70));
    assert.equal(done.status.phase, 'Successful');
    assert.match(done.status.message ?? '', /ran for its duration \(60s\)/);
    const after = sim.plan(sec(71));
    assert.deepEqual(after.terminateRuns, ['demo-check']);
    assert.deepEqual(after.scaleReplicaSets, [
      { name: 'demo-baseline', replicas: 1, scaleDownDeadline: new Date(sec(81)).toISOString() },
      { name: 'demo-canary', replicas: 2, scaleDownDeadline: new Date(sec(81)).toISOString() },
    ]);
    assert.equal(after.requeueAfterMs, 10_000);
    sim.replicaSets = new Map([rs('baseline', 1, 1, { scaleDownDeadline: new Date(sec(81)).toISOString() }), rs('canary', 2, 2, { scaleDownDeadline: new Date(sec(81)).toISOString() })]);
    assert.deepEqual(sim.plan(sec(75)).scaleReplicaSets, [], 'nothing before the deadline');
    assert.deepEqual(sim.plan(sec(81)).scaleReplicaSets.map((s) => s.replicas), [0, 0]);
    sim.replicaSets = new Map([rs('baseline', 0, 0), rs('canary', 0, 0)]);
    const gone = sim.plan(sec(82));
    assert.deepEqual(gone.deleteServices, ['demo-canary']);
    assert.equal(gone.status.phase, 'Successful', 'a completed phase never changes');
  });

  for (const phase of ['Failed', 'Error', 'Inconclusive'] as const) {
    void it(`ends ${phase} as soon as an analysis ends ${phase}, naming the analysis`, () => {
      const sim = new Sim();
      sim.plan(sec(0));
      sim.allUp();
      sim.plan(sec(10));
      sim.runs.set('check', { name: 'demo-check', phase, message: 'metric "ok" assessed ' + phase, terminated: false });
      const plan = sim.plan(sec(20));
      assert.equal(plan.status.phase, phase);
      assert.equal(plan.status.message, `analysis 'check' ${phase}: metric "ok" assessed ${phase}`);
    });
  }

  void it('without a duration completes when every requiredForCompletion analysis is Successful', () => {
    const spec = structuredClone(SPEC);
    delete spec.duration;
    spec.analyses = [
      { name: 'check', templateName: 'http-ok', requiredForCompletion: true },
      { name: 'extra', templateName: 'http-ok' },
    ];
    const sim = new Sim(spec);
    sim.plan(sec(0));
    sim.allUp();
    const started = sim.plan(sec(10));
    assert.equal(started.requeueAfterMs, undefined, 'nothing timed to wait for');
    sim.runs.set('check', { name: 'demo-check', phase: 'Running', terminated: false });
    sim.runs.set('extra', { name: 'demo-extra', phase: 'Running', terminated: false });
    assert.equal(sim.plan(sec(500)).status.phase, 'Running');
    sim.runs.set('check', { name: 'demo-check', phase: 'Successful', terminated: false });
    const done = sim.plan(sec(600));
    assert.equal(done.status.phase, 'Successful');
    assert.match(done.status.message ?? '', /required analyses \(check\) completed/);
    assert.deepEqual(sim.plan(sec(601)).terminateRuns, ['demo-extra']);
  });

  void it('an analysis whose template is missing makes the experiment Error before anything runs', () => {
    const sim = new Sim();
    sim.problems.set('check', `AnalysisTemplate "http-ok" not found in namespace ns (spec.analyses[0].templateName)`);
    const plan = sim.plan(sec(0));
    assert.equal(plan.status.phase, 'Error');
    assert.match(plan.status.message ?? '', /analysis 'check' Error: AnalysisTemplate "http-ok" not found/);
  });
});

void describe('planExperiment: terminate', () => {
  void it('spec.terminate ends a running experiment Successful, terminates its runs and scales it down', () => {
    const sim = new Sim();
    sim.plan(sec(0));
    sim.allUp();
    sim.plan(sec(10));
    sim.runs.set('check', { name: 'demo-check', phase: 'Running', terminated: false });
    sim.spec.terminate = true;
    const plan = sim.plan(sec(20));
    assert.equal(plan.status.phase, 'Successful');
    assert.equal(plan.status.message, 'Experiment terminated');
    assert.deepEqual(plan.terminateRuns, ['demo-check']);
    assert.equal(plan.scaleReplicaSets.length, 2);
  });

  void it('scales down at once with scaleDownDelaySeconds 0', () => {
    const spec = { ...structuredClone(SPEC), scaleDownDelaySeconds: 0, terminate: true };
    const sim = new Sim(spec);
    sim.allUp();
    const plan = sim.plan(sec(0));
    assert.deepEqual(plan.scaleReplicaSets, [{ name: 'demo-baseline', replicas: 0 }, { name: 'demo-canary', replicas: 0 }]);
  });
});

void describe('resolveTemplateArgs', () => {
  const replicaSets = new Map([rs('canary', 1)]);
  void it('replaces the podTemplateHash and replicaset.name placeholders', () => {
    const args = [{ name: 'a', value: 'x-{{templates.canary.podTemplateHash}}' }, { name: 'b', value: '{{ templates.canary.replicaset.name }}' }, { name: 'c', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }];
    assert.deepEqual(resolveTemplateArgs(args, { name: 'demo', spec: SPEC, replicaSets }), {
      args: [{ name: 'a', value: 'x-h-canary' }, { name: 'b', value: 'demo-canary' }, { name: 'c', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
    });
  });
  void it('names an unknown template', () => {
    const result = resolveTemplateArgs([{ name: 'a', value: '{{templates.nope.podTemplateHash}}' }], { name: 'demo', spec: SPEC, replicaSets });
    assert.deepEqual(result, { error: 'arg "a" refers to template "nope", which the experiment does not have' });
  });
});
