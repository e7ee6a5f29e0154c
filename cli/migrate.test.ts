// The pure part of rollway migrate: the Rollout each side gets, and owner references re-pointed.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube/client.ts';
import { blockers, repoint, templateRefs, translateRollout, translateRun } from './migrate.ts';

const argo = {
  apiVersion: 'argoproj.io/v1alpha1',
  kind: 'Rollout',
  metadata: { name: 'web', namespace: 'shop', uid: 'argo-uid', resourceVersion: '7', annotations: { 'rollout.argoproj.io/revision': '2', 'kubectl.kubernetes.io/last-applied-configuration': '{}' } },
  spec: { replicas: 5, strategy: { canary: { trafficRouting: { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'web' } } } } } },
  status: { currentPodHash: '58cd967857', stableRS: '6b8f7c9d45', currentStepIndex: 1, currentStepHash: 'argo', collisionCount: 1, observedGeneration: '4', abort: false, pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-30T10:00:00Z' }] },
} as unknown as KubeObject;

void test('the Rollway Rollout gets the converted spec and Argo\'s status, without what only Argo\'s controller understands', () => {
  const { object, status } = translateRollout(argo, 'rollway');
  assert.equal(object.apiVersion, 'rollway.dev/v1alpha1');
  assert.deepEqual(object.metadata, { name: 'web', namespace: 'shop', annotations: { 'rollway.dev/revision': '2', 'rollway.dev/migrated-from': 'argo-rollouts' } });
  assert.deepEqual((object.spec as { strategy: { canary: { trafficRouting: unknown } } }).strategy.canary.trafficRouting, { gatewayAPI: { httpRoutes: [{ name: 'web' }] } });
  // Argo hashes its steps differently: carrying its step hash would restart the steps.
  assert.deepEqual(status, { currentPodHash: '58cd967857', stableRS: '6b8f7c9d45', currentStepIndex: 1, abort: false, pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-30T10:00:00Z' }] });
  const back = translateRollout({ ...(object as KubeObject), status } as KubeObject, 'argo');
  assert.equal(back.object.apiVersion, 'argoproj.io/v1alpha1');
  assert.deepEqual((back.object.metadata as { annotations: unknown }).annotations, { 'rollout.argoproj.io/revision': '2' });
  assert.equal(back.status.currentStepIndex, 1);
});

void test('only the owner being left is replaced; other owners and flags stay', () => {
  const to = { apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: 'web', uid: 'ours' };
  const refs = [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web', uid: 'argo-uid', controller: true, blockOwnerDeletion: true }, { apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'cm' }];
  assert.deepEqual(repoint(refs, 'argo-uid', to), [{ ...to, controller: true, blockOwnerDeletion: true }, refs[1]]);
  assert.equal(repoint(refs, 'nobody', to), undefined);
});

void test('the analysis templates a Rollout names are found wherever the spec names them, once each', () => {
  const spec = {
    strategy: {
      canary: {
        analysis: { templates: [{ templateName: 'rate' }] },
        steps: [{ analysis: { templates: [{ templateName: 'rate' }, { templateName: 'smoke', clusterScope: true }] } }, { setWeight: 20 }],
      },
    },
  };
  assert.deepEqual(templateRefs(spec), [{ name: 'rate', cluster: false }, { name: 'smoke', cluster: true }]);
  assert.deepEqual(templateRefs(undefined), []);
});

void test('a Rollout Rollway cannot run yet is not taken over: the reason names the field', () => {
  const rollout = (extra: Record<string, unknown>) => ({
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web', namespace: 'shop' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } }, strategy: { canary: { steps: [{ setWeight: 20 }], ...extra } } },
  });
  assert.deepEqual(blockers(rollout({}), {}), []);
  assert.match(blockers(rollout({ canaryService: 'c', stableService: 's', trafficRouting: { alb: { ingress: 'web', servicePort: 80 } } }), {}).join('\n'), /trafficRouting\.alb is not implemented/);
  assert.match(blockers(rollout({}), { canary: { currentExperiment: 'web-exp-1' } }).join('\n'), /Experiment web-exp-1 is running/);
  assert.match(blockers(rollout({ steps: [{ setWeight: 'x' }] }), {}).join('\n'), /Rollway would refuse its spec: spec\.strategy\.canary\.steps\[0\]\.setWeight/);
});

void test('an AnalysisRun moves with the labels each controller reads, and back', () => {
  const argoOwner = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web', uid: 'argo-uid', controller: true };
  const run = {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: { name: 'web-58cd967857-2-1', namespace: 'shop', labels: { 'rollout-type': 'Step', 'step-index': '1', 'rollouts-pod-template-hash': '58cd967857' }, annotations: { 'rollout.argoproj.io/revision': '2' }, ownerReferences: [argoOwner] },
    spec: { metrics: [] },
    status: { phase: 'Running' },
  } as unknown as KubeObject;
  const ours = translateRun(run, 'rollway', { apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: 'web', uid: 'our-uid' });
  const meta = ours.object.metadata as KubeObject['metadata'];
  assert.deepEqual(meta.labels, { 'rollway.dev/analysis-type': 'step', 'rollway.dev/step-index': '1', 'rollouts-pod-template-hash': '58cd967857', 'rollway.dev/rollout': 'web' });
  assert.equal(meta.ownerReferences?.[0]?.uid, 'our-uid');
  const back = translateRun({ ...(ours.object as KubeObject), status: ours.status }, 'argo', { ...argoOwner, uid: 'argo-uid-2' });
  const backMeta = back.object.metadata as KubeObject['metadata'];
  assert.deepEqual(backMeta.labels, { 'rollout-type': 'Step', 'step-index': '1', 'rollouts-pod-template-hash': '58cd967857' });
  assert.deepEqual(backMeta.annotations, { 'rollout.argoproj.io/revision': '2' });
  assert.equal(back.object.apiVersion, 'argoproj.io/v1alpha1');
  assert.deepEqual(back.status, { phase: 'Running' });
});
