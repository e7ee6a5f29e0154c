// The pod server on its own (inside the data-plane namespace, where any 10.244.0.0/16 address is
// local): a Ready pod answers with its identity on podIP:containerPort, annotations set its status
// and latency, and once the pod is unready or gone nothing listens there any more.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { LATENCY_ANNOTATION, PodServer, STATUS_ANNOTATION, type PodObject } from './pod-server.ts';
import { requireNetns } from './support.ts';

const IP = '10.244.250.7';
const PORT = 18080;

function pod(ready: boolean, annotations: Record<string, string> = {}, name = 'web-abc12-x'): PodObject {
  return {
    metadata: { name, namespace: 'ns1', labels: { 'pod-template-hash': 'abc12' }, annotations },
    spec: { containers: [{ image: 'example.com/web:green', ports: [{ containerPort: PORT }] }] },
    status: { podIP: IP, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  };
}

// A fresh connection each time unless an agent is given (Node's global agent keeps connections alive).
function get(agent?: http.Agent): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: IP, port: PORT, path: '/', agent: agent ?? false }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started }));
      })
      .on('error', reject);
  });
}

const listening = () => new Promise((resolve) => setTimeout(resolve, 50));

void test('a Ready pod answers with its name, ReplicaSet hash and image; unready, its address refuses connections', async () => {
  requireNetns();
  const server = new PodServer();
  try {
    server.update('ns1/web-abc12-x', pod(true));
    await listening();
    const answer = await get();
    assert.equal(answer.status, 200);
    assert.deepEqual(JSON.parse(answer.body), { pod: 'web-abc12-x', rsHash: 'abc12', image: 'example.com/web:green' });

    const agent = new http.Agent({ keepAlive: true });
    await get(agent); // a keep-alive connection is open now
    server.update('ns1/web-abc12-x', pod(false));
    await assert.rejects(get(agent), /ECONNRESET|ECONNREFUSED|socket hang up/, 'the open connection is closed too');
    await assert.rejects(get(), /ECONNREFUSED/);
    agent.destroy();
  } finally {
    server.closeAll();
  }
});

void test('annotations set the answer status and latency; a deleted pod stops answering', async () => {
  requireNetns();
  const server = new PodServer();
  try {
    server.update('ns1/web-abc12-x', pod(true, { [STATUS_ANNOTATION]: '503', [LATENCY_ANNOTATION]: '150' }));
    await listening();
    const answer = await get();
    assert.equal(answer.status, 503);
    assert.ok(answer.ms >= 140, `answered after ${answer.ms} ms, asked for 150`);
    server.update('ns1/web-abc12-x', undefined);
    assert.deepEqual(server.listening(), []);
    await assert.rejects(get(), /ECONNREFUSED/);
  } finally {
    server.closeAll();
  }
});

void test('a deleted pod answers through its grace period even when KWOK force-deletes it at once, then refuses; a new pod on its IP takes over', async () => {
  requireNetns();
  const server = new PodServer();
  const withGrace = (p: PodObject, seconds: number, deletionTimestamp?: string): PodObject => ({ ...p, metadata: { ...p.metadata, ...(deletionTimestamp ? { deletionTimestamp } : {}) }, spec: { ...p.spec, terminationGracePeriodSeconds: seconds } });
  try {
    server.update('ns1/web-abc12-x', withGrace(pod(true), 0.4));
    await listening();
    server.update('ns1/web-abc12-x', withGrace(pod(true), 0.4, new Date(Date.now() + 400).toISOString()));
    // KWOK's forced deletion: the last state's deletionTimestamp is the deletion itself.
    server.deleted('ns1/web-abc12-x', withGrace(pod(true), 0.4, new Date().toISOString()));
    assert.equal((await get()).status, 200, 'still serving within the grace period, as kubelet keeps the process running');
    await new Promise((resolve) => setTimeout(resolve, 500));
    await assert.rejects(get(), /ECONNREFUSED/, 'closed once the grace period is over');

    server.update('ns1/web-abc12-x', withGrace(pod(true), 60));
    await listening();
    server.deleted('ns1/web-abc12-x', withGrace(pod(true), 60, new Date().toISOString()));
    server.update('ns1/web-abc12-y', pod(true, {}, 'web-abc12-y'));
    await listening();
    assert.equal(JSON.parse((await get()).body).pod, 'web-abc12-y', 'KWOK reused the IP: the new pod answers there');

    server.deleted('ns1/web-abc12-y', withGrace(pod(true, {}, 'web-abc12-y'), 0, new Date().toISOString()));
    await assert.rejects(get(), /ECONNREFUSED/, 'no grace period: gone at once');
  } finally {
    server.closeAll();
  }
});
