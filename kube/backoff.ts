// Exponential backoff with jitter, shared by the work queue (per-key retries) and the informer
// (list/watch reconnects). Jitter spreads retries of many keys or many informers so that they
// do not hit the API server in lockstep after a common failure.

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** relative jitter, ±fraction of the delay; default 0.1 (±10%) */
  jitter?: number;
}

/** Largest delay a Node timer accepts; longer ones fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** `valueMs` moved by a uniform random amount of up to ±fraction of it. */
export function jittered(valueMs: number, fraction = 0.1, random: () => number = Math.random): number {
  return valueMs * (1 + (random() * 2 - 1) * fraction);
}

/**
 * The delay before retry number `attempt` (0 for the first retry): baseMs * 2^attempt, capped at
 * maxMs, with jitter. The result is a whole number of milliseconds and never exceeds maxMs, so at
 * the cap the jitter only shortens the delay.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const exponent = Math.max(0, Math.min(attempt, 1024)); // 2^1024 is Infinity, which min() caps
  const raw = Math.min(options.maxMs, options.baseMs * 2 ** exponent);
  const delay = Math.round(jittered(raw, options.jitter ?? 0.1, random));
  return Math.max(0, Math.min(options.maxMs, delay));
}
