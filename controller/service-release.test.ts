import assert from 'node:assert/strict';
import { test } from 'node:test';
import { referencedServices, releasePatch, servicesToRelease } from './service-release.ts';

const marks = [
  { name: 'active', managedBy: 'web', resourceVersion: '1' },
  { name: 'preview', managedBy: 'web', resourceVersion: '2' },
  { name: 'theirs', managedBy: 'other', resourceVersion: '3' },
  { name: 'plain', managedBy: undefined, resourceVersion: '4' },
];

void test('a deleted Rollout releases every Service it pinned, and only those', () => {
  assert.deepEqual(servicesToRelease(marks, 'web', undefined).map((s) => s.name), ['active', 'preview']);
});

void test('a Service the spec no longer names is released; the ones it names are kept', () => {
  const referenced = referencedServices({ strategy: { blueGreen: { activeService: 'active' } } });
  assert.deepEqual(servicesToRelease(marks, 'web', referenced).map((s) => s.name), ['preview']);
  assert.deepEqual([...referencedServices({ strategy: { canary: { canaryService: 'c', stableService: 's' } } })], ['c', 's']);
});

void test('the release removes only our selector key and annotation, guarded by the version read', () => {
  assert.deepEqual(releasePatch('7'), {
    metadata: { resourceVersion: '7', annotations: { 'rollway.dev/managed-by-rollouts': null } },
    spec: { selector: { 'rollouts-pod-template-hash': null } },
  });
});
