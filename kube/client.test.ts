import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiCallCounter, isGoneWhileWriting, KubeApiError, KubeClient, resourcePath, retryAfterMs } from './client.ts';

void test('resourcePath builds core, group, namespaced, named and subresource URLs', () => {
  assert.equal(resourcePath({ group: '', version: 'v1', plural: 'pods' }), '/api/v1/pods');
  assert.equal(resourcePath({ group: '', version: 'v1', plural: 'pods', namespace: 'shop', name: 'web-1' }), '/api/v1/namespaces/shop/pods/web-1');
  assert.equal(
    resourcePath({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: 'shop', name: 'web', subresource: 'status' }),
    '/apis/rollway.dev/v1alpha1/namespaces/shop/rollouts/web/status',
  );
  assert.equal(resourcePath({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: 'a.b' }), '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/a.b');
});

void test('resourcePath escapes names so a hostile name cannot change the path', () => {
  assert.equal(resourcePath({ group: '', version: 'v1', plural: 'configmaps', namespace: 'a', name: '../secrets' }), '/api/v1/namespaces/a/configmaps/..%2Fsecrets');
});

void test('ApiCallCounter counts writes separately from reads', () => {
  const counter = new ApiCallCounter();
  counter.add('get', 200);
  counter.add('list', 200);
  counter.add('patch', 200);
  counter.add('patch', 409);
  counter.add('create', 201);
  assert.equal(counter.writes(), 3);
  assert.equal(counter.total(), 5);
  assert.equal(counter.counts.get('patch 409'), 1);
});

void test('KubeApiError classifies not found, conflict and gone', () => {
  assert.ok(new KubeApiError(404, 'NotFound', 'x', {}).isNotFound);
  assert.ok(new KubeApiError(409, 'Conflict', 'x', {}).isConflict);
  assert.ok(new KubeApiError(410, 'Expired', 'x', {}).isGone);
  assert.ok(!new KubeApiError(500, 'InternalError', 'x', {}).isNotFound);
});

void test('a write guard refuses writes but not reads (leader fencing)', async () => {
  const client = new KubeClient({ server: 'http://127.0.0.1:9', namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  client.writeGuard = () => false;
  await assert.rejects(client.patch({ group: '', version: 'v1', plural: 'pods', namespace: 'a', name: 'b' }, 'merge', {}), /no longer holds the leader lease/);
  // A read goes out (and fails to connect here): it is not refused by the guard.
  await assert.rejects(client.get({ group: '', version: 'v1', plural: 'pods', namespace: 'a', name: 'b' }), (err: Error) => !/leader lease/.test(err.message));
  client.close();
});

void test('a response whose UTF-8 characters are split across network chunks reads intact', async () => {
  const http = await import('node:http');
  const body = Buffer.from(JSON.stringify({ kind: 'PodList', items: [{ metadata: { name: 'p', annotations: { note: 'größe ✓ 日本' } } }] }));
  const cut = body.indexOf(Buffer.from('✓')) + 1; // in the middle of a three-byte character
  const server = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.write(body.subarray(0, cut));
    setTimeout(() => res.end(body.subarray(cut)), 20);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  try {
    const list = await client.list({ group: '', version: 'v1', plural: 'pods' });
    assert.equal(list.items[0]?.metadata.annotations?.note, 'größe ✓ 日本');
  } finally {
    client.close();
    server.close();
  }
});

void test('a LIST response is not kept once it is parsed (keep-alive sockets keep their first response reachable)', async () => {
  const http = await import('node:http');
  const v8 = await import('node:v8');
  const vm = await import('node:vm');
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const item = { metadata: { name: 'p'.repeat(50) }, spec: { data: 'd'.repeat(900) } };
  const body = JSON.stringify({ kind: 'PodList', metadata: {}, items: Array.from({ length: 4000 }, () => item) }); // ~3.8 MiB
  const server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end(body));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  try {
    gc();
    const before = process.memoryUsage().heapUsed;
    await Promise.all(Array.from({ length: 8 }, async () => void (await client.list({ group: '', version: 'v1', plural: 'pods' }))));
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    assert.ok(retained < body.length / 2, `${(retained / 1048576).toFixed(1)} MiB still reachable after 8 LISTs of ${(body.length / 1048576).toFixed(1)} MiB`);
  } finally {
    client.close();
    server.close();
  }
});

void test('open watches never take the sockets requests need (40 watches, then a GET answers at once)', async () => {
  const http = await import('node:http');
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    if (req.url?.includes('watch=true')) return void res.write(''); // a watch: held open, nothing sent
    res.end(JSON.stringify({ kind: 'Pod', metadata: { name: 'web' } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  const stop = new AbortController();
  const ref = { group: '', version: 'v1', plural: 'pods', namespace: 'default' };
  const watches = Array.from({ length: 40 }, () => client.watch(ref, {}, () => {}, { signal: stop.signal }).catch(() => undefined));
  try {
    await new Promise((r) => setTimeout(r, 100));
    const pod = await Promise.race([client.get({ ...ref, name: 'web' }), new Promise((_, reject) => setTimeout(() => reject(new Error('the GET waited for a socket')), 2000))]);
    assert.equal((pod as { metadata: { name: string } }).metadata.name, 'web');
  } finally {
    stop.abort();
    await Promise.all(watches);
    client.close();
    server.closeAllConnections();
    server.close();
  }
});

void test('retryAfterMs: only a 429 or 5xx that names a wait in seconds is retried, never longer than 10 s', () => {
  assert.equal(retryAfterMs(429, '1'), 1000);
  assert.equal(retryAfterMs(503, '2'), 2000);
  assert.equal(retryAfterMs(429, '600'), 10_000);
  assert.equal(retryAfterMs(429, undefined), undefined);
  assert.equal(retryAfterMs(500, undefined), undefined);
  assert.equal(retryAfterMs(409, '1'), undefined);
  assert.equal(retryAfterMs(429, 'Wed, 21 Oct 2015 07:28:00 GMT'), undefined);
});

void test('a request the API server answers with 429 and Retry-After is sent again (a new CRD\'s storage still initializing)', async () => {
  const http = await import('node:http');
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      bodies.push(body);
      if (bodies.length <= 2) {
        res.writeHead(429, { 'Content-Type': 'application/json', 'Retry-After': '0' });
        res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'storage is (re)initializing', code: 429 }));
      } else {
        res.writeHead(201, { 'Content-Type': 'application/json' });
        res.end(body);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  try {
    const created = await client.create({ group: '', version: 'v1', plural: 'configmaps', namespace: 'a' }, { metadata: { name: 'c' } });
    assert.equal(created.metadata.name, 'c');
    assert.equal(bodies.length, 3, 'two refusals, then the answer');
    assert.ok(bodies.every((b) => JSON.parse(b).metadata.name === 'c'), 'the body is sent again each time');
    assert.equal(client.calls.counts.get('create 429'), 2);
  } finally {
    client.close();
    server.close();
  }
});

void test('a 429 without Retry-After, or one that never ends, fails with the server\'s message', async () => {
  const http = await import('node:http');
  let requests = 0;
  let retryAfter: string | undefined;
  const server = http.createServer((_req, res) => {
    requests++;
    res.writeHead(429, { 'Content-Type': 'application/json', ...(retryAfter ? { 'Retry-After': retryAfter } : {}) });
    res.end(JSON.stringify({ kind: 'Status', reason: 'TooManyRequests', message: 'too many requests', code: 429 }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  const pods = { group: '', version: 'v1', plural: 'pods', namespace: 'a' };
  try {
    await assert.rejects(client.list(pods), (err: unknown) => err instanceof KubeApiError && err.statusCode === 429 && /too many requests/.test(err.message));
    assert.equal(requests, 1);
    requests = 0;
    retryAfter = '0';
    await assert.rejects(client.list(pods), (err: unknown) => err instanceof KubeApiError && err.statusCode === 429);
    assert.equal(requests, 10, 'given up after 10 attempts');
  } finally {
    client.close();
    server.close();
  }
});

void test('a write refused because its object or namespace is going away is told apart from other refusals', () => {
  // bodies as kube-apiserver v1.34 sends them
  const gone = new KubeApiError(404, 'NotFound', 'rollouts.rollway.dev "web" not found', { kind: 'Status', reason: 'NotFound', details: { name: 'web', group: 'rollway.dev', kind: 'rollouts' }, code: 404 });
  const terminating = new KubeApiError(403, 'Forbidden', 'unable to create new content in namespace shop because it is being terminated', {
    kind: 'Status',
    reason: 'Forbidden',
    details: { name: 'web-5d8f', kind: 'replicasets', causes: [{ reason: 'NamespaceTerminating', message: 'namespace shop is being terminated', field: 'metadata.namespace' }] },
    code: 403,
  });
  const otherObject = new KubeApiError(404, 'NotFound', 'virtualservices "web" not found', { details: { name: 'web', kind: 'virtualservices' } });
  const rbac = new KubeApiError(403, 'Forbidden', 'cannot patch', { reason: 'Forbidden', details: { name: 'web', kind: 'rollouts' } });
  assert.equal(isGoneWhileWriting(gone, 'rollouts', 'web'), true);
  assert.equal(isGoneWhileWriting(gone, 'rollouts', 'api'), false);
  assert.equal(isGoneWhileWriting(terminating, 'rollouts', 'web'), true);
  assert.equal(isGoneWhileWriting(otherObject, 'rollouts', 'web'), false, 'a missing VirtualService is a spec problem, not a deletion');
  assert.equal(isGoneWhileWriting(rbac, 'rollouts', 'web'), false);
  assert.equal(isGoneWhileWriting(new Error('socket hang up'), 'rollouts', 'web'), false);
});

void test('a status write marked urgent is answered while a burst of other requests fills every normal slot', { timeout: 10_000 }, async () => {
  const http = await import('node:http');
  const held: Array<() => void> = [];
  let arrived = 0;
  const server = http.createServer((req, res) => {
    arrived++;
    const answer = (): void => void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"kind":"Rollout","metadata":{"name":"web"}}');
    if (req.method === 'PUT') answer();
    else held.push(answer); // the burst: answered only at the end
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  const ref = { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: 'a', name: 'web' };
  try {
    const burst = Array.from({ length: 40 }, () => client.get(ref));
    while (arrived < 32) await new Promise((resolve) => setTimeout(resolve, 5));
    const written = await client.replace({ ...ref, subresource: 'status' }, { metadata: { name: 'web' } }, { urgent: true });
    assert.equal(written.metadata.name, 'web');
    assert.equal(held.length, 32, 'the other 8 requests of the burst still wait for a slot');
    for (const answer of held.splice(0)) answer(); // slots free: the other 8 arrive
    while (arrived < 41) await new Promise((resolve) => setTimeout(resolve, 5));
    for (const answer of held.splice(0)) answer();
    assert.equal((await Promise.all(burst)).length, 40);
  } finally {
    client.close();
    server.close();
  }
});

void test('writesWithin counts writes in flight and those ended within the window; Events and reads do not count', async () => {
  const http = await import('node:http');
  let answerPatch: (() => void) | undefined;
  const server = http.createServer((req, res) => {
    const answer = (): void => void res.writeHead(200, { 'Content-Type': 'application/json' }).end('{}');
    if (req.method === 'PATCH') answerPatch = answer;
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const client = new KubeClient({ server: `http://127.0.0.1:${port}`, namespace: 'default', contextName: 't', authenticate: () => Promise.resolve() });
  const vs = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: 'a', name: 'vs' };
  try {
    assert.equal(client.writesWithin(100), 0, 'no write yet');
    const patch = client.patch(vs, 'json', []);
    while (!answerPatch) await new Promise((r) => setTimeout(r, 5));
    assert.equal(client.writesWithin(100), 1, 'a write in flight');
    answerPatch();
    await patch;
    for (let i = 0; i < 3; i++) await client.create({ group: '', version: 'v1', plural: 'events', namespace: 'a' }, { apiVersion: 'v1', kind: 'Event', metadata: { name: `e${i}` } });
    await client.get({ group: '', version: 'v1', plural: 'pods', namespace: 'a', name: 'p' });
    assert.equal(client.writesWithin(5000), 1, 'the PATCH ended, the Events and the GET are not counted');
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(client.writesWithin(40), 0, 'out of a 40 ms window after 60 ms');
    assert.equal(client.writesWithin(1000), 1, 'still in a 1 s one');
  } finally {
    client.close();
    server.close();
  }
});
