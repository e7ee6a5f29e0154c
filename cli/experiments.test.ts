import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { experimentView, type ExperimentObject } from '../client/experiments.ts';
import type { KubeObject } from '../kube/client.ts';
import { renderExperiment, renderExperimentList } from './experiments.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const EXP: ExperimentObject = {
  metadata: { name: 'compare', namespace: 'shop', uid: 'u1', creationTimestamp: '2026-01-01T00:00:00Z', ownerReferences: [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: 'web', uid: 'r1', controller: true }] },
  spec: {
    duration: '15m',
    templates: [
      { name: 'baseline', selector: {}, template: {} },
      { name: 'canary', replicas: 2, selector: {}, template: {} },
    ],
    analyses: [{ name: 'latency', templateName: 'p99' }],
  },
  status: {
    phase: 'Running',
    availableAt: '2026-01-01T00:02:00Z',
    templateStatuses: [
      { name: 'baseline', status: 'Running', availableReplicas: 1 },
      { name: 'canary', status: 'Running', availableReplicas: 2, serviceName: 'compare-canary' },
    ],
    analysisRuns: [{ name: 'latency', analysisRun: 'compare-latency', phase: 'Running' }],
    conditions: [{ type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable', message: 'Experiment "compare" is running.' }],
  },
};
const RS: KubeObject[] = ['baseline', 'canary'].map((t) => ({
  metadata: { name: `compare-${t}`, labels: { 'rollouts-pod-template-hash': `h${t}` }, annotations: { 'rollway.dev/experiment-template-name': t }, ownerReferences: [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'Experiment', name: 'compare', uid: 'u1', controller: true }] },
}));
const POD = { metadata: { name: 'compare-canary-x1', labels: { 'rollouts-pod-template-hash': 'hcanary' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'compare-canary', uid: 'rs', controller: true }] }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };

void describe('experiment view and rendering', () => {
  void it('shows the time left from availableAt, the owning Rollout, each template with its ReplicaSet, Service and pods, and the analyses', () => {
    const view = experimentView(EXP, NOW, RS, [POD]);
    assert.equal(view.timeLeftMs, 7 * 60_000);
    assert.equal(view.rollout, 'web');
    const text = renderExperiment(view, NOW);
    assert.match(text, /Duration:\s+15m \(7m\S* left\)/);
    assert.match(text, /canary\s+◌ Running\s+2\/2\s+compare-canary\s+compare-canary/);
    assert.match(text, /└ compare-canary-x1/);
    assert.match(text, /latency\s+◌ Running\s+compare-latency/);
    assert.match(text, /^Progressing\s+True\s+NewReplicaSetAvailable\s+Experiment "compare" is running\.$/m);
  });

  void it('lists one row per experiment with its templates and analyses', () => {
    const text = renderExperimentList([experimentView(EXP, NOW)], NOW, false);
    assert.match(text.split('\n')[1] ?? '', /^compare\s+◌ Running\s+baseline Running, canary Running\s+latency Running\s+web\s+10m/);
  });
});
