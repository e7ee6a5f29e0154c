// `rollway lint`: findings instead of crashes for any input, the API server's name and label
// rules, duplicates, analysis conditions through the controller's parser, and the command's exit
// code and JSON output.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { formatFinding, lintText } from './lint.ts';

const LINT_ROLLOUT = (name: string, extra = '') => `apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata: {name: ${name}${extra}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
  strategy: {canary: {steps: [{setWeight: 20}]}}
`;
const findingLines = (text: string): string[] => lintText(text).map((f) => `${f.document} ${f.object} ${f.path}`);

void test('lint never crashes: a null List item, a billion-laughs file and odd shapes become findings', () => {
  const nullItem = lintText('apiVersion: v1\nkind: List\nitems: [null, 3]\n');
  assert.deepEqual(nullItem.map((f) => `${f.document} ${f.path}`), ['1 items[0]', '1 items[1]']);
  assert.match(nullItem[0]!.message, /is not a Kubernetes object/);
  assert.match(nullItem[0]!.fix, /apiVersion, kind and metadata/);
  assert.equal(formatFinding('f.yaml', nullItem[0]!), 'f.yaml: document 1: items[0]: is not a Kubernetes object (a mapping with apiVersion and kind), got null (fix: give the item apiVersion, kind and metadata, or remove it)');

  // Nine levels of nine aliases each: about 387 million strings if expanded.
  let laughs = 'a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n';
  'bcdefghi'.split('').forEach((n, i) => (laughs += `${n}: &${n} [${Array(9).fill(`*${'abcdefghi'[i]}`).join(', ')}]\n`));
  const started = Date.now();
  const bomb = lintText(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n---\n${laughs}`);
  assert.ok(Date.now() - started < 2000, 'rejected without expanding the aliases');
  assert.equal(bomb.length, 1);
  assert.equal(bomb[0]!.document, 2);
  assert.match(bomb[0]!.message, /aliases/);
  assert.match(bomb[0]!.fix, /write the values out/);

  // Odd shapes: a string metadata, a list spec in a routing object, a List with items not a list.
  const odd = lintText(`${LINT_ROLLOUT('web').replace('strategy: {canary: {steps: [{setWeight: 20}]}}', 'strategy: {canary: {canaryService: c, stableService: s, trafficRouting: {istio: {virtualService: {name: vs, routes: [primary]}}}, steps: [{setWeight: 20}]}}')}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: vs}
spec: {http: [null, 7]}
---
apiVersion: v1
kind: Service
metadata: "svc"
---
kind: List
items: {a: 1}
`);
  assert.ok(odd.some((f) => f.document === 3 && f.path === 'metadata' && /must be a mapping/.test(f.message)), JSON.stringify(odd));
  assert.ok(odd.some((f) => f.document === 4 && f.path === 'items' && /must be a list/.test(f.message)), JSON.stringify(odd));
});

void test('lint: names, namespaces, labels and duplicates follow the API server rules', () => {
  assert.deepEqual(lintText(LINT_ROLLOUT('web')), [], 'a good Rollout');
  const unnamed = lintText(LINT_ROLLOUT('web').replace('metadata: {name: web}', 'metadata: {labels: {app: web}}'));
  assert.deepEqual(unnamed.map((f) => `${f.object} ${f.path}`), ['Rollout/(unnamed) metadata.name']);
  assert.match(unnamed[0]!.fix, /add metadata.name/);

  const badName = lintText(LINT_ROLLOUT('Web_App'));
  assert.deepEqual(badName.map((f) => f.path), ['metadata.name']);
  assert.match(badName[0]!.message, /"Web_App" must be a lowercase RFC 1123 subdomain/);
  assert.match(badName[0]!.fix, /e\.g\. web-app/);
  assert.deepEqual(findingLines(LINT_ROLLOUT('web', ', namespace: Shop.Prod')), ['1 Rollout/web metadata.namespace']);
  assert.deepEqual(findingLines('apiVersion: v1\nkind: Service\nmetadata: {name: 1web}\n'), ['1 Service/1web metadata.name'], 'Services are DNS-1035 labels');

  const labels = lintText(
    LINT_ROLLOUT('web', ', labels: {"bad key!": x, tier: "-front"}, annotations: {"a/b/c": x}').replace('template:\n    metadata: {labels: {app: web}}', 'template:\n    metadata: {labels: {app: web, version: "1.0 beta"}}'),
  );
  assert.deepEqual(labels.map((f) => f.path), ['metadata.labels["bad key!"]', 'metadata.labels.tier', 'metadata.annotations["a/b/c"]', 'spec.template.metadata.labels.version']);
  assert.match(labels[1]!.message, /label value "-front" must be empty or letters/);
  assert.match(labels[3]!.fix, /e\.g\. 1.0-beta/);

  const twice = `${LINT_ROLLOUT('web')}---\n${LINT_ROLLOUT('web')}---\n${LINT_ROLLOUT('web', ', namespace: other')}`;
  const dup = lintText(twice);
  assert.deepEqual(dup.map((f) => `${f.document} ${f.path}`), ['2 metadata.name'], 'the same name in another namespace is fine');
  assert.match(dup[0]!.message, /Rollout "web" is also defined in document 1/);
  assert.match(dup[0]!.fix, /rename one of them/);
  const listed = lintText(`kind: List\napiVersion: v1\nitems:\n- ${LINT_ROLLOUT('api').replace(/\n/g, '\n  ')}\n- ${LINT_ROLLOUT('api').replace(/\n/g, '\n  ')}`);
  assert.deepEqual(listed.map((f) => `${f.document} ${f.path}`), ['1 items[1].metadata.name'], 'List items are found by their path in the document');
});

void test('lint: analysis conditions go through the controller\'s parser', () => {
  const template = (condition: string, extra = '') => `apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate}
spec:
  args: [{name: service}, {name: max, value: "0.05"}]
  metrics:
  - name: errors
    ${condition}
    provider: {prometheus: {address: "http://prometheus:9090", query: "rate(x{service='{{args.service}}'}[5m])"}}${extra}
`;
  assert.deepEqual(lintText(template('successCondition: result[0] >= 0.95')), []);
  assert.deepEqual(lintText(template('failureCondition: "result[0] > {{args.max}} || result.{{args.service}} == nil"')), [], 'placeholders stand for a value');
  const broken = lintText(template('successCondition: result[0] >='));
  assert.deepEqual(broken.map((f) => `${f.object} ${f.path}`), ['AnalysisTemplate/success-rate spec.metrics[0].successCondition']);
  assert.match(broken[0]!.message, /malformed expression "result\[0\] >=" at column 13: expected a value/);
  assert.match(broken[0]!.fix, /result\[0\] >= 0\.95/);
  assert.deepEqual(lintText(template('failureCondition: len(results) > 0')).map((f) => f.path), ['spec.metrics[0].failureCondition'], 'only result may be read');
  const shape = lintText(template('successCondition: result[0] > 1', '\n    count: [1]'));
  assert.deepEqual(shape.map((f) => f.path), ['spec.metrics[0].count']);
  const run = lintText(template('successCondition: "result ==="').replace('kind: AnalysisTemplate', 'kind: AnalysisRun').replace('{name: service}', '{name: service, value: web}'));
  assert.deepEqual(run.map((f) => `${f.object} ${f.path}`), ['AnalysisRun/success-rate spec.metrics[0].successCondition']);
  const argo = lintText(template('successCondition: result[0] > 1').replace('rollway.dev/v1alpha1', 'argoproj.io/v1alpha1'));
  assert.match(argo[0]!.fix, /change apiVersion to rollway\.dev\/v1alpha1/);
});

void test('rollway lint -o json prints JSON for any input, and exits 1 with findings, 0 without', () => {
  const lint = (input: string, ...args: string[]) => spawnSync(process.execPath, [path.join(import.meta.dirname, 'rollway.ts'), 'lint', '-f', '-', ...args], { input, encoding: 'utf8', timeout: 30_000 });
  for (const input of ['a: [b', 'apiVersion: v1\nkind: List\nitems: [null]\n', '\u0000\u0001binary', 'a: &a [x, x]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n']) {
    const r = lint(input, '-o', 'json');
    assert.equal(r.status, 1, `${JSON.stringify(input.slice(0, 20))}: ${r.stderr}`);
    const findings = JSON.parse(r.stdout) as { document: number; path: string; message: string; fix: string }[];
    assert.ok(findings.length > 0 && findings.every((f) => f.document >= 1 && typeof f.path === 'string' && f.message && f.fix), r.stdout);
  }
  const good = lint(LINT_ROLLOUT('web'), '-o', 'json');
  assert.equal(good.status, 0, good.stderr);
  assert.deepEqual(JSON.parse(good.stdout), []);
  const text = lint(`${LINT_ROLLOUT('web')}---\n${LINT_ROLLOUT('Web')}`);
  assert.equal(text.status, 1);
  assert.match(text.stdout, /^-: document 2: Rollout\/Web: metadata\.name: "Web" must be a lowercase RFC 1123 subdomain.*\(fix: .*\)\n-: 1 error\n$/);
});

void test('a field the CRD does not declare is an error at its path, as the API server refuses it', () => {
  const text = LINT_ROLLOUT('web').replace('steps: [{setWeight: 20}]', 'steps: [{setWeight: 10, pauze: {}}, {pause: {duration: 1m, extra: true}}]');
  const errors = lintText(text).filter((f) => f.severity === 'error');
  assert.deepEqual(errors.map((f) => f.path), ['spec.strategy.canary.steps[0].pauze', 'spec.strategy.canary.steps[1].pause.extra']);
  assert.match(errors[0]!.message, /not a field of Rollout/);
});
