import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicaRatioSplit, resolveIntOrPercent, routedCanaryReplicas, stepTowards, surgeLimits } from './replicas.ts';

void test('replica ratio: the examples of the design brief', () => {
  assert.deepEqual(replicaRatioSplit(5, 20), { canary: 1, stable: 4 });
  assert.deepEqual(replicaRatioSplit(10, 41), { canary: 4, stable: 6 });
  // 99% of 10 rounds to 10, but a stable pod must stay for 1–99%.
  assert.deepEqual(replicaRatioSplit(10, 99), { canary: 9, stable: 1 });
});

void test('replica ratio: at least one pod each side for 1–99% with two or more replicas', () => {
  assert.deepEqual(replicaRatioSplit(5, 1), { canary: 1, stable: 4 });
  assert.deepEqual(replicaRatioSplit(2, 50), { canary: 1, stable: 1 });
  assert.deepEqual(replicaRatioSplit(5, 0), { canary: 0, stable: 5 });
  assert.deepEqual(replicaRatioSplit(5, 100), { canary: 5, stable: 0 });
  assert.deepEqual(replicaRatioSplit(0, 50), { canary: 0, stable: 0 });
});

void test('with a router the canary gets ceil(replicas × weight), at least one above 0%', () => {
  assert.equal(routedCanaryReplicas(10, 1), 1);
  assert.equal(routedCanaryReplicas(10, 0.01), 1);
  assert.equal(routedCanaryReplicas(10, 20), 2);
  assert.equal(routedCanaryReplicas(10, 21), 3);
  assert.equal(routedCanaryReplicas(5, 20), 1);
  assert.equal(routedCanaryReplicas(10, 0), 0);
  assert.equal(routedCanaryReplicas(10, 100), 10);
});

void test('maxSurge rounds up and maxUnavailable rounds down, like Deployments', () => {
  assert.equal(resolveIntOrPercent('25%', 5, '25%', true), 2);
  assert.equal(resolveIntOrPercent('25%', 5, '25%', false), 1);
  assert.equal(resolveIntOrPercent(3, 5, '25%', true), 3);
  assert.deepEqual(surgeLimits(10, 0, 0), { maxSurge: 0, maxUnavailable: 1 }, 'never both 0');
});

void test('a step moves within maxSurge and maxUnavailable: R5 W20 from all-stable goes straight to 1/4', () => {
  const limits = surgeLimits(5, undefined, undefined);
  assert.deepEqual(stepTowards(5, limits, { spec: 0, available: 0 }, { spec: 5, available: 5 }, { canary: 1, stable: 4 }), { canary: 1, stable: 4 });
});

void test('R10 W99 with maxSurge 0: stable only shrinks as far as availability allows', () => {
  const limits = surgeLimits(10, 0, 1);
  const target = replicaRatioSplit(10, 99);
  assert.deepEqual(target, { canary: 9, stable: 1 });
  // No surge: the canary cannot grow until stable pods are gone; stable drops one (maxUnavailable).
  let now = stepTowards(10, limits, { spec: 0, available: 0 }, { spec: 10, available: 10 }, target);
  assert.deepEqual(now, { canary: 0, stable: 9 });
  now = stepTowards(10, limits, { spec: 0, available: 0 }, { spec: 9, available: 9 }, target);
  assert.deepEqual(now, { canary: 1, stable: 9 }, 'the freed slot goes to the canary');
  // Simulate until settled: pods become available between steps; never more than 10, never fewer than 9 available.
  let canary = { spec: 0, available: 0 };
  let stable = { spec: 10, available: 10 };
  for (let i = 0; i < 40; i++) {
    const next = stepTowards(10, limits, canary, stable, target);
    assert.ok(next.canary + next.stable <= 10, `total ${next.canary + next.stable} exceeds replicas + maxSurge`);
    assert.ok(Math.min(next.canary, canary.available) + Math.min(next.stable, stable.available) >= 9, 'availability stays ≥ replicas − maxUnavailable');
    canary = { spec: next.canary, available: next.canary };
    stable = { spec: next.stable, available: next.stable };
  }
  assert.deepEqual({ canary: canary.spec, stable: stable.spec }, target);
});

void test('abort without a router: stable grows back first, then the canary goes', () => {
  const limits = surgeLimits(5, undefined, undefined);
  const next = stepTowards(5, limits, { spec: 1, available: 1 }, { spec: 4, available: 4 }, { canary: 0, stable: 5 });
  assert.deepEqual(next, { canary: 0, stable: 5 });
});
