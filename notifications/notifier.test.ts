import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { KubeApiError, type KubeClient, type ResourceRef } from '../kube/client.ts';
import type { PlannedEvent } from '../controller/model.ts';
import { Notifier } from './notifier.ts';
import { NOTIFIED_ANNOTATION } from './triggers.ts';

type Obj = { apiVersion?: string; kind?: string; metadata: { name?: string; namespace?: string; uid?: string; resourceVersion?: string; annotations?: Record<string, string> }; data?: Record<string, string>; status?: unknown };

/** Just enough of the API for the notifier: objects by plural/namespace/name, merge patches with resourceVersion preconditions. */
function fakeClient(objects: Map<string, Obj>): KubeClient {
  const key = (r: ResourceRef): string => `${r.plural}/${r.namespace}/${r.name}`;
  let rv = 1;
  const get = (r: ResourceRef): Obj => {
    const o = objects.get(key(r));
    if (!o) throw new KubeApiError(404, 'NotFound', 'not found', {});
    return structuredClone(o);
  };
  return {
    get: async (r: ResourceRef) => get(r),
    getOptional: async (r: ResourceRef) => objects.get(key(r)),
    list: async (r: ResourceRef) => ({ items: [...objects.entries()].filter(([k]) => k.startsWith(`${r.plural}/${r.namespace}/`)).map(([, o]) => structuredClone(o)) }),
    patch: async (r: ResourceRef, _t: string, body: { metadata: { resourceVersion?: string; annotations: Record<string, string> } }) => {
      const o = get(r);
      if (body.metadata.resourceVersion && body.metadata.resourceVersion !== o.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'conflict', {});
      o.metadata.annotations = { ...o.metadata.annotations, ...body.metadata.annotations };
      o.metadata.resourceVersion = String(++rv);
      objects.set(key(r), o);
      return o;
    },
  } as unknown as KubeClient;
}

void describe('Notifier', () => {
  const hits: string[] = [];
  const bodies: string[] = [];
  let answer = 200;
  let server: http.Server;
  let url = '';
  before(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        hits.push(req.url ?? '');
        bodies.push(body);
        res.writeHead(answer).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  function setup(annotations: Record<string, string>, selfService = false): { objects: Map<string, Obj>; notifier: Notifier; events: PlannedEvent[] } {
    const objects = new Map<string, Obj>();
    objects.set('configmaps/rollway/rollway-notification-configmap', { metadata: {}, data: { 'service.webhook.hook': 'url: $hook-url' } });
    objects.set('secrets/rollway/rollway-notification-secret', { metadata: {}, data: { 'hook-url': Buffer.from(`${url}/s3cret-path`).toString('base64') } });
    objects.set('rollouts/shop/web', {
      apiVersion: 'rollway.dev/v1alpha1',
      kind: 'Rollout',
      metadata: { name: 'web', namespace: 'shop', uid: 'u1', resourceVersion: '1', annotations: { 'notifications.rollway.dev/subscribe.on-rollout-paused.hook': '', ...annotations } },
      status: { phase: 'Paused', currentPodHash: 'b', stableRS: 'a', currentStepIndex: 1 },
    });
    const client = fakeClient(objects);
    const events: PlannedEvent[] = [];
    const notifier = new Notifier({
      client,
      namespace: 'rollway',
      selfService,
      log: () => undefined,
      get: (ns, name) => objects.get(`rollouts/${ns}/${name}`),
      recordEvent: async (_ro, e) => void events.push(e),
      queue: { baseDelayMs: 5, maxAttempts: 2 },
    });
    return { objects, notifier, events };
  }

  const settle = async (n: Notifier): Promise<void> => {
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    await n.drained();
  };
  const record = (objects: Map<string, Obj>): Record<string, { state: string }> => JSON.parse(objects.get('rollouts/shop/web')?.metadata.annotations?.[NOTIFIED_ANNOTATION] ?? '{}') as Record<string, { state: string }>;

  void it('claims, sends once and marks sent; later changes send nothing more', async () => {
    hits.length = 0;
    const { objects, notifier } = setup({});
    notifier.observe(objects.get('rollouts/shop/web')!);
    await settle(notifier);
    notifier.observe(objects.get('rollouts/shop/web')!);
    await settle(notifier);
    assert.deepEqual(hits, ['/s3cret-path']);
    assert.deepEqual(Object.values(record(objects)).map((e) => e.state), ['sent']);
    notifier.stop();
  });

  void it('sends a claim a previous controller left pending, and skips one it already sent', async () => {
    hits.length = 0;
    const key = JSON.stringify(['on-rollout-paused', 0, 'hook', '', '"b:1"']);
    const entry = { trigger: 'on-rollout-paused', condition: 0, service: 'hook', recipient: '', at: '2026-01-01T00:00:00Z' };
    const pending = setup({ [NOTIFIED_ANNOTATION]: JSON.stringify({ [key]: { ...entry, state: 'pending' } }) });
    pending.notifier.observe(pending.objects.get('rollouts/shop/web')!);
    await settle(pending.notifier);
    assert.deepEqual(hits, ['/s3cret-path']);
    assert.deepEqual(Object.values(record(pending.objects)).map((e) => e.state), ['sent']);
    const sent = setup({ [NOTIFIED_ANNOTATION]: JSON.stringify({ [key]: { ...entry, state: 'sent' } }) });
    sent.notifier.observe(sent.objects.get('rollouts/shop/web')!);
    await settle(sent.notifier);
    assert.deepEqual(hits, ['/s3cret-path'], 'nothing sent again');
    pending.notifier.stop();
    sent.notifier.stop();
  });

  void it('names the revision the trigger fired on, even when delivered after the next revision began', async () => {
    hits.length = 0;
    bodies.length = 0;
    const replicaSet = (revision: string): Obj => ({ metadata: { name: 'web-b', namespace: 'shop', annotations: { 'rollway.dev/revision': revision }, ownerReferences: [{ uid: 'u1' }] } as Obj['metadata'] });
    const claimed = setup({});
    claimed.objects.set('replicasets/shop/web-b', replicaSet('4'));
    claimed.notifier.observe(claimed.objects.get('rollouts/shop/web')!);
    await settle(claimed.notifier);
    assert.deepEqual(Object.values(record(claimed.objects)).map((e) => (e as { revision?: string }).revision), ['4'], 'the claim records the revision');
    claimed.notifier.stop();
    const key = JSON.stringify(['on-rollout-paused', 0, 'hook', '', '"b:1"']);
    const entry = { trigger: 'on-rollout-paused', condition: 0, service: 'hook', recipient: '', at: '2026-01-01T00:00:00Z', state: 'pending', revision: '4' };
    const late = setup({ [NOTIFIED_ANNOTATION]: JSON.stringify({ [key]: entry }) });
    late.objects.set('replicasets/shop/web-b', replicaSet('5'));
    late.notifier.observe(late.objects.get('rollouts/shop/web')!);
    await settle(late.notifier);
    assert.match(bodies.at(-1) ?? '', /revision 4\b/);
    assert.doesNotMatch(bodies.at(-1) ?? '', /revision 5/);
    late.notifier.stop();
  });

  void it('a failing endpoint: Warning Events without the Secret, retries up to the bound, then failed', async () => {
    answer = 500;
    try {
      const { objects, notifier, events } = setup({});
      notifier.observe(objects.get('rollouts/shop/web')!);
      await settle(notifier);
      assert.deepEqual(events.map((e) => [e.type, e.reason]), [['Warning', 'NotificationFailed'], ['Warning', 'NotificationFailed']]);
      assert.match(events[1]?.message ?? '', /on-rollout-paused to hook failed \(attempt 2\): the endpoint answered HTTP 500; giving up/);
      assert.ok(!events.some((e) => e.message.includes('s3cret')));
      assert.deepEqual(Object.values(record(objects)).map((e) => e.state), ['failed']);
      assert.equal(notifier.stats.failed.get('hook'), 2);
      notifier.stop();
    } finally {
      answer = 200;
    }
  });

  void it('reads the Rollout namespace’s ConfigMap and Secret too with self-service, not without', async () => {
    for (const selfService of [false, true]) {
      const { objects, notifier } = setup({ 'notifications.rollway.dev/subscribe.on-rollout-paused.team': '' }, selfService);
      objects.set('configmaps/shop/rollway-notification-configmap', { metadata: {}, data: { 'service.webhook.team': 'url: $team-url' } });
      objects.set('secrets/shop/rollway-notification-secret', { metadata: {}, data: { 'team-url': Buffer.from(`${url}/team`).toString('base64') } });
      const config = await notifier.config('shop');
      assert.equal(config.services.has('team'), selfService);
      assert.equal(config.services.has('hook'), true, 'the controller namespace’s services stay');
      notifier.stop();
    }
  });
});
