// Leader election against an in-memory Lease store (the e2e suite covers the real API server):
// an outage longer than the renew deadline stops writes without giving up; a live lease held by
// another controller is the only thing that deposes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError, type KubeClient, type KubeObject } from '../kube/client.ts';
import { LeaderElector } from './leader.ts';

class LeaseStore {
  lease: (KubeObject & { spec: Record<string, unknown> }) | undefined;
  down = false;
  private version = 0;
  private check(): void {
    if (this.down) throw new Error('connect ECONNREFUSED 127.0.0.1:16443');
  }
  get = async (): Promise<unknown> => {
    this.check();
    if (!this.lease) throw new KubeApiError(404, 'NotFound', 'not found', {});
    return structuredClone(this.lease);
  };
  create = async (_ref: unknown, body: KubeObject & { spec: Record<string, unknown> }): Promise<unknown> => {
    this.check();
    this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
    return this.lease;
  };
  replace = async (_ref: unknown, body: KubeObject & { spec: Record<string, unknown> }): Promise<unknown> => {
    this.check();
    if (body.metadata.resourceVersion !== this.lease?.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'conflict', {});
    this.lease = { ...body, metadata: { ...body.metadata, resourceVersion: String(++this.version) } };
    return this.lease;
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function elector(store: LeaseStore): LeaderElector {
  return new LeaderElector({
    client: store as unknown as KubeClient,
    namespace: 'ns',
    name: 'rollway-controller',
    identity: 'me',
    leaseDurationMs: 3000,
    renewDeadlineMs: 200,
    retryPeriodMs: 50,
    log: () => {},
  });
}

void test('an API server outage longer than the renew deadline stops writes, then leadership resumes without exiting', async (t) => {
  const store = new LeaseStore();
  const me = elector(store);
  t.after(() => me.release());
  let deposed = 0;
  let regained = 0;
  await me.acquire(() => deposed++, () => regained++);
  assert.equal(me.isLeader(), true);
  store.down = true;
  await sleep(400);
  assert.equal(me.isLeader(), false, 'no writes while the lease cannot be renewed');
  store.down = false;
  await sleep(200);
  assert.equal(me.isLeader(), true, 'writes resume once the lease is renewed');
  assert.equal(regained, 1);
  assert.equal(deposed, 0, 'an outage is not a deposition: the process keeps running');
});

void test('another controller holding a live lease deposes this one', async (t) => {
  const store = new LeaseStore();
  const me = elector(store);
  t.after(() => me.release());
  let deposed = 0;
  await me.acquire(() => deposed++);
  store.down = true;
  await sleep(300);
  // Meanwhile another replica took the lease over.
  store.down = false;
  store.lease = { ...store.lease!, spec: { ...store.lease!.spec, holderIdentity: 'other', renewTime: new Date().toISOString().replace('Z', '000Z') } };
  await sleep(200);
  assert.equal(deposed, 1);
  assert.equal(me.isLeader(), false);
});

/** A lease held by another controller whose clock is `skewMs` off ours; it renews every 100 ms while `alive`. */
function otherHolder(store: LeaseStore, skewMs: number): { stop: () => void } {
  const stamp = (): string => new Date(Date.now() + skewMs).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
  store.lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'rollway-controller', namespace: 'ns', resourceVersion: '1' }, spec: { holderIdentity: 'other', leaseDurationSeconds: 1, renewTime: stamp(), acquireTime: stamp() } };
  const timer = setInterval(() => {
    if (store.lease) store.lease = { ...store.lease, metadata: { ...store.lease.metadata, resourceVersion: String(Number(store.lease.metadata.resourceVersion) + 1) }, spec: { ...store.lease.spec, renewTime: stamp() } };
  }, 100);
  return { stop: () => clearInterval(timer) };
}

void test("a live holder whose clock is an hour behind keeps the lease: expiry is judged by the observer's clock, not renewTime", async (t) => {
  const store = new LeaseStore();
  const holder = otherHolder(store, -3_600_000);
  const me = elector(store);
  t.after(() => {
    holder.stop();
    void me.release();
  });
  let acquired = false;
  void me.acquire(() => {}).then(() => (acquired = true), () => {});
  await sleep(1500);
  assert.equal(acquired, false, 'a renewTime an hour old does not mean the lease expired while the holder keeps renewing');
  assert.equal(store.lease?.spec.holderIdentity, 'other');
});

void test('a dead holder whose clock was an hour ahead loses the lease once it has not changed for its duration', { timeout: 5000 }, async (t) => {
  const store = new LeaseStore();
  const holder = otherHolder(store, 3_600_000);
  holder.stop(); // it died right after its last renewal
  const me = elector(store);
  t.after(() => me.release());
  const started = Date.now();
  await me.acquire(() => {});
  const waited = Date.now() - started;
  assert.equal(store.lease?.spec.holderIdentity, 'me');
  assert.ok(waited >= 1000 && waited < 2500, `taken after the lease duration on our clock (waited ${waited} ms), not an hour later`);
});

void test('a renewal slower than the deadline stops writes for a moment, and writes resume with a regain', async (t) => {
  const store = new LeaseStore();
  const me = elector(store);
  t.after(() => me.release());
  let regained = 0;
  await me.acquire(() => assert.fail('not deposed'), () => regained++);
  // The API server answers, but slower than the 200 ms renew deadline.
  const replace = store.replace;
  store.replace = async (ref, body) => {
    await sleep(300);
    return replace(ref, body);
  };
  await sleep(700);
  store.replace = replace;
  await sleep(300);
  assert.equal(me.isLeader(), true);
  assert.ok(regained >= 1, 'the controller is told to plan again after writes were held back');
});

void test('a clean stop during a renewal in flight still gives the lease up, so a successor (or migrate) need not wait', async () => {
  const store = new LeaseStore();
  const me = elector(store);
  await me.acquire(() => {});
  // Renewals are slow; stop while one is between its read and its write.
  const replace = store.replace;
  let inFlight = 0;
  store.replace = async (ref, body) => {
    inFlight++;
    await sleep(100);
    return replace(ref, body);
  };
  while (inFlight === 0) await sleep(5);
  await me.release();
  assert.equal(store.lease?.spec.holderIdentity, '', 'released, not held again by the renewal that was in flight');
  await sleep(200);
  assert.equal(store.lease?.spec.holderIdentity, '', 'no renewal after the release');
});
