import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeClient, KubeObject, ResourceRef } from './client.ts';
import { EventRecorder } from './events.ts';

/** The Events API as the recorder uses it: create and merge-patch, with a settable delay per write. */
function fakeEvents(delayMs: (message: string) => number = () => 0) {
  const stored = new Map<string, { message: string; count: number; lastTimestamp: string }>();
  const order: string[] = [];
  const client = {
    writesWithin: () => 0,
    create: async (_ref: ResourceRef, body: KubeObject & { message: string; count: number; lastTimestamp: string }) => {
      await new Promise((r) => setTimeout(r, delayMs(body.message)));
      stored.set(body.metadata.name!, { message: body.message, count: body.count, lastTimestamp: body.lastTimestamp });
      order.push(body.message);
      return body;
    },
    patch: async (ref: ResourceRef, _type: string, body: { count: number; lastTimestamp: string }) => {
      const event = stored.get(ref.name!);
      if (!event) throw new Error('404');
      Object.assign(event, body);
      return event;
    },
  };
  return { client: client as unknown as KubeClient, stored, order };
}

const rollout = { apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: 'web', namespace: 'shop', uid: 'u1' };

void describe('EventRecorder', () => {
  void it('counts a repeated Event on the one already written instead of adding another', async () => {
    const api = fakeEvents();
    const recorder = new EventRecorder(api.client);
    for (let i = 0; i < 3; i++) await recorder.record(rollout, { type: 'Warning', reason: 'InvalidSpec', message: 'spec.replicas: must be >= 0' });
    await recorder.record(rollout, { type: 'Warning', reason: 'InvalidSpec', message: 'another problem' });
    assert.deepEqual([...api.stored.values()].map((e) => [e.message, e.count]), [['spec.replicas: must be >= 0', 3], ['another problem', 1]]);
  });

  void it('writes queued Events after the caller moved on, in order per object even when a write is slow', async () => {
    const api = fakeEvents((message) => (message === 'first' ? 30 : 0));
    const recorder = new EventRecorder(api.client);
    recorder.enqueue(rollout, [{ type: 'Normal', reason: 'A', message: 'first' }]);
    recorder.enqueue(rollout, [{ type: 'Normal', reason: 'B', message: 'second' }]);
    assert.deepEqual(api.order, [], 'nothing written while the caller runs');
    await recorder.flush();
    assert.deepEqual(api.order, ['first', 'second']);
  });

  void it('writes an Event again when the one it counted on is gone (Events expire)', async () => {
    const api = fakeEvents();
    const recorder = new EventRecorder(api.client);
    const event = { type: 'Normal' as const, reason: 'RolloutPaused', message: 'Rollout is paused' };
    await recorder.record(rollout, event);
    api.stored.clear();
    assert.equal(await recorder.record(rollout, event), true);
    assert.equal(api.stored.size, 1);
  });
});

void describe('EventRecorder queue', () => {
  void it('writes at most 4 queued Events at once, all objects together, and all of them in the end', async () => {
    let writing = 0;
    let most = 0;
    let created = 0;
    const client = {
      writesWithin: () => 0,
      create: async (_ref: unknown, body: KubeObject) => {
        created++;
        most = Math.max(most, ++writing);
        await new Promise((r) => setTimeout(r, 5));
        writing--;
        return body;
      },
    } as unknown as KubeClient;
    const recorder = new EventRecorder(client);
    for (let i = 0; i < 20; i++) recorder.enqueue({ ...rollout, name: `web-${i}`, uid: `u${i}` }, [{ type: 'Normal', reason: 'RolloutStepCompleted', message: 'step' }]);
    await recorder.flush();
    assert.equal(most, 4);
    assert.equal(created, 20);
  });

  void it('holds queued Events while the client writes a burst, and writes them once it has passed', async () => {
    const api = fakeEvents();
    const burstEndsAt = performance.now() + 150; // the reconciles' writes of 100 Rollouts promoted at once
    const client = Object.assign(api.client, { writesWithin: () => (performance.now() < burstEndsAt ? 40 : 1) });
    const recorder = new EventRecorder(client, 'rollway-controller', 'rollway', { burstWrites: 8, windowMs: 40, longestMs: 5000 });
    recorder.enqueue(rollout, [{ type: 'Normal', reason: 'RolloutStepCompleted', message: 'step 1' }]);
    await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(api.order, [], 'not written during the burst');
    await recorder.flush();
    assert.deepEqual(api.order, ['step 1']);
    assert.ok(performance.now() >= burstEndsAt, 'written after the burst');
  });

  void it('writes an Event at once when the client writes no burst (a lone step, so a crash right after it loses nothing)', async () => {
    const api = fakeEvents();
    const client = Object.assign(api.client, { writesWithin: () => 3 });
    const recorder = new EventRecorder(client, 'rollway-controller', 'rollway', { burstWrites: 8, windowMs: 40, longestMs: 5000 });
    recorder.enqueue(rollout, [{ type: 'Normal', reason: 'RolloutStepCompleted', message: 'step 1' }]);
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(api.order, ['step 1']);
  });

  void it('writes a held Event after longestMs even when the burst never ends', async () => {
    const api = fakeEvents();
    const client = Object.assign(api.client, { writesWithin: () => 100 });
    const recorder = new EventRecorder(client, 'rollway-controller', 'rollway', { burstWrites: 8, windowMs: 40, longestMs: 120 });
    const queued = performance.now();
    recorder.enqueue(rollout, [{ type: 'Normal', reason: 'RolloutStepCompleted', message: 'step 1' }, { type: 'Normal', reason: 'RolloutStepCompleted', message: 'step 2' }]);
    await recorder.flush();
    assert.deepEqual(api.order, ['step 1', 'step 2'], 'both written, in order');
    const waited = performance.now() - queued;
    assert.ok(waited >= 115 && waited < 1000, `held about longestMs, not more (${Math.round(waited)} ms)`);
  });
});
