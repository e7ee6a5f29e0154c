// Replica arithmetic: how many canary and stable pods a weight needs, and how far one reconcile
// may move towards that within maxSurge and maxUnavailable. Pure functions, no I/O. The rules are
// Argo Rollouts' own (utils/replicaset/canary.go), so a manifest moves pods exactly as it did there.

/** `25%` of 10 with round up → 3; plain numbers pass through. Deployments round surge up, unavailable down. */
export function resolveIntOrPercent(value: number | string | undefined, total: number, fallback: string, roundUp: boolean): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return Math.max(0, Math.floor(v));
  const match = /^(\d+(?:\.\d+)?)%$/.exec(v.trim());
  if (!match) {
    const n = Number(v);
    return Number.isFinite(n) ? Math.max(0, Math.floor(n)) : 0;
  }
  const exact = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

export interface SurgeLimits {
  maxSurge: number;
  maxUnavailable: number;
}

/**
 * maxSurge/maxUnavailable of a canary (both default 25%); never both 0, or nothing could move,
 * and never more unavailable than there are replicas.
 */
export function surgeLimits(replicas: number, maxSurge: number | string | undefined, maxUnavailable: number | string | undefined): SurgeLimits {
  const surge = resolveIntOrPercent(maxSurge, replicas, '25%', true);
  let unavailable = resolveIntOrPercent(maxUnavailable, replicas, '25%', false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: Math.min(unavailable, Math.max(0, replicas)) };
}

// Weights may have decimals (0.01 steps, or a fraction of maxTrafficWeight): compare with a margin.
const EPSILON = 1e-9;
const ceilOf = (x: number): number => Math.ceil(x - EPSILON) || 0; // no -0
const floorOf = (x: number): number => Math.floor(x + EPSILON);

/** Pods that serve `weight` percent of `replicas`, rounded up (a router's canary, dynamic stable). */
export function weightToReplicas(replicas: number, weight: number): number {
  return Math.max(0, ceilOf((replicas * weight) / 100));
}

/**
 * Without a router the weight is a pod ratio. The canary/stable split whose ratio is closest to
 * the weight, looking at splits of `replicas` pods and, when maxSurge allows one extra pod, of
 * `replicas + 1` (3 at 50% → 2/2). For 1–99% neither side drops to 0 unless there is a single
 * pod and no surge. When rounding down and up are equally close, the larger canary wins.
 */
export function weightedSplit(replicas: number, weight: number, maxSurge: number): { canary: number; stable: number } {
  if (replicas <= 0) return { canary: 0, stable: 0 };
  const zeroAllowed = weight <= 0 || weight >= 100 || (replicas === 1 && maxSurge === 0);
  const options: { canary: number; total: number }[] = [];
  const consider = (total: number): void => {
    const exact = (total * weight) / 100;
    const up = ceilOf((replicas * weight) / 100);
    const down = floorOf((replicas * weight) / 100);
    const tied = Math.abs(exact - floorOf(exact) - 0.5) < EPSILON;
    if (total === replicas ? up < replicas || zeroAllowed : true) options.push({ canary: up, total });
    if (!tied && (down !== 0 || zeroAllowed)) options.push({ canary: down, total });
  };
  consider(replicas);
  if (maxSurge > 0) consider(replicas + 1);
  let best = options[0] ?? { canary: 0, total: replicas };
  const distance = (o: { canary: number; total: number }): number => Math.abs((o.canary * 100) / o.total - weight);
  for (const option of options) if (distance(option) < distance(best) - EPSILON) best = option;
  return { canary: best.canary, stable: best.total - best.canary };
}

export interface ReplicaSetCounts {
  /** spec.replicas now */
  spec: number;
  /** status.availableReplicas now */
  available: number;
}

export interface BasicCanaryInput {
  replicas: number;
  /** canary weight in percent: 0 on abort, 100 after the last step or on promote-full */
  weight: number;
  limits: SurgeLimits;
  /** the ReplicaSet of the current template (spec 0 before it exists) */
  canary: ReplicaSetCounts;
  /** the stable ReplicaSet; undefined when there is none or it is the canary's own */
  stable: ReplicaSetCounts | undefined;
  /** spec.replicas of every other ReplicaSet (earlier canaries), summed */
  olderReplicas: number;
}

/**
 * One reconcile's canary and stable sizes without a router. Growing comes first, stable before
 * canary, into the room maxSurge leaves above replicas (older ReplicaSets count). Nothing
 * shrinks while older ReplicaSets still have pods: those go first. Then the side being replaced
 * shrinks as far as replicas − maxUnavailable available pods allow, and the pair is fitted back
 * within both limits.
 */
export function basicCanaryReplicas(input: BasicCanaryInput): { canary: number; stable: number } {
  const { replicas, limits, stable: stableRS, canary: canaryRS } = input;
  const target = stableRS ? weightedSplit(replicas, input.weight, limits.maxSurge) : { canary: replicas, stable: 0 };
  const maxTotal = replicas + limits.maxSurge;
  let canary = canaryRS.spec;
  let stable = stableRS?.spec ?? 0;
  let room = maxTotal - (input.olderReplicas + canary + stable);
  if (stableRS && stable < target.stable && room > 0) {
    const grow = Math.min(room, target.stable - stable);
    stable += grow;
    room -= grow;
  }
  if (canary < target.canary && room > 0) canary += Math.min(room, target.canary - canary);
  if (input.olderReplicas > 0) return { canary, stable };

  const minAvailable = replicas - limits.maxUnavailable;
  // Moving towards the canary, the stable's pods may be unready (crash-looping) and still go;
  // moving back (abort), the same holds for the canary's.
  const increasing = target.canary >= canaryRS.spec;
  const counted = countedForScaleDown(canaryRS, !increasing) + countedForScaleDown(stableRS, increasing);
  if (counted <= minAvailable) return { canary, stable };
  const budget = counted - minAvailable;
  if (!increasing) {
    canary = drainTowards(canaryRS, target.canary, budget, canary);
    [canary, stable] = fitWithinLimits(canaryRS, stableRS, canary, stable, maxTotal, minAvailable);
  } else if (stableRS) {
    stable = drainTowards(stableRS, target.stable, budget, stable);
    [stable, canary] = fitWithinLimits(stableRS, canaryRS, stable, canary, maxTotal, minAvailable);
  }
  return { canary, stable };
}

/** The pods a ReplicaSet contributes to availability before a scale-down (never above its spec). */
function countedForScaleDown(rs: ReplicaSetCounts | undefined, ignoreAvailability: boolean): number {
  if (!rs) return 0;
  if (rs.spec < rs.available || ignoreAvailability) return rs.spec;
  return rs.available;
}

function drainTowards(rs: ReplicaSetCounts, want: number, budget: number, planned: number): number {
  return rs.spec > want ? Math.max(want, rs.spec - budget) : planned;
}

/**
 * After draining one side, gives back what the pair exceeds maxSurge by from the other side, but
 * no more than keeps replicas − maxUnavailable pods available; any excess left comes off the
 * drained side.
 */
function fitWithinLimits(
  drained: ReplicaSetCounts,
  other: ReplicaSetCounts | undefined,
  drainedCount: number,
  otherCount: number,
  maxTotal: number,
  minAvailable: number,
): [number, number] {
  if (!other) return [drainedCount, otherCount];
  let count = otherCount - Math.max(0, otherCount + drainedCount - maxTotal);
  const available = Math.min(drained.available, drainedCount) + Math.min(other.available, count);
  const lostAvailable = Math.max(0, other.available - count);
  count += Math.min(lostAvailable, Math.max(0, minAvailable - available));
  return [drainedCount - Math.max(0, count + drainedCount - maxTotal), count];
}

export interface RoutedCanaryInput {
  replicas: number;
  /** the weight the pods are for: setCanaryScale.weight when in force, 0 on abort, 100 at the end */
  weight: number;
  /** setCanaryScale.replicas in force */
  canaryReplicas?: number | undefined;
  minPodsPerReplicaSet?: number | undefined;
  dynamicStableScale?: boolean | undefined;
  abort?: boolean | undefined;
  /** the traffic split the router has now, in percent (status.canary.weights) */
  current?: { canary: number; stable: number } | undefined;
}

/**
 * With a traffic router the canary gets the pods its weight needs (rounded up, at least
 * minPodsPerReplicaSet when it has any) and the stable stays at full size: an abort moves all
 * traffic back at once. With dynamicStableScale the stable keeps only what the larger of its
 * current and its coming share needs, so it shrinks only after traffic has left it and grows
 * before traffic returns; on abort the canary keeps what its current share needs until the
 * traffic has moved back.
 */
export function routedCanaryReplicas(input: RoutedCanaryInput): { canary: number; stable: number } {
  const { replicas, weight, current } = input;
  const atLeastMin = (count: number): number => (count > 0 ? Math.max(count, input.minPodsPerReplicaSet ?? 0) : 0);
  let canary = input.canaryReplicas ?? atLeastMin(weightToReplicas(replicas, weight));
  if (!input.dynamicStableScale) return { canary, stable: replicas };
  let stable = weightToReplicas(replicas, 100 - weight);
  if (current) {
    stable = Math.max(stable, weightToReplicas(replicas, current.stable));
    if (input.abort) canary = Math.max(canary, weightToReplicas(replicas, current.canary));
  }
  return { canary: atLeastMin(canary), stable: atLeastMin(stable) };
}

/**
 * The canary weight while an abort with dynamicStableScale moves traffic back: what the stable's
 * available pods cannot serve yet (0.01 steps), and never above the weight the canary has now.
 */
export function dynamicAbortWeight(replicas: number, stableAvailable: number, currentCanaryWeight: number): number {
  if (replicas <= 0) return 0;
  const stableShare = Math.floor(Math.min(1, stableAvailable / replicas) * 10000 + EPSILON) / 100;
  return Math.max(0, Math.min(currentCanaryWeight, Math.round((100 - stableShare) * 100) / 100));
}
