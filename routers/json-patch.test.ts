import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyJsonPatch, changes, diffJson, pointerSegment } from './json-patch.ts';

void describe('diffJson', () => {
  void it('writes nothing for equal documents', () => {
    const doc = { spec: { http: [{ name: 'a', route: [{ weight: 1 }] }] } };
    assert.deepEqual(diffJson(doc, structuredClone(doc)), []);
  });

  void it('replaces one weight, guarded by a test of the value it read', () => {
    const before = { spec: { http: [{ name: 'primary', route: [{ destination: { host: 'stable' }, weight: 100 }, { destination: { host: 'canary' }, weight: 0 }] }] } };
    const after = structuredClone(before);
    after.spec.http[0]!.route[0]!.weight = 80;
    after.spec.http[0]!.route[1]!.weight = 20;
    assert.deepEqual(diffJson(before, after), [
      { op: 'test', path: '/spec/http/0/route/0/weight', value: 100 },
      { op: 'replace', path: '/spec/http/0/route/0/weight', value: 80 },
      { op: 'test', path: '/spec/http/0/route/1/weight', value: 0 },
      { op: 'replace', path: '/spec/http/0/route/1/weight', value: 20 },
    ]);
  });

  void it('inserts and removes named elements without touching the others', () => {
    const before = { http: [{ name: 'old-header' }, { name: 'user-a', timeout: '1s' }, { timeout: '2s' }] };
    const after = { http: [{ name: 'mirror' }, { name: 'header' }, { name: 'user-a', timeout: '1s' }, { timeout: '2s' }] };
    const ops = diffJson(before, after);
    assert.deepEqual(ops, [
      { op: 'test', path: '/http/0/name', value: 'old-header' },
      { op: 'remove', path: '/http/0' },
      { op: 'add', path: '/http/0', value: { name: 'mirror' } },
      { op: 'add', path: '/http/1', value: { name: 'header' } },
    ]);
    assert.deepEqual(applyJsonPatch(before, ops), after);
  });

  void it('escapes annotation keys and removes keys with a test', () => {
    const before = { metadata: { annotations: { 'rollway.dev/managed-routes': '{}', keep: 'x' } } };
    const after = { metadata: { annotations: { keep: 'x', 'a~b/c': 'y' } } };
    const ops = diffJson(before, after);
    assert.deepEqual(ops, [
      { op: 'test', path: '/metadata/annotations/rollway.dev~1managed-routes', value: '{}' },
      { op: 'remove', path: '/metadata/annotations/rollway.dev~1managed-routes' },
      { op: 'add', path: '/metadata/annotations/a~0b~1c', value: 'y' },
    ]);
    assert.deepEqual(applyJsonPatch(before, ops), after);
    assert.equal(pointerSegment('a/b~c'), 'a~1b~0c');
  });

  void it('replaces an array whose matched elements moved, guarded by the whole old array', () => {
    const before = { list: [{ name: 'a' }, { name: 'b' }] };
    const after = { list: [{ name: 'b' }, { name: 'a' }] };
    assert.deepEqual(diffJson(before, after), [
      { op: 'test', path: '/list', value: before.list },
      { op: 'replace', path: '/list', value: after.list },
    ]);
  });

  void it('round-trips random edits of nested documents', () => {
    const before = { a: [1, 2, { name: 'x', v: [1] }, { name: 'y' }], b: { c: 'd' } };
    const after = { a: [1, 3, { name: 'z' }, { name: 'x', v: [1, 2] }], b: { e: 1 } };
    assert.deepEqual(applyJsonPatch(before, diffJson(before, after)), after);
    assert.equal(changes([{ op: 'test', path: '/a', value: 1 }]), false);
  });
});
