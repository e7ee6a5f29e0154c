// The Helm chart (charts/rollway), checked with a Helm built from its Go module
// (hack/build-helm.sh; no prebuilt binary): helm lint in each mode, and helm template matching
// the generated manifests in substance (same objects, rules, pod spec), with each value doing
// what values.yaml says. Needs no cluster.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './harness.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const chart = path.join(repoRoot, 'charts/rollway');
let helm = '';
before(() => {
  const out = execFileSync(path.join(repoRoot, 'hack/build-helm.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 900_000 });
  helm = out.trim().split('\n').pop() ?? '';
}, { timeout: 900_000 });

const objects = (text: string): Obj[] => parseAllDocuments(text).map((d) => d.toJS() as Obj).filter(Boolean);
// --no-hooks: the pre-delete hook's objects exist only while `helm uninstall` runs (e2e/uninstall.test.ts checks them).
const render = (...sets: string[]): Obj[] => objects(execFileSync(helm, ['template', 'rollway', chart, '-n', 'rollway', '--include-crds', '--no-hooks', ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8' }));
const manifest = (file: string): Obj[] => objects(readFileSync(path.join(repoRoot, 'manifests', file), 'utf8'));
const id = (o: Obj): string => `${String(o.kind)}/${String(o.metadata?.name)}`;
const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(o, `${kind} ${name} is not rendered`);
  return o;
};

/** What must be equal between the chart and the manifests: everything but Helm's own labels. */
function substance(o: Obj): Obj {
  const { labels, namespace: _ns, ...metadata } = (o.metadata ?? {}) as Obj;
  const kept = Object.fromEntries(Object.entries((labels ?? {}) as Record<string, string>).filter(([k]) => !/^(helm\.sh\/chart|app\.kubernetes\.io\/(instance|managed-by|component))$/.test(k)));
  const out: Obj = { ...o, metadata: { ...metadata, labels: kept } };
  // The manifests bind a namespace-install ServiceAccount subject without a namespace (kubectl -n fills it in).
  if (Array.isArray(out.subjects)) out.subjects = (out.subjects as Obj[]).map(({ namespace: _n, ...s }) => s);
  return out;
}

void describe('charts/rollway', () => {
  void it('passes helm lint in cluster and namespaced mode, with every toggle on', () => {
    for (const sets of [[], ['namespaced=true'], ['dashboard.enabled=true', 'metrics.serviceMonitor.enabled=true', 'instanceId=blue'], ['namespaced=true', 'dashboard.enabled=true']]) {
      const result = spawnSync(helm, ['lint', chart, '--strict', ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8' });
      assert.equal(result.status, 0, `helm lint ${sets.join(' ')}:\n${result.stdout}${result.stderr}`);
    }
  });

  void it('renders, by default, the objects of manifests/install.yaml (the namespace aside: helm install --create-namespace)', () => {
    const rendered = render();
    const expected = manifest('install.yaml').filter((o) => o.kind !== 'Namespace');
    assert.deepEqual(rendered.map(id).sort(), expected.map(id).sort());
    for (const o of expected) assert.deepEqual(substance(find(rendered, o.kind as string, o.metadata.name as string)), substance(o), `${id(o)} differs`);
  });

  void it('with namespaced=true renders the objects of manifests/namespace-install.yaml plus the CRDs, and nothing else cluster-scoped', () => {
    const rendered = render('namespaced=true');
    const expected = manifest('namespace-install.yaml');
    const crds = rendered.filter((o) => o.kind === 'CustomResourceDefinition');
    assert.equal(crds.length, 5); // Rollout, AnalysisRun, AnalysisTemplate, ClusterAnalysisTemplate, Experiment
    assert.deepEqual(rendered.filter((o) => o.kind !== 'CustomResourceDefinition').map(id).sort(), expected.map(id).sort());
    for (const o of expected) assert.deepEqual(substance(find(rendered, o.kind as string, o.metadata.name as string)), substance(o), `${id(o)} differs`);
  });

  void it('image, replicas, instance id, resources and lease duration reach the Deployment', () => {
    const deploy = find(render('image.repository=example.com/rollway', 'image.tag=v9', 'replicas=3', 'instanceId=blue', 'resources.limits.memory=1Gi', 'leaderElection.leaseDuration=30s'), 'Deployment', 'rollway-controller');
    const c = deploy.spec.template.spec.containers[0] as Obj;
    assert.equal(c.image, 'example.com/rollway:v9');
    assert.equal(deploy.spec.replicas, 3);
    assert.ok(c.args.includes('--instance-id=blue'));
    assert.ok(c.args.includes('--lease-duration=30s'));
    assert.equal(c.resources.limits.memory, '1Gi');
    assert.equal(find(render(), 'Deployment', 'rollway-controller').spec.template.spec.containers[0].image, 'rollway/rollway:0.1.0', 'the tag defaults to appVersion');
  });

  void it('the ServiceMonitor and the dashboard are off by default and rendered when enabled', () => {
    const ids = render().map(id);
    assert.ok(!ids.includes('ServiceMonitor/rollway-controller') && !ids.includes('Deployment/rollway-dashboard'));
    const on = render('metrics.serviceMonitor.enabled=true', 'dashboard.enabled=true');
    assert.equal(find(on, 'ServiceMonitor', 'rollway-controller').spec.endpoints[0].port, 'metrics');
    const dash = find(on, 'Deployment', 'rollway-dashboard').spec.template.spec;
    assert.ok(dash.containers[0].args.includes('--address=0.0.0.0'));
    assert.ok(dash.containers[0].args.includes('--token-file=/var/run/rollway-dashboard/token'), 'beyond loopback the dashboard needs its token');
    assert.equal(find(on, 'ClusterRoleBinding', 'rollway-dashboard').roleRef.name, 'rollway-edit');
  });

  void it('bad values are refused by values.schema.json naming the field', () => {
    for (const [set, field] of [['replicas=0', 'replicas'], ['namespaced=maybe', 'namespaced'], ['logFormat=xml', 'logFormat'], ['instanceId=-bad-', 'instanceId']]) {
      const result = spawnSync(helm, ['template', 'rollway', chart, '--set', set!], { encoding: 'utf8' });
      assert.notEqual(result.status, 0, `${set} was accepted`);
      assert.match(result.stderr, new RegExp(field!), `${set}: ${result.stderr}`);
    }
  });
});
