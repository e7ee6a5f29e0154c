// `rollway convert` on Argo-shaped manifests (cli/testdata/argo/): every kind and field family,
// what is rewritten, what is reported with its path, and that nothing disappears unreported.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { convertText, toYamlText, type Converted } from './convert.ts';
import { lintText } from './lint.ts';

const DIR = path.join(import.meta.dirname, 'testdata', 'argo');
const read = (file: string): string => readFileSync(path.join(DIR, file), 'utf8');
const convert = (file: string): Converted => convertText(read(file));
const objects = (text: string): Record<string, unknown>[] =>
  parseAllDocuments(text).flatMap((d) => {
    const v = d.toJS() as Record<string, unknown> | null;
    return v?.kind === 'List' ? (v.items as Record<string, unknown>[]) : v ? [v] : [];
  });
const at = (v: unknown, ...keys: (string | number)[]): unknown => keys.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k], v);
const notesAt = (c: Converted, p: string) => c.notes.filter((n) => n.path === p);

/** Every leaf of a value as `a.b[0].c` = JSON. */
function leaves(v: unknown, base = ''): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (x: unknown, p: string): void => {
    if (x !== null && typeof x === 'object' && Object.keys(x).length > 0) {
      for (const [k, y] of Object.entries(x)) walk(y, Array.isArray(x) ? `${p}[${k}]` : /^[A-Za-z_][A-Za-z0-9_-]*$/.test(k) ? (p ? `${p}.${k}` : k) : `${p}[${JSON.stringify(k)}]`);
    } else out.set(p, JSON.stringify(x));
  };
  walk(v, base);
  return out;
}

void test('every Argo kind in the test set becomes a rollway.dev object and the output passes rollway lint', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
  const kinds = new Set<string>();
  for (const file of files) {
    const c = convert(file);
    const out = toYamlText(c.documents);
    for (const o of objects(read(file))) if (o.apiVersion === 'argoproj.io/v1alpha1') kinds.add(String(o.kind));
    assert.ok(!/argoproj\.io\/v1alpha1/.test(out), `${file}: no Argo apiVersion left`);
    if (file === 'unsupported.yaml') continue; // its plugins are refused on purpose (next tests)
    const errors = lintText(out).filter((f) => f.severity === 'error');
    assert.deepEqual(errors, [], `${file} lints clean`);
    assert.ok(!c.notes.some((n) => n.severity === 'error'), `${file}: nothing lost`);
  }
  assert.deepEqual([...kinds].sort(), ['AnalysisRun', 'AnalysisTemplate', 'ClusterAnalysisTemplate', 'Experiment', 'Rollout']);
});

void test('nothing of the input disappears unless a note names its path (or the rewrite that moved it)', () => {
  // The rewrites convert makes on purpose: old path → new path of the same value.
  const moved: Record<string, string> = {
    'metadata.labels["argo-rollouts.argoproj.io/controller-instance-id"]': 'metadata.labels["rollway.dev/controller-instance-id"]',
    'metadata.annotations["notifications.argoproj.io/subscribe.on-rollout-completed.slack"]': 'metadata.annotations["notifications.rollway.dev/subscribe.on-rollout-completed.slack"]',
    'metadata.annotations["notifications.argoproj.io/subscribe.on-rollout-aborted.webhook"]': 'metadata.annotations["notifications.rollway.dev/subscribe.on-rollout-aborted.webhook"]',
    'spec.template.metadata.annotations["rollout.argoproj.io/ephemeral-metadata"]': 'spec.template.metadata.annotations["rollway.dev/ephemeral-metadata"]',
    'metadata.annotations["argo-rollouts.argoproj.io/managed-by-rollouts"]': 'metadata.annotations["rollway.dev/managed-by-rollouts"]',
    'metadata.annotations["rollout.argoproj.io/revision"]': 'metadata.annotations["rollway.dev/revision"]',
    'metadata.labels.step-index': 'metadata.labels["rollway.dev/step-index"]',
    'metadata.annotations.scale-down-deadline': 'metadata.annotations["rollway.dev/scale-down-deadline"]',
  };
  const changed = new Set(['apiVersion', 'metadata.ownerReferences[0].apiVersion', 'metadata.name', 'metadata.labels.rollout-type']);
  for (const file of readdirSync(DIR).filter((f) => f.endsWith('.yaml'))) {
    const c = convert(file);
    const before = objects(read(file));
    const after = objects(toYamlText(c.documents));
    assert.equal(after.length, before.length, `${file}: same number of objects`);
    before.forEach((obj, i) => {
      const out = leaves(after[i]);
      const prefix = read(file).includes('kind: List') ? `items[${i}].` : '';
      for (const [p, value] of leaves(obj)) {
        if (out.get(p) === value || changed.has(p)) continue;
        const dest = Object.entries(moved).find(([from]) => p.startsWith(from));
        if (dest && out.get(dest[1] + p.slice(dest[0].length)) === value) continue;
        if (p.startsWith('spec.strategy.canary.trafficRouting.plugins')) {
          if (c.notes.some((n) => `${prefix}${p}`.startsWith(n.path))) continue;
          // The converted Gateway API plugin: its routes are under gatewayAPI.
          assert.ok(out.has('spec.strategy.canary.trafficRouting.gatewayAPI.httpRoutes[0].name'), `${file}: ${p} went to gatewayAPI`);
          continue;
        }
        assert.ok(c.notes.some((n) => `${prefix}${p}`.startsWith(n.path) && n.path !== ''), `${file}: ${p} = ${value} vanished without a note`);
      }
    });
  }
});

void test('the Gateway API plugin becomes gatewayAPI with every route and its namespace; what has no equivalent is reported', () => {
  const c = convert('gateway-plugin.yaml');
  const [rollout] = objects(toYamlText(c.documents));
  const routing = at(rollout, 'spec', 'strategy', 'canary', 'trafficRouting');
  assert.deepEqual(routing, { gatewayAPI: { httpRoutes: [{ name: 'api-public', namespace: 'edge' }, { name: 'api-internal', namespace: 'edge' }] } });
  const base = 'spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"]';
  assert.equal(notesAt(c, `${base}.configMap`)[0]?.severity, 'warning');
  assert.match(notesAt(c, `${base}.httpRoutes[1].useHeaderRoutes`)[0]?.message ?? '', /header routes to every HTTPRoute/);
});

void test('what Rollway cannot run stays in the manifest and is reported as not carried over, with its path', () => {
  const c = convert('unsupported.yaml');
  const [rollout] = objects(toYamlText(c.documents));
  assert.deepEqual(Object.keys(at(rollout, 'spec', 'strategy', 'canary', 'trafficRouting', 'plugins') as object), ['argoproj-labs/contour', 'argoproj-labs/gatewayAPI'], 'both plugins kept');
  assert.equal(at(rollout, 'spec', 'strategy', 'canary', 'trafficRouting', 'gatewayAPI'), undefined, 'a gRPC route is not turned into an HTTPRoute');
  const errors = c.notes.filter((n) => n.severity === 'error' && !n.message.startsWith('lint:')).map((n) => n.path);
  assert.deepEqual(errors, [
    'spec.strategy.canary.trafficRouting.plugins["argoproj-labs/contour"]',
    'spec.strategy.canary.trafficRouting.plugins["argoproj-labs/gatewayAPI"].grpcRoute',
    'spec.strategy.canary.steps[1].plugin',
  ]);
});

void test('labels and annotations Rollway understands are renamed in place; comments, other tools\' keys and order stay', () => {
  const c = convert('canary-istio.yaml');
  const out = toYamlText(c.documents);
  const [rollout, canaryService] = objects(out);
  assert.deepEqual(at(rollout, 'metadata', 'labels'), { app: 'checkout', 'rollway.dev/controller-instance-id': 'prod' });
  assert.deepEqual(Object.keys(at(rollout, 'metadata', 'annotations') as object), [
    'notifications.rollway.dev/subscribe.on-rollout-completed.slack',
    'notifications.rollway.dev/subscribe.on-rollout-aborted.webhook',
    'rollout.argoproj.io/refresh',
    'argocd.argoproj.io/sync-wave',
  ]);
  assert.equal(notesAt(c, 'metadata.annotations["rollout.argoproj.io/refresh"]')[0]?.severity, 'warning', 'an Argo key without an equivalent is kept and reported');
  assert.ok(!c.notes.some((n) => n.path.includes('argocd')), "Argo CD's keys are not ours to touch");
  assert.equal(at(canaryService, 'metadata', 'annotations', 'rollway.dev/managed-by-rollouts'), 'checkout');
  assert.match(out, /^# An Argo Rollouts canary/);
  assert.match(out, /controller-instance-id: prod # the Argo controller that owns it/);
});

void test('an AnalysisRun keeps its step and type under our labels and its owner under our group', () => {
  const c = convert('analysis.yaml');
  const run = objects(toYamlText(c.documents))[2];
  assert.deepEqual(at(run, 'metadata', 'labels'), { 'rollway.dev/analysis-type': 'step', 'rollway.dev/step-index': '3', 'rollouts-pod-template-hash': '6c9f7d5b8' });
  assert.equal(at(run, 'metadata', 'annotations', 'rollway.dev/revision'), '2');
  assert.equal(at(run, 'metadata', 'ownerReferences', 0, 'apiVersion'), 'rollway.dev/v1alpha1');
  assert.equal(notesAt(c, 'metadata.ownerReferences[0].uid')[0]?.severity, 'warning');
});

void test('the notification ConfigMap and Secret get the names Rollway reads; no Secret value reaches the report', () => {
  const c = convert('notifications.yaml');
  const [configMap, secret] = objects(toYamlText(c.documents));
  assert.equal(at(configMap, 'metadata', 'name'), 'rollway-notification-configmap');
  assert.equal(at(configMap, 'data', 'service.slack'), 'token: $slack-token\n');
  assert.equal(at(secret, 'metadata', 'name'), 'rollway-notification-secret');
  assert.equal(c.converted, 2);
  assert.deepEqual(c.notes.map((n) => n.path), ['metadata.namespace', 'metadata.namespace']);
  assert.ok(!JSON.stringify(c.notes).includes('xoxb'));
});

void test('List items, unprefixed ReplicaSet keys and the notified record: paths name the item', () => {
  const c = convert('list-bluegreen.yaml');
  const [rollout, replicaSet] = objects(toYamlText(c.documents));
  assert.equal(at(rollout, 'apiVersion'), 'rollway.dev/v1alpha1');
  assert.deepEqual(at(rollout, 'metadata', 'annotations'), { 'rollway.dev/revision': '7' });
  assert.equal(notesAt(c, 'items[0].metadata.annotations["notified.notifications.argoproj.io"]').length, 1);
  assert.deepEqual(at(replicaSet, 'metadata', 'annotations'), { 'rollway.dev/revision': '7', 'rollway.dev/scale-down-deadline': '2024-01-01T00:00:30Z' });
});

void test('an Experiment is converted with a warning that Rollway cannot run it yet', () => {
  const c = convert('experiment.yaml');
  assert.equal(objects(toYamlText(c.documents))[0]?.apiVersion, 'rollway.dev/v1alpha1');
  assert.match(notesAt(c, 'apiVersion')[0]?.message ?? '', /no Experiment kind yet/);
});

void test('bad input: unreadable documents are reported and left out, an Argo key colliding with ours is reported', () => {
  const c = convertText('a: [1\n---\napiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata:\n  name: x\n  annotations:\n    rollout.argoproj.io/revision: "2"\n    rollway.dev/revision: "3"\n');
  assert.equal(c.documents.length, 1);
  assert.equal(c.notes[0]?.document, 1);
  assert.match(c.notes[0]?.message ?? '', /invalid YAML, document left out/);
  const clash = notesAt(c, 'metadata.annotations["rollout.argoproj.io/revision"]')[0];
  assert.equal(clash?.document, 2);
  assert.match(clash?.message ?? '', /also set, with another value/);
  assert.deepEqual(convertText('').notes, []);
});

void test('rollway convert -f DIR: YAML or a JSON List on stdout, the report on stderr, exit 1 when something is not carried over', () => {
  const cli = path.join(import.meta.dirname, 'rollway.ts');
  const run = (...args: string[]) => spawnSync(process.execPath, [cli, 'convert', ...args], { encoding: 'utf8', timeout: 30_000 });
  const dir = run('-f', DIR, '-o', 'json');
  assert.equal(dir.status, 1, dir.stderr);
  const list = JSON.parse(dir.stdout) as { kind: string; items: { apiVersion: string }[] };
  assert.equal(list.kind, 'List');
  assert.ok(list.items.length >= 12);
  assert.match(dir.stderr, /unsupported\.yaml: document 1: Rollout\/legacy: spec\.strategy\.canary\.steps\[1\]\.plugin: step plugins/);
  const one = run('-f', path.join(DIR, 'canary-istio.yaml'));
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, /^apiVersion: rollway\.dev\/v1alpha1$/m);
  const missing = run('-f', path.join(DIR, 'nope.yaml'));
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /cannot read .*nope\.yaml: no such file or directory/);
});
