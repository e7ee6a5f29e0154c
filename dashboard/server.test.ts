// The dashboard's gate on a real listener (127.0.0.1 and ::ffff:127.0.0.1) with a fake cluster
// that records writes: foreign pages cannot drive rollouts, a token guards non-loopback use, and
// bad requests get 4xx, never 500.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { KubeClient, ResourceRef } from '../kube/client.ts';
import { startDashboard, type Dashboard } from './server.ts';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A cluster with one Rollout, web in default, that records every patch. */
function fakeClient(): { client: KubeClient; patches: { ref: ResourceRef; body: unknown }[] } {
  const patches: { ref: ResourceRef; body: unknown }[] = [];
  const client = {
    server: 'https://cluster.invalid',
    get: async (ref: ResourceRef) => ({ apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', metadata: { name: ref.name, namespace: ref.namespace, resourceVersion: '1' }, spec: {} }),
    patch: async (ref: ResourceRef, _type: string, body: unknown) => void patches.push({ ref, body }),
    list: async () => ({ items: [{ metadata: { name: 'default' } }] }),
    close: () => undefined,
  };
  return { client: client as unknown as KubeClient, patches };
}

function call(port: number, address: string, method: string, pathname: string, headers: Record<string, string | number> = {}, body = ''): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: address, port, method, path: pathname, headers: { 'Content-Length': Buffer.byteLength(body), ...headers } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const JSON_TYPE = { 'Content-Type': 'application/json' };

void describe('dashboard on ::ffff:127.0.0.1 (loopback spelled as IPv4-mapped IPv6)', () => {
  const address = '::ffff:127.0.0.1';
  const fake = fakeClient();
  let dashboard: Dashboard;
  let host: string;
  const ask = (method: string, pathname: string, headers: Record<string, string | number> = {}, body = ''): Promise<Reply> => call(dashboard.port, address, method, pathname, { Host: host, ...headers }, body);

  before(async () => {
    dashboard = await startDashboard({ client: fake.client, namespace: 'default', port: 0, address });
    host = `[::ffff:7f00:1]:${dashboard.port}`;
  });
  after(async () => dashboard.close());

  void it('refuses a cross-origin POST, a null Origin and a foreign Host: nothing is paused', async () => {
    const foreign = await ask('POST', '/api/rollouts/default/web/pause', { ...JSON_TYPE, Origin: 'http://attacker.example' }, '{}');
    assert.equal(foreign.status, 403);
    assert.match(foreign.body, /cross-origin request from http:\/\/attacker\.example refused/);
    assert.equal((await ask('POST', '/api/rollouts/default/web/pause', { ...JSON_TYPE, Origin: 'null' }, '{}')).status, 403);
    assert.equal((await ask('POST', '/api/rollouts/default/web/pause', { ...JSON_TYPE, Host: `attacker.example:${dashboard.port}` }, '{}')).status, 403);
    assert.equal((await ask('GET', '/api/config', { Host: `rebound.attacker.example:${dashboard.port}` })).status, 403, 'DNS rebinding');
    assert.deepEqual(fake.patches, []);
  });

  void it('answers loopback Hosts in any spelling, and runs an action from its own origin', async () => {
    for (const h of [`LOCALHOST:${dashboard.port}`, `127.0.0.1:${dashboard.port}`, `[::1]:${dashboard.port}`]) {
      const r = await ask('GET', '/api/config', { Host: h });
      assert.equal(r.status, 200, h);
      assert.equal((JSON.parse(r.body) as { namespace: string }).namespace, 'default');
    }
    const own = await ask('POST', '/api/rollouts/default/web/pause', { ...JSON_TYPE, Origin: `http://${host}` }, '{}');
    assert.equal(own.status, 200, own.body);
    assert.deepEqual(fake.patches.map((p) => [p.ref.name, p.body]), [['web', { spec: { paused: true } }]]);
  });

  void it('answers bad requests with 4xx, never 500', async () => {
    assert.equal((await ask('GET', '/api/rollouts/%zz/web')).status, 400, 'malformed % escape');
    assert.equal((await ask('POST', '/api/rollouts/default/we%E0%A4%A/pause', JSON_TYPE, '{}')).status, 400, 'truncated UTF-8 escape');
    assert.equal((await ask('GET', '/api/rollouts?namespace=Bad_NS')).status, 400);
    const big = await ask('POST', '/api/rollouts/default/web/set-image', JSON_TYPE, JSON.stringify({ image: 'x'.repeat(100 * 1024) }));
    assert.equal(big.status, 413);
    assert.match(big.body, /larger than 65536 bytes/);
    assert.equal((await ask('POST', '/api/rollouts/default/web/set-image', { ...JSON_TYPE, 'Content-Length': 50 * 1024 * 1024 }, '')).status, 413, 'a declared length over the cap');
    assert.equal((await ask('POST', '/api/rollouts/default/web/set-image', JSON_TYPE, 'null')).status, 400, 'a body that is not an object');
    assert.equal((await ask('POST', '/api/rollouts/default/web/set-image', JSON_TYPE, '[1]')).status, 400);
    assert.equal((await ask('POST', '/api/rollouts/default/web/set-image', JSON_TYPE, '{"image": 5}')).status, 400, 'set image needs an image');
    assert.equal(fake.patches.length, 1, 'only the earlier pause wrote');
  });
});

void describe('dashboard with a token', () => {
  const token = 'test-token-0123456789abcdef';
  let dashboard: Dashboard;
  const ask = (pathname: string, headers: Record<string, string> = {}): Promise<Reply> => call(dashboard.port, '127.0.0.1', 'GET', pathname, { Host: `127.0.0.1:${dashboard.port}`, ...headers });

  before(async () => {
    dashboard = await startDashboard({ client: fakeClient().client, namespace: 'default', port: 0, address: '127.0.0.1', token });
  });
  after(async () => dashboard.close());

  void it('refuses every API call, the event stream and the page without it', async () => {
    for (const p of ['/api/config', '/api/namespaces', '/api/rollouts', '/api/stream', '/', '/app.js']) {
      const r = await ask(p);
      assert.equal(r.status, 401, p);
      assert.equal(r.headers['www-authenticate'], 'Bearer realm="rollway-dashboard"');
    }
    assert.equal((await ask('/api/config', { Authorization: `Bearer ${token}x` })).status, 401, 'a longer token');
    assert.equal((await ask('/api/config', { Authorization: 'Bearer test-token' })).status, 401, 'a prefix');
    assert.equal((await ask('/?token=wrong')).status, 401);
  });

  void it('accepts Authorization: Bearer', async () => {
    assert.equal((await ask('/api/config', { Authorization: `Bearer ${token}` })).status, 200);
  });

  void it('turns ?token= on the page into an HttpOnly SameSite=Strict cookie and drops it from the URL', async () => {
    const r = await ask(`/?namespace=shop&token=${token}`);
    assert.equal(r.status, 303);
    assert.equal(r.headers.location, '/?namespace=shop');
    const cookie = r.headers['set-cookie']?.[0] ?? '';
    assert.match(cookie, /; HttpOnly/);
    assert.match(cookie, /; SameSite=Strict/);
    const pair = cookie.split(';')[0]!;
    assert.equal((await ask('/api/config', { Cookie: pair })).status, 200);
    const page = await ask('/', { Cookie: pair });
    assert.equal(page.status, 200);
    assert.match(page.body, /<html/i);
    assert.equal((await ask(`/api/config?token=${token}`)).status, 401, 'the query token is for the page only');
  });
});

void describe('dashboard beyond loopback', () => {
  void it('refuses to start without a token, and with a weak one', async () => {
    await assert.rejects(startDashboard({ client: fakeClient().client, namespace: 'default', port: 0, address: '0.0.0.0' }), /refusing to serve on 0\.0\.0\.0 \(not loopback\) without a token/);
    await assert.rejects(startDashboard({ client: fakeClient().client, namespace: 'default', port: 0, address: '::', token: 'short' }), /token refused: the token has 5 characters/);
  });
});

void describe('dashboard rights', () => {
  /** A cluster whose access reviews answer as a rollway-view user's would: reads yes, patches no. */
  function viewOnly(): KubeClient {
    const base = fakeClient().client as unknown as Record<string, unknown>;
    const request = async (_method: string, path: string, options: { body?: { spec?: { resourceAttributes?: { verb?: string } } } }) => {
      assert.match(path, /selfsubjectaccessreviews$/);
      return { status: { allowed: options.body?.spec?.resourceAttributes?.verb !== 'patch' } };
    };
    return { ...base, request } as unknown as KubeClient;
  }

  void it('tells the page that a view-only user may not act, and why; an editor may', async () => {
    for (const [client, expected] of [
      [viewOnly(), false],
      [{ ...(fakeClient().client as unknown as Record<string, unknown>), request: async () => ({ status: { allowed: true } }) } as unknown as KubeClient, true],
    ] as const) {
      const dashboard = await startDashboard({ client, namespace: 'default', port: 0, address: '127.0.0.1' });
      try {
        const r = await call(dashboard.port, '127.0.0.1', 'GET', '/api/rights?namespace=default', { Host: `127.0.0.1:${dashboard.port}` });
        assert.equal(r.status, 200, r.body);
        const rights = JSON.parse(r.body) as { actions: boolean; reason?: string };
        assert.equal(rights.actions, expected);
        if (!expected) assert.match(rights.reason ?? '', /may not patch rollouts or patch rollouts\/status in namespace default/);
      } finally {
        await dashboard.close();
      }
    }
  });
});
