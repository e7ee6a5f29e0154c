// The replica arithmetic against Argo Rollouts' own cases. Each expectation below is a case of the
// table tests in argo-rollouts utils/replicaset/canary_test.go (TestCalculateReplicaCountsForCanary,
// TestApproximateWeightedNewStableReplicaCounts, TestCalculateReplicaCountsForCanaryTrafficRouting*,
// TestTrafficWeightToReplicas), restated here as inputs and the counts Argo computes for them; the
// `argo:` note of each row names the case it restates. Rows marked `issue 10` are the
// user-visible cases of our issue, worked through Argo's rules by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  basicCanaryReplicas,
  dynamicAbortWeight,
  resolveIntOrPercent,
  routedCanaryReplicas,
  surgeLimits,
  weightToReplicas,
  weightedSplit,
  type ReplicaSetCounts,
} from './replicas.ts';

// [replicas, weight, maxSurge, canary, stable] — Argo's approximation table, row by row.
const SPLITS: [number, number, number, number, number][] = [
  [0, 0, 0, 0, 0], [0, 50, 0, 0, 0], [0, 100, 0, 0, 0],
  [0, 0, 1, 0, 0], [0, 50, 1, 0, 0], [0, 100, 1, 0, 0],
  [1, 0, 0, 0, 1], [1, 1, 0, 0, 1], [1, 49, 0, 0, 1], [1, 50, 0, 1, 0], [1, 99, 0, 1, 0], [1, 100, 0, 1, 0],
  [1, 0, 1, 0, 1], [1, 1, 1, 1, 1], [1, 49, 1, 1, 1], [1, 50, 1, 1, 1], [1, 99, 1, 1, 1], [1, 100, 1, 1, 0],
  [2, 0, 0, 0, 2], [2, 1, 0, 1, 1], [2, 50, 0, 1, 1], [2, 99, 0, 1, 1], [2, 100, 0, 2, 0],
  [2, 0, 1, 0, 2], [2, 1, 1, 1, 2], [2, 50, 1, 1, 1], [2, 99, 1, 2, 1], [2, 100, 1, 2, 0],
  [3, 10, 0, 1, 2], [3, 25, 0, 1, 2], [3, 33, 0, 1, 2], [3, 34, 0, 1, 2], [3, 49, 0, 1, 2], [3, 50, 0, 2, 1],
  [3, 10, 1, 1, 3], [3, 25, 1, 1, 3], [3, 33, 1, 1, 2], [3, 34, 1, 1, 2], [3, 49, 1, 2, 2], [3, 50, 1, 2, 2],
  [10, 0, 1, 0, 10], [10, 1, 0, 1, 9], [10, 14, 0, 1, 9], [10, 15, 0, 2, 8], [10, 16, 0, 2, 8], [10, 99, 0, 9, 1], [10, 100, 1, 10, 0],
  [10, 1, 1, 1, 10], [10, 18, 1, 2, 9], [10, 19, 1, 2, 9], [10, 20, 1, 2, 8], [10, 23, 1, 2, 8], [10, 24, 1, 3, 8],
  [10, 25, 1, 3, 8], [10, 99, 1, 10, 1],
];

void test('without a router the split closest to the weight, using one surge pod when allowed (Argo approximation table)', () => {
  for (const [replicas, weight, surge, canary, stable] of SPLITS) {
    assert.deepEqual(weightedSplit(replicas, weight, surge), { canary, stable }, `replicas ${replicas}, weight ${weight}, maxSurge ${surge}`);
  }
});

void test('issue 10: the surge pod keeps the stable side whole where the weight needs it', () => {
  // Default maxSurge is 25%, rounded up: 1 pod for 1 to 4 replicas.
  const surge = (replicas: number): number => surgeLimits(replicas, undefined, undefined).maxSurge;
  assert.deepEqual(weightedSplit(3, 50, surge(3)), { canary: 2, stable: 2 }, '3 at 50%: 2/2 (was 2/1)');
  assert.deepEqual(weightedSplit(3, 10, surge(3)), { canary: 1, stable: 3 }, '3 at 10%: 1/3 (was 1/2)');
  assert.deepEqual(weightedSplit(1, 50, surge(1)), { canary: 1, stable: 1 }, '1 at 50% keeps its only stable pod');
  assert.deepEqual(weightedSplit(3, 20, surge(3)), { canary: 1, stable: 3 }, '3 at 20%: 1/3');
  // The design brief's examples still hold.
  assert.deepEqual(weightedSplit(5, 20, surge(5)), { canary: 1, stable: 4 });
  assert.deepEqual(weightedSplit(10, 41, surge(10)), { canary: 4, stable: 6 });
  assert.deepEqual(weightedSplit(10, 99, 0), { canary: 9, stable: 1 });
});

void test('decimal weights: 0.5% of 10 is at least one canary pod, and a .5 tie picks the larger canary', () => {
  assert.deepEqual(weightedSplit(10, 0.5, 0), { canary: 1, stable: 9 });
  assert.deepEqual(weightedSplit(4, 12.5, 0), { canary: 1, stable: 3 }, '0.5 pods is a tie: round up');
  // setWeight 20 of maxTrafficWeight 60 is a third: one of 3 pods, not two (3 × 33.33…% is 1.0000000000000002)
  assert.deepEqual(weightedSplit(3, (20 * 100) / 60, 1), { canary: 1, stable: 2 });
});

interface BasicCase {
  argo: string;
  replicas: number;
  weight: number;
  maxSurge: number | string;
  maxUnavailable: number | string;
  stable: [spec: number, available: number];
  canary: [spec: number, available: number];
  older?: number;
  want: { canary: number; stable: number };
}

const rs = ([spec, available]: [number, number]): ReplicaSetCounts => ({ spec, available });

// Argo's TestCalculateReplicaCountsForCanary rows without a traffic router.
const BASIC: BasicCase[] = [
  { argo: 'Do not add extra RSs in scaleDownCount when .Spec.Replica < AvailableReplicas', replicas: 10, weight: 100, maxSurge: 3, maxUnavailable: 0, stable: [7, 8], canary: [6, 3], want: { canary: 6, stable: 7 } },
  { argo: 'Use max surge int to scale up canary', replicas: 10, weight: 20, maxSurge: 2, maxUnavailable: 0, stable: [10, 10], canary: [0, 0], want: { canary: 2, stable: 10 } },
  { argo: 'Use max surge percentage to scale up canary', replicas: 10, weight: 20, maxSurge: '20%', maxUnavailable: 0, stable: [10, 10], canary: [0, 0], want: { canary: 2, stable: 10 } },
  { argo: 'Scale down extra stable replicas', replicas: 10, weight: 20, maxSurge: '20%', maxUnavailable: 0, stable: [10, 10], canary: [2, 2], want: { canary: 2, stable: 8 } },
  { argo: 'Do not go past max surge', replicas: 10, weight: 30, maxSurge: 2, maxUnavailable: 0, stable: [10, 10], canary: [0, 0], want: { canary: 2, stable: 10 } },
  { argo: 'Use max unavailable int to scale down stableRS', replicas: 10, weight: 20, maxSurge: 0, maxUnavailable: 2, stable: [10, 10], canary: [0, 0], want: { canary: 0, stable: 8 } },
  { argo: 'Use max surge percentage to scale down stableRS', replicas: 10, weight: 20, maxSurge: 0, maxUnavailable: '20%', stable: [10, 10], canary: [0, 0], want: { canary: 0, stable: 8 } },
  { argo: 'Do not go past max unavailable', replicas: 10, weight: 30, maxSurge: 0, maxUnavailable: 2, stable: [10, 10], canary: [0, 0], want: { canary: 0, stable: 8 } },
  { argo: 'Use Max Surge and Max Unavailable', replicas: 10, weight: 50, maxSurge: 2, maxUnavailable: 1, stable: [10, 10], canary: [0, 0], want: { canary: 2, stable: 9 } },
  { argo: 'Scale canaryRS to zero on setWeight of 0%', replicas: 10, weight: 0, maxSurge: 1, maxUnavailable: 1, stable: [10, 10], canary: [1, 1], want: { canary: 0, stable: 10 } },
  { argo: 'Scale stable to zero on setWeight of 100%', replicas: 10, weight: 100, maxSurge: 1, maxUnavailable: 1, stable: [1, 1], canary: [10, 10], want: { canary: 10, stable: 0 } },
  { argo: 'Do not scale newRS down to zero on non-zero weight', replicas: 1, weight: 20, maxSurge: 1, maxUnavailable: 0, stable: [1, 1], canary: [0, 0], want: { canary: 1, stable: 1 } },
  { argo: 'Do not scale canaryRS down to zero on non-100 weight', replicas: 1, weight: 90, maxSurge: 1, maxUnavailable: 0, stable: [1, 1], canary: [0, 0], want: { canary: 1, stable: 1 } },
  { argo: 'Scale up Stable before newRS', replicas: 10, weight: 30, maxSurge: 1, maxUnavailable: 0, stable: [1, 1], canary: [0, 0], older: 3, want: { canary: 1, stable: 7 } },
  { argo: 'Scale down newRS and stable', replicas: 10, weight: 30, maxSurge: 0, maxUnavailable: 3, stable: [8, 5], canary: [4, 4], want: { canary: 3, stable: 7 } },
  { argo: 'Scale down stable and canary available', replicas: 10, weight: 100, maxSurge: 1, maxUnavailable: 0, stable: [10, 2], canary: [10, 8], want: { canary: 9, stable: 2 } },
  { argo: 'Do not scale down newRS or stable when older RS count >= scaleDownCount', replicas: 10, weight: 30, maxSurge: 0, maxUnavailable: 1, stable: [8, 6], canary: [4, 2], older: 3, want: { canary: 4, stable: 8 } },
  { argo: 'Do not round past maxSurge with uneven setWeight divisor', replicas: 10, weight: 5, maxSurge: 0, maxUnavailable: 1, stable: [10, 10], canary: [0, 0], want: { canary: 0, stable: 9 } },
  { argo: 'Do not round past maxSurge with uneven setWeight divisor (part 2)', replicas: 10, weight: 5, maxSurge: 0, maxUnavailable: 1, stable: [9, 9], canary: [0, 0], want: { canary: 1, stable: 9 } },
  { argo: 'Use maxUnavailable of 1 when percentage of maxUnavailable and maxSurge result in 0 replicas', replicas: 10, weight: 10, maxSurge: '0%', maxUnavailable: '0%', stable: [10, 10], canary: [0, 0], want: { canary: 0, stable: 9 } },
  { argo: 'honor maxSurge during scale up when stableRS unavailable', replicas: 4, weight: 100, maxSurge: 1, maxUnavailable: 0, stable: [4, 1], canary: [0, 0], want: { canary: 1, stable: 4 } },
  { argo: 'scale down to maxunavailable without exceeding maxSurge', replicas: 3, weight: 99, maxSurge: 0, maxUnavailable: 2, stable: [3, 3], canary: [0, 0], want: { canary: 0, stable: 1 } },
  { argo: 'scale down to maxunavailable without exceeding maxSurge (part 2)', replicas: 3, weight: 99, maxSurge: 0, maxUnavailable: 2, stable: [1, 1], canary: [0, 0], want: { canary: 2, stable: 1 } },
  { argo: 'honor maxUnavailable during scale down stableRS unavailable', replicas: 4, weight: 100, maxSurge: 1, maxUnavailable: 0, stable: [4, 1], canary: [1, 1], want: { canary: 1, stable: 3 } },
  { argo: 'honor maxUnavailable when aborting or reducing weight part 1', replicas: 4, weight: 0, maxSurge: 1, maxUnavailable: 0, stable: [0, 0], canary: [4, 4], want: { canary: 4, stable: 1 } },
  { argo: 'honor maxUnavailable when aborting or reducing weight part 2', replicas: 4, weight: 0, maxSurge: 1, maxUnavailable: 0, stable: [1, 0], canary: [4, 4], want: { canary: 4, stable: 1 } },
  { argo: 'honor maxUnavailable when aborting or reducing weight part 3', replicas: 4, weight: 0, maxSurge: 1, maxUnavailable: 0, stable: [1, 1], canary: [4, 4], want: { canary: 3, stable: 1 } },
  // Argo computes promote-full as weight 100.
  { argo: 'promote full does not consider weight', replicas: 4, weight: 100, maxSurge: 4, maxUnavailable: 4, stable: [4, 4], canary: [0, 0], want: { canary: 4, stable: 0 } },
  { argo: 'promote full still honors maxSurge/maxUnavailable', replicas: 4, weight: 100, maxSurge: 3, maxUnavailable: 0, stable: [4, 4], canary: [0, 0], want: { canary: 3, stable: 4 } },
];

void test('without a router each reconcile moves within maxSurge and maxUnavailable (Argo TestCalculateReplicaCountsForCanary)', () => {
  for (const c of BASIC) {
    const got = basicCanaryReplicas({
      replicas: c.replicas,
      weight: c.weight,
      limits: surgeLimits(c.replicas, c.maxSurge, c.maxUnavailable),
      canary: rs(c.canary),
      stable: rs(c.stable),
      olderReplicas: c.older ?? 0,
    });
    assert.deepEqual(got, c.want, c.argo);
  }
});

void test('when the stable is the canary itself (first deploy, rollback) it grows to replicas within maxSurge (Argo new-deployment and stable edge cases)', () => {
  const limits = surgeLimits(10, 0, 1);
  // argo: TestCalculateReplicaCountsForNewDeployment and TestCalculateReplicaCountsForCanaryStableRSdEdgeCases
  assert.deepEqual(basicCanaryReplicas({ replicas: 10, weight: 10, limits, canary: { spec: 10, available: 0 }, stable: undefined, olderReplicas: 0 }), { canary: 10, stable: 0 });
  assert.deepEqual(basicCanaryReplicas({ replicas: 10, weight: 10, limits, canary: { spec: 9, available: 9 }, stable: undefined, olderReplicas: 0 }), { canary: 10, stable: 0 });
  // An earlier canary still holding pods takes the surge room first.
  const surge1 = surgeLimits(4, 1, 0);
  assert.deepEqual(basicCanaryReplicas({ replicas: 4, weight: 100, limits: surge1, canary: { spec: 2, available: 2 }, stable: undefined, olderReplicas: 3 }), { canary: 2, stable: 0 });
});

/** Runs reconciles until nothing moves; every pod asked for becomes available in between. */
function settleBasic(replicas: number, weight: number, limits: ReturnType<typeof surgeLimits>, start: { canary: number; stable: number }): { canary: number; stable: number } {
  let now = start;
  for (let i = 0; i < 50; i++) {
    const next = basicCanaryReplicas({ replicas, weight, limits, canary: { spec: now.canary, available: now.canary }, stable: { spec: now.stable, available: now.stable }, olderReplicas: 0 });
    assert.ok(next.canary + next.stable <= replicas + limits.maxSurge, `total ${next.canary + next.stable} above replicas + maxSurge`);
    assert.ok(Math.min(next.canary, now.canary) + Math.min(next.stable, now.stable) >= replicas - limits.maxUnavailable, 'availability below replicas − maxUnavailable');
    if (next.canary === now.canary && next.stable === now.stable) return now;
    now = next;
  }
  assert.fail('did not settle');
}

void test('issue 10: 3 replicas at 50% settle at 2 canary / 2 stable, and 1 replica at 50% keeps its stable pod', () => {
  assert.deepEqual(settleBasic(3, 50, surgeLimits(3, undefined, undefined), { canary: 0, stable: 3 }), { canary: 2, stable: 2 });
  assert.deepEqual(settleBasic(3, 10, surgeLimits(3, undefined, undefined), { canary: 0, stable: 3 }), { canary: 1, stable: 3 });
  assert.deepEqual(settleBasic(1, 50, surgeLimits(1, undefined, undefined), { canary: 0, stable: 1 }), { canary: 1, stable: 1 });
  assert.deepEqual(settleBasic(10, 99, surgeLimits(10, 0, 1), { canary: 0, stable: 10 }), { canary: 9, stable: 1 });
  // Abort: back to all stable, never below availability on the way.
  assert.deepEqual(settleBasic(5, 0, surgeLimits(5, undefined, undefined), { canary: 2, stable: 3 }), { canary: 0, stable: 5 });
});

void test('issue 10: an update while paused at 20% of 3 keeps the 3 stable pods while the earlier canary goes', () => {
  const limits = surgeLimits(3, undefined, undefined);
  // Stable 3 and an earlier canary of 1 fill replicas + maxSurge: the new canary waits, stable stays.
  assert.deepEqual(basicCanaryReplicas({ replicas: 3, weight: 20, limits, canary: { spec: 0, available: 0 }, stable: { spec: 3, available: 3 }, olderReplicas: 1 }), { canary: 0, stable: 3 });
  // Once the earlier canary is gone, the new one takes its place.
  assert.deepEqual(basicCanaryReplicas({ replicas: 3, weight: 20, limits, canary: { spec: 0, available: 0 }, stable: { spec: 3, available: 3 }, olderReplicas: 0 }), { canary: 1, stable: 3 });
});

void test('with a router: ceil(replicas × weight), setCanaryScale, minPodsPerReplicaSet, stable at full size (Argo traffic-routed rows)', () => {
  // argo: TestTrafficWeightToReplicas
  assert.deepEqual([0, 20, 25, 33, 99, 100].map((w) => weightToReplicas(10, w)), [0, 2, 3, 4, 10, 10]);
  assert.equal(weightToReplicas(10, 0.01), 1, 'our 0.01% steps still need a pod');
  // argo: TestCalculateReplicaCountsForCanaryTrafficRouting
  assert.deepEqual(routedCanaryReplicas({ replicas: 10, weight: 10 }), { canary: 1, stable: 10 });
  // argo: 'For canary replicas, use setCanaryScale.replicas when specified along with trafficRouting (and ignore setWeight)'
  assert.deepEqual(routedCanaryReplicas({ replicas: 1, weight: 100, canaryReplicas: 9 }), { canary: 9, stable: 1 });
  // argo: 'Use setCanaryScale.weight for canary replicas when specified with trafficRouting' (the weight is the scale's)
  assert.deepEqual(routedCanaryReplicas({ replicas: 4, weight: 200 }), { canary: 8, stable: 4 });
  // argo: 'Ignore setCanaryScale replicas/weight when matchTrafficWeight is true' (the weight is setWeight's)
  assert.deepEqual(routedCanaryReplicas({ replicas: 10, weight: 20 }), { canary: 2, stable: 10 });
  // argo: 'aborted with abortScaleDownDelaySeconds:0 and setCanaryScale' keeps the scale; '>0' drops it (weight 0)
  assert.deepEqual(routedCanaryReplicas({ replicas: 1, weight: 0, canaryReplicas: 1, abort: true }), { canary: 1, stable: 1 });
  assert.deepEqual(routedCanaryReplicas({ replicas: 1, weight: 0, abort: true }), { canary: 0, stable: 1 });
  // argo: 'Honor MinPodsPerReplicaSet when using trafficRouting and starting canary'
  assert.deepEqual(routedCanaryReplicas({ replicas: 10, weight: 5, minPodsPerReplicaSet: 2 }), { canary: 2, stable: 10 });
  assert.deepEqual(routedCanaryReplicas({ replicas: 10, weight: 0, minPodsPerReplicaSet: 2 }), { canary: 0, stable: 10 }, 'no minimum for an unused canary');
});

void test('dynamicStableScale: the stable follows the larger of its current and coming share; an abort keeps the canary until traffic left it (Argo dynamic-scale cases)', () => {
  const base = { replicas: 10, dynamicStableScale: true };
  // argo: 'verify we scale down stable'
  assert.deepEqual(routedCanaryReplicas({ ...base, weight: 10, current: { canary: 10, stable: 90 } }), { canary: 1, stable: 9 });
  // argo: 'verify we take max of desired canary (20) > actual (10)': stable waits for traffic to leave it
  assert.deepEqual(routedCanaryReplicas({ ...base, weight: 20, current: { canary: 10, stable: 90 } }), { canary: 2, stable: 9 });
  // argo: 'verify when we abort, we leave canary scaled up if there is still traffic to it'
  assert.deepEqual(routedCanaryReplicas({ ...base, weight: 0, abort: true, current: { canary: 20, stable: 80 } }), { canary: 2, stable: 10 });
  // argo: 'verify when we abort, we reduce canary when there is less traffic to it'
  assert.deepEqual(routedCanaryReplicas({ ...base, weight: 0, abort: true, current: { canary: 10, stable: 90 } }), { canary: 1, stable: 10 });
  // minPodsPerReplicaSet applies to both sides when they have pods at all.
  assert.deepEqual(routedCanaryReplicas({ ...base, weight: 95, minPodsPerReplicaSet: 2, current: { canary: 95, stable: 5 } }), { canary: 10, stable: 2 });
  assert.deepEqual(routedCanaryReplicas({ ...base, weight: 100, minPodsPerReplicaSet: 2, current: { canary: 100, stable: 0 } }), { canary: 10, stable: 0 });
});

void test('dynamicStableScale abort: canary weight falls only as stable pods become available', () => {
  assert.equal(dynamicAbortWeight(10, 2, 60), 60, 'stable serves 20%: the canary keeps its 60');
  assert.equal(dynamicAbortWeight(10, 7, 60), 30);
  assert.equal(dynamicAbortWeight(10, 10, 60), 0);
  assert.equal(dynamicAbortWeight(3, 1, 100), 66.67, 'a third of the traffic to the one stable pod');
});

void test('maxSurge rounds up and maxUnavailable rounds down, like Deployments', () => {
  assert.equal(resolveIntOrPercent('25%', 5, '25%', true), 2);
  assert.equal(resolveIntOrPercent('25%', 5, '25%', false), 1);
  assert.equal(resolveIntOrPercent(3, 5, '25%', true), 3);
  assert.deepEqual(surgeLimits(10, 0, 0), { maxSurge: 0, maxUnavailable: 1 }, 'never both 0');
  assert.deepEqual(surgeLimits(2, 0, 5), { maxSurge: 0, maxUnavailable: 2 }, 'never more unavailable than replicas');
});
