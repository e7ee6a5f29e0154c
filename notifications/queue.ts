// The delivery queue: notifications go out from here, never from a reconcile, so a slow or dead
// endpoint cannot delay a rollout. Each job is retried with exponential backoff up to a bound;
// a job already queued or being sent is not queued twice.

export interface QueueOptions<J> {
  deliver: (job: J) => Promise<void>;
  /** after each failed attempt; `final` when the job is given up */
  onFailure: (job: J, err: unknown, attempt: number, final: boolean) => void | Promise<void>;
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  concurrency?: number;
  /** jobs of one group go out one at a time, in the order queued (one Rollout's notifications) */
  groupOf?: (job: J) => string;
}

export class DeliveryQueue<J extends { id: string }> {
  private readonly options: Required<QueueOptions<J>>;
  private readonly waiting: J[] = [];
  private readonly known = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running = 0;
  private stopped = false;
  private idle: (() => void)[] = [];

  constructor(options: QueueOptions<J>) {
    this.options = { maxAttempts: 8, baseDelayMs: 1000, maxDelayMs: 15_000, concurrency: 4, groupOf: (job) => job.id, ...options };
  }

  /** false when the job is already queued, waiting for a retry or being sent */
  add(job: J): boolean {
    if (this.stopped || this.known.has(job.id)) return false;
    this.known.add(job.id);
    this.enqueue(job, 1);
    return true;
  }

  has(id: string): boolean {
    return this.known.has(id);
  }

  get size(): number {
    return this.known.size;
  }

  /** The delay before attempt n+1: base·2^(n-1), at most maxDelayMs. */
  delayAfter(attempt: number): number {
    return Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  /** Resolves once nothing is queued, waiting or being sent (tests). */
  drained(): Promise<void> {
    return this.known.size === 0 ? Promise.resolve() : new Promise((resolve) => this.idle.push(resolve));
  }

  private attempts = new Map<string, number>();

  private enqueue(job: J, attempt: number): void {
    this.attempts.set(job.id, attempt);
    this.waiting.push(job);
    this.pump();
  }

  private readonly busy = new Set<string>();

  private pump(): void {
    while (!this.stopped && this.running < this.options.concurrency) {
      const at = this.waiting.findIndex((j) => !this.busy.has(this.options.groupOf(j)));
      if (at < 0) return;
      const job = this.waiting.splice(at, 1)[0] as J;
      const group = this.options.groupOf(job);
      this.busy.add(group);
      this.running++;
      void this.run(job).finally(() => {
        this.busy.delete(group);
        this.running--;
        this.pump();
      });
    }
  }

  private async run(job: J): Promise<void> {
    const attempt = this.attempts.get(job.id) ?? 1;
    try {
      await this.options.deliver(job);
      this.finish(job.id);
    } catch (err) {
      const final = attempt >= this.options.maxAttempts;
      await Promise.resolve(this.options.onFailure(job, err, attempt, final)).catch(() => undefined);
      if (final || this.stopped) return this.finish(job.id);
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.enqueue(job, attempt + 1);
      }, this.delayAfter(attempt));
      this.timers.add(timer);
    }
  }

  private finish(id: string): void {
    this.known.delete(id);
    this.attempts.delete(id);
    if (this.known.size === 0) for (const resolve of this.idle.splice(0)) resolve();
  }
}
