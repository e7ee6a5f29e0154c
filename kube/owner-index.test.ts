import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from './client.ts';
import { OwnerIndex } from './owner-index.ts';

const pod = (name: string, owner: string | undefined, rv = '1'): KubeObject => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, ...(owner ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: owner, uid: owner, controller: true }] } : {}) },
});

void test('pods are found by their ReplicaSet, follow updates and deletions, and orphans are not indexed', () => {
  const index = new OwnerIndex<KubeObject>();
  index.update({ type: 'added', object: pod('a', 'rs1') });
  index.update({ type: 'added', object: pod('b', 'rs1') });
  index.update({ type: 'added', object: pod('c', undefined) });
  assert.deepEqual(index.ownedBy('rs1').map((p) => p.metadata.name).sort(), ['a', 'b']);

  const adopted = pod('b', 'rs2', '2');
  index.update({ type: 'updated', object: adopted, old: pod('b', 'rs1') });
  assert.deepEqual(index.ownedBy('rs1').map((p) => p.metadata.name), ['a']);
  assert.equal(index.ownedBy('rs2')[0], adopted, 'the newest state is kept');

  index.update({ type: 'deleted', object: pod('a', 'rs1') });
  assert.deepEqual(index.ownedBy('rs1'), []);
  assert.deepEqual(index.ownedBy(undefined), []);
});
