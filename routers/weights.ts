// Integer weights for routers whose weights are relative (Istio destinations, Gateway API
// backendRefs, SMI backends, NGINX weight over weight-total): the canary/stable ratio written
// exactly, never rounded.
import type { WeightRatio } from './types.ts';

export function gcd(a: number, b: number): number {
  a = Math.abs(a);
  b = Math.abs(b);
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export function reduceRatio(ratio: WeightRatio): WeightRatio {
  if (ratio.total <= 0) return { canary: 0, total: 100 };
  if (ratio.canary === 0) return { canary: 0, total: 100 };
  const divisor = gcd(ratio.canary, ratio.total);
  return { canary: ratio.canary / divisor, total: ratio.total / divisor };
}

/** The ratio two written weights express (canary and stable as found in a routing object). */
export function ratioOfWeights(canary: number, stable: number): WeightRatio {
  return reduceRatio({ canary, total: canary + stable });
}

/** Whether written weights already say `ratio` exactly (so nothing needs writing). */
export function expresses(canary: number, stable: number, ratio: WeightRatio): boolean {
  const sum = canary + stable;
  if (sum <= 0) return false;
  return canary * ratio.total === ratio.canary * sum;
}

export interface PoolWeights {
  canary: number;
  stable: number;
  /** factor the other destinations' weights are multiplied by (1: left as they are) */
  othersScale: number;
}

/**
 * Weights for the canary and stable destinations of one route that also has `others` (weights
 * of destinations the user owns). The canary gets exactly `ratio` of the rollout's share, and the
 * other destinations keep their share of the route: their weights stay as written unless a finer
 * ratio needs a larger total, in which case they are scaled by a whole factor (same share).
 * Weights that already express the ratio are kept, so an equivalent route is never rewritten.
 */
export function poolWeights(ratio: WeightRatio, current: { canary: number; stable: number }, others: readonly number[]): PoolWeights {
  if (expresses(current.canary, current.stable, ratio)) return { canary: current.canary, stable: current.stable, othersScale: 1 };
  const othersSum = others.reduce((a, b) => a + b, 0);
  const pool = current.canary + current.stable;
  if (othersSum === 0 || pool === 0) {
    // Written as the ratio comes: 20% as 20/80, 0.01% as 1/9999.
    const total = ratio.total > 0 ? ratio.total : 100;
    return { canary: ratio.canary, stable: total - ratio.canary, othersScale: 1 };
  }
  // canary = ratio × pool × k must be whole: k = total / gcd(canary × pool, total)
  const scale = ratio.total / gcd(ratio.canary * pool, ratio.total);
  const canary = (ratio.canary * pool * scale) / ratio.total;
  return { canary, stable: pool * scale - canary, othersScale: scale };
}

export interface SplitWeights extends PoolWeights {
  /** the extra destinations' weights, in the order their shares came */
  extras: number[];
}

function lcm(a: number, b: number): number {
  return (a / gcd(a, b)) * b;
}

/**
 * Like poolWeights, with extra destinations (weighted experiment templates) that each get their
 * own share of all traffic (percent); stable keeps what canary and the extras leave. Without
 * extras it is poolWeights. Weights that already express the split are kept.
 */
export function splitWeights(
  ratio: WeightRatio,
  extraPercents: readonly number[],
  current: { canary: number; stable: number; extras: readonly number[] },
  others: readonly number[],
): SplitWeights {
  if (extraPercents.length === 0) return { ...poolWeights(ratio, current, others), extras: [] };
  const shares = [ratio.total > 0 ? ratio : { canary: 0, total: 100 }, ...extraPercents.map(percentRatio)];
  const total = shares.reduce((t, s) => lcm(t, s.total), 1);
  const units = shares.map((s) => (s.canary * total) / s.total);
  // Stable's part: what is left (never below 0; validation reports shares above 100%).
  const parts = [units[0]!, Math.max(0, total - units.reduce((a, b) => a + b, 0)), ...units.slice(1)];
  const written = [current.canary, current.stable, ...extraPercents.map((_, i) => current.extras[i] ?? 0)];
  const pool = written.reduce((a, b) => a + b, 0);
  const sum = parts.reduce((a, b) => a + b, 0);
  const split = (values: number[], othersScale: number): SplitWeights => ({ canary: values[0]!, stable: values[1]!, extras: values.slice(2), othersScale });
  if (pool > 0 && sum > 0 && parts.every((p, i) => written[i]! * sum === p * pool)) return split(written, 1);
  if (others.reduce((a, b) => a + b, 0) === 0 || pool === 0 || sum === 0) return split(parts, 1);
  // Each part × pool / sum must be whole: scale the route by the smallest k that makes it so.
  const scale = parts.reduce((k, p) => lcm(k, sum / gcd(p * pool, sum)), 1);
  return split(parts.map((p) => (p * pool * scale) / sum), scale);
}

/** A percentage (up to two decimals) as an exact ratio. */
function percentRatio(percent: number): WeightRatio {
  const basisPoints = Math.round(Math.min(100, Math.max(0, percent)) * 100);
  return basisPoints % 100 === 0 ? { canary: basisPoints / 100, total: 100 } : { canary: basisPoints, total: 10000 };
}
