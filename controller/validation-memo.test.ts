import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutObject } from '../api/views.ts';
import { ValidationMemo } from './validation-memo.ts';

const rollout = (generation: number, setWeight: unknown, status: Record<string, unknown> = {}): RolloutObject =>
  ({
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web', namespace: 'ns', uid: 'u1', generation },
    spec: {
      replicas: 2,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
      strategy: { canary: { steps: [{ setWeight }, { pause: {} }] } },
    },
    status,
  }) as unknown as RolloutObject;

void test('a valid spec is validated once per generation; its status on every call', () => {
  const memo = new ValidationMemo();
  const first = memo.validate('ns/web', rollout(1, 20));
  assert.equal(first.ok, true);
  assert.equal(memo.validate('ns/web', rollout(1, 20, { currentStepIndex: 1 })), first, 'same generation, new valid status: the kept verdict');
  const badStatus = memo.validate('ns/web', rollout(1, 20, { currentStepIndex: 'one' }));
  assert.equal(badStatus.ok, false, 'a status that does not parse is still reported');
});

void test('a new generation, or a new Rollout of the same name, is validated again', () => {
  const memo = new ValidationMemo();
  assert.equal(memo.validate('ns/web', rollout(1, 20)).ok, true);
  const changed = memo.validate('ns/web', rollout(2, 'twenty'));
  assert.equal(changed.ok, false, 'the new spec is invalid');
  assert.equal(memo.validate('ns/web', rollout(3, 30)).ok, true, 'fixed again');
  const recreated = { ...rollout(3, 'x'), metadata: { name: 'web', namespace: 'ns', uid: 'u2', generation: 3 } } as RolloutObject;
  assert.equal(memo.validate('ns/web', recreated).ok, false, 'another uid: not the kept verdict');
});
