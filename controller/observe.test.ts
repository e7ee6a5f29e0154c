// What the planner is told about a ReplicaSet: its available pods never exceed the pods that
// serve right now, because the ReplicaSet's status lags its pods and traffic follows the count.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { observeReplicaSet, type PodObject, type ReplicaSetObject } from './controller.ts';

const rs: ReplicaSetObject = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'web-abc', uid: 'rs1', labels: { 'rollouts-pod-template-hash': 'abc' }, annotations: { 'rollway.dev/revision': '2' } },
  spec: { replicas: 2 },
  status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 },
};
const pod = (name: string, ready: boolean, deleting = false): PodObject => ({
  metadata: { name, ...(deleting ? { deletionTimestamp: '2026-11-30T10:00:00Z' } : {}) },
  status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});

void test('available pods follow the pods themselves when the ReplicaSet status lags', () => {
  assert.equal(observeReplicaSet(rs, [pod('a', true), pod('b', true)]).available, 2);
  assert.equal(observeReplicaSet(rs, [pod('a', true), pod('b', false)]).available, 1, 'a pod that turned unready');
  assert.equal(observeReplicaSet(rs, [pod('a', true, true), pod('b', true, true)]).available, 0, 'pods being deleted serve nothing');
  assert.equal(observeReplicaSet(rs, []).available, 0, 'pods gone before the status says so');
  assert.equal(observeReplicaSet({ ...rs, status: { ...rs.status, availableReplicas: 1 } }, [pod('a', true), pod('b', true)]).available, 1, 'not yet past minReadySeconds');
  assert.equal(observeReplicaSet(rs).available, 2, 'no pod information: the status is all there is');
});
