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
