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

function pod(ready: boolean, annotations: Record<string, string> = {}): PodObject {
  return {
    metadata: { name: 'web-abc12-x', namespace: 'ns1', labels: { 'pod-template-hash': 'abc12' }, annotations },
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
