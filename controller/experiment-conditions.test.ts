// status.conditions of an Experiment through its lifecycle, as Argo Rollouts writes them.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExperimentSpec, ExperimentStatus } from '../api/experiment.ts';
import { invalidSpecConditions, type ExperimentCondition } from './experiment-conditions.ts';
import { planExperiment, type ObservedTemplateRS } from './experiment-plan.ts';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const iso = (s: number): string => new Date(T0 + s * 1000).toISOString();

const SPEC: ExperimentSpec = {
  duration: '60s',
  progressDeadlineSeconds: 30,
  scaleDownDelaySeconds: 0,
  templates: [{ name: 'canary', replicas: 2, selector: { matchLabels: { role: 'canary' } }, template: { metadata: { labels: { role: 'canary' } }, spec: { containers: [{ name: 'web', image: 'web:2' }] } } }],
};

const rs = (available: number, replicas = 2): Map<string, ObservedTemplateRS> =>
  new Map([['canary', { name: 'demo-canary', replicas, statusReplicas: replicas, readyReplicas: available, availableReplicas: available, podTemplateHash: 'h1' }]]);

/** Feeds each planned status back, as the reconciler does. */
function driver(spec: ExperimentSpec = SPEC): { at: (s: number, sets: Map<string, ObservedTemplateRS>) => ExperimentStatus } {
  let status: ExperimentStatus | undefined;
  return {
    at: (s, replicaSets) => {
      status = planExperiment({ name: 'demo', spec, status, replicaSets, services: new Map(), runs: new Map(), analysisProblems: new Map(), now: T0 + s * 1000 }).status;
      return status;
    },
  };
}

const progressing = (status: ExperimentStatus): ExperimentCondition | undefined => status.conditions?.find((c) => c.type === 'Progressing');

void describe('Experiment status.conditions (Argo semantics)', () => {
  void it('Progressing True ReplicaSetUpdated while pods come up, lastUpdateTime moving with each change, lastTransitionTime kept', () => {
    const d = driver();
    d.at(0, new Map());
    const first = progressing(d.at(1, rs(0)))!;
    assert.deepEqual({ status: first.status, reason: first.reason, message: first.message }, { status: 'True', reason: 'ReplicaSetUpdated', message: 'Experiment "demo" is progressing.' });
    const later = progressing(d.at(5, rs(1)))!;
    assert.equal(later.reason, 'ReplicaSetUpdated');
    assert.equal(later.lastUpdateTime, iso(5));
    assert.equal(later.lastTransitionTime, first.lastTransitionTime, 'still True: no transition');
  });

  void it('Progressing True NewReplicaSetAvailable once every template runs, unchanged by later reconciles of a running experiment', () => {
    const d = driver();
    d.at(0, rs(0));
    d.at(3, rs(2)); // the counts changed: progress
    const running = progressing(d.at(4, rs(2)))!;
    assert.deepEqual({ status: running.status, reason: running.reason, message: running.message }, { status: 'True', reason: 'NewReplicaSetAvailable', message: 'Experiment "demo" is running.' });
    assert.deepEqual(progressing(d.at(30, rs(2))), running, 'nothing rewritten while it runs');
  });

  void it('Progressing False ExperimentCompleted when it ended and its ReplicaSets are scaled to 0', () => {
    const d = driver();
    d.at(0, rs(0));
    d.at(3, rs(2));
    d.at(4, rs(2));
    const ended = d.at(70, rs(2));
    assert.equal(ended.phase, 'Successful');
    assert.notEqual(progressing(ended)?.reason, 'ExperimentCompleted', 'pods still up: not completed yet');
    const done = progressing(d.at(72, rs(0, 0)))!;
    assert.deepEqual({ status: done.status, reason: done.reason, message: done.message }, { status: 'False', reason: 'ExperimentCompleted', message: 'Experiment "demo" has successfully ran and completed.' });
    assert.equal(done.lastTransitionTime, iso(72));
    assert.equal(d.at(80, rs(0, 0)).conditions?.length, 1, 'one condition per type');
  });

  void it('InvalidSpec True for a spec that does not validate, dropped by the next plan of a valid spec', () => {
    const invalid = invalidSpecConditions({ conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }] }, 'spec.templates[1].name: "canary" is used twice', iso(0));
    assert.deepEqual(invalid.map((c) => [c.type, c.status, c.reason, c.message]), [
      ['Progressing', 'True', 'ReplicaSetUpdated', undefined],
      ['InvalidSpec', 'True', 'InvalidSpec', 'spec.templates[1].name: "canary" is used twice'],
    ]);
    assert.deepEqual(invalidSpecConditions({ conditions: invalid }, 'spec.templates[1].name: "canary" is used twice', iso(9)), invalid, 'the same message: unchanged');
    const fixed = planExperiment({ name: 'demo', spec: SPEC, status: { conditions: invalid }, replicaSets: rs(0), services: new Map(), runs: new Map(), analysisProblems: new Map(), now: T0 }).status;
    assert.deepEqual(fixed.conditions?.map((c) => c.type), ['Progressing']);
  });
});
