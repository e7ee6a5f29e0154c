// Replica arithmetic: how many canary and stable pods a weight needs, and how far one reconcile
// may move towards that within maxSurge and maxUnavailable. Pure functions, no I/O.

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

/** maxSurge/maxUnavailable of a canary (both default 25%); never both 0, or nothing could move. */
export function surgeLimits(replicas: number, maxSurge: number | string | undefined, maxUnavailable: number | string | undefined): SurgeLimits {
  const surge = resolveIntOrPercent(maxSurge, replicas, '25%', true);
  let unavailable = resolveIntOrPercent(maxUnavailable, replicas, '25%', false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { maxSurge: surge, maxUnavailable: unavailable };
}

/**
 * Without a traffic router the weight is a pod ratio: the canary/stable split of `replicas` pods
 * whose ratio is closest to the weight, with at least one pod on each side for 1–99% when there
 * are two pods or more (so a 99% step still has a stable pod to abort to, and 1% has a canary).
 */
export function replicaRatioSplit(replicas: number, weightPercent: number): { canary: number; stable: number } {
  if (replicas <= 0) return { canary: 0, stable: 0 };
  if (weightPercent <= 0) return { canary: 0, stable: replicas };
  if (weightPercent >= 100) return { canary: replicas, stable: 0 };
  let canary = Math.round((replicas * weightPercent) / 100);
  if (replicas >= 2) canary = Math.min(Math.max(canary, 1), replicas - 1);
  return { canary, stable: replicas - canary };
}

/** With a traffic router the canary needs enough pods for its share: ceil, and at least one above 0%. */
export function routedCanaryReplicas(replicas: number, weightPercent: number): number {
  if (weightPercent <= 0 || replicas <= 0) return 0;
  if (weightPercent >= 100) return replicas;
  return Math.max(1, Math.ceil((replicas * weightPercent) / 100 - 1e-9));
}

export interface ReplicaSetCounts {
  /** spec.replicas now */
  spec: number;
  /** status.availableReplicas now */
  available: number;
}

/**
 * One reconcile's move from the current canary/stable sizes towards the target ones. A side that
 * grows may do so while the total stays within replicas + maxSurge; a side that shrinks may drop
 * its unavailable pods at once and its available pods only while the total available stays at
 * or above replicas − maxUnavailable. Growing is computed first, so a shrinking side can lean on
 * what the growing side already has available.
 */
export function stepTowards(
  replicas: number,
  limits: SurgeLimits,
  canary: ReplicaSetCounts,
  stable: ReplicaSetCounts,
  target: { canary: number; stable: number },
): { canary: number; stable: number } {
  let nextCanary = canary.spec;
  let nextStable = stable.spec;
  const maxTotal = replicas + limits.maxSurge;

  if (target.canary > nextCanary) nextCanary = Math.min(target.canary, nextCanary + Math.max(0, maxTotal - (nextCanary + nextStable)));
  if (target.stable > nextStable) nextStable = Math.min(target.stable, nextStable + Math.max(0, maxTotal - (nextCanary + nextStable)));

  const minAvailable = Math.max(0, replicas - limits.maxUnavailable);
  let budget = Math.max(0, canary.available + stable.available - minAvailable);
  const shrink = (spec: number, available: number, want: number): number => {
    if (want >= spec) return spec;
    const unavailable = Math.max(0, spec - available);
    const freeDrop = Math.min(spec - want, unavailable);
    const availableDrop = Math.min(spec - want - freeDrop, budget);
    budget -= availableDrop;
    return spec - freeDrop - availableDrop;
  };
  // Shrink the side that is furthest above its target first (the one being replaced).
  if (canary.spec - target.canary >= stable.spec - target.stable) {
    nextCanary = shrink(nextCanary, canary.available, target.canary);
    nextStable = shrink(nextStable, stable.available, target.stable);
  } else {
    nextStable = shrink(nextStable, stable.available, target.stable);
    nextCanary = shrink(nextCanary, canary.available, target.canary);
  }
  return { canary: nextCanary, stable: nextStable };
}
