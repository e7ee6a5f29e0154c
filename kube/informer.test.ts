import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeApiError, KubeClient, type KubeObject, type ObjectList, type RequestOptions, type ResourceRef, type WatchEvent } from './client.ts';
import { Informer, keyOf, splitKey, type InformerEvent, type InformerOptions, type ListWatchClient, type LogLevel } from './informer.ts';

type Query = RequestOptions['query'];

interface ConfigMap extends KubeObject {
  data?: Record<string, string>;
}

/** One open watch of the fake API: the test pushes events, ends it or fails it. */
class FakeWatch {
  readonly query: Query;
  readonly idleTimeoutMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly promise: Promise<void>;
  private readonly onEvent: (event: WatchEvent<KubeObject>) => void;
  private resolve!: () => void;
  private reject!: (err: unknown) => void;
  closed = false;

  constructor(query: Query, onEvent: (event: WatchEvent<KubeObject>) => void, options: { signal?: AbortSignal; idleTimeoutMs?: number }) {
    this.query = query;
    this.onEvent = onEvent;
    this.signal = options.signal;
    this.idleTimeoutMs = options.idleTimeoutMs;
    this.promise = new Promise<void>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    // like KubeClient: an abort ends the watch quietly
    options.signal?.addEventListener('abort', () => this.end(), { once: true });
  }

  get aborted(): boolean {
    return this.signal?.aborted ?? false;
  }

  send(type: WatchEvent['type'], object: KubeObject): void {
    assert.ok(!this.closed, 'event sent on a closed watch');
    this.onEvent({ type, object: structuredClone(object) });
  }

  end(): void {
    if (this.closed) return;
    this.closed = true;
    this.resolve();
  }

  fail(err: unknown): void {
    if (this.closed) return;
    this.closed = true;
    this.reject(err);
  }
}

/** An in-memory API server for one resource: objects, an opaque resourceVersion, paged lists. */
class FakeApi implements ListWatchClient {
  readonly objects = new Map<string, ConfigMap>();
  readonly listQueries: Query[] = [];
  readonly listTimes: number[] = [];
  readonly watches: FakeWatch[] = [];
  /** the fake's own page size cap (smaller than the informer's limit, to exercise continue) */
  pageSize = 2;
  /** errors the next list calls throw, in order */
  readonly listErrors: unknown[] = [];
  private rv = 1000;
  private uid = 0;

  put(name: string, data: Record<string, string> = {}, namespace = 'shop'): ConfigMap {
    const key = `${namespace}/${name}`;
    const existing = this.objects.get(key);
    const object: ConfigMap = {
      metadata: { name, namespace, uid: existing?.metadata.uid ?? `uid-${++this.uid}`, resourceVersion: this.nextRv() },
      data,
    };
    this.objects.set(key, object);
    return { apiVersion: 'v1', kind: 'ConfigMap', ...object };
  }

  remove(name: string, namespace = 'shop'): ConfigMap {
    const key = `${namespace}/${name}`;
    const object = this.objects.get(key);
    assert.ok(object);
    this.objects.delete(key);
    return { apiVersion: 'v1', kind: 'ConfigMap', ...object, metadata: { ...object.metadata, resourceVersion: this.nextRv() } };
  }

  /** an opaque resourceVersion: not a plain number, so nothing can compare it numerically */
  nextRv(): string {
    this.rv++;
    return `rv-${this.rv.toString(36)}`;
  }

  get currentRv(): string {
    return `rv-${this.rv.toString(36)}`;
  }

  get lastWatch(): FakeWatch {
    const w = this.watches.at(-1);
    assert.ok(w, 'no watch opened');
    return w;
  }

  async list(_ref: ResourceRef, query: Query = {}): Promise<ObjectList<KubeObject>> {
    this.listQueries.push(query);
    this.listTimes.push(Date.now());
    await Promise.resolve();
    if (this.listErrors.length > 0) throw this.listErrors.shift();
    const all = [...this.objects.values()].sort((a, b) => keyOf(a).localeCompare(keyOf(b)));
    const start = query.continue === undefined ? 0 : Number(String(query.continue).slice('token-'.length));
    const limit = Math.min(Number(query.limit ?? Infinity), this.pageSize);
    const items = all.slice(start, start + limit).map((o) => structuredClone(o));
    const next = start + limit < all.length ? `token-${start + limit}` : undefined;
    return { apiVersion: 'v1', kind: 'ConfigMapList', metadata: { resourceVersion: this.currentRv, ...(next ? { continue: next } : {}) }, items };
  }

  watch(_ref: ResourceRef, query: Query, onEvent: (event: WatchEvent<KubeObject>) => void, options: { signal?: AbortSignal; idleTimeoutMs?: number } = {}): Promise<void> {
    const w = new FakeWatch(query, onEvent, options);
    this.watches.push(w);
    return w.promise;
  }
}

const ref: ResourceRef = { group: '', version: 'v1', plural: 'configmaps', namespace: 'shop' };

/**
 * A fake API server with WatchList: a watch with sendInitialEvents first streams every object as
 * ADDED, then the bookmark that ends them (kube-apiserver since 1.27; on by default since 1.32).
 * `streams` = 'refuse' answers as a server without it does (422), 'no-bookmark' ends the stream
 * after the objects without the bookmark.
 */
class StreamingFakeApi extends FakeApi {
  readonly streamingLists = true;
  streams: 'serve' | 'refuse' | 'no-bookmark' = 'serve';

  override watch(ref: ResourceRef, query: Query, onEvent: (event: WatchEvent<KubeObject>) => void, options: { signal?: AbortSignal; idleTimeoutMs?: number } = {}): Promise<void> {
    const opened = super.watch(ref, query, onEvent, options);
    if (query?.sendInitialEvents !== true) return opened;
    const w = this.lastWatch;
    queueMicrotask(() => {
      if (this.streams === 'refuse') return w.fail(new KubeApiError(422, 'Invalid', 'resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for watch', {}));
      for (const object of this.objects.values()) w.send('ADDED', { apiVersion: 'v1', kind: 'ConfigMap', ...object });
      if (this.streams === 'no-bookmark') return w.end();
      w.send('BOOKMARK', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { resourceVersion: this.currentRv, annotations: { 'k8s.io/initial-events-end': 'true' } } });
    });
    return opened;
  }
}

async function until(what: string, cond: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface Harness {
  api: FakeApi;
  informer: Informer<ConfigMap>;
  events: Array<InformerEvent<ConfigMap>>;
  logs: Array<{ level: LogLevel; msg: string; fields: Record<string, unknown> }>;
  /** the events as compact strings: 'added shop/a' */
  seen: () => string[];
}

function setup(options: InformerOptions = {}, api = new FakeApi()): Harness {
  const logs: Harness['logs'] = [];
  const informer = new Informer<ConfigMap>(api, ref, { random: () => 0.5, log: (level, msg, fields) => logs.push({ level, msg, fields }), ...options });
  const events: Array<InformerEvent<ConfigMap>> = [];
  informer.on((e) => events.push(e));
  const seen = (): string[] => events.map((e) => `${e.type} ${keyOf(e.object)}`);
  return { api, informer, events, logs, seen };
}

void test('the initial paged list fills the cache, emits adds, syncs, then watches from its resourceVersion', async (t) => {
  const { api, informer, events, seen } = setup({ labelSelector: 'app=web', fieldSelector: 'metadata.name!=x', idleTimeoutMs: 1234, watchTimeoutSeconds: 300 });
  t.after(() => informer.stop());
  for (const name of ['a', 'b', 'c', 'd', 'e']) api.put(name, { v: name });
  assert.equal(informer.hasSynced(), false);
  informer.start();
  await informer.waitForSync();
  assert.equal(informer.hasSynced(), true);
  assert.deepEqual(seen(), ['added shop/a', 'added shop/b', 'added shop/c', 'added shop/d', 'added shop/e']);
  assert.equal(api.listQueries.length, 3, 'three pages of two');
  assert.deepEqual(api.listQueries[0], { labelSelector: 'app=web', fieldSelector: 'metadata.name!=x', limit: 500, continue: undefined });
  assert.equal(api.listQueries[1]?.continue, 'token-2');
  assert.equal(api.listQueries[2]?.labelSelector, 'app=web', 'selectors go with every page');
  assert.equal(informer.get('shop', 'c')?.data?.v, 'c');
  assert.equal(informer.get('shop', 'c')?.kind, 'ConfigMap', 'list items get the kind of the list');
  assert.equal(informer.get('shop', 'c')?.apiVersion, 'v1');
  assert.equal(informer.get('other', 'c'), undefined);
  assert.equal(informer.list().length, 5);
  assert.equal(informer.list('shop').length, 5);
  assert.equal(informer.list('other').length, 0);
  assert.equal(events[0]?.old, undefined);

  await until('a watch', () => api.watches.length === 1);
  const q = api.lastWatch.query ?? {};
  assert.equal(q.resourceVersion, api.currentRv);
  assert.equal(q.allowWatchBookmarks, true);
  assert.equal(q.labelSelector, 'app=web');
  assert.equal(q.fieldSelector, 'metadata.name!=x');
  assert.equal(q.timeoutSeconds, 300);
  assert.equal(api.lastWatch.idleTimeoutMs, 1234);
  assert.deepEqual(informer.stats(), { lists: 1, watches: 1, relistsAfterGone: 0, errors: 0 });
});

void test('the server-side watch timeout is jittered by ±10%', async (t) => {
  const seenTimeouts = new Set<unknown>();
  for (let i = 0; i < 20; i++) {
    const { api, informer } = setup({ random: Math.random });
    t.after(() => informer.stop());
    informer.start();
    await until('a watch', () => api.watches.length === 1);
    const timeout = Number(api.lastWatch.query?.timeoutSeconds);
    assert.ok(timeout >= 270 && timeout <= 330, `${timeout}`);
    seenTimeouts.add(timeout);
    informer.stop();
  }
  assert.ok(seenTimeouts.size > 1);
});

void test('watch events update the cache; bookmarks only move the resourceVersion; a replay emits nothing', async (t) => {
  const { api, informer, events, seen } = setup();
  t.after(() => informer.stop());
  api.put('a', { v: '1' });
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  const w = api.lastWatch;
  events.length = 0;

  const b = api.put('b', { v: '1' });
  w.send('ADDED', b);
  assert.equal(informer.get('shop', 'b')?.data?.v, '1');
  const a2 = api.put('a', { v: '2' });
  w.send('MODIFIED', a2);
  assert.equal(informer.get('shop', 'a')?.data?.v, '2');
  w.send('MODIFIED', a2); // the same resourceVersion again
  const gone = api.remove('b');
  w.send('DELETED', gone);
  assert.equal(informer.get('shop', 'b'), undefined);
  w.send('DELETED', gone); // unknown by now: nothing to tell
  assert.deepEqual(seen(), ['added shop/b', 'updated shop/a', 'deleted shop/b']);
  assert.equal(events[1]?.old?.data?.v, '1', 'an update carries the old object');
  assert.equal(events[1]?.object.data?.v, '2');
  assert.equal(informer.resourceVersion, gone.metadata.resourceVersion);

  const bookmarkRv = api.nextRv();
  w.send('BOOKMARK', { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: bookmarkRv } });
  assert.equal(events.length, 3, 'a bookmark is not an event');
  assert.equal(informer.resourceVersion, bookmarkRv);
  assert.equal(informer.list().length, 1);

  // the server ends the watch (its timeout): reopened from the bookmark, no relist
  w.end();
  await until('a second watch', () => api.watches.length === 2);
  assert.equal(api.lastWatch.query?.resourceVersion, bookmarkRv);
  assert.equal(api.listQueries.length, 1);
  assert.deepEqual(informer.stats(), { lists: 1, watches: 2, relistsAfterGone: 0, errors: 0 });
});

void test('410 Gone from the watch relists at once and emits exactly what changed meanwhile', async (t) => {
  const { api, informer, events, seen } = setup({ backoff: { baseMs: 60_000 } });
  t.after(() => informer.stop());
  for (const name of ['a', 'b', 'c']) api.put(name, { v: '1' });
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  const aBefore = informer.get('shop', 'a');
  events.length = 0;

  // while the watch is behind: b deleted, c changed, d added, a untouched
  api.remove('b');
  api.put('c', { v: '2' });
  api.put('d', { v: '1' });
  api.lastWatch.fail(new KubeApiError(410, 'Expired', 'too old resource version', {}));
  await until('a new watch after the relist', () => api.watches.length === 2);

  assert.deepEqual(seen().sort(), ['added shop/d', 'deleted shop/b', 'updated shop/c']);
  assert.equal(events.find((e) => e.type === 'updated')?.old?.data?.v, '1');
  assert.equal(events.find((e) => e.type === 'deleted')?.object.data?.v, '1', 'a delete carries the last known state');
  assert.equal(informer.get('shop', 'a'), aBefore, 'an unchanged object is kept as is');
  assert.deepEqual(informer.list().map(keyOf).sort(), ['shop/a', 'shop/c', 'shop/d']);
  assert.equal(api.lastWatch.query?.resourceVersion, api.currentRv);
  assert.deepEqual(informer.stats(), { lists: 2, watches: 2, relistsAfterGone: 1, errors: 0 });
});

void test('an ERROR event with code 410 passed on by the client is handled like a 410 rejection', async (t) => {
  const { api, informer, seen } = setup({ backoff: { baseMs: 60_000 } });
  t.after(() => informer.stop());
  api.put('a');
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  api.remove('a');
  api.lastWatch.send('ERROR', { metadata: {}, kind: 'Status', code: 410, reason: 'Expired', message: 'too old' } as unknown as KubeObject);
  assert.equal(api.watches[0]?.aborted, true, 'the broken watch is closed');
  await until('a new watch', () => api.watches.length === 2);
  assert.deepEqual(seen(), ['added shop/a', 'deleted shop/a']);
  assert.equal(informer.stats().relistsAfterGone, 1);
});

void test('a relist with nothing changed emits nothing', async (t) => {
  const { api, informer, events } = setup();
  t.after(() => informer.stop());
  for (const name of ['a', 'b', 'c']) api.put(name);
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  events.length = 0;
  api.lastWatch.fail(new KubeApiError(410, 'Expired', 'gone', {}));
  await until('a new watch', () => api.watches.length === 2);
  assert.equal(informer.stats().lists, 2);
  assert.deepEqual(events, []);
});

void test('an object deleted and recreated under the same name while not watching is a delete and an add', async (t) => {
  const { api, informer, seen, events } = setup();
  t.after(() => informer.stop());
  api.put('a', { v: 'old' });
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  events.length = 0;
  api.remove('a');
  api.put('a', { v: 'new' });
  api.lastWatch.fail(new KubeApiError(410, 'Expired', 'gone', {}));
  await until('a new watch', () => api.watches.length === 2);
  assert.deepEqual(seen(), ['deleted shop/a', 'added shop/a']);
  assert.equal(events[0]?.object.data?.v, 'old');
  assert.equal(events[1]?.object.data?.v, 'new');
});

void test('a throwing or rejecting handler is logged and does not stop later events or other handlers', async (t) => {
  const { api, informer, logs, seen } = setup();
  t.after(() => informer.stop());
  let calls = 0;
  informer.on(() => {
    calls++;
    throw new Error('handler bug');
  });
  // an async handler breaks the "handlers return void" contract; its rejection must still be caught
  const asyncHandler = async (): Promise<void> => {
    await Promise.resolve();
    throw new Error('async handler bug');
  };
  informer.on(asyncHandler as unknown as () => void);
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  api.lastWatch.send('ADDED', api.put('a'));
  api.lastWatch.send('ADDED', api.put('b'));
  api.lastWatch.send('MODIFIED', api.put('a', { v: '2' }));
  await settle();
  assert.deepEqual(seen(), ['added shop/a', 'added shop/b', 'updated shop/a']);
  assert.equal(calls, 3);
  const handlerLogs = logs.filter((l) => l.msg === 'informer event handler threw');
  assert.equal(handlerLogs.length, 6);
  assert.equal(handlerLogs[0]?.level, 'error');
  assert.equal(handlerLogs[0]?.fields.key, 'shop/a');
  assert.ok(handlerLogs.some((l) => l.fields.error === 'async handler bug'));
  assert.equal(informer.get('shop', 'a')?.data?.v, '2');
  assert.equal(api.watches.length, 1, 'the watch goes on');
  assert.equal(informer.stats().errors, 0);
});

void test('a watch error backs off exponentially, then relists; a working watch resets the backoff', async (t) => {
  const { api, informer, logs } = setup({ backoff: { baseMs: 40, maxMs: 10_000 } });
  t.after(() => informer.stop());
  api.put('a');
  informer.start();
  await until('a watch', () => api.watches.length === 1);

  let failedAt = Date.now();
  api.lastWatch.fail(new Error('connection reset'));
  await until('a relist', () => api.listQueries.length === 2);
  const firstDelay = (api.listTimes[1] ?? 0) - failedAt;
  assert.ok(firstDelay >= 38, `first backoff ${firstDelay}ms ≈ 40ms`);
  await until('a second watch', () => api.watches.length === 2);

  failedAt = Date.now();
  api.lastWatch.fail(new KubeApiError(500, 'InternalError', 'etcd unhappy', {}));
  await until('a second relist', () => api.listQueries.length === 3);
  const secondDelay = (api.listTimes[2] ?? 0) - failedAt;
  assert.ok(secondDelay >= 78, `second backoff ${secondDelay}ms ≈ 80ms`);
  await until('a third watch', () => api.watches.length === 3);

  // a list error is retried the same way, with the backoff still growing
  api.listErrors.push(new Error('list failed'));
  failedAt = Date.now();
  api.lastWatch.fail(new Error('again'));
  await until('two more lists', () => api.listQueries.length === 5, 3000);
  assert.ok((api.listTimes[4] ?? 0) - failedAt >= 160 + 320 - 5, 'third and fourth failures wait 160 and 320ms');
  await until('a fourth watch', () => api.watches.length === 4);

  // the watch delivers an event: healthy again, the next failure starts from the base delay
  api.lastWatch.send('ADDED', api.put('b'));
  failedAt = Date.now();
  api.lastWatch.fail(new Error('once more'));
  await until('a relist', () => api.listQueries.length === 6);
  const resetDelay = (api.listTimes[5] ?? 0) - failedAt;
  assert.ok(resetDelay >= 38 && resetDelay < 300, `backoff reset to ≈40ms, was ${resetDelay}ms`);

  assert.equal(informer.stats().errors, 5);
  assert.ok(logs.some((l) => l.level === 'warn' && l.fields.error === 'connection reset'));
  assert.equal(informer.hasSynced(), true);
});

void test('repeated 410s back off after the first', async (t) => {
  const { api, informer } = setup({ backoff: { baseMs: 50 } });
  t.after(() => informer.stop());
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  api.lastWatch.fail(new KubeApiError(410, 'Expired', 'gone', {}));
  await until('watch 2', () => api.watches.length === 2);
  assert.ok((api.listTimes[1] ?? 0) - (api.listTimes[0] ?? 0) < 40, 'the first 410 relists at once');
  const failedAt = Date.now();
  api.lastWatch.fail(new KubeApiError(410, 'Expired', 'gone', {}));
  await until('watch 3', () => api.watches.length === 3);
  assert.ok((api.listTimes[2] ?? 0) - failedAt >= 48, 'a second 410 in a row waits');
  assert.equal(informer.stats().relistsAfterGone, 2);
});

void test('a watch that ends at once without events is reopened after backoff, without a relist', async (t) => {
  const { api, informer } = setup({ backoff: { baseMs: 50 } });
  t.after(() => informer.stop());
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  const endedAt = Date.now();
  api.lastWatch.end();
  await until('watch 2', () => api.watches.length === 2);
  assert.ok(Date.now() - endedAt >= 48);
  assert.equal(api.listQueries.length, 1);
});

void test('the periodic relist aborts the watch, relists, emits nothing for unchanged objects and watches again', async (t) => {
  const { api, informer, events } = setup({ relistIntervalMs: 60 });
  t.after(() => informer.stop());
  api.put('a');
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  events.length = 0;
  await until('the periodic relist', () => api.listQueries.length === 2);
  assert.equal(api.watches[0]?.aborted, true);
  await until('a new watch', () => api.watches.length === 2);
  assert.deepEqual(events, []);
  await until('another periodic relist', () => api.listQueries.length === 3);
  assert.equal(informer.stats().errors, 0);
});

void test('a handler added after the sync gets the cached objects as adds', async (t) => {
  const { api, informer } = setup();
  t.after(() => informer.stop());
  api.put('a');
  api.put('b');
  informer.start();
  await informer.waitForSync();
  const late: string[] = [];
  const off = informer.onAdd((o) => late.push(keyOf(o)));
  assert.deepEqual(late.sort(), ['shop/a', 'shop/b']);
  const updates: string[] = [];
  const deletes: string[] = [];
  informer.onUpdate((o, old) => updates.push(`${old.data?.v ?? ''}->${o.data?.v ?? ''}`));
  informer.onDelete((o) => deletes.push(keyOf(o)));
  off();
  await until('a watch', () => api.watches.length === 1);
  api.lastWatch.send('ADDED', api.put('c'));
  api.lastWatch.send('MODIFIED', api.put('c', { v: '2' }));
  api.lastWatch.send('DELETED', api.remove('c'));
  assert.deepEqual(late.length, 2, 'removed handler gets nothing more');
  assert.deepEqual(updates, ['->2']);
  assert.deepEqual(deletes, ['shop/c']);
});

void test('waitForSync rejects when stopped before the first list completes', async () => {
  const api = new FakeApi();
  api.listErrors.push(new Error('no server'));
  const { informer } = setup({ backoff: { baseMs: 10_000 } }, api);
  informer.start();
  const sync = informer.waitForSync();
  await until('the failed list', () => api.listQueries.length === 1);
  informer.stop();
  await assert.rejects(sync, /stopped before it synced/);
  await assert.rejects(informer.waitForSync(), /stopped/);
  assert.throws(() => informer.start(), /after stop/);
});

const activeTimers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

void test('stop aborts the watch and leaves no timer running, whether watching or backing off', async () => {
  const baseline = activeTimers();
  const { api, informer } = setup({ relistIntervalMs: 60_000, backoff: { baseMs: 60_000 } });
  informer.start();
  await until('a watch', () => api.watches.length === 1);
  assert.equal(activeTimers(), baseline + 1, 'the periodic relist timer');
  const closed = informer.closed();
  informer.stop();
  assert.equal(api.lastWatch.aborted, true);
  await closed;
  assert.equal(activeTimers(), baseline);

  const second = setup({ relistIntervalMs: 60_000, backoff: { baseMs: 60_000 } });
  second.informer.start();
  await until('a watch', () => second.api.watches.length === 1);
  second.api.lastWatch.fail(new Error('boom'));
  await until('the backoff timer', () => activeTimers() === baseline + 2);
  second.informer.stop();
  await second.informer.closed();
  assert.equal(activeTimers(), baseline);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(second.api.listQueries.length, 1, 'no relist after stop');
  assert.equal(second.api.watches.length, 1);
});

void test('keyOf and splitKey', () => {
  assert.equal(keyOf({ metadata: { namespace: 'ns', name: 'a' } }), 'ns/a');
  assert.equal(keyOf({ metadata: { name: 'node-1' } }), 'node-1');
  assert.deepEqual(splitKey('ns/a'), { namespace: 'ns', name: 'a' });
  assert.deepEqual(splitKey('node-1'), { namespace: undefined, name: 'node-1' });
});

// The real KubeClient against a tiny HTTP server: it satisfies ListWatchClient, and its watchdog
// turns a watch that never sends a byte into an error that the informer answers with a relist.
void test('with KubeClient, a silent watch trips the watchdog and the informer relists', async (t) => {
  let lists = 0;
  let watches = 0;
  const openWatches = new Set<http.ServerResponse>();
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/api/v1/namespaces/shop/configmaps') {
      res.writeHead(404).end();
      return;
    }
    if (url.searchParams.get('watch') === 'true') {
      watches++;
      assert.equal(url.searchParams.get('allowWatchBookmarks'), 'true');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.flushHeaders();
      openWatches.add(res);
      res.on('close', () => openWatches.delete(res));
      return; // and never say anything
    }
    lists++;
    const body = {
      kind: 'ConfigMapList',
      apiVersion: 'v1',
      metadata: { resourceVersion: `${lists}` },
      items: [{ metadata: { name: 'a', namespace: 'shop', uid: 'u1', resourceVersion: '7' } }],
    };
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 'fake', authenticate: () => Promise.resolve() }, { userAgent: 'informer-test' });
  const listWatch: ListWatchClient = client; // structural fit, checked by tsc
  const logs: string[] = [];
  const informer = new Informer<ConfigMap>(listWatch, ref, { idleTimeoutMs: 150, backoff: { baseMs: 20 }, log: (_l, msg, f) => logs.push(`${msg} ${String(f.error ?? '')}`) });
  const events: string[] = [];
  informer.on((e) => events.push(`${e.type} ${keyOf(e.object)}`));
  t.after(() => {
    informer.stop();
    client.close();
    for (const res of openWatches) res.destroy();
    server.close();
  });
  informer.start();
  await informer.waitForSync();
  await until('a relist after the watchdog fired', () => lists >= 2, 3000);
  await until('a second watch', () => watches >= 2, 3000);
  assert.deepEqual(events, ['added shop/a'], 'the relist finds the same object: nothing to tell');
  assert.ok(informer.stats().errors >= 1);
  assert.ok(logs.some((l) => l.includes('silent for 150ms')), logs.join('\n'));
  assert.equal(informer.get('shop', 'a')?.kind, 'ConfigMap');
});

void test('a collection that fits in one LIST page is listed by it alone: no stream, which would wait for the next bookmark tick', async (t) => {
  const api = new StreamingFakeApi();
  const { informer, seen } = setup({}, api);
  t.after(() => informer.stop());
  for (const name of ['a', 'b']) api.put(name);
  informer.start();
  await informer.waitForSync();
  assert.deepEqual(seen(), ['added shop/a', 'added shop/b']);
  assert.equal(api.listQueries.length, 1);
  await until('the watch', () => api.watches.length === 1);
  assert.equal(api.lastWatch.query?.sendInitialEvents, undefined);
});

void test('a collection longer than a LIST page is streamed by one watch up to its closing bookmark, then watched from the bookmark', async (t) => {
  const api = new StreamingFakeApi();
  const { informer, seen } = setup({ labelSelector: 'app=web' }, api);
  t.after(() => informer.stop());
  for (const name of ['a', 'b', 'c']) api.put(name, { v: name });
  const listedAt = api.currentRv;
  informer.start();
  await informer.waitForSync();
  assert.deepEqual(seen(), ['added shop/a', 'added shop/b', 'added shop/c']);
  assert.equal(api.listQueries.length, 1, 'one LIST page (of 2), and not the next');
  const streamed = api.watches[0]!;
  assert.equal(streamed.query?.sendInitialEvents, true);
  assert.equal(streamed.query?.resourceVersionMatch, 'NotOlderThan');
  assert.equal(streamed.query?.labelSelector, 'app=web');
  assert.equal(streamed.aborted, true, 'the streamed list ends at its bookmark');
  await until('the watch after the list', () => api.watches.length === 2);
  assert.equal(api.lastWatch.query?.resourceVersion, listedAt, 'it resumes from the bookmark');
  assert.equal(api.lastWatch.query?.sendInitialEvents, undefined);
  api.lastWatch.send('MODIFIED', api.put('b', { v: 'b2' }));
  assert.equal(informer.get('shop', 'b')?.data?.v, 'b2');

  // A relist streams again and tells only what changed: b's update was seen, c is gone, d is new.
  api.remove('c');
  api.put('d');
  informer.requestRelist();
  await until('a second streamed list', () => api.watches.filter((w) => w.query?.sendInitialEvents === true).length === 2);
  await until('c deleted', () => informer.get('shop', 'c') === undefined);
  assert.deepEqual(seen().slice(3), ['updated shop/b', 'added shop/d', 'deleted shop/c']);
  assert.equal(api.listQueries.length, 2, 'the first page of each list');
});

void test('a server that refuses streamed lists is listed in pages, and not asked to stream again', async (t) => {
  const api = new StreamingFakeApi();
  api.streams = 'refuse';
  const { informer, seen, logs } = setup({}, api);
  t.after(() => informer.stop());
  for (const name of ['a', 'b', 'c']) api.put(name);
  informer.start();
  await informer.waitForSync();
  assert.deepEqual(seen(), ['added shop/a', 'added shop/b', 'added shop/c']);
  assert.equal(api.listQueries.length, 2, 'two pages: the first one, then on from it');
  assert.equal(api.listQueries[1]?.continue, 'token-2');
  assert.ok(logs.some((l) => l.msg.includes('does not stream lists')));
  informer.requestRelist();
  await until('a relist in pages', () => api.listQueries.length === 4);
  assert.equal(api.watches.filter((w) => w.query?.sendInitialEvents === true).length, 1, 'asked once');
  assert.equal(informer.stats().errors, 0, 'a refusal is no error');
});

void test('a streamed list that ends without its closing bookmark is not trusted: the informer lists in pages', async (t) => {
  const api = new StreamingFakeApi();
  api.streams = 'no-bookmark';
  const { informer, seen } = setup({}, api);
  t.after(() => informer.stop());
  for (const name of ['a', 'b', 'c']) api.put(name);
  informer.start();
  await informer.waitForSync();
  assert.deepEqual(seen(), ['added shop/a', 'added shop/b', 'added shop/c']);
  assert.equal(api.watches[0]?.query?.sendInitialEvents, true, 'it was asked to stream');
  assert.equal(api.listQueries.length, 2, 'the cache came from LIST pages');
});

void test('list(namespace) answers that namespace only, through adds, deletes and relists', async (t) => {
  const { api, informer } = setup();
  t.after(() => informer.stop());
  api.put('a', {}, 'shop');
  api.put('b', {}, 'shop');
  api.put('a', {}, 'bank');
  informer.start();
  await informer.waitForSync();
  const names = (ns: string) => informer.list(ns).map(keyOf).sort();
  assert.deepEqual(names('shop'), ['shop/a', 'shop/b']);
  assert.deepEqual(names('bank'), ['bank/a']);
  await until('a watch', () => api.watches.length === 1);
  api.lastWatch.send('ADDED', api.put('c', {}, 'bank'));
  api.lastWatch.send('DELETED', api.remove('a', 'shop'));
  assert.deepEqual(names('shop'), ['shop/b']);
  assert.deepEqual(names('bank'), ['bank/a', 'bank/c']);
  api.remove('b', 'shop'); // unseen by the watch: the relist finds it gone
  api.put('d', {}, 'shop');
  informer.requestRelist();
  await until('the relist', () => informer.get('shop', 'd') !== undefined);
  assert.deepEqual(names('shop'), ['shop/d']);
  assert.deepEqual(names('bank'), ['bank/a', 'bank/c']);
  assert.equal(informer.list().length, 3);
});
