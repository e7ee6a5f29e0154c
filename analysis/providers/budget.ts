// One budget for the bytes of measurement answers held in memory at once, shared by every web and
// Prometheus measurement of the process: the per-answer cap alone lets twenty metrics hold twenty
// answers. A request takes bytes from the budget as they arrive and gives them back when it ends.
//
// Deadlock-free by construction: only a request that holds nothing waits (one whose answer
// declares its length waits for all of it before reading a byte); a request that already holds
// bytes and needs more than is left fails at once, which frees what it held.

export class BudgetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BudgetError';
  }
}

interface Waiter {
  bytes: number;
  grant: () => void;
}

export class ByteBudget {
  readonly capacity: number;
  private used = 0;
  private highWater = 0;
  private readonly waiters: Waiter[] = [];

  constructor(capacity: number) {
    this.capacity = capacity;
  }

  /** bytes taken now */
  get inUse(): number {
    return this.used;
  }

  /** the most bytes ever taken at once */
  get peak(): number {
    return this.highWater;
  }

  /** Takes bytes if they are free now; false otherwise. */
  tryTake(bytes: number): boolean {
    if (this.used + bytes > this.capacity) return false;
    this.used += bytes;
    this.highWater = Math.max(this.highWater, this.used);
    return true;
  }

  /**
   * Waits (first come, first served) until `bytes` are free and takes them. Rejects when the
   * signal aborts, or at once when the budget could never hold that much.
   */
  take(bytes: number, signal: AbortSignal): Promise<void> {
    if (bytes > this.capacity) return Promise.reject(new BudgetError(`${formatBytes(bytes)} is more than the whole budget of ${formatBytes(this.capacity)}`));
    if (this.waiters.length === 0 && this.tryTake(bytes)) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bytes,
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const at = this.waiters.indexOf(waiter);
        if (at >= 0) this.waiters.splice(at, 1);
        reject(signal.reason instanceof Error ? signal.reason : new BudgetError('gave up waiting'));
        this.wake(); // a large waiter leaving may let smaller ones behind it go
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(bytes: number): void {
    if (bytes <= 0) return;
    this.used = Math.max(0, this.used - bytes);
    this.wake();
  }

  private wake(): void {
    for (let first = this.waiters[0]; first && this.used + first.bytes <= this.capacity; first = this.waiters[0]) {
      this.waiters.shift();
      this.used += first.bytes;
      this.highWater = Math.max(this.highWater, this.used);
      first.grant();
    }
  }
}

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 * 1024) return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
  if (n >= 1024) return `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`;
  return `${n} bytes`;
}

/** The budget every measurement shares unless told otherwise: 32 MiB. */
export const MEASUREMENT_BUDGET_BYTES = 32 * 1024 * 1024;
export const measurementBudget = new ByteBudget(MEASUREMENT_BUDGET_BYTES);
