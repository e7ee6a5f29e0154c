import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CHART_CRDS_DIR, INSTALLS, buildKustomization, chartCrdCopies, installDocuments, renderInstall, repoRoot, rulesWithReasons, type Rule } from './manifests.ts';

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const objects = (output: string): Obj[] => installDocuments(output).map((d) => d.toJS() as Obj);
const find = (objs: Obj[], kind: string, name: string): Obj => {
  const o = objs.find((x) => x.kind === kind && x.metadata?.name === name);
  assert.ok(o, `${kind} ${name} is missing`);
  return o;
};
const CLUSTER = 'manifests/install.yaml';
const NAMESPACED = 'manifests/namespace-install.yaml';

void describe('generated install manifests', () => {
  for (const install of INSTALLS) {
    void it(`${install.output} matches its kustomize bases (run \`make manifests\` after changing ${install.kustomization}/)`, () => {
      let committed = '';
      try {
        committed = readFileSync(path.join(repoRoot, install.output), 'utf8');
      } catch {
        assert.fail(`${install.output} is missing: run \`make manifests\``);
      }
      assert.ok(committed === renderInstall(install), `${install.output} is out of date: run \`make manifests\` and commit the result`);
    });
  }

  void it('the Helm chart carries exactly the CRDs of crds/rollway/ (run `make manifests` after `make crds`)', () => {
    const present = readdirSync(path.join(repoRoot, CHART_CRDS_DIR)).sort();
    assert.deepEqual(present, chartCrdCopies().map((c) => path.basename(c.output)));
    for (const { source, output } of chartCrdCopies()) {
      assert.ok(readFileSync(path.join(repoRoot, output), 'utf8') === readFileSync(path.join(repoRoot, source), 'utf8'), `${output} differs from ${source}: run \`make manifests\``);
    }
  });

  void it('crds/kustomization.yaml lists exactly the CRDs in crds/rollway/', () => {
    const listed = ((parse(readFileSync(path.join(repoRoot, 'crds/kustomization.yaml'), 'utf8')) as Obj).resources as string[]).sort();
    const present = readdirSync(path.join(repoRoot, 'crds/rollway')).filter((f) => f.endsWith('.yaml')).map((f) => `rollway/${f}`).sort();
    assert.deepEqual(listed, present);
  });

  void it('install.yaml has the namespace, the CRDs and a 2-replica leader-elected controller', () => {
    const objs = objects(CLUSTER);
    find(objs, 'Namespace', 'rollway');
    for (const crd of ['rollouts', 'analysisruns', 'analysistemplates', 'clusteranalysistemplates']) find(objs, 'CustomResourceDefinition', `${crd}.rollway.dev`);
    for (const o of objs) if (!['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind)) assert.equal(o.metadata.namespace, 'rollway', `${o.kind} ${o.metadata.name}`);
    const deploy = find(objs, 'Deployment', 'rollway-controller');
    assert.equal(deploy.spec.replicas, 2);
    const c = deploy.spec.template.spec.containers[0];
    assert.ok(c.args.includes('--leader-elect=true'));
    assert.ok(c.args.includes('--log-format=json'));
    assert.ok(!c.args.some((a: string) => a.startsWith('--namespace')), 'cluster mode watches every namespace');
    assert.equal(find(objs, 'ClusterRoleBinding', 'rollway-controller').subjects[0].namespace, 'rollway');
    assert.equal(find(objs, 'PodDisruptionBudget', 'rollway-controller').spec.minAvailable, 1);
    assert.equal(find(objs, 'Service', 'rollway-controller-metrics').spec.ports[0].targetPort, 'metrics');
  });

  void it('the controller pod is non-root with a read-only root filesystem, probes on /healthz and resources', () => {
    for (const output of [CLUSTER, NAMESPACED]) {
      const pod = find(objects(output), 'Deployment', 'rollway-controller').spec.template.spec;
      assert.equal(pod.securityContext.runAsNonRoot, true);
      assert.equal(pod.serviceAccountName, 'rollway-controller');
      const c = pod.containers[0];
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(c.securityContext.allowPrivilegeEscalation, false);
      assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.equal(c.readinessProbe.httpGet.path, '/healthz');
      assert.ok(c.resources.requests.memory && c.resources.limits.memory);
      assert.ok(c.args.includes('--bind-address=0.0.0.0'), 'probes reach the pod IP, not loopback');
    }
  });

  void it('namespace-install.yaml is Role-based, cluster-scoped nothing, and starts the controller with --namespace', () => {
    const objs = objects(NAMESPACED);
    for (const o of objs) {
      assert.ok(!['ClusterRole', 'ClusterRoleBinding', 'Namespace', 'CustomResourceDefinition'].includes(o.kind), `${o.kind} needs cluster rights`);
      assert.equal(o.metadata.namespace, undefined, `${o.kind} ${o.metadata.name} takes the namespace of kubectl -n`);
    }
    find(objs, 'Role', 'rollway-controller');
    assert.equal(find(objs, 'RoleBinding', 'rollway-controller').roleRef.kind, 'Role');
    assert.ok(find(objs, 'Deployment', 'rollway-controller').spec.template.spec.containers[0].args.includes('--namespace=$(POD_NAMESPACE)'));
  });

  void it('every rule of every role has a one-line reason, and none uses a wildcard', () => {
    let checked = 0;
    for (const install of INSTALLS) {
      for (const doc of buildKustomization(path.join(repoRoot, install.kustomization))) {
        for (const { rule, reason } of rulesWithReasons(doc)) {
          const what = `${install.output}: ${String(doc.get('kind'))} ${String(doc.getIn(['metadata', 'name']))} rule ${JSON.stringify(rule)}`;
          assert.ok(reason.length > 10, `${what} has no "# reason:" comment above it`);
          for (const list of [rule.apiGroups, rule.resources, rule.verbs]) assert.ok(!list.includes('*'), `${what} uses a wildcard`);
          checked++;
        }
      }
    }
    assert.ok(checked > 30);
  });

  void it('the namespaced Role grants exactly the ClusterRole rules for namespaced resources, plus the Lease', () => {
    const flatten = (rules: Rule[]): string[] => rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${g}/${res}:${v}`)))).sort();
    const rulesOf = (output: string, kind: string, name: string): Rule[] => find(objects(output), kind, name).rules as Rule[];
    const cluster = flatten([...rulesOf(CLUSTER, 'ClusterRole', 'rollway-controller'), ...rulesOf(CLUSTER, 'Role', 'rollway-controller-own-namespace')]).filter((r) => !r.startsWith('rollway.dev/clusteranalysistemplates:'));
    assert.deepEqual(flatten(rulesOf(NAMESPACED, 'Role', 'rollway-controller')), cluster);
  });

  void it('rollway-view, -edit and -admin aggregate into the built-in view, edit and admin roles', () => {
    const objs = objects(CLUSTER);
    const labels = (name: string): Obj => find(objs, 'ClusterRole', name).metadata.labels;
    assert.equal(labels('rollway-view')['rbac.authorization.k8s.io/aggregate-to-view'], 'true');
    assert.equal(labels('rollway-edit')['rbac.authorization.k8s.io/aggregate-to-edit'], 'true');
    assert.equal(labels('rollway-edit')['rbac.authorization.k8s.io/aggregate-to-view'], undefined, 'viewers may not promote');
    assert.equal(labels('rollway-admin')['rbac.authorization.k8s.io/aggregate-to-admin'], 'true');
    const viewVerbs = (find(objs, 'ClusterRole', 'rollway-view').rules as Rule[]).flatMap((r) => r.verbs);
    assert.deepEqual([...new Set(viewVerbs)].sort(), ['get', 'list', 'watch']);
  });
});
