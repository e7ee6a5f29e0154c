import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podTemplateHash } from '../api/hash.ts';
import { TemplateHashMemo } from './template-hash-memo.ts';

const template = (image: string): unknown => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image }] } });

void test('the hash of a generation is kept: a template changed without a new generation is not hashed again', () => {
  const memo = new TemplateHashMemo();
  const first = memo.hash('ns/web', { uid: 'u1', generation: 1 }, template('app:1'), 0);
  assert.equal(first, podTemplateHash(template('app:1')));
  // Only a cache could answer this: the same generation with another template keeps the first hash.
  assert.equal(memo.hash('ns/web', { uid: 'u1', generation: 1 }, template('app:2'), 0), first);
});

void test('a new generation, collisionCount or uid hashes again; one entry per Rollout, none after forget', () => {
  const memo = new TemplateHashMemo();
  memo.hash('ns/web', { uid: 'u1', generation: 1 }, template('app:1'), 0);
  assert.equal(memo.hash('ns/web', { uid: 'u1', generation: 2 }, template('app:2'), 0), podTemplateHash(template('app:2')));
  assert.equal(memo.hash('ns/web', { uid: 'u1', generation: 2 }, template('app:2'), 1), podTemplateHash(template('app:2'), 1));
  assert.equal(memo.hash('ns/web', { uid: 'u2', generation: 2 }, template('app:3'), 1), podTemplateHash(template('app:3'), 1));
  assert.equal(memo.size, 1, 'replaced, not added');
  memo.forget('ns/web');
  assert.equal(memo.size, 0);
});

void test('without a generation nothing is kept', () => {
  const memo = new TemplateHashMemo();
  memo.hash('ns/web', { uid: 'u1', generation: undefined }, template('app:1'), 0);
  assert.equal(memo.hash('ns/web', { uid: 'u1', generation: undefined }, template('app:2'), 0), podTemplateHash(template('app:2')));
  assert.equal(memo.size, 0);
});
