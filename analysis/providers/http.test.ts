// Answers as they come from real servers, on a loopback HTTP server: NULs, escape sequences,
// invalid UTF-8 and gzip never reach a message raw, quotes of an answer stay short, and the bytes
// of answers in flight stay within one budget however many large answers arrive at once.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { ByteBudget, MEASUREMENT_BUDGET_BYTES, measurementBudget } from './budget.ts';
import { EXCERPT_CHARS, excerpt, httpRequest } from './http.ts';
import { measurePrometheus } from './prometheus.ts';
import { measureWeb } from './web.ts';
import { closeLocal, listenLocal } from '../../testing/http-server.ts';

const MiB = 1024 * 1024;
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

void describe('excerpt', () => {
  void it('escapes control characters, DEL, C1, separators and bidi overrides', () => {
    assert.equal(excerpt('a\u0000b\tc\r\nd\u001b[31me\u007f\u0085\u2028\u202eX'), 'a\\u0000b\\tc\\r\\nd\\u001b[31me\\u007f\\u0085\\u2028\\u202eX');
    assert.equal(excerpt('plain text, ünïcödé and 😀'), 'plain text, ünïcödé and 😀');
  });

  void it('cuts at a length without splitting an escape or a surrogate pair; a lone surrogate becomes U+FFFD', () => {
    const emoji = excerpt(`a${'😀'.repeat(300)}`, EXCERPT_CHARS);
    assert.ok(emoji.isWellFormed());
    assert.ok(emoji.length <= EXCERPT_CHARS + 1, `${emoji.length}`);
    assert.ok(emoji.endsWith('😀…'));
    const nuls = excerpt('\u0000'.repeat(300), 20);
    assert.equal(nuls, `${'\\u0000'.repeat(3)}…`);
    assert.equal(excerpt('x\ud800y\udc00'), 'x\ufffdy\ufffd');
  });
});

void describe('answers that are not text', () => {
  let server: http.Server;
  let base = '';
  const encodings: (string | undefined)[] = [];
  const garbage = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]), randomBytes(4096), Buffer.from('\u0000\u001b]0;pwned\u0007')]);
  before(async () => {
    server = http.createServer((req, res) => {
      encodings.push(req.headers['accept-encoding']);
      if (req.url === '/nul') res.writeHead(500).end('failed\u0000\u0000 at \u001b[31mstage 2\r\nsee log');
      else if (req.url === '/gzip') res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' }).end(gzipSync('{"ok":true}'));
      else if (req.url === '/binary') res.writeHead(200, { 'Content-Type': 'application/octet-stream' }).end(garbage);
      else if (req.url?.startsWith('/prometheus/api/v1/query')) res.writeHead(502).end(garbage);
      else if (req.url === '/huge-text') res.writeHead(503).end('x'.repeat(MiB));
      else if (req.url === '/declared-huge') res.writeHead(200, { 'Content-Length': String(11 * MiB) }).write('{'); // never finishes
      else res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ s: 'nul\u0000bell\u0007' }));
    });
    base = await listenLocal(server);
  });
  after(async () => {
    await closeLocal(server);
  });

  const messageOf = (outcome: Awaited<ReturnType<typeof measureWeb>>): string => {
    assert.equal(outcome.kind, 'error', JSON.stringify(outcome));
    return outcome.kind === 'error' ? outcome.message : '';
  };
  const safe = (message: string): void => {
    assert.doesNotMatch(message, RAW_CONTROL, `raw control characters in ${JSON.stringify(message)}`);
    assert.ok(message.isWellFormed(), 'valid UTF-16, so valid UTF-8 once written');
  };

  void it('NULs and terminal escapes in an error answer are escaped', async () => {
    const message = messageOf(await measureWeb({ url: `${base}/nul` }));
    assert.equal(message, `${base}/nul answered HTTP 500: failed\\u0000\\u0000 at \\u001b[31mstage 2\\r\\nsee log`);
  });

  void it('a gzip answer nobody asked for is described, not quoted; requests ask for identity', async () => {
    const message = messageOf(await measureWeb({ url: `${base}/gzip` }));
    safe(message);
    assert.match(message, /^the answer of http:\/\/127\.0\.0\.1:\d+\/gzip is not JSON: a gzip-encoded body of \d+ bytes \(not asked for/);
    assert.equal(encodings.at(-1), 'identity');
  });

  void it('binary bytes and invalid UTF-8: a short, escaped, well-formed excerpt (web and Prometheus)', async () => {
    const web = messageOf(await measureWeb({ url: `${base}/binary` }));
    safe(web);
    assert.match(web, /is not JSON: \ufffd\ufffd\\u0000\ufffd\(/);
    assert.ok(web.length < 300, `${web.length} characters`);
    const prom = messageOf(await measurePrometheus({ address: `${base}/prometheus`, query: 'up' }));
    safe(prom);
    assert.match(prom, /^Prometheus answered HTTP 502 with a body that is not JSON: \ufffd\ufffd\\u0000/);
  });

  void it('a megabyte of text is quoted by its first 200 characters', async () => {
    const message = messageOf(await measureWeb({ url: `${base}/huge-text` }));
    assert.equal(message, `${base}/huge-text answered HTTP 503: ${'x'.repeat(EXCERPT_CHARS)}…`);
  });

  void it('a string value keeps its content but shows control characters escaped', async () => {
    assert.deepEqual(await measureWeb({ url: `${base}/value`, jsonPath: '$.s' }), { kind: 'value', value: 'nul\u0000bell\u0007', display: 'nul\\u0000bell\\u0007' });
  });

  void it('an answer declaring more than the cap fails before a byte is read', async () => {
    const started = Date.now();
    await assert.rejects(httpRequest(`${base}/declared-huge`, { timeoutMs: 5000 }), /the answer of http:\/\/127\.0\.0\.1:\d+ is larger than a measurement may read: 11 MiB \(Content-Length\), at most 10 MiB/);
    assert.ok(Date.now() - started < 2000);
  });
});

void describe('the budget for answers in flight', () => {
  let server: http.Server;
  let base = '';
  const piece = Buffer.alloc(256 * 1024, 'x');
  /** Sends `size` bytes of a JSON string, with or without Content-Length, as fast as the client reads. */
  const send = (res: http.ServerResponse, size: number, declare: boolean): void => {
    res.writeHead(200, { 'Content-Type': 'application/json', ...(declare ? { 'Content-Length': String(size) } : {}) });
    res.write('"');
    let left = size - 2;
    const more = (): void => {
      while (left > 0) {
        const chunk = piece.subarray(0, Math.min(piece.length, left));
        left -= chunk.length;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end('"');
    };
    more();
  };
  before(async () => {
    // ?together=N holds each answer until N requests are in: they then stream side by side, so the
    // shared budget fills whatever order a loaded machine accepts the connections in.
    const held: (() => void)[] = [];
    server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x');
      const answer = (): void => send(res, Number(url.searchParams.get('mib')) * MiB, url.pathname === '/declared');
      held.push(answer);
      if (held.length >= Number(url.searchParams.get('together') ?? 1)) for (const start of held.splice(0)) start();
    });
    base = await listenLocal(server);
  });
  after(async () => {
    await closeLocal(server);
  });

  void it('waits first come, first served; an abort leaves the queue', async () => {
    const budget = new ByteBudget(10);
    assert.ok(budget.tryTake(6));
    const order: string[] = [];
    const big = budget.take(8, new AbortController().signal).then(() => order.push('big'));
    const gone = new AbortController();
    const aborted = budget.take(1, gone.signal).catch(() => order.push('aborted'));
    const small = budget.take(2, new AbortController().signal).then(() => order.push('small'));
    gone.abort();
    await aborted;
    budget.release(6);
    await Promise.all([big, small]);
    assert.deepEqual(order, ['aborted', 'big', 'small']);
    assert.equal(budget.peak, 10);
    await assert.rejects(budget.take(11, new AbortController().signal), /more than the whole budget of 10 bytes/);
  });

  void it('20 answers of 3 MiB that declare their length at once: all read, never more than the budget held', async () => {
    const budget = new ByteBudget(8 * MiB);
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => measureWeb({ url: `${base}/declared?mib=3`, jsonPath: '$' }, { budget })));
    assert.deepEqual(outcomes.map((o) => o.kind), Array(20).fill('value'));
    assert.ok(budget.peak <= 8 * MiB && budget.peak >= 6 * MiB, `peak ${budget.peak}`);
    assert.equal(budget.inUse, 0, 'every byte given back');
  });

  void it('20 chunked answers of 100 MB at once with the 32 MiB budget: each fails with a clear message, memory stays bounded', async () => {
    const budget = new ByteBudget(MEASUREMENT_BUDGET_BYTES);
    const rssBefore = process.memoryUsage().rss;
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => measureWeb({ url: `${base}/chunked?mib=100&together=20`, timeoutSeconds: 30 }, { budget })));
    const messages = outcomes.map((o) => (o.kind === 'error' ? o.message : `not an error: ${o.kind}`));
    for (const message of messages) {
      assert.match(message, /is larger than a measurement may read: more than 10 MiB|was dropped after [\d.]+ (?:KiB|MiB): the answers of measurements in flight fill the 32 MiB they may hold at once/);
    }
    assert.ok(messages.some((m) => m.includes('was dropped')), 'the shared budget, not only the per-answer cap, stopped some');
    assert.ok(budget.peak <= MEASUREMENT_BUDGET_BYTES, `peak ${budget.peak}`);
    assert.equal(budget.inUse, 0);
    const grownMiB = (process.memoryUsage().rss - rssBefore) / MiB;
    assert.ok(grownMiB < 200, `RSS grew by ${grownMiB.toFixed(0)} MiB`);
  });

  void it('an answer waiting for room times out with a message that says it waited', async () => {
    const budget = new ByteBudget(2 * MiB);
    assert.ok(budget.tryTake(2 * MiB));
    const outcome = await measureWeb({ url: `${base}/declared?mib=1`, timeoutSeconds: 1 }, { budget });
    assert.deepEqual(outcome, {
      kind: 'error',
      message: `no answer from ${base} within 1s (timeout; its 1 MiB answer was waiting for room among the answers of measurements in flight, at most 2 MiB at once)`,
    });
    budget.release(2 * MiB);
    assert.equal(budget.inUse, 0);
  });

  void it('measurements share one budget unless given another', async () => {
    const before = measurementBudget.peak;
    await measureWeb({ url: `${base}/declared?mib=1` });
    assert.ok(measurementBudget.peak >= Math.max(before, MiB));
    assert.equal(measurementBudget.inUse, 0);
  });
});
