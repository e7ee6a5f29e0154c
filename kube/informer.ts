// A supervised informer (design §5): keeps a cache of one resource type in sync with LIST+WATCH
// and tells handlers what changed. It never gives up: a watch that ends is reopened from the last
// resourceVersion, 410 Gone relists at once, any other error (a silent connection included, which
// the watchdog turns into one) relists after exponential backoff with jitter, and a periodic relist
// catches anything a watch could have missed. A relist is diffed against the cache, so it emits
// exactly the adds, updates and deletes that happened — nothing for unchanged objects.
// resourceVersion is opaque: it is only ever compared for equality.
import { KubeApiError, type KubeObject, type ObjectList, type RequestOptions, type ResourceRef, type WatchEvent } from './client.ts';
import { backoffDelay, jittered, MAX_TIMER_MS } from './backoff.ts';
import { fallbackLogger, type Logger, type LogLevel } from '../lib/log.ts';

/** The two API calls an informer makes; KubeClient satisfies it, and a test stub is small. */
export interface ListWatchClient {
  list(ref: ResourceRef, query?: RequestOptions['query']): Promise<ObjectList<KubeObject>>;
  watch(
    ref: ResourceRef,
    query: RequestOptions['query'],
    onEvent: (event: WatchEvent<KubeObject>) => void,
    options?: { signal?: AbortSignal; idleTimeoutMs?: number },
  ): Promise<void>;
  /**
   * true: lists are first asked for as a watch that streams the current objects and then a
   * bookmark (sendInitialEvents, Kubernetes' WatchList). kube-apiserver serves it from its watch
   * cache, object by object: 10,000 Rollouts in 2.8 s where 500-object LIST pages read from etcd
   * took 9.4 s, and no page of them held in memory at once. A server that refuses it gets pages.
   */
  readonly streamingLists?: boolean;
}

interface ListPage<T> {
  items: T[];
  resourceVersion: string | undefined;
  continue: string | undefined;
}

/** The annotation of the bookmark that ends a streamed list's initial objects. */
export const INITIAL_EVENTS_END_ANNOTATION = 'k8s.io/initial-events-end';

export type { Logger, LogLevel };

export interface InformerOptions {
  labelSelector?: string;
  fieldSelector?: string;
  /** server-side watch timeout; default 300 s, jittered ±10% per watch */
  watchTimeoutSeconds?: number;
  /** a watch silent for this long is treated as broken; default 90 s (bookmarks keep a healthy one talking) */
  idleTimeoutMs?: number;
  /** full relist period; default 30 min, jittered ±10%; 0 disables */
  relistIntervalMs?: number;
  /** LIST page size; default 500 */
  pageSize?: number;
  /**
   * reconnect backoff after errors; default 200 ms doubling up to 3 s. A short cap: once the API
   * server is back (a restart, an upgrade), the cache must catch up within seconds, not after a
   * long sleep; a retry every 3 s per informer is no load on a server that is down.
   */
  backoff?: { baseMs?: number; maxMs?: number };
  /** default: JSON lines on stderr for info and above */
  log?: Logger;
  /** random source for jitter (tests) */
  random?: () => number;
  /**
   * Trims each object before it is cached, to keep memory low with many objects: keep only what
   * the handlers and reconcilers read. metadata.managedFields is always dropped.
   */
  transform?: (object: KubeObject) => KubeObject;
}

export type InformerEventType = 'added' | 'updated' | 'deleted';
export interface InformerEvent<T extends KubeObject> {
  type: InformerEventType;
  /** the object now; for 'deleted', its last known state */
  object: T;
  /** for 'updated': the object before */
  old?: T;
}
export type InformerHandler<T extends KubeObject> = (event: InformerEvent<T>) => void;

export interface InformerStats {
  /** full relists started (the initial list included) */
  lists: number;
  /** watches opened */
  watches: number;
  /** relists caused by 410 Gone */
  relistsAfterGone: number;
  /** list/watch failures other than 410 Gone (watchdog timeouts included) */
  errors: number;
}

/** The cache key of an object: `namespace/name`, or `name` for a cluster-scoped object. */
export function keyOf(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

/** The inverse of keyOf. */
export function splitKey(key: string): { namespace: string | undefined; name: string } {
  const slash = key.indexOf('/');
  return slash < 0 ? { namespace: undefined, name: key } : { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

export function isGoneError(err: unknown): boolean {
  if (err instanceof KubeApiError) return err.isGone;
  const e = err as { statusCode?: unknown; code?: unknown } | null;
  return typeof e === 'object' && e !== null && (e.statusCode === 410 || e.code === 410);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * The server turned down a streamed list: an API server without WatchList refuses
 * sendInitialEvents or resourceVersionMatch on a watch (400, 422), an aggregated API may answer
 * 404 or 405. Not 410 (too old), 429 (busy) or 5xx, which a relist retries as it is.
 */
function refusesStreamedLists(err: unknown): boolean {
  return err instanceof KubeApiError && err.statusCode >= 400 && err.statusCode < 500 && err.statusCode !== 410 && err.statusCode !== 429;
}

/** A watch that ends by itself this soon without a single event counts as a failure (no hot loop). */
const MIN_HEALTHY_WATCH_MS = 1000;

export class Informer<T extends KubeObject> {
  private readonly client: ListWatchClient;
  private readonly ref: ResourceRef;
  private readonly labelSelector: string | undefined;
  private readonly fieldSelector: string | undefined;
  private readonly watchTimeoutSeconds: number;
  private readonly idleTimeoutMs: number;
  private readonly relistIntervalMs: number;
  private readonly pageSize: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly log: Logger;
  private readonly random: () => number;
  private readonly what: Record<string, unknown>;
  private readonly transform: ((object: KubeObject) => KubeObject) | undefined;
  /** lists are streamed while the server does so (ListWatchClient.streamingLists) */
  private streamLists: boolean;

  private store = new Map<string, T>();
  /** the store by namespace, so that list(namespace) costs that namespace's objects, not all of them */
  private byNamespace = new Map<string, Map<string, T>>();
  private readonly handlers = new Set<InformerHandler<T>>();
  private lastResourceVersion: string | undefined;
  private synced = false;
  private started = false;
  private stopped = false;
  /** consecutive failures since the last watch that delivered an event */
  private failures = 0;
  private relistRequested = false;
  private watchAbort: AbortController | undefined;
  private relistTimer: NodeJS.Timeout | undefined;
  private sleepTimer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;
  private syncWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private loop: Promise<void> | undefined;
  private closeWaiters: Array<() => void> = [];
  private readonly counters: InformerStats = { lists: 0, watches: 0, relistsAfterGone: 0, errors: 0 };

  constructor(client: ListWatchClient, ref: ResourceRef, options: InformerOptions = {}) {
    this.client = client;
    this.ref = { group: ref.group, version: ref.version, plural: ref.plural, namespace: ref.namespace };
    this.labelSelector = options.labelSelector;
    this.fieldSelector = options.fieldSelector;
    this.watchTimeoutSeconds = options.watchTimeoutSeconds ?? 300;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 90_000;
    this.relistIntervalMs = options.relistIntervalMs ?? 30 * 60_000;
    this.pageSize = options.pageSize ?? 500;
    this.backoffBaseMs = options.backoff?.baseMs ?? 200;
    this.backoffMaxMs = options.backoff?.maxMs ?? 3_000;
    this.log = options.log ?? fallbackLogger;
    this.random = options.random ?? Math.random;
    this.transform = options.transform;
    this.streamLists = client.streamingLists === true;
    const resource = ref.group ? `${ref.plural}.${ref.group}` : ref.plural;
    this.what = ref.namespace ? { resource, namespace: ref.namespace } : { resource };
  }

  /**
   * Registers a handler for every change; answers a function that removes it. A handler added
   * after the first sync first gets an 'added' event for each cached object. Handlers should only
   * enqueue keys: one that throws (or rejects) is logged and changes nothing else.
   */
  on(handler: InformerHandler<T>): () => void {
    this.handlers.add(handler);
    if (this.synced) for (const object of this.store.values()) this.call(handler, { type: 'added', object });
    return () => {
      this.handlers.delete(handler);
    };
  }

  onAdd(fn: (object: T) => void): () => void {
    return this.on((e) => {
      if (e.type === 'added') fn(e.object);
    });
  }

  onUpdate(fn: (object: T, old: T) => void): () => void {
    return this.on((e) => {
      if (e.type === 'updated' && e.old !== undefined) fn(e.object, e.old);
    });
  }

  onDelete(fn: (object: T) => void): () => void {
    return this.on((e) => {
      if (e.type === 'deleted') fn(e.object);
    });
  }

  /** Starts listing and watching in the background; it keeps going until stop(). */
  start(): void {
    if (this.stopped) throw new Error('Informer: start after stop');
    if (this.started) return;
    this.started = true;
    this.loop = this.run().catch((err: unknown) => {
      // run() handles its own errors; this only guards against a bug turning into an unhandled rejection
      this.log('error', 'informer loop ended unexpectedly', { ...this.what, error: errorText(err) });
    });
  }

  /** Aborts the watch and clears every timer; the cache keeps its last content. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.watchAbort?.abort();
    clearTimeout(this.relistTimer);
    this.relistTimer = undefined;
    this.wake?.();
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const waiter of waiters) waiter.reject(new Error(`informer for ${String(this.what.resource)} stopped before it synced`));
    const loop = this.loop ?? Promise.resolve();
    for (const resolve of this.closeWaiters.splice(0)) void loop.then(resolve);
  }

  /**
   * Resolves once the informer has stopped working: after stop(), when its watch connection has
   * closed (or, if stop() came during a LIST, once that request has answered). Never rejects.
   */
  closed(): Promise<void> {
    if (!this.stopped) return new Promise((resolve) => this.closeWaiters.push(resolve));
    return this.loop ?? Promise.resolve();
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first full list has been stored and its events delivered; rejects if stopped first. */
  waitForSync(): Promise<void> {
    if (this.synced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`informer for ${String(this.what.resource)} is stopped`));
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /** The cached object; treat it as read-only. */
  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(namespace ? `${namespace}/${name}` : name);
  }

  /** Cached objects, all or those of one namespace; treat them as read-only. */
  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.store.values()];
    return [...(this.byNamespace.get(namespace)?.values() ?? [])];
  }

  keyOf(object: KubeObject): string {
    return keyOf(object);
  }

  /** The resourceVersion the next watch starts from (opaque). */
  /**
   * Lists again now, as if the cache were lost: for a caller that has evidence the cache is stale
   * (writes keep failing with conflicts) although the watch looks healthy.
   */
  requestRelist(): void {
    if (this.stopped || !this.started) return;
    this.relistRequested = true;
    this.watchAbort?.abort();
    this.wake?.();
  }

  get resourceVersion(): string | undefined {
    return this.lastResourceVersion;
  }

  stats(): InformerStats {
    return { ...this.counters };
  }

  private async run(): Promise<void> {
    let needList = true;
    while (!this.stopped) {
      try {
        if (needList || this.relistRequested) {
          needList = !(await this.relist());
          continue; // re-check stopped / relistRequested before watching
        }
        const watch = await this.watchOnce();
        if (watch.aborted || watch.events > 0 || watch.ms >= MIN_HEALTHY_WATCH_MS) continue;
        // ended at once without a word: back off before reopening, but keep the cache
        this.failures++;
        this.log('warn', 'watch ended immediately, backing off', { ...this.what, failures: this.failures });
        await this.sleep(this.nextBackoff(this.failures - 1));
      } catch (err) {
        if (this.stopped) break;
        needList = true;
        this.failures++;
        let delay: number;
        if (isGoneError(err)) {
          this.counters.relistsAfterGone++;
          // the first 410 relists at once; repeated ones (no healthy watch in between) back off
          delay = this.failures === 1 ? 0 : this.nextBackoff(this.failures - 2);
          this.log('info', 'resourceVersion too old (410 Gone), relisting', { ...this.what, resourceVersion: this.lastResourceVersion, delayMs: delay });
        } else {
          this.counters.errors++;
          delay = this.nextBackoff(this.failures - 1);
          this.log('warn', 'list/watch failed, relisting after backoff', { ...this.what, error: errorText(err), failures: this.failures, delayMs: delay });
        }
        if (delay > 0) await this.sleep(delay);
      }
    }
  }

  private nextBackoff(attempt: number): number {
    return backoffDelay(attempt, { baseMs: this.backoffBaseMs, maxMs: this.backoffMaxMs }, this.random);
  }

  /** Refreshes the whole cache; false when interrupted first (stop(), or another relist asked for). */
  private async relist(): Promise<boolean> {
    this.relistRequested = false;
    this.counters.lists++;
    // One LIST page first: a collection that fits in it is listed at once. A streamed list ends
    // only at the API server's next bookmark tick (up to a second), which is most of an empty
    // cluster's start-up; a longer collection is worth that wait.
    const first = await this.listPage(undefined);
    if (this.stopped) return false;
    if (first.continue !== undefined && this.streamLists) {
      const streamed = await this.streamedList();
      if (streamed === 'interrupted') return false;
      if (typeof streamed === 'object') {
        this.replace(streamed.items, streamed.resourceVersion);
        this.scheduleRelist();
        return true;
      }
      if (streamed === 'refused') this.streamLists = false; // the server does not stream lists: pages from now on
    }
    return this.pagedList(first);
  }

  /**
   * The current objects as a watch streams them, up to the bookmark that ends them; 'refused'
   * when the server does not stream lists (a server without WatchList rejects the request, or
   * ends the watch without that bookmark), so the caller lists in pages instead.
   */
  private async streamedList(): Promise<{ items: T[]; resourceVersion: string | undefined } | 'refused' | 'silent' | 'interrupted'> {
    const items: T[] = [];
    let resourceVersion: string | undefined;
    let ended = false;
    let events = 0;
    try {
      const { stopped } = await this.watchRequest({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan' }, (event, stop) => {
        if (ended) return;
        events++;
        if (event.type === 'ADDED') items.push(this.trim(event.object) as T);
        else if (event.type === 'BOOKMARK' && event.object.metadata?.annotations?.[INITIAL_EVENTS_END_ANNOTATION] === 'true') {
          ended = true;
          resourceVersion = event.object.metadata.resourceVersion;
          stop(); // the watch from here on is watchOnce's
        } else if (event.type !== 'BOOKMARK') {
          stop(new Error(`a streamed list sent a ${event.type} event before its initial objects ended`));
        }
      });
      if (ended) return { items, resourceVersion };
      if (stopped) return 'interrupted';
      this.log('info', 'the API server ended a streamed list without its closing bookmark: listing in pages', { ...this.what });
      return 'refused';
    } catch (err) {
      if (refusesStreamedLists(err)) {
        this.log('info', 'the API server does not stream lists (WatchList): listing in pages', { ...this.what, error: errorText(err) });
        return 'refused';
      }
      // Not a word before it failed (a server that ignores the request's parameters stays
      // silent until the watchdog fires): this relist reads pages, the next one streams again.
      if (events === 0) {
        this.log('warn', 'a streamed list failed before its first object: listing in pages', { ...this.what, error: errorText(err) });
        return 'silent';
      }
      throw err;
    }
  }

  /** The collection page by page from the first one; false when stopped first. */
  private async pagedList(first: ListPage<T>): Promise<boolean> {
    const items = [...first.items];
    let page = first;
    while (page.continue !== undefined) {
      page = await this.listPage(page.continue);
      if (this.stopped) return false;
      items.push(...page.items);
    }
    this.replace(items, page.resourceVersion);
    this.scheduleRelist();
    return true;
  }

  private async listPage(continueToken: string | undefined): Promise<ListPage<T>> {
    const page = await this.client.list(this.ref, { labelSelector: this.labelSelector, fieldSelector: this.fieldSelector, limit: this.pageSize, continue: continueToken });
    // items of a list carry no apiVersion/kind; give them the ones watch events have
    const kind = page.kind?.endsWith('List') ? page.kind.slice(0, -'List'.length) : undefined;
    const items = page.items.map((item) => {
      if (item.apiVersion === undefined && page.apiVersion !== undefined) item.apiVersion = page.apiVersion;
      if (item.kind === undefined && kind !== undefined) item.kind = kind;
      return this.trim(item) as T;
    });
    return { items, resourceVersion: page.metadata?.resourceVersion, continue: page.metadata?.continue || undefined };
  }

  /** Swaps in a fresh list and emits the differences to the previous cache. */
  private replace(items: T[], resourceVersion: string | undefined): void {
    const next = new Map<string, T>();
    const events: Array<InformerEvent<T>> = [];
    for (const object of items) next.set(keyOf(object), object);
    for (const [key, object] of next) {
      const old = this.store.get(key);
      if (old === undefined) {
        events.push({ type: 'added', object });
      } else if (old.metadata.uid !== undefined && object.metadata.uid !== undefined && old.metadata.uid !== object.metadata.uid) {
        // deleted and recreated while we were not watching
        events.push({ type: 'deleted', object: old }, { type: 'added', object });
      } else if (old.metadata.resourceVersion !== object.metadata.resourceVersion) {
        events.push({ type: 'updated', object, old });
      } else {
        next.set(key, old); // unchanged: keep the instance handlers already saw, emit nothing
      }
    }
    for (const [key, old] of this.store) if (!next.has(key)) events.push({ type: 'deleted', object: old });
    this.store = next;
    this.byNamespace = new Map();
    for (const [key, object] of next) this.indexNamespace(key, object);
    this.lastResourceVersion = resourceVersion;
    for (const event of events) this.emit(event);
    this.log('debug', 'listed', { ...this.what, objects: next.size, changes: events.length, resourceVersion });
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const waiter of waiters) waiter.resolve();
    }
  }

  private scheduleRelist(): void {
    clearTimeout(this.relistTimer);
    this.relistTimer = undefined;
    if (!(this.relistIntervalMs > 0) || this.stopped) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(1, Math.round(jittered(this.relistIntervalMs, 0.1, this.random))));
    this.relistTimer = setTimeout(() => {
      this.relistTimer = undefined;
      this.relistRequested = true;
      this.watchAbort?.abort(); // the loop sees the request once the watch returns
    }, delay);
  }

  /** One watch from the last resourceVersion, until the server ends it, an error, or an abort. */
  private async watchOnce(): Promise<{ events: number; ms: number; aborted: boolean }> {
    this.counters.watches++;
    const startedAt = Date.now();
    let events = 0;
    const { stopped } = await this.watchRequest({ resourceVersion: this.lastResourceVersion }, (event, stop) => {
      events++;
      if (events === 1) this.failures = 0; // the connection works
      try {
        this.apply(event);
      } catch (err) {
        stop(err instanceof Error ? err : new Error(String(err))); // e.g. an ERROR event a client passes on: like a rejection
      }
    });
    return { events, ms: Date.now() - startedAt, aborted: stopped };
  }

  /**
   * One watch request with this informer's selectors, bookmarks and jittered timeout, abortable by
   * stop(). `onEvent` ends it with `stop()`, or fails it with `stop(err)`. Answers whether it was
   * stopped (by onEvent or the informer); a failure of the request itself is thrown.
   */
  private async watchRequest(query: Record<string, string | boolean | undefined>, onEvent: (event: WatchEvent<T>, stop: (err?: Error) => void) => void): Promise<{ stopped: boolean }> {
    const controller = new AbortController();
    this.watchAbort = controller;
    let failure: Error | undefined;
    const stop = (err?: Error): void => {
      failure ??= err;
      controller.abort();
    };
    const timeoutSeconds = Math.max(1, Math.round(jittered(this.watchTimeoutSeconds, 0.1, this.random)));
    try {
      await this.client.watch(
        this.ref,
        { labelSelector: this.labelSelector, fieldSelector: this.fieldSelector, allowWatchBookmarks: true, timeoutSeconds, ...query },
        (event) => {
          if (!controller.signal.aborted && !this.stopped) onEvent(event as WatchEvent<T>, stop);
        },
        { signal: controller.signal, idleTimeoutMs: this.idleTimeoutMs },
      );
    } catch (err) {
      if (!controller.signal.aborted) throw err;
    } finally {
      if (this.watchAbort === controller) this.watchAbort = undefined;
    }
    if (failure !== undefined) throw failure;
    return { stopped: controller.signal.aborted };
  }

  private trim(object: KubeObject): KubeObject {
    if (object.metadata?.managedFields !== undefined) {
      const { managedFields: _dropped, ...metadata } = object.metadata;
      object = { ...object, metadata };
    }
    return this.transform ? this.transform(object) : object;
  }

  private apply(event: WatchEvent<T>): void {
    const object = event.type === 'ADDED' || event.type === 'MODIFIED' ? (this.trim(event.object) as T) : event.object;
    switch (event.type) {
      case 'ADDED':
      case 'MODIFIED': {
        const key = keyOf(object);
        const old = this.store.get(key);
        if (old !== undefined && old.metadata.resourceVersion === object.metadata.resourceVersion) break; // a replay of what we have
        this.store.set(key, object);
        this.indexNamespace(key, object);
        this.emit(old === undefined ? { type: 'added', object } : { type: 'updated', object, old });
        break;
      }
      case 'DELETED': {
        const key = keyOf(object);
        const old = this.store.get(key);
        if (old !== undefined) {
          this.store.delete(key);
          const inNamespace = this.byNamespace.get(old.metadata.namespace ?? '');
          inNamespace?.delete(key);
          if (inNamespace?.size === 0) this.byNamespace.delete(old.metadata.namespace ?? '');
          this.emit({ type: 'deleted', object });
        }
        break;
      }
      case 'BOOKMARK':
        break;
      case 'ERROR': {
        const status = object as unknown as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(status.code ?? 500, status.reason ?? 'WatchError', status.message ?? 'watch error', status);
      }
      default:
        this.log('warn', 'unknown watch event type ignored', { ...this.what, type: String(event.type) });
        return;
    }
    const resourceVersion = object.metadata?.resourceVersion;
    if (resourceVersion) this.lastResourceVersion = resourceVersion;
  }

  private indexNamespace(key: string, object: T): void {
    const namespace = object.metadata.namespace;
    if (namespace === undefined) return; // cluster-scoped: listed only whole
    let objects = this.byNamespace.get(namespace);
    if (objects === undefined) this.byNamespace.set(namespace, (objects = new Map()));
    objects.set(key, object);
  }

  private emit(event: InformerEvent<T>): void {
    for (const handler of this.handlers) this.call(handler, event);
  }

  private call(handler: InformerHandler<T>, event: InformerEvent<T>): void {
    try {
      const result = handler(event) as unknown;
      if (result instanceof Promise) {
        result.catch((err: unknown) => this.handlerFailed(event, err));
      }
    } catch (err) {
      this.handlerFailed(event, err);
    }
  }

  private handlerFailed(event: InformerEvent<T>, err: unknown): void {
    try {
      this.log('error', 'informer event handler threw', { ...this.what, event: event.type, key: keyOf(event.object), error: errorText(err) });
    } catch {
      // a broken logger must not break the informer either
    }
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(this.sleepTimer);
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      this.sleepTimer = setTimeout(done, ms);
    });
  }
}
