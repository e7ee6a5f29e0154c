import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestLanes } from './request-lanes.ts';

/** A request that runs until `finish()`; `started` says whether its turn came. */
function pending(): { started: boolean; finish: () => void; fail: () => void; request: () => Promise<string> } {
  const handle = { started: false, finish: () => undefined as void, fail: () => undefined as void, request: () => Promise.resolve('') };
  handle.request = () =>
    new Promise<string>((resolve, reject) => {
      handle.started = true;
      handle.finish = () => resolve('done');
      handle.fail = () => reject(new Error('refused'));
    });
  return handle;
}

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

void test('no more than the limit of normal requests run at once; the rest start in arrival order as slots free', async () => {
  const lanes = new RequestLanes({ limit: 2, urgentSlots: 1 });
  const [a, b, c, d] = [pending(), pending(), pending(), pending()];
  const runs = [a, b, c, d].map((r) => lanes.run(false, r.request));
  await turn();
  assert.deepEqual([a, b, c, d].map((r) => r.started), [true, true, false, false]);
  assert.equal(lanes.waiting, 2);
  b.finish();
  await turn();
  assert.deepEqual([c.started, d.started], [true, false]);
  a.finish();
  c.finish();
  await turn();
  d.finish();
  assert.deepEqual(await Promise.all(runs), ['done', 'done', 'done', 'done']);
  assert.equal(lanes.running, 0);
});

void test('an urgent request starts at once while every normal slot is taken', async () => {
  const lanes = new RequestLanes({ limit: 2, urgentSlots: 1 });
  const normal = [pending(), pending(), pending()];
  for (const r of normal) void lanes.run(false, r.request);
  const urgent = pending();
  void lanes.run(true, urgent.request);
  await turn();
  assert.equal(urgent.started, true, 'the pause-ending write does not wait behind the burst');
  assert.equal(normal[2]!.started, false);
});

void test('an urgent request waiting goes ahead of the normal ones that came before it', async () => {
  const lanes = new RequestLanes({ limit: 1, urgentSlots: 0 });
  const first = pending();
  const normal = pending();
  const urgent = pending();
  void lanes.run(false, first.request);
  void lanes.run(false, normal.request);
  void lanes.run(true, urgent.request);
  await turn();
  first.finish();
  await turn();
  assert.deepEqual([urgent.started, normal.started], [true, false]);
  urgent.finish();
  await turn();
  assert.equal(normal.started, true);
});

void test('a normal request does not take a slot freed while an urgent one waits', async () => {
  const lanes = new RequestLanes({ limit: 1, urgentSlots: 1 });
  const [a, b, u1, u2] = [pending(), pending(), pending(), pending()];
  void lanes.run(false, a.request);
  void lanes.run(true, u1.request); // takes the urgent slot
  void lanes.run(true, u2.request); // waits
  void lanes.run(false, b.request); // arrives after an urgent one waits: stays behind it
  await turn();
  a.finish();
  await turn();
  assert.deepEqual([u2.started, b.started], [true, false]);
});

void test('a failed request frees its slot and its error reaches the caller', async () => {
  const lanes = new RequestLanes({ limit: 1, urgentSlots: 0 });
  const failing = pending();
  const next = pending();
  const first = lanes.run(false, failing.request);
  const second = lanes.run(false, next.request);
  await turn();
  failing.fail();
  await assert.rejects(first, /refused/);
  await turn();
  assert.equal(next.started, true);
  next.finish();
  assert.equal(await second, 'done');
});
