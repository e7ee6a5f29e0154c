import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WorkQueue, type ReconcileOutcome, type WorkQueueOptions } from './workqueue.ts';

/** A manual clock: timers fire only when the test advances time. */
class FakeClock {
  time = 0;
  private nextId = 1;
  readonly timers = new Map<number, { at: number; fn: () => void }>();
  now = (): number => this.time;
  setTimer = (fn: () => void, ms: number): number => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  };
  clearTimer = (handle: unknown): void => {
    this.timers.delete(handle as number);
  };
  /** Moves time forward, firing due timers in deadline order and letting handlers run in between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      let next: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (next === undefined || entry[1].at < next[1].at)) next = entry;
      if (next === undefined) break;
      this.timers.delete(next[0]);
      this.time = next[1].at;
      next[1].fn();
      await settle();
    }
    this.time = end;
    await settle();
  }
}

/** Lets every pending promise callback run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function queueWith(clock: FakeClock, options: WorkQueueOptions = {}): WorkQueue {
  return new WorkQueue({ now: clock.now, setTimer: clock.setTimer, clearTimer: clock.clearTimer, random: () => 0.5, onError: () => {}, ...options });
}

void test('add coalesces a key that is already waiting', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  q.add('a');
  q.add('b');
  q.add('a');
  q.add('a');
  assert.equal(q.length, 2);
  const seen: string[] = [];
  q.start(async (key) => {
    seen.push(key);
  });
  await q.idle();
  assert.deepEqual(seen, ['a', 'b']);
  assert.equal(q.length, 0);
  assert.equal(q.inFlight, 0);
  await q.stop();
});

void test('a key added while it runs runs again exactly once afterwards, never concurrently', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const gates = [deferred(), deferred()];
  q.start(async () => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    const gate = gates[runs++];
    await gate?.promise;
    running--;
  });
  q.add('k');
  await settle();
  assert.equal(q.inFlight, 1);
  q.add('k');
  q.add('k');
  q.add('k');
  await settle();
  assert.equal(runs, 1, 'the second run waits for the first');
  assert.equal(q.length, 0, 'the re-add does not wait in the queue while the key runs');
  gates[0]?.resolve();
  await settle();
  assert.equal(runs, 2, 'the key runs again once the first run ends');
  gates[1]?.resolve();
  await q.idle();
  assert.equal(runs, 2, 'three adds during the run cause exactly one more run');
  assert.equal(maxRunning, 1);
  await q.stop();
});

void test('at most `concurrency` keys run at a time', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock, { concurrency: 3 });
  const gates = new Map<string, ReturnType<typeof deferred<void>>>();
  let running = 0;
  let maxRunning = 0;
  const done: string[] = [];
  q.start(async (key) => {
    running++;
    maxRunning = Math.max(maxRunning, running);
    const gate = deferred();
    gates.set(key, gate);
    await gate.promise;
    running--;
    done.push(key);
  });
  for (const key of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) q.add(key);
  await settle();
  assert.equal(q.inFlight, 3);
  assert.equal(q.length, 4);
  assert.deepEqual([...gates.keys()], ['a', 'b', 'c'], 'FIFO order');
  gates.get('b')?.resolve();
  await settle();
  assert.deepEqual([...gates.keys()], ['a', 'b', 'c', 'd'], 'a free worker takes the next key');
  assert.equal(q.inFlight, 3);
  for (const key of ['a', 'c', 'd', 'e', 'f', 'g']) {
    gates.get(key)?.resolve();
    await settle();
  }
  await q.idle();
  assert.equal(maxRunning, 3);
  assert.equal(done.length, 7);
  await q.stop();
});

void test('addAfter fires at the deadline and keeps only the earliest of several', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  const seen: Array<[string, number]> = [];
  q.start(async (key) => {
    seen.push([key, clock.time]);
  });
  q.addAfter('x', 1000);
  q.addAfter('x', 5000); // later: ignored
  q.addAfter('x', 300); // earlier: replaces
  q.addAfter('y', 700);
  assert.equal(q.delayedLength, 2);
  assert.equal(clock.timers.size, 2, 'one timer per delayed key');
  assert.equal(q.length, 0);
  await clock.advance(299);
  assert.deepEqual(seen, []);
  await clock.advance(1);
  assert.deepEqual(seen, [['x', 300]]);
  await clock.advance(400);
  assert.deepEqual(seen, [['x', 300], ['y', 700]]);
  await clock.advance(10_000);
  assert.deepEqual(seen, [['x', 300], ['y', 700]], 'the dropped deadlines do not fire');
  assert.equal(clock.timers.size, 0);
  await q.stop();
});

void test('add during a pending addAfter runs the key now; the timer later just adds it again', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  const seen: number[] = [];
  q.start(async () => {
    seen.push(clock.time);
  });
  q.addAfter('k', 500);
  q.add('k');
  await q.idle();
  assert.deepEqual(seen, [0]);
  await clock.advance(500);
  assert.deepEqual(seen, [0, 500]);
  await q.stop();
});

void test('a deadline longer than one timer can wait is reached in several timers', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  const seen: number[] = [];
  q.start(async () => {
    seen.push(clock.time);
  });
  const days30 = 30 * 24 * 3600_000; // beyond setTimeout's 2^31-1 ms
  q.addAfter('k', days30);
  assert.ok(([...clock.timers.values()][0]?.at ?? 0) <= 2 ** 31 - 1);
  await clock.advance(days30 - 1);
  assert.deepEqual(seen, []);
  await clock.advance(1);
  assert.deepEqual(seen, [days30]);
  await q.stop();
});

void test('addAfter with zero or a negative delay adds at once', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  q.addAfter('a', 0);
  q.addAfter('b', -5);
  assert.equal(q.length, 2);
  assert.equal(clock.timers.size, 0);
  await q.stop();
});

void test('addRateLimited backs off exponentially up to the cap, and forget resets it', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock, { baseBackoffMs: 50, maxBackoffMs: 1000 });
  const delays: number[] = [];
  for (let i = 0; i < 7; i++) {
    q.addRateLimited('k');
    assert.equal(clock.timers.size, 1);
    const delay = ([...clock.timers.values()][0]?.at ?? 0) - clock.time;
    delays.push(delay);
    await clock.advance(delay); // not started: the key now waits, and the next failure arms a new timer
    assert.equal(q.length, 1);
  }
  assert.deepEqual(delays, [50, 100, 200, 400, 800, 1000, 1000]);
  assert.equal(q.failures('k'), 7);
  q.forget('k');
  assert.equal(q.failures('k'), 0);
  q.addRateLimited('k');
  assert.equal(([...clock.timers.values()][0]?.at ?? 0) - clock.time, 50);
  await q.stop();
});

void test('addRateLimited jitters the delay by at most ±10%', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock, { baseBackoffMs: 1000, random: Math.random });
  for (let i = 0; i < 200; i++) q.addRateLimited(`k${i}`);
  const delays = [...clock.timers.values()].map((t) => t.at);
  assert.ok(delays.every((d) => d >= 900 && d <= 1100));
  assert.ok(new Set(delays).size > 1, 'delays differ between keys');
  await q.stop();
});

void test('a throwing handler is retried with growing backoff, reported, and forgotten on success', async () => {
  const clock = new FakeClock();
  const errors: Array<[string, unknown]> = [];
  const q = queueWith(clock, { baseBackoffMs: 100, maxBackoffMs: 10_000, onError: (key, err) => errors.push([key, err]) });
  const attempts: number[] = [];
  q.start(async (key) => {
    attempts.push(clock.time);
    if (attempts.length <= 3) throw new Error(`boom ${attempts.length}`);
    assert.equal(key, 'k');
  });
  q.add('k');
  await settle();
  assert.deepEqual(attempts, [0]);
  assert.equal(q.failures('k'), 1);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]?.[0], 'k');
  assert.match(String(errors[0]?.[1]), /boom 1/);
  await clock.advance(99);
  assert.deepEqual(attempts, [0]);
  await clock.advance(1);
  assert.deepEqual(attempts, [0, 100]);
  await clock.advance(200);
  assert.deepEqual(attempts, [0, 100, 300]);
  assert.equal(q.failures('k'), 3);
  await clock.advance(400);
  assert.deepEqual(attempts, [0, 100, 300, 700], 'delays 100, 200, 400');
  assert.equal(q.failures('k'), 0, 'success forgets the failures');
  assert.equal(errors.length, 3);
  await clock.advance(100_000);
  assert.equal(attempts.length, 4, 'no retry after success');
  await q.stop();
});

void test('a handler that throws synchronously or a non-Error is retried too', async () => {
  const clock = new FakeClock();
  const errors: unknown[] = [];
  const q = queueWith(clock, { onError: (_key, err) => errors.push(err) });
  let calls = 0;
  q.start(((key: string) => {
    calls++;
    if (calls === 1) throw new Error(`sync ${key}`);
    if (calls === 2) return Promise.reject('a string');
    return Promise.resolve();
  }) as (key: string) => Promise<void>);
  q.add('k');
  await settle();
  await clock.advance(50);
  await clock.advance(100);
  assert.equal(calls, 3);
  assert.equal(errors.length, 2);
  assert.equal(errors[1], 'a string');
  await q.stop();
});

void test('requeueAfterMs requeues the key after that delay and forgets its failures', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  const attempts: number[] = [];
  q.start(async (): Promise<ReconcileOutcome | void> => {
    attempts.push(clock.time);
    if (attempts.length === 1) throw new Error('first fails');
    if (attempts.length === 2) return { requeueAfterMs: 30_000 };
    return undefined;
  });
  q.add('k');
  await settle();
  await clock.advance(50);
  assert.deepEqual(attempts, [0, 50]);
  assert.equal(q.failures('k'), 0);
  assert.equal(q.delayedLength, 1);
  await clock.advance(29_999);
  assert.equal(attempts.length, 2);
  await clock.advance(1);
  assert.deepEqual(attempts, [0, 50, 30_050]);
  assert.equal(q.delayedLength, 0);
  await q.stop();
});

void test('stop waits for handlers in flight, clears timers and takes no more keys', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  const gate = deferred();
  let finished = false;
  let calls = 0;
  q.start(async () => {
    calls++;
    await gate.promise;
    finished = true;
  });
  q.add('running');
  q.addAfter('later', 1000);
  await settle();
  let stopped = false;
  const stopping = q.stop().then(() => {
    stopped = true;
  });
  await settle();
  assert.equal(stopped, false, 'stop waits for the running handler');
  assert.equal(clock.timers.size, 0, 'delayed keys are dropped with their timers');
  q.add('new');
  q.addAfter('new', 10);
  q.addRateLimited('new');
  assert.equal(q.length, 0);
  assert.equal(clock.timers.size, 0);
  gate.resolve();
  await stopping;
  assert.equal(finished, true);
  assert.equal(stopped, true);
  assert.equal(calls, 1);
  await q.idle();
  assert.throws(() => q.start(async () => {}), /after stop/);
});

void test('stop with real timers leaves nothing that keeps the process alive', async () => {
  const q = new WorkQueue({ onError: () => {} });
  q.start(async () => {});
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  q.addAfter('a', 60_000);
  q.addRateLimited('b');
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before + 2);
  await q.stop();
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
});

void test('idle resolves at once when nothing waits and ignores delayed keys', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock);
  q.start(async () => {});
  q.addAfter('k', 10_000);
  await q.idle();
  assert.equal(q.delayedLength, 1);
  await q.stop();
});

void test('start twice is an error', async () => {
  const q = queueWith(new FakeClock());
  q.start(async () => {});
  assert.throws(() => q.start(async () => {}), /already started/);
  await q.stop();
});

void test('a key whose deadline comes (a timed pause ends) runs before keys already waiting; a backoff retry does not', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock, { concurrency: 1 });
  const order: string[] = [];
  const gate = deferred();
  q.start(async (key) => {
    order.push(key);
    if (key === 'busy') await gate.promise;
    if (key === 'failing' && order.filter((k) => k === 'failing').length === 1) throw new Error('once');
  });
  q.add('failing');
  await settle();
  q.add('busy'); // holds the only worker while the others come due
  await settle();
  for (const key of ['a', 'b', 'c']) q.add(key);
  q.addAfter('pause-ends', 100);
  await clock.advance(100); // the failure's backoff (50 ms) and the deadline are both due
  gate.resolve();
  await q.idle();
  assert.deepEqual(order, ['failing', 'busy', 'pause-ends', 'a', 'b', 'c', 'failing']);
  await q.stop();
});

void test('a key at its deadline runs while every worker is busy with other keys, on a deadline worker; other keys still wait', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock, { concurrency: 2, deadlineWorkers: 1 });
  const started: string[] = [];
  const gates = new Map<string, ReturnType<typeof deferred<void>>>();
  q.start(async (key) => {
    started.push(key);
    const gate = deferred();
    gates.set(key, gate);
    await gate.promise;
  });
  for (const key of ['s1', 's2', 's3']) q.add(key); // a burst: both workers busy, s3 waits
  q.addAfter('pause-1', 100);
  q.addAfter('pause-2', 100);
  await clock.advance(100);
  assert.deepEqual(started, ['s1', 's2', 'pause-1'], 'the first due key runs at once; the second waits for the deadline worker');
  assert.equal(q.inFlight, 3);
  gates.get('pause-1')?.resolve();
  await settle();
  assert.deepEqual(started, ['s1', 's2', 'pause-1', 'pause-2'], 'the deadline worker is free again: the next due key, not s3');
  gates.get('pause-2')?.resolve();
  await settle();
  assert.equal(q.inFlight, 2, 's3 does not take a deadline worker');
  gates.get('s1')?.resolve();
  await settle();
  assert.deepEqual(started, ['s1', 's2', 'pause-1', 'pause-2', 's3']);
  for (const gate of gates.values()) gate.resolve();
  await settle();
  gates.get('s3')?.resolve();
  await q.idle();
  await q.stop();
});

void test('a key that comes due while it runs runs again next, ahead of waiting keys', async () => {
  const clock = new FakeClock();
  const q = queueWith(clock, { concurrency: 1, deadlineWorkers: 0 });
  const started: string[] = [];
  const gate = deferred();
  q.start(async (key) => {
    started.push(key);
    if (started.length === 1) await gate.promise;
  });
  q.add('p');
  await settle();
  q.add('s1');
  q.addAfter('p', 10);
  await clock.advance(10);
  gate.resolve();
  await q.idle();
  assert.deepEqual(started, ['p', 'p', 's1']);
  await q.stop();
});

void test('reconciles that need no I/O leave the event loop free in between: a callback waiting for its turn runs long before 5,000 of them drain', async () => {
  const q = queueWith(new FakeClock(), { concurrency: 16 });
  let done = 0;
  q.start(() => {
    done++;
    return Promise.resolve();
  });
  for (let i = 0; i < 5000; i++) q.add(`k${i}`);
  // What a signal handler, a watch event or a /healthz request waits for: a turn of the loop.
  const doneWhenItRan = await new Promise<number>((resolve) => setImmediate(() => resolve(done)));
  assert.ok(doneWhenItRan <= 64, `${doneWhenItRan} reconciles ran before it`);
  await q.idle();
  assert.equal(done, 5000);
  await q.stop();
});
