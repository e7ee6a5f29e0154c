// Notifications on the real control plane, to real receivers on loopback started here: an HTTP
// receiver standing in for the webhook, Slack and Teams endpoints, and an SMTP server for email.
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { RolloutObject } from '../controller/controller.ts';
import { NOTIFIED_ANNOTATION } from '../notifications/triggers.ts';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { kubeconfigPath, repoRoot, rollway, scenario, sleep, startController, type Cluster } from './harness.ts';

/** The CLI without blocking this process (whose receivers must answer it meanwhile). */
async function rollwayAsync(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.ts'), '--kubeconfig', kubeconfigPath(), ...args], { encoding: 'utf8' });
  return stdout;
}

interface Hit {
  path: string;
  text: string;
}

/** An HTTP receiver that can go down (port closed) and come back on the same port. */
class Receiver {
  readonly hits: Hit[] = [];
  private server: http.Server | undefined;
  port = 0;

  async up(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        this.hits.push({ path: req.url ?? '', text: body });
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok: true }));
      });
    });
    await new Promise<void>((r) => this.server?.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async down(): Promise<void> {
    const server = this.server;
    server?.closeAllConnections();
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  }

  /** What each hit on a path announced, in order of arrival. */
  kinds(path: string): string[] {
    return this.hits.filter((h) => h.path === path).map((h) => kindOf(h.text));
  }
}

function kindOf(text: string): string {
  const m = /(is paused|completed its update|was aborted|is being updated|failed an analysis run)[^(]*\(revision (\d+)/.exec(text);
  const kinds: Record<string, string> = { 'is paused': 'paused', 'completed its update': 'completed', 'was aborted': 'aborted', 'is being updated': 'updated', 'failed an analysis run': 'analysis-failed' };
  return m ? `${kinds[m[1] as string]}@${m[2]}` : `?${text.slice(0, 80)}`;
}

async function startSmtp(): Promise<{ server: SMTPServer; port: number; mails: { to: string[]; data: string }[] }> {
  const mails: { to: string[]; data: string }[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    onData: (stream, session, cb) => {
      let data = '';
      stream.on('data', (c: Buffer) => (data += c.toString()));
      stream.on('end', () => {
        mails.push({ to: session.envelope.rcptTo.map((r) => r.address), data });
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.server.address() as AddressInfo).port, mails };
}

const rolloutYaml = (image: string, subscriptions: Record<string, string>): string => `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: web
  annotations: ${JSON.stringify(subscriptions)}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: "${image}"}]}
  strategy: {canary: {steps: [{setWeight: 50}, {pause: {}}]}}
`;

async function configure(cluster: Cluster, ns: string, receiver: Receiver, smtpPort: number): Promise<void> {
  const base = `http://127.0.0.1:${receiver.port}`;
  await cluster.apply(
    {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'rollway-notification-secret' },
      stringData: { 'slack-token': 'xoxb-e2e-secret-token', 'hook-path': 'hook' },
    },
    ns,
  );
  await cluster.apply(
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'rollway-notification-configmap' },
      data: {
        'service.webhook.hook': `url: ${base}/$hook-path\n`,
        'service.slack': `token: $slack-token\napiURL: ${base}/slack\n`,
        'service.teams': `recipientUrls:\n  ops: ${base}/teams\n`,
        'service.email': `host: 127.0.0.1\nport: ${smtpPort}\nfrom: rollway@example.test\n`,
        defaultTriggers: '- on-rollout-paused\n- on-rollout-completed\n- on-rollout-aborted\n',
      },
    },
    ns,
  );
}

const ref = (ns: string): { group: string; version: string; plural: string; namespace: string; name: string } => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name: 'web' });

async function until(what: string, ok: () => boolean, timeoutMs = 90_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const setImage = (cluster: Cluster, ns: string, image: string): Promise<unknown> => cluster.patch(ref(ns), { spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } } } });
const paused = (r: RolloutObject | undefined): boolean => r?.status?.phase === 'Paused';

scenario('notifications: a canary that pauses, completes, and one that aborts, through webhook, Slack, Teams and email', async ({ cluster, ns, given, when, then }) => {
  const receiver = new Receiver();
  await receiver.up();
  const smtp = await startSmtp();
  const controller = startController(ns);
  try {
    await given('the notification ConfigMap and Secret, and a Rollout subscribed to each service', async () => {
      await configure(cluster, ns, receiver, smtp.port);
      await cluster.apply(
        rolloutYaml('web:1', {
          'notifications.rollway.dev/subscribe.hook': '',
          'notifications.argoproj.io/subscribe.on-rollout-paused.slack': '#deploys',
          'notifications.rollway.dev/subscribe.on-rollout-completed.teams': 'ops',
          'notifications.rollway.dev/subscribe.on-rollout-aborted.email': 'oncall@example.test',
        }),
        ns,
      );
      await cluster.waitFor<RolloutObject>(ref(ns), (r) => r?.status?.phase === 'Healthy', { what: 'first revision Healthy', timeoutMs: 90_000 });
      await until('the first completed notification', () => receiver.kinds('/hook').length === 1);
    });
    await when('web:2 pauses and is promoted, then web:3 pauses and is aborted', async () => {
      await setImage(cluster, ns, 'web:2');
      await cluster.waitFor<RolloutObject>(ref(ns), paused, { what: 'paused at 50%', timeoutMs: 90_000 });
      await until('the paused notification', () => receiver.kinds('/hook').length === 2);
      rollway('promote', 'web', '-n', ns);
      await cluster.waitFor<RolloutObject>(ref(ns), (r) => r?.status?.phase === 'Healthy' && r.status.stableRS === r.status.currentPodHash && r.metadata.generation === 2, { what: 'web:2 completed', timeoutMs: 90_000 });
      await until('the second completed notification', () => receiver.kinds('/hook').length === 3);
      await setImage(cluster, ns, 'web:3');
      await cluster.waitFor<RolloutObject>(ref(ns), paused, { what: 'web:3 paused', timeoutMs: 90_000 });
      await until('the third paused notification', () => receiver.kinds('/hook').length === 4);
      rollway('abort', 'web', '-n', ns);
      await until('the aborted notification', () => receiver.kinds('/hook').length === 5 && smtp.mails.length === 1);
      await sleep(3000); // anything sent twice would arrive by now
    });
    await then('each service got exactly the expected notifications, in order', () => {
      assert.deepEqual(receiver.kinds('/hook'), ['completed@1', 'paused@2', 'completed@2', 'paused@3', 'aborted@3']);
      assert.deepEqual(receiver.kinds('/slack/chat.postMessage'), ['paused@2', 'paused@3']);
      assert.deepEqual(receiver.kinds('/teams'), ['completed@1', 'completed@2']);
      assert.deepEqual(smtp.mails.map((m) => m.to), [['oncall@example.test']]);
      assert.match(smtp.mails[0]?.data ?? '', /Subject: Rollout web was aborted/);
      const slack = receiver.hits.find((h) => h.path === '/slack/chat.postMessage');
      assert.equal((JSON.parse(slack?.text ?? '{}') as { channel?: string }).channel, '#deploys');
    });
    await then('no Secret value is in the log or the Rollout', async () => {
      const ro = await cluster.get<RolloutObject>(ref(ns));
      assert.ok(!JSON.stringify(ro).includes('xoxb-e2e-secret-token'));
      assert.ok(!controller.logs().includes('xoxb-e2e-secret-token'));
      assert.ok(Object.values(JSON.parse(ro?.metadata.annotations?.[NOTIFIED_ANNOTATION] ?? '{}') as Record<string, { state: string }>).every((e) => e.state === 'sent'));
    });
    await then('rollway notifications templates lists them, and test renders and sends one on demand', async () => {
      const listed = rollway('notifications', 'templates', '-n', ns);
      assert.match(listed, /hook\twebhook/);
      assert.match(listed, /on-rollout-aborted \(built-in\)\twhen: rollout.status\?.abort == true/);
      const before = receiver.kinds('/hook').length;
      const tested = await rollwayAsync('notifications', 'test', 'on-rollout-aborted', '--rollout', 'web', '-n', ns, '--to', 'slack:#test', '--send');
      assert.match(tested, /→ met/);
      assert.match(tested, /Rollout web in .* was aborted \(revision 3/);
      assert.match(tested, /sent/);
      assert.ok(!tested.includes('xoxb-e2e-secret-token'));
      assert.equal(receiver.kinds('/hook').length, before, 'a test message goes only where --to says');
      assert.deepEqual(receiver.kinds('/slack/chat.postMessage'), ['paused@2', 'paused@3', 'aborted@3']);
    });
  } finally {
    await controller.kill();
    await receiver.down();
    await new Promise<void>((r) => smtp.server.close(r));
  }
}, { timeoutMs: 420_000 });

scenario('notifications: a receiver down for 10 s gets them after it is back, each once; a failure is a Warning Event', async ({ cluster, ns, given, when, then }) => {
  const receiver = new Receiver();
  await receiver.up();
  const controller = startController(ns);
  try {
    await given('a Rollout subscribed to the webhook, and its first completed notification delivered', async () => {
      await configure(cluster, ns, receiver, 1);
      await cluster.apply(rolloutYaml('web:1', { 'notifications.rollway.dev/subscribe.hook': '' }), ns);
      await until('the first completed notification', () => receiver.kinds('/hook').length === 1);
    });
    await when('the receiver goes down, the Rollout pauses, and the receiver is back 10 s later', async () => {
      await receiver.down();
      await setImage(cluster, ns, 'web:2');
      await cluster.waitFor<RolloutObject>(ref(ns), paused, { what: 'paused at 50%', timeoutMs: 90_000 });
      await sleep(10_000);
      await receiver.up();
      await until('the paused notification after the outage', () => receiver.kinds('/hook').length === 2, 90_000);
      await sleep(3000);
    });
    await then('it arrived once, and the failed attempts are a Warning Event', async () => {
      assert.deepEqual(receiver.kinds('/hook'), ['completed@1', 'paused@2']);
      const warnings = (await cluster.events(ns, { kind: 'Rollout', name: 'web' })).filter((e) => e.reason === 'NotificationFailed');
      assert.ok(warnings.length >= 1 && warnings[0]?.type === 'Warning', 'a NotificationFailed Warning Event');
      assert.match(warnings[0]?.message ?? '', /on-rollout-paused to hook failed \(attempt 1\): could not reach the endpoint/);
      assert.ok(!warnings.some((w) => (w.message ?? '').includes(String(receiver.port))), 'the URL is not in the Event');
      const port = /metrics listening address=127\.0\.0\.1:(\d+)/.exec(controller.logs())?.[1];
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const failures = Number(/rollway_notifications_deliveries_total\{service="hook",result="failure"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      assert.ok(failures >= 2, `failed attempts counted: ${failures}`);
      assert.match(metrics, /rollway_notifications_deliveries_total\{service="hook",result="success"\} 2/);
    });
  } finally {
    await controller.kill();
    await receiver.down();
  }
}, { timeoutMs: 300_000 });

scenario('notifications: SIGKILL of the controller right after a trigger fires sends it once', async ({ cluster, ns, given, when, then }) => {
  const receiver = new Receiver();
  await receiver.up();
  let controller = startController(ns);
  try {
    await given('a Rollout subscribed to the webhook', async () => {
      await configure(cluster, ns, receiver, 1);
      await cluster.apply(rolloutYaml('web:1', { 'notifications.rollway.dev/subscribe.on-rollout-paused.hook': '' }), ns);
      await cluster.waitFor<RolloutObject>(ref(ns), (r) => r?.status?.phase === 'Healthy', { what: 'first revision Healthy', timeoutMs: 90_000 });
    });
    await when('the Rollout pauses and the controller is killed as soon as the notification is claimed', async () => {
      await setImage(cluster, ns, 'web:2');
      await cluster.waitFor<RolloutObject>(ref(ns), (r) => (r?.metadata.annotations?.[NOTIFIED_ANNOTATION] ?? '').includes('on-rollout-paused'), { what: 'the claim', intervalMs: 20, timeoutMs: 90_000 });
      await controller.kill('SIGKILL');
      controller = startController(ns);
      await until('the paused notification', () => receiver.kinds('/hook').length >= 1, 90_000);
      await cluster.waitFor<RolloutObject>(ref(ns), (r) => (r?.metadata.annotations?.[NOTIFIED_ANNOTATION] ?? '').includes('"sent"'), { what: 'marked sent', timeoutMs: 90_000 });
      await sleep(3000);
    });
    await then('the receiver got it exactly once', () => {
      assert.deepEqual(receiver.kinds('/hook'), ['paused@2']);
    });
  } finally {
    await controller.kill();
    await receiver.down();
  }
}, { timeoutMs: 300_000 });

scenario('notifications: a canary that fails its analysis and aborts', async ({ cluster, ns, given, when, then }) => {
  const receiver = new Receiver();
  await receiver.up();
  const controller = startController(ns);
  try {
    await given('a Rollout whose analysis step fails, subscribed to updated, analysis-run-failed and aborted', async () => {
      await configure(cluster, ns, receiver, 1);
      await cluster.apply(
        `apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: fail-check}
spec:
  metrics:
  - name: ok
    successCondition: result == false
    provider:
      web: {url: "http://127.0.0.1:${receiver.port}/analysis", jsonPath: "$.ok"}
`,
        ns,
      );
      const yaml = rolloutYaml('web:1', {
        'notifications.rollway.dev/subscribe.on-rollout-updated.hook': '',
        'notifications.rollway.dev/subscribe.on-analysis-run-failed.hook': '',
        'notifications.rollway.dev/subscribe.on-rollout-aborted.hook': '',
      }).replace('steps: [{setWeight: 50}, {pause: {}}]', 'steps: [{setWeight: 50}, {analysis: {templates: [{templateName: fail-check}]}}]');
      await cluster.apply(yaml, ns);
      await cluster.waitFor<RolloutObject>(ref(ns), (r) => r?.status?.phase === 'Healthy', { what: 'first revision Healthy', timeoutMs: 90_000 });
    });
    await when('web:2 is rolled out and its analysis fails', async () => {
      await setImage(cluster, ns, 'web:2');
      await cluster.waitFor<RolloutObject>(ref(ns), (r) => r?.status?.abort === true, { what: 'aborted by the analysis', timeoutMs: 90_000 });
      await until('three notifications', () => receiver.kinds('/hook').length === 3);
      await sleep(3000);
    });
    await then('the hook got updated, analysis-run-failed and aborted, once each, in that order', () => {
      assert.deepEqual(receiver.kinds('/hook'), ['updated@2', 'analysis-failed@2', 'aborted@2']);
    });
  } finally {
    await controller.kill();
    await receiver.down();
  }
}, { timeoutMs: 300_000 });
