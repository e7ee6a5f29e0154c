// Counts write conflicts (HTTP 409) in a sliding window and calls back once they pile up: a
// few conflicts are normal (someone promoted while we planned), a run of them means the cache
// our plans start from is stale. At most one callback per window, so a relist is not repeated.

export class ConflictStorm {
  private times: number[] = [];
  private lastFired = -Infinity;
  private readonly onStorm: () => void;
  private readonly threshold: number;
  private readonly windowMs: number;

  constructor(onStorm: () => void, threshold = 5, windowMs = 5_000) {
    this.onStorm = onStorm;
    this.threshold = threshold;
    this.windowMs = windowMs;
  }

  record(now: number): void {
    this.times = this.times.filter((t) => now - t < this.windowMs);
    this.times.push(now);
    if (this.times.length >= this.threshold && now - this.lastFired >= this.windowMs) {
      this.lastFired = now;
      this.times = [];
      this.onStorm();
    }
  }
}
