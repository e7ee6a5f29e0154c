// The CLI's pure parts: argument parsing, completion, live output, routing-object weights,
// the undo template, lint, and the view's derived values.
/* eslint-disable no-control-regex -- terminal escape codes are what these tests look at */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { podTemplateHash } from '../api/hash.ts';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import { parse, parseDuration, UsageError, type CommandSpec } from './args.ts';
import { complete, completionScript } from './completion.ts';
import { aborted, pausedCanary } from './fixtures.ts';
import { lintText } from './lint.ts';
import { LiveOutput, Throttle } from './live.ts';
import { analysisRunsMissing, serves } from '../client/observe.ts';
import { COMMANDS } from './commands.ts';
import { gatewayApiPlugin } from '../routers/gateway-api/index.ts';
import { istioPlugin } from '../routers/istio/index.ts';
import { nginxPlugin } from '../routers/nginx/index.ts';
import { smiPlugin } from '../routers/smi/index.ts';
import { routingTargets } from '../client/routing.ts';
import { templateForUndo } from '../client/undo.ts';
import { buildView, formatDuration, formatPercent } from '../client/view.ts';

const obj = (spec: unknown, annotations: Record<string, string> = {}) => ({ metadata: { name: 'x', annotations }, spec });

void test('flags go before or after the command words, with = or a separate value, and booleans take =false', () => {
  const p = parse(['-n', 'shop', 'get', 'rollout', 'web', '-w', '--kubeconfig=/k', '-ojson'], COMMANDS);
  assert.deepEqual(p.command?.words, ['get', 'rollout']);
  assert.deepEqual(p.positionals, ['web']);
  assert.equal(p.flags.namespace, 'shop');
  assert.equal(p.flags.watch, true);
  assert.equal(p.flags.kubeconfig, '/k');
  assert.equal(p.flags.output, 'json');
  const s = parse(['status', 'web', '--watch=false', '-t', '5m'], COMMANDS);
  assert.equal(s.flags.watch, false);
  assert.equal(s.flags.timeout, '5m');
  assert.equal(parse(['status', 'web'], COMMANDS).flags.watch, true, 'the default');
  assert.deepEqual(parse(['get', 'ro', 'web'], COMMANDS).command?.words, ['get', 'rollout'], 'alias');
  assert.deepEqual(parse(['set', 'image', 'web', '--', '*=img'], COMMANDS).positionals, ['web', '*=img']);
  assert.equal(parse(['controller', '--healthz-port', '-1'], COMMANDS).flags['healthz-port'], '-1', 'a negative number is a value');
  const empty = parse(['get', 'rollout', '-o=', 'web'], COMMANDS);
  assert.deepEqual([empty.flags.output, empty.positionals], ['', ['web']], '-o= is an empty value, as --output= is: the next word stays a positional');
});

void test('usage errors name the problem', () => {
  const fails = (argv: string[], message: RegExp): void => assert.throws(() => parse(argv, COMMANDS), (e: unknown) => e instanceof UsageError && message.test(e.message));
  fails(['promote'], /missing NAME; usage: rollway promote NAME \[--full\]/);
  fails(['promote', 'a', 'b'], /unexpected argument "b"/);
  fails(['abort', 'web', '--full'], /unknown flag --full for "rollway abort"/);
  fails(['list', 'rollouts', '--bogus'], /unknown flag --bogus/);
  fails(['get', 'rollout', 'web', '-o'], /flag -o needs a value/);
  fails(['status', 'web', '--watch=maybe'], /--watch takes true or false/);
  assert.equal(parse(['promote', '--help'], COMMANDS).flags.help, true, '--help needs no arguments');
});

void test('durations: 10s, 5m, 1h30m, 250ms, bare seconds', () => {
  assert.equal(parseDuration('10s', '--in'), 10_000);
  assert.equal(parseDuration('1h30m', '--in'), 5_400_000);
  assert.equal(parseDuration('250ms', '--in'), 250);
  assert.equal(parseDuration('3', '--in'), 3000);
  assert.throws(() => parseDuration('soon', '--in'), /--in takes a duration/);
});

void test('completion: command words, then sub-words, flags of the command, flag values, rollout names', async () => {
  const names = async (): Promise<string[]> => ['web', 'worker', 'api'];
  assert.deepEqual(await complete(['pro'], COMMANDS, names), ['promote']);
  assert.deepEqual(await complete(['get', ''], COMMANDS, names), ['analysisrun', 'experiment', 'rollout']);
  assert.deepEqual(await complete(['-n', 'shop', 'promote', 'w'], COMMANDS, names), ['web', 'worker']);
  assert.deepEqual(await complete(['promote', '--f'], COMMANDS, names), ['--full']);
  assert.deepEqual(await complete(['get', 'rollout', 'web', '-o', ''], COMMANDS, names), ['json', 'yaml']);
  assert.deepEqual(await complete(['completion', ''], COMMANDS, names), ['bash', 'zsh', 'fish']);
  assert.deepEqual(await complete(['promote', 'web', ''], COMMANDS, names), [], 'nothing after the last argument');
  for (const shell of ['bash', 'zsh', 'fish']) assert.match(completionScript(shell), /__complete/);
  assert.throws(() => completionScript('tcsh'), /unknown shell "tcsh"/);
});

void test('every command has a summary and its flags have descriptions', () => {
  for (const c of COMMANDS as CommandSpec[]) {
    assert.ok(c.summary.length > 10, c.words.join(' '));
    for (const f of c.flags) assert.ok(f.description.length > 5, `${c.words.join(' ')} --${f.name}`);
  }
});

void test('live output on a terminal: cursor home, each line cleared to its end, the rest of the screen cleared; unchanged frames write nothing', () => {
  const written: string[] = [];
  const live = new LiveOutput((t) => written.push(t), { tty: true, rows: 40 });
  assert.equal(live.show('a\nb\n'), true);
  assert.equal(live.show('a\nb\n'), false);
  live.show('a\nc\n');
  live.close();
  assert.deepEqual(written, ['\x1b[?25l\x1b[Ha\x1b[K\nb\x1b[K\n\x1b[J', '\x1b[Ha\x1b[K\nc\x1b[K\n\x1b[J', '\x1b[?25h']);
  const tall: string[] = [];
  new LiveOutput((t) => tall.push(t), { tty: true, rows: 5 }).show('1\n2\n3\n4\n5\n6\n7\n');
  assert.match(tall[0]!, /1\x1b\[K\n2\x1b\[K\n3\x1b\[K\n… 4 more lines/);
});

void test('live output into a pipe: each changed frame once, a blank line between frames, no escape codes', () => {
  const written: string[] = [];
  const live = new LiveOutput((t) => written.push(t), { tty: false });
  live.show('one\n');
  live.show('one\n');
  live.show('two\n');
  live.close();
  assert.equal(written.join(''), 'one\n\ntwo\n');
});

void test('the throttle runs at most once per interval and always runs after the last request', async () => {
  let runs = 0;
  const throttle = new Throttle(() => runs++, 40);
  for (let i = 0; i < 10; i++) throttle.request();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(runs, 1);
  throttle.request();
  throttle.request();
  await new Promise((r) => setTimeout(r, 60));
  assert.equal(runs, 2);
});

void test('--router-plugin may be repeated: the values are kept together, in order', () => {
  const p = parse(['controller', '--router-plugin', './a.js', '--router-plugin=@acme/router', '--smi-api-version', 'v1alpha2'], COMMANDS);
  assert.equal(p.flags['router-plugin'], './a.js,@acme/router');
  assert.equal(p.flags['smi-api-version'], 'v1alpha2');
  assert.equal(parse(['lint', '-f', 'x.yaml', '--router-plugin', './a.js'], COMMANDS).flags['router-plugin'], './a.js');
});

void test('routing objects: the canary share as each router writes it, read by its plugin', () => {
  const where = { namespace: 'shop', rolloutName: 'web', canaryService: 'web-canary', stableService: 'web-stable' };
  const vs = obj({
    http: [
      { name: 'other', route: [{ destination: { host: 'x' } }] },
      { name: 'primary', route: [{ destination: { host: 'web-stable.shop.svc.cluster.local' }, weight: 9950 }, { destination: { host: 'web-canary' }, weight: 50 }] },
    ],
  });
  assert.deepEqual(istioPlugin.read(vs, { virtualService: { name: 'x', routes: ['primary'] } }, where), { canary: 50, total: 10000 });
  const subsets = obj({ http: [{ route: [{ destination: { host: 'web', subset: 'stable' }, weight: 80 }, { destination: { host: 'web', subset: 'canary' }, weight: 20 }] }] });
  assert.deepEqual(istioPlugin.read(subsets, { virtualService: { name: 'x' }, destinationRule: { name: 'web', canarySubsetName: 'canary', stableSubsetName: 'stable' } }, where), { canary: 20, total: 100 });
  const p = 'nginx.ingress.kubernetes.io';
  assert.deepEqual(nginxPlugin.read(obj({}, { [`${p}/canary`]: 'true', [`${p}/canary-weight`]: '5', [`${p}/canary-weight-total`]: '10000' }), {}, where), { canary: 5, total: 10000 });
  assert.deepEqual(nginxPlugin.read(obj({}, {}), {}, where), { canary: 0, total: 100 });
  assert.deepEqual(smiPlugin.read(obj({ backends: [{ service: 'web-canary', weight: '500m' }, { service: 'web-stable', weight: '99500m' }] }), {}, where), { canary: 500, total: 100000 });
  assert.deepEqual(smiPlugin.read(obj({ backends: [{ service: 'web-canary', weight: 1 }, { service: 'web-stable', weight: '2k' }] }), {}, where), { canary: 1, total: 2001 });
  const route = obj({ rules: [{ name: 'api', backendRefs: [{ name: 'web-stable', weight: 199 }, { name: 'web-canary', weight: 1 }] }] });
  assert.deepEqual(gatewayApiPlugin.read(route, { httpRoutes: [{ name: 'x', rules: ['api'] }] }, where), { canary: 1, total: 200 });
  assert.equal(gatewayApiPlugin.read(route, { httpRoutes: [{ name: 'x', rules: ['missing'] }] }, where), undefined);
});

void test('routing targets follow trafficRouting: the NGINX canary Ingress name, the TrafficSplit default name, a VirtualService in another namespace', () => {
  const ro = pausedCanary().rollout;
  ro.spec.strategy!.canary!.trafficRouting = {
    nginx: { stableIngress: 'web-ingress' },
    smi: {},
    istio: { virtualService: { name: 'mesh-vs.mesh' } },
    gatewayAPI: { httpRoutes: [{ name: 'web-route' }] },
  };
  assert.deepEqual(
    routingTargets(ro).map((t) => `${t.kind} ${t.namespace}/${t.name}`),
    ['VirtualService mesh/mesh-vs', 'Ingress shop/web-web-ingress-canary', 'TrafficSplit shop/web', 'HTTPRoute shop/web-route'],
  );
});

void test('undo: API-server defaults come out again so the template hashes to the ReplicaSet (a fast rollback), and fields the user wrote stay', () => {
  const original = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }] } };
  const hash = podTemplateHash(original);
  const stored = {
    metadata: { creationTimestamp: null, labels: { app: 'web', 'rollouts-pod-template-hash': hash } },
    spec: {
      containers: [
        { name: 'web', image: 'web:1', imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {}, ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] },
      ],
      restartPolicy: 'Always',
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      securityContext: {},
      terminationGracePeriodSeconds: 30,
    },
  };
  const current = { ...original, spec: { containers: [{ ...original.spec.containers[0]!, image: 'web:2' }] } };
  const { template, exact } = templateForUndo(stored, current, hash);
  assert.equal(exact, true);
  assert.deepEqual(template, original);
  // Not recoverable (the original set a default the current template lacks): still the same pods.
  const other = templateForUndo(stored, current, 'nomatch');
  assert.equal(other.exact, false);
  assert.equal((other.template as { metadata: { labels: Record<string, string> } }).metadata.labels['rollouts-pod-template-hash'], undefined);
});

void test('lint: schema and step errors with field paths, references between the objects of the file, Argo manifests', () => {
  const rollout = (extra: string) => `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
${extra}`;
  const services = `
---
apiVersion: v1
kind: Service
metadata: {name: web-canary}
spec: {selector: {app: web}}
---
apiVersion: v1
kind: Service
metadata: {name: web-stable}
spec: {selector: {app: web}}
`;
  assert.deepEqual(lintText(rollout('      steps: [{setWeight: 20}, {pause: {}}]') + services), []);
  const bad = lintText(rollout('      steps: [{setWeight: 150}]').replace('web-stable', 'web-stabel') + services);
  assert.deepEqual(
    bad.map((f) => `${f.severity} ${f.object} ${f.path}`),
    ['error Rollout/web spec.strategy.canary.steps[0].setWeight', 'error Rollout/web spec.strategy.canary.stableService'],
  );
  assert.match(bad[1]!.message, /Service "web-stabel" is not in the file \(its Services: web-canary, web-stable\)/);
  const routes = lintText(
    rollout(`      trafficRouting:
        gatewayAPI: {httpRoutes: [{name: web-route, rules: [api]}]}
      steps: [{setWeight: 5}]`) +
      services +
      `---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web-route}
spec: {rules: [{name: web, backendRefs: [{name: web-canary}]}]}
`,
  );
  assert.deepEqual(
    routes.filter((f) => f.severity === 'error').map((f) => f.path),
    ['spec.strategy.canary.trafficRouting.gatewayAPI.httpRoutes[0].rules[0]', 'spec.strategy.canary.trafficRouting.gatewayAPI.httpRoutes[0].name'],
  );
  const argo = lintText(rollout('').replace('rollway.dev/v1alpha1', 'argoproj.io/v1alpha1'));
  assert.match(argo[0]!.fix, /change apiVersion to rollway\.dev\/v1alpha1/);
  assert.match(lintText('a: [b')[0]!.message, /invalid YAML/);
});

void test('rollway dashboard beyond loopback refuses an unusable --token-file before it touches a cluster', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'rollway-dash-'));
  try {
    const tokenFile = path.join(dir, 'token');
    writeFileSync(tokenFile, 'abc\n');
    const run = (...args: string[]) => spawnSync(process.execPath, [path.join(import.meta.dirname, 'rollway.ts'), '--kubeconfig', path.join(dir, 'none'), 'dashboard', '--port', '0', ...args], { encoding: 'utf8', timeout: 30_000 });
    const weak = run('--address', '0.0.0.0', '--token-file', tokenFile);
    assert.equal(weak.status, 2, weak.stderr);
    assert.match(weak.stderr, /--token-file .*token: the token has 3 characters; use at least 16/);
    assert.doesNotMatch(weak.stderr, /abc/, 'the token itself is never printed');
    const missing = run('--address', '::', '--token-file', path.join(dir, 'missing'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('views: exact percentages, kubectl-style durations, set weight 0 once aborted, and 100% outside an update', () => {
  assert.equal(formatPercent(0.5), '0.5%');
  assert.equal(formatPercent(33.3333), '33.33%');
  assert.equal(formatPercent(20), '20%');
  assert.equal(formatDuration(45_000), '45s');
  assert.equal(formatDuration(200_000), '3m20s');
  assert.equal(formatDuration(7_200_000), '120m');
  assert.equal(formatDuration(3 * 86_400_000), '3d');
  const a = buildView(aborted());
  assert.equal(a.setWeight, 0);
  assert.equal(a.aborted, true);
  const healthy = pausedCanary();
  healthy.rollout.status = { ...healthy.rollout.status, stableRS: 'b7k2x9', currentStepIndex: 8, phase: 'Healthy' };
  const v = buildView(healthy);
  assert.equal(v.setWeight, 100);
  assert.equal(v.actualWeight, 100);
});

void test('a missing AnalysisRun CRD is detected from discovery and explained', async () => {
  const stub = (resources: { name: string }[] | 'missing'): KubeClient =>
    ({
      request: () =>
        resources === 'missing'
          ? Promise.reject(new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', {}))
          : Promise.resolve({ resources }),
    }) as unknown as KubeClient;
  assert.equal(await serves(stub([{ name: 'rollouts' }, { name: 'analysisruns' }]), 'rollway.dev', 'v1alpha1', 'analysisruns'), true);
  assert.equal(await serves(stub([{ name: 'rollouts' }]), 'rollway.dev', 'v1alpha1', 'analysisruns'), false);
  assert.equal(await serves(stub('missing'), 'rollway.dev', 'v1alpha1', 'analysisruns'), false, 'the whole group missing');
  assert.match(analysisRunsMissing().message, /does not serve analysisruns\.rollway\.dev .*is the AnalysisRun CRD installed\?/);
});
