import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import tls from 'node:tls';
import { KubeClient } from './client.ts';
import { Http2Sessions } from './http2-sessions.ts';

const noAuth = (): Promise<void> => Promise.resolve();

/** An h2c API server stand-in: answers every path with a small list, and counts connections. */
async function h2cServer(handle?: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void): Promise<{ url: string; connections: () => number; server: http2.Http2Server }> {
  let connections = 0;
  const server = http2.createServer();
  server.on('session', () => connections++);
  server.on('stream', (stream: http2.ServerHttp2Stream, headers) => {
    if (handle) return handle(stream, headers);
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ metadata: {}, items: [{ metadata: { name: String(headers[':path']) } }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, connections: () => connections, server };
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

void test('reads and a watch in flight together share one HTTP/2 connection', async () => {
  const { url, connections, server } = await h2cServer((stream, headers) => {
    stream.respond({ ':status': 200, 'content-type': 'application/json' });
    if (String(headers[':path']).includes('watch=true')) {
      stream.write(JSON.stringify({ type: 'ADDED', object: { metadata: { name: 'a' } } }) + '\n');
      setTimeout(() => stream.end(JSON.stringify({ type: 'DELETED', object: { metadata: { name: 'a' } } }) + '\n'), 50);
      return;
    }
    stream.end(JSON.stringify({ metadata: {}, items: [] }));
  });
  const client = new KubeClient({ server: url, namespace: 'default', contextName: 't', authenticate: noAuth }, { http2: true });
  const events: string[] = [];
  const watched = client.watch({ group: '', version: 'v1', plural: 'pods', namespace: 'a' }, {}, (e) => events.push(`${e.type} ${e.object.metadata.name}`));
  const lists = await Promise.all(Array.from({ length: 40 }, (_, i) => client.list({ group: '', version: 'v1', plural: 'pods', namespace: `ns-${i}` })));
  await watched;
  assert.equal(lists.length, 40);
  assert.deepEqual(events, ['ADDED a', 'DELETED a']);
  assert.equal(connections(), 1);
  assert.ok(client.speaksHttp2);
  client.close();
  await closeServer(server);
});

void test('over HTTP/2, errors are typed and Retry-After answers are retried', async () => {
  let attempts = 0;
  const { url, server } = await h2cServer((stream) => {
    attempts++;
    if (attempts === 1) {
      stream.respond({ ':status': 429, 'retry-after': '0' });
      stream.end('{}');
      return;
    }
    stream.respond({ ':status': 404, 'content-type': 'application/json' });
    stream.end(JSON.stringify({ kind: 'Status', reason: 'NotFound', message: 'pods "web" not found', code: 404 }));
  });
  const client = new KubeClient({ server: url, namespace: 'default', contextName: 't', authenticate: noAuth }, { http2: true });
  await assert.rejects(client.get({ group: '', version: 'v1', plural: 'pods', namespace: 'a', name: 'web' }), (err: Error & { statusCode?: number }) => {
    assert.equal(err.statusCode, 404);
    assert.equal(err.message, 'pods "web" not found');
    return true;
  });
  assert.equal(attempts, 2);
  client.close();
  await closeServer(server);
});

void test('a connection the server closes is replaced on the next request', async () => {
  const { url, connections, server } = await h2cServer();
  const sessions: http2.ServerHttp2Session[] = [];
  server.on('session', (s) => sessions.push(s));
  const client = new KubeClient({ server: url, namespace: 'default', contextName: 't', authenticate: noAuth }, { http2: true });
  await client.list({ group: '', version: 'v1', plural: 'pods' });
  // GOAWAY, as an API server sends with --goaway-chance or when it shuts down.
  await new Promise<void>((resolve) => sessions[0]!.close(resolve));
  const again = await client.list<{ metadata: { name: string } }>({ group: '', version: 'v1', plural: 'services' });
  assert.equal(again.items[0]?.metadata.name, '/api/v1/services');
  assert.equal(connections(), 2);
  client.close();
  await closeServer(server);
});

void test('a connection that stops answering pings is closed, its streams fail, and a new one serves', async () => {
  const { url: upstream, server } = await h2cServer((stream, headers) => {
    stream.respond({ ':status': 200 });
    if (String(headers[':path']) === '/hang') return; // a watch with nothing to say
    stream.end('{}');
  });
  // A proxy that can go silent: the network path dies without a FIN or RST.
  const frozen = new Set<net.Socket>();
  const proxy = net.createServer((downstream) => {
    const up = net.connect(Number(new URL(upstream).port), '127.0.0.1');
    downstream.on('data', (d) => !frozen.has(downstream) && up.write(d));
    up.on('data', (d) => !frozen.has(downstream) && downstream.write(d));
    downstream.on('close', () => up.destroy());
    up.on('close', () => downstream.destroy());
    sockets.push(downstream);
  });
  const sockets: net.Socket[] = [];
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const sessions = new Http2Sessions(`http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, { pingEveryMs: 50, pingTimeoutMs: 100 });
  const hanging = await sessions.request({ method: 'GET', path: '/hang', headers: {}, tls: {}, timeoutMs: 0 });
  const failed = new Promise<Error>((resolve) => hanging.body.on('error', resolve).on('close', () => resolve(new Error('closed'))));
  frozen.add(sockets[0]!);
  assert.ok((await failed) instanceof Error);
  const fresh = await sessions.request({ method: 'GET', path: '/ok', headers: {}, tls: {}, timeoutMs: 5000 });
  assert.equal(fresh.statusCode, 200);
  assert.equal(sockets.length, 2);
  sessions.close();
  for (const s of sockets) s.destroy();
  await closeServer(proxy);
  await closeServer(server);
});

void test('an idle HTTP/2 connection does not keep a finished command running', async () => {
  const { url, server } = await h2cServer();
  const script = `import { KubeClient } from ${JSON.stringify(new URL('./client.ts', import.meta.url).href)};
    const c = new KubeClient({ server: ${JSON.stringify(url)}, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() }, { http2: true });
    const list = await c.list({ group: '', version: 'v1', plural: 'pods' });
    console.log(list.items.length);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  assert.equal(code, 0, 'the command exits by itself after its request');
  assert.equal(out.trim(), '1');
  await closeServer(server);
});

// TLS: an API server speaks HTTP/2 through ALPN; a server (or proxy) that only speaks HTTP/1.1 still works.
const tlsDir = mkdtempSync(path.join(tmpdir(), 'rollway-h2-'));
after(() => rmSync(tlsDir, { recursive: true, force: true }));
function selfSigned(): { cert: Buffer; key: Buffer } {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(tlsDir, 'key.pem'), '-out', path.join(tlsDir, 'cert.pem')], { stdio: 'ignore' });
  return { cert: readFileSync(path.join(tlsDir, 'cert.pem')), key: readFileSync(path.join(tlsDir, 'key.pem')) };
}
const pair = selfSigned();
const withCa = (request: https.RequestOptions): Promise<void> => {
  request.ca = pair.cert;
  return Promise.resolve();
};

void test('over https reads and watches go over HTTP/2 when the server offers it, writes over HTTP/1.1, the server verified with the kubeconfig CA', async () => {
  const seen: string[] = [];
  const server = http2.createSecureServer({ ...pair, allowHTTP1: true }, (req, res) => {
    seen.push(`${req.method} ${req.httpVersion}`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: { name: 'web' }, items: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const client = new KubeClient({ server: url, namespace: 'default', contextName: 't', authenticate: withCa });
  await Promise.all([client.list({ group: '', version: 'v1', plural: 'pods' }), client.get({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: 'a', name: 'web' })]);
  await client.patch({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: 'a', name: 'web' }, 'merge', { spec: { replicas: 2 } });
  await client.create({ group: 'authorization.k8s.io', version: 'v1', plural: 'selfsubjectaccessreviews' }, { metadata: {} });
  assert.deepEqual(seen.sort(), ['GET 2.0', 'GET 2.0', 'PATCH 1.1', 'POST 2.0']);
  assert.ok(client.speaksHttp2);
  client.close();
  const untrusting = new KubeClient({ server: url, namespace: 'default', contextName: 't', authenticate: noAuth });
  await assert.rejects(untrusting.list({ group: '', version: 'v1', plural: 'pods' }), /self-signed|certificate/);
  untrusting.close();
  await closeServer(server);
});

/** An https server of HTTP/1.1 only; `ignoreAlpn`: one that chooses no protocol instead of refusing h2 (as Go's and many proxies do). */
async function http1Only(ignoreAlpn: boolean): Promise<{ url: string; requests: () => number; close: () => Promise<void> }> {
  let requests = 0;
  const handler = (_req: http.IncomingMessage, res: http.ServerResponse): void => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: {}, items: [] }));
  };
  let server: net.Server;
  if (ignoreAlpn) {
    const plain = http.createServer(handler);
    server = tls.createServer(pair, (socket) => plain.emit('connection', socket));
  } else {
    server = https.createServer(pair, handler);
  }
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => requests, close: () => closeServer(server) };
}

for (const ignoreAlpn of [false, true]) {
  void test(`a server of HTTP/1.1 only (${ignoreAlpn ? 'choosing no protocol' : 'refusing h2'}) is answered over HTTP/1.1`, async () => {
    const server = await http1Only(ignoreAlpn);
    const client = new KubeClient({ server: server.url, namespace: 'default', contextName: 't', authenticate: withCa });
    assert.ok(client.speaksHttp2);
    await client.list({ group: '', version: 'v1', plural: 'pods' });
    await client.list({ group: '', version: 'v1', plural: 'pods' });
    assert.equal(server.requests(), 2);
    assert.equal(client.speaksHttp2, false);
    client.close();
    await server.close();
  });
}

void test('DISABLE_HTTP2 in the environment keeps HTTP/1.1 with a server that offers HTTP/2 (client-go\'s switch)', async () => {
  const versions: string[] = [];
  const server = http2.createSecureServer({ ...pair, allowHTTP1: true }, (req, res) => {
    versions.push(req.httpVersion);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: {}, items: [] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.DISABLE_HTTP2 = 'true';
  try {
    const client = new KubeClient({ server: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, namespace: 'default', contextName: 't', authenticate: withCa });
    await client.list({ group: '', version: 'v1', plural: 'pods' });
    assert.deepEqual(versions, ['1.1']);
    client.close();
  } finally {
    delete process.env.DISABLE_HTTP2;
  }
  await closeServer(server);
});

void test('a server that accepts the connection but never answers the handshake fails the request after the connect timeout', async () => {
  const silent = net.createServer(() => undefined);
  const held: net.Socket[] = [];
  silent.on('connection', (s) => held.push(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const sessions = new Http2Sessions(`https://127.0.0.1:${(silent.address() as AddressInfo).port}`, { connectTimeoutMs: 100 });
  await assert.rejects(sessions.request({ method: 'GET', path: '/api', headers: {}, tls: {}, timeoutMs: 0 }), /no answer within 100ms/);
  for (const s of held) s.destroy();
  await closeServer(silent);
});

void test('a request whose connection goes away before the answer fails instead of waiting forever', async () => {
  const rude = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => rude.listen(0, '127.0.0.1', resolve));
  const sessions = new Http2Sessions(`http://127.0.0.1:${(rude.address() as AddressInfo).port}`, { connectTimeoutMs: 60_000 });
  await assert.rejects(sessions.request({ method: 'GET', path: '/api', headers: {}, tls: {}, timeoutMs: 0 }));
  await closeServer(rude);
});

void test('after the credentials change, the connection opened with the old ones is closed once its streams end', async () => {
  const { url, connections, server } = await h2cServer();
  const closed: string[] = [];
  server.on('session', (s) => s.on('close', () => closed.push('closed')));
  const sessions = new Http2Sessions(url);
  const first = await sessions.request({ method: 'GET', path: '/a', headers: {}, tls: { servername: 'old-cert' }, timeoutMs: 5000 });
  first.body.resume();
  const second = await sessions.request({ method: 'GET', path: '/b', headers: {}, tls: { servername: 'new-cert' }, timeoutMs: 5000 });
  second.body.resume();
  assert.equal(connections(), 2);
  const deadline = Date.now() + 2000;
  while (closed.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(closed.length, 1, 'the old connection is closed, the new one stays');
  sessions.close();
  await closeServer(server);
});
