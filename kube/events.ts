// Kubernetes Events about our objects (Rollouts, AnalysisRuns), as `kubectl describe` and
// `kubectl get events` show them.
import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { KubeClient } from './client.ts';

export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid: string;
  resourceVersion?: string | undefined;
}

/** One Event to record; the planners' PlannedEvent (api/views.ts) has this shape. */
export interface EventToRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** Identical Events remembered for aggregation (Kubernetes' recorder keeps 4096 too). */
const AGGREGATE_CACHE_SIZE = 4096;
/** Queued Events written at once, all Rollouts together: they must not take the sockets reconciles write with. */
const QUEUED_WRITES_AT_ONCE = 4;
/**
 * A queued Event waits while the client is writing a burst, this many other writes in flight or
 * ended within BURST_WINDOW_MS (one Rollout's step is 2 or 3: its routing objects and its status):
 * 100 Rollouts promoted at once then get their weights and statuses to the API server first and
 * their Events after (promote → VirtualService written, p50 of 3 interleaved runs 778 / 656 / 859
 * → 453 / 976 / 644 ms, p99 1058 / 1058 / 1109 → 769 / 1192 / 1106 ms; bench/HISTORY.md). A lone
 * step's Event is not held, so a controller killed right after it has still written it...
 */
const BURST_WRITES = 8;
const BURST_WINDOW_MS = 100;
/** ...and none waits longer than this after it was queued, so a controller that never pauses still records. */
const LONGEST_EVENT_HOLD_MS = 2000;

/** How queued Events wait out a burst of the client's other writes (the defaults above; tests change them). */
export interface EventHold {
  burstWrites: number;
  windowMs: number;
  longestMs: number;
}

export class EventRecorder {
  private readonly client: KubeClient;
  private readonly component: string;
  private readonly instance: string;
  /** involved object + type + reason + message → the Event written for it and its count (oldest first) */
  private readonly written = new Map<string, { name: string; count: number }>();
  /** per involved object, the Events still to write (in order, off the caller's path) */
  private readonly chains = new Map<string, Promise<void>>();
  private writing = 0;
  private readonly waitingToWrite: (() => void)[] = [];

  private readonly hold: EventHold;

  constructor(client: KubeClient, component = 'rollway-controller', instance = 'rollway', hold: EventHold = { burstWrites: BURST_WRITES, windowMs: BURST_WINDOW_MS, longestMs: LONGEST_EVENT_HOLD_MS }) {
    this.client = client;
    this.component = component;
    this.instance = instance;
    this.hold = hold;
  }

  /**
   * Queues Events to be written after the caller moves on, in order for each involved object.
   * Never fails and never waits: a reconcile is not slowed down by its Events.
   */
  enqueue(object: InvolvedObject, events: readonly EventToRecord[]): void {
    if (events.length === 0) return;
    const key = object.uid || `${object.namespace}/${object.kind}/${object.name}`;
    const holdUntil = performance.now() + this.hold.longestMs;
    const next = (this.chains.get(key) ?? Promise.resolve()).then(async () => {
      for (const event of events) {
        await this.burstOverOrDeadline(holdUntil);
        await this.throttled(() => this.record(object, event));
      }
    });
    this.chains.set(key, next);
    void next.finally(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
  }

  /** Resolves once the client writes no burst (hold.burstWrites within hold.windowMs), or at `deadline`. */
  private async burstOverOrDeadline(deadline: number): Promise<void> {
    while (this.client.writesWithin(this.hold.windowMs) >= this.hold.burstWrites) {
      const left = deadline - performance.now();
      if (left <= 0) return;
      await delay(Math.min(left, this.hold.windowMs / 4));
    }
  }

  /** Runs a queued write when fewer than QUEUED_WRITES_AT_ONCE are under way. */
  private async throttled<T>(write: () => Promise<T>): Promise<T> {
    if (this.writing >= QUEUED_WRITES_AT_ONCE) await new Promise<void>((resolve) => this.waitingToWrite.push(resolve));
    this.writing++;
    try {
      return await write();
    } finally {
      this.writing--;
      this.waitingToWrite.shift()?.();
    }
  }

  /** Waits for the queued Events (on shutdown, and in tests). */
  async flush(): Promise<void> {
    while (this.chains.size > 0) await Promise.all([...this.chains.values()]);
  }

  /**
   * Best effort: an Event that cannot be written must never fail a reconcile. A repeat of an
   * Event already written (same object, type, reason and message) raises its count and
   * lastTimestamp instead of adding another, as Kubernetes' own recorder does.
   */
  async record(object: InvolvedObject, event: EventToRecord): Promise<boolean> {
    const now = new Date().toISOString();
    const key = `${object.uid}|${object.namespace}/${object.kind}/${object.name}|${event.type}|${event.reason}|${event.message}`;
    const seen = this.written.get(key);
    if (seen && (await this.bump(object.namespace, seen, now))) {
      this.remember(key, seen);
      return true;
    }
    const name = `${object.name}.${Date.now().toString(16)}${randomBytes(2).toString('hex')}`;
    try {
      await this.client.create(
        { group: '', version: 'v1', plural: 'events', namespace: object.namespace },
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name, namespace: object.namespace },
          involvedObject: object,
          reason: event.reason,
          message: event.message,
          type: event.type,
          source: { component: this.component },
          reportingComponent: this.component,
          reportingInstance: this.instance,
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
      );
      this.remember(key, { name, count: 1 });
      return true;
    } catch {
      return false;
    }
  }

  /** Counts one more of an Event already written; false when it is gone (Events expire) or cannot be patched. */
  private async bump(namespace: string, seen: { name: string; count: number }, now: string): Promise<boolean> {
    try {
      await this.client.patch({ group: '', version: 'v1', plural: 'events', namespace, name: seen.name }, 'merge', { count: seen.count + 1, lastTimestamp: now });
      seen.count++;
      return true;
    } catch {
      return false;
    }
  }

  private remember(key: string, entry: { name: string; count: number }): void {
    this.written.delete(key); // most recently used last
    this.written.set(key, entry);
    if (this.written.size > AGGREGATE_CACHE_SIZE) this.written.delete(this.written.keys().next().value!);
  }
}
