import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import { test } from 'node:test';
import { controllerMetrics } from './metrics.ts';
import { serveHttp } from './main.ts';
import { freePort } from '../testing/http-server.ts';

const metrics = controllerMetrics(
  {
    rollouts: () => [],
    reconcileErrors: () => 0,
    apiCalls: () => new Map(),
    queueDepth: () => 0,
    routerPlugins: () => [],
    notifications: () => ({ sent: new Map(), failed: new Map() }),
  },
  { processMetrics: false },
);
const quiet = (): void => undefined;

const portOf = (server: Server): number => {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
};

async function answer(port: number, path: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: res.status, text: await res.text() };
}

void test('one port for --metrics-port and --healthz-port: one server answers both paths (it failed to start with EADDRINUSE)', async () => {
  const port = await freePort();
  let healthy = false;
  const servers = await serveHttp({ metricsPort: port, healthzPort: port }, metrics, () => healthy, quiet);
  try {
    assert.equal(servers.length, 1);
    const scraped = await answer(port, '/metrics');
    assert.equal(scraped.status, 200);
    assert.match(scraped.text, /rollway_/);
    assert.deepEqual(await answer(port, '/healthz'), { status: 503, text: 'caches not synced\n' });
    healthy = true;
    assert.deepEqual(await answer(port, '/healthz'), { status: 200, text: 'ok\n' });
    assert.equal((await answer(port, '/elsewhere')).status, 404);
  } finally {
    for (const server of servers) server.close();
  }
});

void test('two ports: /metrics on one, /healthz on the other; -1 turns one off', async () => {
  const servers = await serveHttp({ metricsPort: 0, healthzPort: 0 }, metrics, () => true, quiet);
  try {
    assert.equal(servers.length, 2);
    const [metricsPort, healthzPort] = servers.map(portOf) as [number, number];
    assert.notEqual(metricsPort, healthzPort);
    assert.equal((await answer(metricsPort, '/metrics')).status, 200);
    assert.equal((await answer(metricsPort, '/healthz')).status, 404);
    assert.deepEqual(await answer(healthzPort, '/healthz'), { status: 200, text: 'ok\n' });
  } finally {
    for (const server of servers) server.close();
  }
  const none = await serveHttp({ metricsPort: -1, healthzPort: -1 }, metrics, () => true, quiet);
  assert.equal(none.length, 0);
});
