import assert from 'node:assert/strict';
import { test } from 'node:test';
import { backoffDelay, jittered } from './backoff.ts';

const middle = (): number => 0.5; // no jitter
const low = (): number => 0;
const high = (): number => 0.999999;

void test('backoffDelay doubles from the base and stops at the cap', () => {
  const options = { baseMs: 50, maxMs: 1000 };
  assert.deepEqual(
    [0, 1, 2, 3, 4, 5, 6, 50, 5000].map((n) => backoffDelay(n, options, middle)),
    [50, 100, 200, 400, 800, 1000, 1000, 1000, 1000],
  );
});

void test('backoffDelay jitters by at most ±10% and never exceeds the cap', () => {
  const options = { baseMs: 100, maxMs: 10_000 };
  assert.equal(backoffDelay(0, options, low), 90);
  assert.equal(backoffDelay(0, options, high), 110);
  assert.equal(backoffDelay(20, options, high), 10_000);
  assert.equal(backoffDelay(20, options, low), 9000);
  for (let i = 0; i < 1000; i++) {
    const d = backoffDelay(3, options);
    assert.ok(d >= 720 && d <= 880, `${d} within ±10% of 800`);
  }
});

void test('backoffDelay treats a negative attempt as the first and a custom jitter fraction', () => {
  assert.equal(backoffDelay(-3, { baseMs: 200, maxMs: 30_000 }, middle), 200);
  assert.equal(backoffDelay(0, { baseMs: 200, maxMs: 30_000, jitter: 0.5 }, low), 100);
  assert.equal(jittered(1000, 0.2, high) > 1199, true);
});
