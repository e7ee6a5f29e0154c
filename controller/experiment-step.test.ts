import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PlannedEvent, StatusView, StepView } from './model.ts';
import { buildExperiment } from './experiment-manifest.ts';
import { ExperimentStepPlanner, PAUSE_REASON_INCONCLUSIVE_EXPERIMENT, type ExperimentStepView, type ObservedExperiment } from './experiment-step.ts';

const NOW = Date.parse('2026-01-01T00:00:00Z');
const STEP: ExperimentStepView = {
  duration: '5m',
  templates: [
    { name: 'baseline', specRef: 'stable', weight: 5 },
    { name: 'canary', specRef: 'canary', weight: 5 },
  ],
  analyses: [{ name: 'compare', templateName: 'success-rate', args: [{ name: 'hash', valueFrom: { podTemplateHashValue: 'Latest' } }] }],
};
const STEPS: StepView[] = [{ setWeight: 0 }, { experiment: STEP }, { setWeight: 20 }];

function planner(experiments: ObservedExperiment[], status: StatusView = {}): { p: ExperimentStepPlanner; status: StatusView & { canary?: { currentExperiment?: string } }; events: PlannedEvent[] } {
  const events: PlannedEvent[] = [];
  const s = status as StatusView & { canary?: { currentExperiment?: string } };
  return { p: new ExperimentStepPlanner({ rolloutName: 'web', currentHash: 'abc', revision: 2, experiments, status: s, events, now: NOW }), status: s, events };
}

const observed = (phase: string, extra: Partial<ObservedExperiment> = {}): ObservedExperiment => ({
  name: 'web-abc-2-1',
  podHash: 'abc',
  stepIndex: 1,
  phase,
  terminated: false,
  createdAt: '2026-01-01T00:00:00Z',
  templates: [
    { name: 'baseline', serviceName: 'web-abc-2-1-baseline', podTemplateHash: 'b1' },
    { name: 'canary', serviceName: 'web-abc-2-1-canary', podTemplateHash: 'c1' },
  ],
  ...extra,
});
const atStep = { abort: false, inCanary: true, promoteFull: false, stepIndex: 1 };

void describe('the canary experiment step', () => {
  void it('creates the Experiment named <rollout>-<hash>-<revision>-<step>, records it and waits', () => {
    const { p, status, events } = planner([]);
    assert.equal(p.step(1, STEP, '2/3'), 'wait');
    assert.equal(status.canary?.currentExperiment, 'web-abc-2-1');
    const actions = p.finish(atStep);
    assert.deepEqual(actions?.create.map((c) => [c.name, c.podHash, c.revision, c.stepIndex]), [['web-abc-2-1', 'abc', 2, 1]]);
    assert.ok(events.some((e) => e.reason === 'ExperimentCreated'));
  });

  void it('does not create it twice while the cache has not shown it yet', () => {
    const { p } = planner([], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView);
    assert.equal(p.step(1, STEP, '2/3'), 'wait');
    assert.equal(p.finish(atStep), undefined);
  });

  void it('completes the step when the Experiment succeeds, and forgets it', () => {
    const { p, status, events } = planner([observed('Successful')], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView);
    assert.equal(p.step(1, STEP, '2/3'), 'done');
    assert.equal(status.canary?.currentExperiment, undefined);
    assert.ok(events.some((e) => e.reason === 'RolloutStepCompleted' && e.message.includes('web-abc-2-1')));
  });

  void it('a Failed or Error Experiment aborts the Rollout with its message', () => {
    for (const phase of ['Failed', 'Error']) {
      const { p, status } = planner([observed(phase, { message: 'template canary: pods crash-looping' })], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView);
      p.beforeAbort({ inCanary: true, retrying: false });
      assert.equal(status.abort, true, phase);
      assert.equal(p.abortMessage(), `: Experiment web-abc-2-1 ${phase}: template canary: pods crash-looping`);
      assert.equal(p.finish({ ...atStep, abort: true }), undefined, 'a completed Experiment is not terminated');
    }
  });

  void it('an Inconclusive Experiment pauses; a promote goes on past it', () => {
    const { p, status } = planner([observed('Inconclusive')], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView);
    assert.equal(p.step(1, STEP, '2/3'), 'wait');
    assert.deepEqual(status.pauseConditions?.map((c) => c.reason), [PAUSE_REASON_INCONCLUSIVE_EXPERIMENT]);
    assert.equal(status.controllerPause, true);
    // still paused on the next plan
    assert.equal(planner([observed('Inconclusive')], structuredClone(status)).p.step(1, STEP, '2/3'), 'wait');
    // `promote` removes the pause condition
    const promoted = planner([observed('Inconclusive')], { ...structuredClone(status), pauseConditions: [] });
    assert.equal(promoted.p.step(1, STEP, '2/3'), 'done');
    assert.equal(promoted.status.controllerPause, false);
  });

  void it('leaving the step terminates a running Experiment: promote --full, abort, a new revision', () => {
    for (const leave of [{ promoteFull: true }, { abort: true }, { stepIndex: 2 }]) {
      const { p } = planner([observed('Running')], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView);
      assert.deepEqual(p.finish({ ...atStep, ...leave })?.terminate, ['web-abc-2-1'], JSON.stringify(leave));
    }
    const newRevision = new ExperimentStepPlanner({ rolloutName: 'web', currentHash: 'def', revision: 3, experiments: [observed('Running')], status: {}, events: [], now: NOW });
    newRevision.beforeAbort({ inCanary: true, retrying: false });
    assert.deepEqual(newRevision.finish(atStep)?.terminate, ['web-abc-2-1']);
  });

  void it('keeps waiting at the step without terminating its Experiment', () => {
    const { p } = planner([observed('Running')], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView);
    assert.equal(p.step(1, STEP, '2/3'), 'wait');
    assert.equal(p.finish(atStep), undefined);
  });

  void it('a retry after a failed attempt creates a new Experiment', () => {
    const { p } = planner([observed('Failed', { message: 'x' })]);
    p.beforeAbort({ inCanary: true, retrying: true });
    p.step(1, STEP, '2/3');
    assert.deepEqual(p.finish(atStep)?.create.map((c) => c.name), ['web-abc-2-1.1']);
  });

  void it('sends the weighted templates their share only while the Experiment runs', () => {
    const running = planner([observed('Running')], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView).p;
    assert.deepEqual(running.extraDestinations(STEPS, 1, true, false), [
      { service: 'web-abc-2-1-baseline', podTemplateHash: 'b1', weight: 5 },
      { service: 'web-abc-2-1-canary', podTemplateHash: 'c1', weight: 5 },
    ]);
    assert.deepEqual(running.extraDestinations(STEPS, 2, true, false), [], 'past the step');
    assert.deepEqual(running.extraDestinations(STEPS, 1, true, true), [], 'aborted');
    const pending = planner([observed('Pending', { templates: [] })], { canary: { currentExperiment: 'web-abc-2-1' } } as StatusView).p;
    assert.deepEqual(pending.extraDestinations(STEPS, 1, true, false), [], 'before its Services exist');
  });

  void it('deletes completed Experiments beyond the history limits', () => {
    const old = [1, 2, 3].map((n) => observed('Successful', { name: `web-old-${n}`, podHash: 'old', createdAt: `2025-12-0${n}T00:00:00Z` }));
    const { p } = planner(old);
    assert.deepEqual(p.finish({ ...atStep, successfulLimit: 1 })?.delete, ['web-old-2', 'web-old-1']);
  });
});

void describe('the Experiment a step creates', () => {
  const rs = (hash: string, image: string) => ({
    template: { metadata: { labels: { app: 'web', 'rollouts-pod-template-hash': hash } }, spec: { containers: [{ name: 'web', image }] } },
    selector: { matchLabels: { app: 'web', 'rollouts-pod-template-hash': hash } },
    minReadySeconds: 3,
  });
  const sources = { rollout: { name: 'web', uid: 'uid-1', namespace: 'shop', object: { metadata: { name: 'web' } } }, stableHash: 'old', stable: rs('old', 'web:1'), canary: rs('abc', 'web:2'), progressDeadlineSeconds: 120 };
  const create = { name: 'web-abc-2-1', podHash: 'abc', revision: 2, stepIndex: 1, step: { ...STEP, templates: [{ ...STEP.templates[0]!, metadata: { labels: { role: 'baseline' } } }, { name: 'canary', specRef: 'canary', replicas: 2 }] } };

  void it('runs each template with the pod template its specRef names, owned by the Rollout', () => {
    const built = buildExperiment(create, sources);
    assert.ok(!('missing' in built));
    assert.equal(built.metadata.name, 'web-abc-2-1');
    assert.equal(built.metadata.labels['rollouts-pod-template-hash'], 'abc');
    assert.deepEqual(built.metadata.ownerReferences, [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: 'web', uid: 'uid-1', controller: true, blockOwnerDeletion: true }]);
    const templates = built.spec.templates as { name: string; replicas?: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: { containers: { image: string }[] } }; service?: unknown; minReadySeconds?: number }[];
    assert.equal(templates[0]!.template.spec.containers[0]!.image, 'web:1');
    assert.equal(templates[1]!.template.spec.containers[0]!.image, 'web:2');
    assert.deepEqual(templates[0]!.template.metadata.labels, { app: 'web', role: 'baseline' }, "the Rollout's hash label is not copied; the step's labels are added");
    assert.deepEqual(templates[0]!.selector.matchLabels, { app: 'web', role: 'baseline' });
    assert.deepEqual(templates[0]!.service, {}, 'a weighted template gets a Service');
    assert.equal(templates[1]!.service, undefined);
    assert.equal(templates[1]!.replicas, 2);
    assert.equal(templates[0]!.minReadySeconds, 3);
    assert.deepEqual(built.spec.analyses, [{ name: 'compare', templateName: 'success-rate', args: [{ name: 'hash', value: 'abc' }] }]);
    assert.equal(built.spec.duration, '5m');
    assert.equal(built.spec.progressDeadlineSeconds, 120);
  });

  void it('says which ReplicaSet it still lacks', () => {
    assert.deepEqual(buildExperiment(create, { ...sources, canary: undefined }), { missing: 'canary' });
  });
});
