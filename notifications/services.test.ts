import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SMTPServer } from 'smtp-server';
import { parseConfig } from './config.ts';
import { DeliveryQueue } from './queue.ts';
import { send } from './services.ts';

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: unknown;
}

void describe('services against local receivers', () => {
  const received: Received[] = [];
  const mails: { to: string[]; data: string }[] = [];
  let status = 200;
  let server: http.Server;
  let smtp: SMTPServer;
  let base = '';
  let smtpPort = 0;

  before(async () => {
    server = http.createServer((req, res) => {
      let data = '';
      req.on('data', (c: Buffer) => (data += c.toString()));
      req.on('end', () => {
        received.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(data || 'null') });
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(req.url?.endsWith('chat.postMessage') ? JSON.stringify({ ok: true }) : '{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    smtp = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onAuth: (auth, _s, cb) => (auth.username === 'bot' && auth.password === 'mail-pass' ? cb(null, { user: 'bot' }) : cb(new Error('bad login'))),
      onData: (stream, session, cb) => {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on('end', () => {
          mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
          cb();
        });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    smtpPort = (smtp.server.address() as AddressInfo).port;
  });
  after(async () => {
    server.close();
    await new Promise<void>((r) => smtp.close(r));
  });

  const services = (): ReturnType<typeof parseConfig>['config']['services'] =>
    parseConfig(
      {
        'service.webhook.audit': `url: ${base}/hook\nheaders:\n- name: X-Token\n  value: $hook-token\n`,
        'service.slack': `token: $slack-token\napiURL: ${base}/api\n`,
        'service.slack.incoming': `webhookURL: ${base}/incoming\n`,
        'service.teams': `recipientUrls:\n  ops: ${base}/teams\n`,
        'service.email': `host: 127.0.0.1\nport: ${smtpPort}\nfrom: rollway@example.test\nusername: bot\npassword: $mail-password\ninsecure_skip_verify: true\n`,
      },
      { 'hook-token': 'tok', 'slack-token': 'xoxb-1', 'mail-password': 'mail-pass' },
    ).config.services;

  void it('delivers through each service in its own shape', async () => {
    const s = services();
    const message = { message: 'Rollout web paused', email: { subject: 'web paused' }, teams: { title: 'web' }, webhook: { audit: { body: '{"event":"paused"}' } } };
    await send(s.get('audit')!, message, '');
    await send(s.get('slack')!, message, '#ops');
    await send(s.get('incoming')!, message, '');
    await send(s.get('teams')!, message, 'ops');
    await send(s.get('email')!, message, 'team@example.test');
    assert.deepEqual(received.map((r) => [r.path, r.body]), [
      ['/hook', { event: 'paused' }],
      ['/api/chat.postMessage', { text: 'Rollout web paused', channel: '#ops' }],
      ['/incoming', { text: 'Rollout web paused' }],
      ['/teams', { '@type': 'MessageCard', '@context': 'https://schema.org/extensions', summary: 'web', title: 'web', text: 'Rollout web paused' }],
    ]);
    assert.equal(received[0]?.headers['x-token'], 'tok');
    assert.equal(received[1]?.headers.authorization, 'Bearer xoxb-1');
    assert.deepEqual(mails[0]?.to, ['team@example.test']);
    assert.match(mails[0]?.data ?? '', /Subject: web paused/);
  });

  void it('fails on an HTTP error without naming the URL', async () => {
    status = 500;
    try {
      await assert.rejects(send(services().get('audit')!, { message: 'x' }, ''), (err: Error) => /HTTP 500/.test(err.message) && !err.message.includes(base));
    } finally {
      status = 200;
    }
  });
});

void describe('DeliveryQueue', () => {
  void it('retries with growing delays up to the bound, then gives up once', async () => {
    const times: number[] = [];
    const failures: [number, boolean][] = [];
    const q = new DeliveryQueue<{ id: string }>({
      deliver: () => {
        times.push(Date.now());
        return Promise.reject(new Error('down'));
      },
      onFailure: (_j, _e, attempt, final) => void failures.push([attempt, final]),
      maxAttempts: 4,
      baseDelayMs: 20,
      maxDelayMs: 50,
    });
    assert.equal(q.add({ id: 'a' }), true);
    assert.equal(q.add({ id: 'a' }), false, 'a job already queued is not queued again');
    await q.drained();
    assert.deepEqual(failures, [[1, false], [2, false], [3, false], [4, true]]);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    assert.ok((gaps[0] as number) >= 18 && (gaps[1] as number) >= 38 && (gaps[2] as number) >= 48, `gaps ${gaps.join(',')}`);
    assert.deepEqual([q.delayAfter(1), q.delayAfter(2), q.delayAfter(3), q.delayAfter(9)], [20, 40, 50, 50]);
  });

  void it('delivers once the endpoint is back', async () => {
    let calls = 0;
    const q = new DeliveryQueue<{ id: string }>({ deliver: async () => void (++calls < 3 && (await Promise.reject(new Error('down')))), onFailure: () => undefined, baseDelayMs: 5 });
    q.add({ id: 'x' });
    await q.drained();
    assert.equal(calls, 3);
  });
});

void describe('DeliveryQueue groups', () => {
  void it('sends one group’s jobs one at a time, in order, while other groups go on', async () => {
    const log: string[] = [];
    const q = new DeliveryQueue<{ id: string; group: string; ms: number }>({
      deliver: async (job) => {
        log.push(`start ${job.id}`);
        await new Promise((r) => setTimeout(r, job.ms));
        log.push(`end ${job.id}`);
      },
      onFailure: () => undefined,
      groupOf: (job) => job.group,
    });
    q.add({ id: 'a1', group: 'a', ms: 30 });
    q.add({ id: 'a2', group: 'a', ms: 1 });
    q.add({ id: 'b1', group: 'b', ms: 1 });
    await q.drained();
    assert.ok(log.indexOf('end a1') < log.indexOf('start a2'), log.join(', '));
    assert.ok(log.indexOf('end b1') < log.indexOf('end a1'), 'b is not held up by a');
  });
});
