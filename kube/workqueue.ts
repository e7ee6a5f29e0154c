// The work queue between informers and reconcilers (design §5): keys coalesce, a key is never
// processed by two workers at once, failures retry with per-key exponential backoff, and delayed
// requeues (timed pauses, scale-down deadlines) use one timer per key — no polling, no scans.
import { backoffDelay, MAX_TIMER_MS } from './backoff.ts';
import { fallbackLogger } from '../lib/log.ts';

/** Handlers started in a row before the queue lets the event loop turn (see process()). */
const YIELD_EVERY = 16;

export type ReconcileOutcome = { requeueAfterMs?: number };
export type ReconcileHandler = (key: string) => Promise<ReconcileOutcome | void>;
export type TimerHandle = unknown;

export interface WorkQueueOptions {
  /** keys processed at the same time; default 4 */
  concurrency?: number;
  /**
   * workers beyond `concurrency` that only keys at their deadline (addAfter) may take, so a pause
   * ends on time while every worker is busy with a burst of other keys; default 4
   */
  deadlineWorkers?: number;
  /** first retry delay after a failure; default 50 ms */
  baseBackoffMs?: number;
  /** retry delay cap; default 60 s */
  maxBackoffMs?: number;
  /** the clock, injectable for tests: now/setTimer/clearTimer default to Date.now/setTimeout/clearTimeout */
  now?: () => number;
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
  /** random source for the backoff jitter (tests pass a constant) */
  random?: () => number;
  /** called when a handler throws; the key has already been requeued with backoff */
  onError?: (key: string, err: unknown) => void;
}

interface DelayedEntry {
  deadline: number;
  timer: TimerHandle;
  /** a deadline asked for (a pause's end): due, it goes ahead of the keys waiting; a backoff does not */
  urgent: boolean;
}

function defaultOnError(key: string, err: unknown): void {
  const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
  fallbackLogger('error', 'reconcile failed, retrying with backoff', { key, error });
}

export class WorkQueue {
  private readonly concurrency: number;
  private startsSinceTurn = 0;
  /** the turn of the event loop that starts wait for, when one is due */
  private turn: Promise<void> | undefined;
  private readonly deadlineWorkers: number;
  private readonly baseBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly now: () => number;
  private readonly setTimer: (fn: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;
  private readonly random: () => number;
  private readonly onError: (key: string, err: unknown) => void;

  /** keys waiting for a worker, in FIFO order (a Set keeps insertion order and dedupes) */
  private readonly waiting = new Set<string>();
  /** keys a worker is processing right now */
  private readonly processing = new Set<string>();
  /** keys added while being processed: they run again once the current run ends */
  private readonly dirty = new Set<string>();
  /** keys at their deadline: at the front of `waiting` (or dirty while running), may take a deadline worker */
  private readonly due = new Set<string>();
  /** keys waiting for a deadline; one timer each, for the earliest deadline asked */
  private readonly delayed = new Map<string, DelayedEntry>();
  private readonly failureCounts = new Map<string, number>();
  private readonly runs = new Set<Promise<void>>();
  private idleWaiters: Array<() => void> = [];
  private handler: ReconcileHandler | undefined;
  private stopped = false;

  constructor(options: WorkQueueOptions = {}) {
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 4));
    this.deadlineWorkers = Math.max(0, Math.floor(options.deadlineWorkers ?? 4));
    this.baseBackoffMs = options.baseBackoffMs ?? 50;
    this.maxBackoffMs = options.maxBackoffMs ?? 60_000;
    this.now = options.now ?? Date.now;
    this.setTimer = options.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = options.clearTimer ?? ((handle) => clearTimeout(handle as NodeJS.Timeout));
    this.random = options.random ?? Math.random;
    this.onError = options.onError ?? defaultOnError;
  }

  /** Keys waiting for a worker (delayed keys not included). */
  get length(): number {
    return this.waiting.size;
  }

  /** Keys being processed right now. */
  get inFlight(): number {
    return this.processing.size;
  }

  /** Keys waiting for a deadline (addAfter / addRateLimited). */
  get delayedLength(): number {
    return this.delayed.size;
  }

  /** Enqueues a key now. Coalesces with a waiting key; a key being processed runs once more afterwards. */
  add(key: string): void {
    if (this.stopped) return;
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    if (this.waiting.has(key)) return;
    this.waiting.add(key);
    this.pump();
  }

  /**
   * Enqueues a key once delayMs has passed. Of several pending deadlines for a key only the
   * earliest is kept. An add() in the meantime runs the key at once; the timer still fires later
   * and simply adds the key again.
   */
  addAfter(key: string, delayMs: number): void {
    this.schedule(key, delayMs, true);
  }

  /**
   * A key at a deadline: an urgent one (addAfter: a timed pause ends, a scale-down is due) then
   * runs before keys already waiting, so a busy queue does not make it late; a backoff waits its turn.
   */
  private schedule(key: string, delayMs: number, urgent: boolean): void {
    if (this.stopped) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const deadline = this.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing !== undefined) {
      if (existing.deadline <= deadline) return;
      this.clearTimer(existing.timer);
    }
    const entry: DelayedEntry = { deadline, timer: undefined, urgent };
    this.delayed.set(key, entry);
    this.arm(key, entry);
  }

  private arm(key: string, entry: DelayedEntry): void {
    const wait = Math.max(0, Math.min(MAX_TIMER_MS, entry.deadline - this.now()));
    entry.timer = this.setTimer(() => {
      if (this.delayed.get(key) !== entry) return;
      if (this.now() < entry.deadline) {
        this.arm(key, entry); // a deadline beyond what one timer can wait
        return;
      }
      this.delayed.delete(key);
      if (entry.urgent) this.addFirst(key);
      else this.add(key);
    }, wait);
  }

  /** Enqueues a key after its exponential backoff (base * 2^failures, capped, ±10% jitter) and counts a failure. */
  addRateLimited(key: string): void {
    if (this.stopped) return;
    const failures = this.failureCounts.get(key) ?? 0;
    this.failureCounts.set(key, failures + 1);
    this.schedule(key, backoffDelay(failures, { baseMs: this.baseBackoffMs, maxMs: this.maxBackoffMs }, this.random), false);
  }

  /** Resets a key's failure count (after a successful reconcile). */
  forget(key: string): void {
    this.failureCounts.delete(key);
  }

  /** Resets every key's failure count: the cause is gone (an outage ended), retry at the base delay. */
  forgetAll(): void {
    this.failureCounts.clear();
  }

  failures(key: string): number {
    return this.failureCounts.get(key) ?? 0;
  }

  /**
   * Starts the workers. A handler that throws gets its key retried with backoff; one that
   * answers requeueAfterMs gets it again after that delay; either way a success forgets the
   * key's failures.
   */
  start(handler: ReconcileHandler): void {
    if (this.stopped) throw new Error('WorkQueue: start after stop');
    if (this.handler !== undefined) throw new Error('WorkQueue: already started');
    this.handler = handler;
    this.pump();
  }

  /** Stops taking keys, drops waiting and delayed keys, and waits for the handlers in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.delayed.values()) this.clearTimer(entry.timer);
    this.delayed.clear();
    this.waiting.clear();
    this.dirty.clear();
    this.due.clear();
    await Promise.all([...this.runs]);
    this.notifyIdle();
  }

  /** Resolves once no key is waiting or being processed (delayed keys are not waited for). */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.processing.size === 0 && (this.waiting.size === 0 || this.stopped);
  }

  private notifyIdle(): void {
    if (!this.isIdle() || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Like add, but ahead of the keys already waiting, and it may take a deadline worker. */
  private addFirst(key: string): void {
    if (this.stopped) return;
    this.due.add(key);
    if (this.processing.has(key)) {
      this.dirty.add(key);
      return;
    }
    const rest = [...this.waiting].filter((k) => k !== key);
    this.waiting.clear();
    for (const k of [key, ...rest]) this.waiting.add(k);
    this.pump();
  }

  private pump(): void {
    const handler = this.handler;
    if (handler === undefined || this.stopped) return;
    // Due keys are at the front: they take free workers first, then the deadline workers.
    while (this.waiting.size > 0) {
      const key = this.waiting.values().next().value as string;
      const limit = this.due.has(key) ? this.concurrency + this.deadlineWorkers : this.concurrency;
      if (this.processing.size >= limit) break;
      this.waiting.delete(key);
      this.due.delete(key);
      this.processing.add(key);
      const run = this.process(key, handler);
      this.runs.add(run);
      void run.finally(() => this.runs.delete(run));
    }
  }

  private async process(key: string, handler: ReconcileHandler): Promise<void> {
    // Start the handler on a later microtask: pump() never re-enters itself, even when a
    // handler throws synchronously. Every YIELD_EVERY starts, a turn of the event loop first:
    // reconciles that need no I/O (10,000 after a restart) ran back to back in one chain of
    // microtasks, which kept signals, watch events and /healthz waiting for 26-47 s, long enough
    // for a liveness probe to restart the pod. A turn before every start cost the timed pauses
    // of a 100-rollout burst (p50 0.4 -> 0.8-1.5 s in one run each), so only now and then.
    if (this.turn === undefined && ++this.startsSinceTurn >= YIELD_EVERY) {
      this.turn = new Promise<void>((resolve) =>
        setImmediate(() => {
          this.turn = undefined;
          this.startsSinceTurn = 0;
          resolve();
        }),
      );
    }
    await (this.turn ?? Promise.resolve()); // every worker waits for that one turn
    try {
      const outcome = await handler(key);
      this.forget(key);
      if (outcome && typeof outcome.requeueAfterMs === 'number') this.addAfter(key, outcome.requeueAfterMs);
    } catch (err) {
      this.addRateLimited(key);
      try {
        this.onError(key, err);
      } catch {
        // a failing error callback must not stop the worker
      }
    } finally {
      this.processing.delete(key);
      if (this.dirty.delete(key)) {
        if (this.due.has(key)) this.addFirst(key);
        else this.add(key);
      }
      this.pump();
      this.notifyIdle();
    }
  }
}
