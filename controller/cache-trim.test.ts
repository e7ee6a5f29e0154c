import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { LAST_APPLIED_ANNOTATION, trimPod, trimRollout, trimService } from './cache-trim.ts';
import type { KubeObject } from '../kube/client.ts';

const applied = (object: KubeObject): KubeObject => ({
  ...object,
  metadata: { ...object.metadata, managedFields: [{ manager: 'kubectl' }], annotations: { ...object.metadata.annotations, [LAST_APPLIED_ANNOTATION]: JSON.stringify(object) } },
});

void describe('what the informer caches keep', () => {
  void it('a Rollout applied with kubectl: everything but managedFields and the last-applied copy, which is as large as the object', () => {
    const rollout: KubeObject = {
      apiVersion: 'rollway.dev/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'web', namespace: 'shop', uid: 'u1', resourceVersion: '7', generation: 3, annotations: { 'notifications.rollway.dev/subscribe.on-rollout-completed.slack': 'team' }, finalizers: ['f'] },
      spec: { replicas: 3, strategy: { canary: { steps: [{ setWeight: 20 }] } } },
      status: { phase: 'Healthy', currentStepIndex: 1, conditions: [{ type: 'Available', status: 'True' }] },
    };
    const kept = trimRollout(applied(rollout));
    assert.deepEqual(kept, rollout);
    assert.ok(JSON.stringify(kept).length < JSON.stringify(applied(rollout)).length / 2);
  });

  void it('leaves a Rollout without those fields as it is', () => {
    const rollout: KubeObject = { metadata: { name: 'web', namespace: 'shop' }, spec: { replicas: 1 } };
    assert.deepEqual(trimRollout(rollout), rollout);
  });

  void it('a Service: its selector and metadata, not its ports, addresses or status', () => {
    const service: KubeObject = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-canary', namespace: 'shop', annotations: { 'rollway.dev/managed-by-rollouts': 'web' } },
      spec: { selector: { app: 'web', 'rollouts-pod-template-hash': 'abc' }, ports: [{ port: 80 }], clusterIP: '10.0.0.1', clusterIPs: ['10.0.0.1'] },
      status: { loadBalancer: {} },
    };
    assert.deepEqual(trimService(applied(service)), {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'web-canary', namespace: 'shop', annotations: { 'rollway.dev/managed-by-rollouts': 'web' } },
      spec: { selector: { app: 'web', 'rollouts-pod-template-hash': 'abc' } },
    });
  });

  void it('a pod: owner, labels, annotations, deletion and its Ready condition only (readiness bounds the traffic)', () => {
    const pod: KubeObject = {
      metadata: {
        name: 'web-abc-1',
        namespace: 'shop',
        uid: 'p1',
        resourceVersion: '9',
        creationTimestamp: '2026-11-30T10:00:00Z',
        labels: { app: 'web', 'rollouts-pod-template-hash': 'abc' },
        annotations: { team: 'a' },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-abc', uid: 'r1', controller: true }],
        managedFields: [{}],
      },
      spec: { containers: [{ name: 'app', image: 'app:1', env: [{ name: 'X', value: 'y' }] }], nodeName: 'n1' },
      status: {
        phase: 'Running',
        podIP: '10.1.0.5',
        conditions: [
          { type: 'PodScheduled', status: 'True', lastTransitionTime: 't' },
          { type: 'Ready', status: 'False', reason: 'ContainersNotReady', lastTransitionTime: 't' },
          { type: 'ContainersReady', status: 'False' },
        ],
        containerStatuses: [{ name: 'app', ready: false, restartCount: 2 }],
      },
    };
    const kept = trimPod(pod);
    assert.deepEqual(kept.status, { conditions: [{ type: 'Ready', status: 'False' }] });
    assert.equal(kept.spec, undefined);
    assert.deepEqual(kept.metadata.ownerReferences, pod.metadata.ownerReferences);
    assert.deepEqual(kept.metadata.labels, pod.metadata.labels);
    assert.deepEqual(kept.metadata.annotations, { team: 'a' });
    assert.equal(kept.metadata.managedFields, undefined);
  });

  void it('a pod that reports no Ready condition yet keeps none (it does not serve)', () => {
    const kept = trimPod({ metadata: { name: 'p', namespace: 'n' }, status: { phase: 'Pending' } });
    assert.deepEqual(kept.status, { conditions: [] });
  });
});
