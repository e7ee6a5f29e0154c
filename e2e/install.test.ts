// Least privilege, proven: install.yaml and namespace-install.yaml applied to the local control
// plane with kubectl, then the controller run as a process under the ServiceAccount those files
// create (a token from the TokenRequest API in a kubeconfig of its own), never as cluster admin.
// KWOK runs the Deployment's pods (they do not run our code), so the controller process stands
// in for them. Every scenario fails on any 403 in the controller's log.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { parse, parseAllDocuments, stringify } from 'yaml';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { phaseIs, runsOf } from './analysis-fixtures.ts';
import { Cluster, clusterDir, kubeconfigPath, repoRoot, rollway, scenario, startController, type ControllerProcess } from './harness.ts';

const INSTALL_NS = 'rollway';
const SA = 'rollway-controller';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'rollway-install-'));
const kubectlBin = path.join(clusterDir(), 'bin/kubectl');
const kubectl = (...args: string[]): string => execFileSync(kubectlBin, ['--kubeconfig', kubeconfigPath(), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const rolloutRef = (ns: string, name: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const vsRef = (ns: string): ResourceRef => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns, name: 'web' });

/** A kubeconfig holding only a TokenRequest token of the ServiceAccount namespace/name. */
async function serviceAccountKubeconfig(cluster: Cluster, namespace: string, name: string): Promise<string> {
  const review = await cluster.client.request<{ status: { token: string } }>('POST', `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`, {
    body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } },
  });
  const admin = parse(readFileSync(kubeconfigPath(), 'utf8')) as { clusters: { cluster: Record<string, unknown> }[] };
  const file = path.join(tmp, `${namespace}-${name}.kubeconfig`);
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'local', cluster: admin.clusters[0]!.cluster }],
    users: [{ name, user: { token: review.status.token } }],
    contexts: [{ name: 'sa', context: { cluster: 'local', user: name, namespace } }],
    'current-context': 'sa',
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
  return file;
}

function assertNoForbidden(controller: ControllerProcess): void {
  const lines = controller.logs().split('\n').filter((l) => /\b403\b|forbidden/i.test(l));
  assert.deepEqual(lines, [], 'the controller was refused something its role should grant');
}

const objectsOf = (text: string): KubeObject[] => parseAllDocuments(text).map((d) => d.toJS() as KubeObject).filter(Boolean);
const idOf = (o: KubeObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name ?? ''}`;

before(() => {
  // The cluster is shared: install.yaml's CRDs must be those of crds/rollway/ (which cluster-up
  // installed), or applying them would change the CRDs under everyone else's tests.
  const installed = objectsOf(readFileSync(path.join(repoRoot, 'manifests/install.yaml'), 'utf8')).filter((o) => o.kind === 'CustomResourceDefinition');
  for (const crd of installed) {
    const source = objectsOf(readFileSync(path.join(repoRoot, 'crds/rollway', `${crd.metadata.name ?? ''}.yaml`), 'utf8'))[0];
    assert.deepEqual(crd, source, `manifests/install.yaml carries an old ${crd.metadata.name ?? ''}: run \`make manifests\``);
  }
  kubectl('apply', '--server-side', '--force-conflicts', '-f', path.join(repoRoot, 'manifests/install.yaml'));
});

after(() => rmSync(tmp, { recursive: true, force: true }));

void test('kubectl kustomize of each base builds exactly the objects of the generated file', () => {
  for (const [dir, file] of [['cluster-install', 'install.yaml'], ['namespace-install', 'namespace-install.yaml']]) {
    const built = objectsOf(kubectl('kustomize', path.join(repoRoot, 'manifests', dir!)));
    const generated = objectsOf(readFileSync(path.join(repoRoot, 'manifests', file!), 'utf8'));
    assert.deepEqual(built.map(idOf), generated.map(idOf), `${dir}: objects and order`);
    assert.deepEqual(built, generated, `${dir}: contents`);
  }
});

scenario('install.yaml: KWOK runs both controller replicas; the PDB and metrics Service exist; view and edit aggregate our roles', async ({ cluster, ns, then }) => {
  await then('the Deployment has 2 available replicas', () =>
    cluster.waitFor<KubeObject & { status?: { availableReplicas?: number } }>(
      { group: 'apps', version: 'v1', plural: 'deployments', namespace: INSTALL_NS, name: SA },
      (d) => d?.status?.availableReplicas === 2,
      { what: 'Deployment rollway-controller with 2 available replicas', timeoutMs: 60_000 },
    ),
  );
  await then('the PodDisruptionBudget and the metrics Service exist', async () => {
    assert.ok(await cluster.get({ group: 'policy', version: 'v1', plural: 'poddisruptionbudgets', namespace: INSTALL_NS, name: SA }));
    assert.ok(await cluster.get({ group: '', version: 'v1', plural: 'services', namespace: INSTALL_NS, name: 'rollway-controller-metrics' }));
  });
  const can = (who: string, verb: string, resource: string): string => {
    const [type, subresource] = resource.split('/');
    try {
      return kubectl('auth', 'can-i', verb, type!, ...(subresource ? ['--subresource', subresource] : []), '-n', ns, '--as', who).trim();
    } catch (err) {
      return String((err as { stdout?: string }).stdout ?? '').trim(); // "no" exits 1
    }
  };
  await then('a viewer may list Rollouts but not promote; an editor may promote; the controller reads no Secret list', async () => {
    for (const [user, role] of [['e2e-viewer', 'view'], ['e2e-editor', 'edit']] as const) {
      await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: `e2e-${role}` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role }, subjects: [{ kind: 'User', name: user, apiGroup: 'rbac.authorization.k8s.io' }] } as KubeObject, ns);
    }
    const deadline = Date.now() + 20_000;
    while (can('e2e-viewer', 'list', 'rollouts.rollway.dev') !== 'yes' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    assert.equal(can('e2e-viewer', 'list', 'rollouts.rollway.dev'), 'yes', 'view aggregates rollway-view');
    assert.equal(can('e2e-viewer', 'patch', 'rollouts.rollway.dev/status'), 'no', 'a viewer may not promote');
    assert.equal(can('e2e-editor', 'patch', 'rollouts.rollway.dev/status'), 'yes', 'edit aggregates rollway-edit');
    const controller = `system:serviceaccount:${INSTALL_NS}:${SA}`;
    assert.equal(can(controller, 'update', 'rollouts.rollway.dev/status'), 'yes');
    assert.equal(can(controller, 'list', 'secrets'), 'no', 'the controller reads Secrets by name only');
    assert.equal(can(controller, 'create', 'leases.coordination.k8s.io'), 'no', 'Leases only in its own namespace');
  });
  await then('under view, rollway abort is refused with the API server\'s message and exit code 1', async () => {
    await cluster.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'viewer' } } as KubeObject, ns);
    await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'viewer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'viewer', namespace: ns }] } as KubeObject, ns);
    await cluster.apply(rolloutObject('demo', { steps: [{ setWeight: 50 }, { pause: {} }] }), ns);
    const kubeconfig = await serviceAccountKubeconfig(cluster, ns, 'viewer');
    const run = spawnSync(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.ts'), '--kubeconfig', kubeconfig, '-n', ns, 'abort', 'demo'], { encoding: 'utf8' });
    assert.equal(run.status, 1, run.stdout + run.stderr);
    assert.match(run.stderr, /forbidden: User "system:serviceaccount:[^"]+:viewer" cannot patch resource "rollouts\/status"/);
    assert.equal(spawnSync(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.ts'), '--kubeconfig', kubeconfig, '-n', ns, 'get', 'rollout', 'demo', '--no-color'], { encoding: 'utf8' }).status, 0, 'a viewer may look');
  });
  await then('a role made before Experiments (Rollouts, ReplicaSets, pods only): get rollout still shows the tree and says what it left out', async () => {
    await cluster.apply({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'old-viewer' } } as KubeObject, ns);
    const rules = [{ apiGroups: ['rollway.dev'], resources: ['rollouts'], verbs: ['get', 'list', 'watch'] }, { apiGroups: ['', 'apps'], resources: ['pods', 'replicasets'], verbs: ['get', 'list', 'watch'] }];
    await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'old-viewer' }, rules } as KubeObject, ns);
    await cluster.apply({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'old-viewer' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'old-viewer' }, subjects: [{ kind: 'ServiceAccount', name: 'old-viewer', namespace: ns }] } as KubeObject, ns);
    const kubeconfig = await serviceAccountKubeconfig(cluster, ns, 'old-viewer');
    const run = spawnSync(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.ts'), '--kubeconfig', kubeconfig, '-n', ns, 'get', 'rollout', 'demo', '--no-color'], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    assert.match(run.stdout, /^Name:\s+demo$/m);
    assert.match(run.stdout, /not shown: analysisruns\.rollway\.dev, experiments\.rollway\.dev \(you may not list them/);
  });
});

// --- The controller under install.yaml's ServiceAccount, watching every namespace --------------
// An instance id keeps it to the Rollouts of each scenario (others' tests share the cluster).

let clusterKubeconfig = '';
before(async () => {
  const cluster = new Cluster();
  try {
    clusterKubeconfig = await serviceAccountKubeconfig(cluster, INSTALL_NS, SA);
  } finally {
    cluster.close();
  }
});

function clusterWideController(ns: string): { controller: ControllerProcess; labels: Record<string, string> } {
  const id = `e2e-${ns}`.slice(0, 63);
  const controller = startController(ns, ['--instance-id', id, '--leader-election-namespace', INSTALL_NS], { kubeconfig: clusterKubeconfig, allNamespaces: true });
  return { controller, labels: { 'rollway.dev/controller-instance-id': id } };
}

interface RolloutOptions {
  labels?: Record<string, string>;
  steps: Record<string, unknown>[];
  canary?: Record<string, unknown>;
  replicas?: number;
}

function rolloutObject(name: string, options: RolloutOptions): KubeObject {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name, labels: options.labels ?? {} },
    spec: {
      replicas: options.replicas ?? 4,
      revisionHistoryLimit: 2,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'example.com/app:blue' }] } },
      strategy: { canary: { scaleDownDelaySeconds: 0, abortScaleDownDelaySeconds: 0, ...options.canary, steps: options.steps } },
    },
  } as KubeObject;
}

const settledAt = (phase: string, index?: number) => phaseIs(phase, (r) => index === undefined || r.status?.currentStepIndex === index);

/** The seed walkthrough, shortened: a manual gate, a timed pause, completion, then an abort. */
async function walkthrough(ctx: { cluster: Cluster; ns: string; when: (t: string, f: () => unknown) => Promise<void>; then: (t: string, f: () => unknown) => Promise<void> }, labels: Record<string, string>): Promise<void> {
  const { cluster, ns, when, then } = ctx;
  const ro = rolloutRef(ns, 'demo');
  await when('a Rollout is created', () => cluster.apply(rolloutObject('demo', { labels, steps: [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: { duration: 2 } }] }), ns));
  await then('it is Healthy with no step run', () => cluster.waitFor<RolloutObject>(ro, settledAt('Healthy'), { what: 'Healthy after create' }));
  await when('the image changes', () => rollway('-n', ns, 'set', 'image', 'demo', 'app=example.com/app:yellow'));
  await then('it pauses at step 1', () => cluster.waitFor<RolloutObject>(ro, settledAt('Paused', 1), { what: 'Paused at step 1' }));
  await when('it is promoted', () => rollway('-n', ns, 'promote', 'demo'));
  await then('the timed pause runs out and the new revision becomes stable', () =>
    cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.currentStepIndex === 4 && r.status.stableRS === r.status.currentPodHash), { what: 'Healthy on yellow', timeoutMs: 40_000 }),
  );
  await when('a third image is aborted at its first pause', async () => {
    rollway('-n', ns, 'set', 'image', 'demo', 'app=example.com/app:red');
    await cluster.waitFor<RolloutObject>(ro, settledAt('Paused', 1), { what: 'red Paused at step 1' });
    rollway('-n', ns, 'abort', 'demo');
  });
  await then('it is Degraded with the stable revision serving', () => cluster.waitFor<RolloutObject>(ro, phaseIs('Degraded', (r) => /RolloutAborted/.test(r.status?.message ?? '')), { what: 'Degraded after abort' }));
}

scenario('install.yaml rights: the walkthrough, cluster-wide, under the ServiceAccount token', async ({ cluster, ns, when, then }) => {
  const { controller, labels } = clusterWideController(ns);
  try {
    await walkthrough({ cluster, ns, when, then }, labels);
    await then('the controller saw no 403', () => assertNoForbidden(controller));
  } finally {
    await controller.kill();
  }
}, { timeoutMs: 150_000 });

function istioCanary(): Record<string, unknown> {
  return { stableService: 'web-stable', canaryService: 'web-canary', trafficRouting: { istio: { virtualService: { name: 'web', routes: ['primary'] } } } };
}

async function applyIstioObjects(cluster: Cluster, ns: string): Promise<void> {
  for (const name of ['web-stable', 'web-canary']) {
    await cluster.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 8080 }] } } as KubeObject, ns);
  }
  await cluster.apply(
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'web' },
      spec: { hosts: ['web'], http: [{ name: 'primary', route: [{ destination: { host: 'web-stable' }, weight: 100 }, { destination: { host: 'web-canary' }, weight: 0 }] }] },
    } as KubeObject,
    ns,
  );
}

async function canaryWeight(cluster: Cluster, ns: string): Promise<number | undefined> {
  const vs = await cluster.get<KubeObject & { spec: { http: { name: string; route: { destination: { host: string }; weight?: number }[] }[] } }>(vsRef(ns));
  const route = vs?.spec.http.find((r) => r.name === 'primary')?.route ?? [];
  const canary = route.find((d) => d.destination.host === 'web-canary')?.weight ?? 0;
  const stable = route.find((d) => d.destination.host === 'web-stable')?.weight ?? 0;
  return canary + stable === 0 ? undefined : (100 * canary) / (canary + stable);
}

async function istioSteps(cluster: Cluster, ns: string, labels: Record<string, string>, when: (t: string, f: () => unknown) => Promise<void>, then: (t: string, f: () => unknown) => Promise<void>): Promise<void> {
  const ro = rolloutRef(ns, 'web');
  await when('Services, a VirtualService and a Rollout routed through Istio are created', async () => {
    await applyIstioObjects(cluster, ns);
    await cluster.apply(rolloutObject('web', { labels, canary: istioCanary(), steps: [{ setWeight: 5 }, { pause: {} }, { setWeight: 50 }, { pause: {} }] }), ns);
    await cluster.waitFor<RolloutObject>(ro, settledAt('Healthy'), { what: 'Healthy after create' });
  });
  await when('the image changes', () => rollway('-n', ns, 'set', 'image', 'web', 'app=example.com/app:green'));
  await then('5% is written to the VirtualService', async () => {
    await cluster.waitFor<RolloutObject>(ro, settledAt('Paused', 1), { what: 'Paused at step 1' });
    await cluster.waitFor(vsRef(ns), () => true);
    const deadline = Date.now() + 15_000;
    while ((await canaryWeight(cluster, ns)) !== 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await canaryWeight(cluster, ns), 5);
  });
  await when('it is promoted fully', () => rollway('-n', ns, 'promote', 'web', '--full'));
  await then('the new revision is stable with all traffic back on the stable Service', async () => {
    await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && (r.metadata.generation ?? 0) > 1), { what: 'Healthy on green', timeoutMs: 40_000 });
    const deadline = Date.now() + 15_000;
    while ((await canaryWeight(cluster, ns)) !== 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await canaryWeight(cluster, ns), 0);
  });
  await when('the Rollout is deleted', () => cluster.delete(ro));
  await then('its routing is released and the Rollout goes (finalizer removed under our rights)', () => cluster.waitFor(ro, (r) => r === undefined, { what: 'Rollout deleted' }));
}

scenario('install.yaml rights: an Istio canary, cluster-wide, under the ServiceAccount token', async ({ cluster, ns, when, then }) => {
  const { controller, labels } = clusterWideController(ns);
  try {
    await istioSteps(cluster, ns, labels, when, then);
    await then('the controller saw no 403', () => assertNoForbidden(controller));
  } finally {
    await controller.kill();
  }
}, { timeoutMs: 120_000 });

const jobTemplate = `
apiVersion: v1
kind: Secret
metadata: {name: smoke}
stringData: {target: "http://shop.internal"}
---
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: smoke}
spec:
  args:
  - name: target
    valueFrom: {secretKeyRef: {name: smoke, key: target}}
  metrics:
  - name: smoke
    provider:
      job:
        spec:
          backoffLimit: 0
          template:
            metadata:
              annotations: {e2e.rollway.dev/exit-code: "0"}
            spec:
              restartPolicy: Never
              containers:
              - name: smoke
                image: example.com/smoke:1
                args: ["--target", "{{args.target}}"]
`;

async function analysisSteps(cluster: Cluster, ns: string, labels: Record<string, string>, when: (t: string, f: () => unknown) => Promise<void>, then: (t: string, f: () => unknown) => Promise<void>): Promise<void> {
  const ro = rolloutRef(ns, 'api');
  await when('a template with a Job metric and a Secret arg, and a Rollout that runs it as a step, are created', async () => {
    await cluster.apply(jobTemplate, ns);
    await cluster.apply(rolloutObject('api', { labels, replicas: 2, steps: [{ setWeight: 50 }, { analysis: { templates: [{ templateName: 'smoke' }] } }] }), ns);
    await cluster.waitFor<RolloutObject>(ro, settledAt('Healthy'), { what: 'Healthy after create' });
  });
  await when('the image changes', () => rollway('-n', ns, 'set', 'image', 'api', 'app=example.com/app:2'));
  await then('the Job passes, the run is Successful and the new revision becomes stable', async () => {
    await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && (r.metadata.generation ?? 0) > 1), { what: 'revision 2 promoted', timeoutMs: 60_000 });
    const [run] = await runsOf(cluster, ns, 'api');
    assert.equal(run?.status?.phase, 'Successful');
  });
}

scenario('install.yaml rights: a Job analysis step with a Secret arg, cluster-wide, under the ServiceAccount token', async ({ cluster, ns, when, then }) => {
  const { controller, labels } = clusterWideController(ns);
  try {
    await analysisSteps(cluster, ns, labels, when, then);
    await then('the controller saw no 403', () => assertNoForbidden(controller));
  } finally {
    await controller.kill();
  }
}, { timeoutMs: 120_000 });

// --- namespace-install.yaml: a Role in one namespace, the controller started with --namespace --

async function namespacedInstall(cluster: Cluster, ns: string, role?: (role: KubeObject) => KubeObject): Promise<string> {
  const text = readFileSync(path.join(repoRoot, 'manifests/namespace-install.yaml'), 'utf8');
  const objects = objectsOf(text).map((o) => (o.kind === 'Role' && role ? role(o) : o));
  execFileSync(kubectlBin, ['--kubeconfig', kubeconfigPath(), 'apply', '--server-side', '-n', ns, '-f', '-'], { input: objects.map((o) => stringify(o)).join('---\n'), encoding: 'utf8' });
  return serviceAccountKubeconfig(cluster, ns, SA);
}

scenario('namespace-install.yaml rights: walkthrough, Istio and analysis in one namespace; a Rollout in another is left alone', async ({ cluster, ns, given, when, then }) => {
  const other = await cluster.namespace('install-other');
  let controller: ControllerProcess | undefined;
  try {
    await given('namespace-install.yaml applied in the namespace and the controller run with its ServiceAccount token and --namespace', async () => {
      const kubeconfig = await namespacedInstall(cluster, ns);
      controller = startController(ns, [], { kubeconfig });
    });
    await given('a Rollout in another namespace', () => cluster.apply(rolloutObject('elsewhere', { steps: [{ setWeight: 50 }] }), other.name));
    await walkthrough({ cluster, ns, when, then }, {});
    await istioSteps(cluster, ns, {}, when, then);
    await analysisSteps(cluster, ns, {}, when, then);
    await when('a Rollout names a ClusterAnalysisTemplate, which a Role cannot grant', () =>
      cluster.apply(rolloutObject('cluster-template', { replicas: 1, steps: [{ analysis: { templates: [{ templateName: 'shared', clusterScope: true }] } }] }), ns),
    );
    await then('it is Degraded naming the template, the namespaced mode and the fix', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'cluster-template'), (r) => r?.status?.phase === 'Degraded', { what: 'Degraded on cluster template' });
      const invalid = ro?.status?.conditions?.find((c) => c.type === 'InvalidSpec');
      assert.match(invalid?.message ?? '', /ClusterAnalysisTemplate "shared" cannot be read: the controller runs in namespaced mode/);
    });
    await then('the Rollout in the other namespace was never touched', async () => {
      const ro = await cluster.get<RolloutObject>(rolloutRef(other.name, 'elsewhere'));
      assert.equal(ro?.status, undefined);
      assert.deepEqual(await cluster.list({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: other.name }), []);
    });
    await then('the controller saw no 403', () => assertNoForbidden(controller!));
  } finally {
    await controller?.kill();
    await other.remove();
  }
}, { timeoutMs: 300_000 });

scenario('a routing kind that is served but forbidden disables its router with a clear condition; the controller still starts', async ({ cluster, ns, given, when, then }) => {
  let controller: ControllerProcess | undefined;
  try {
    await given('namespace-install.yaml with the Istio rule taken out of the Role, and the controller under it', async () => {
      const withoutIstio = (role: KubeObject): KubeObject => {
        const rules = (role as KubeObject & { rules: { apiGroups: string[] }[] }).rules;
        return { ...role, rules: rules.filter((r) => !r.apiGroups.includes('networking.istio.io')) } as KubeObject;
      };
      const kubeconfig = await namespacedInstall(cluster, ns, withoutIstio);
      controller = startController(ns, [], { kubeconfig });
    });
    await when('an Istio Rollout and a plain one are created', async () => {
      await applyIstioObjects(cluster, ns);
      await cluster.apply(rolloutObject('web', { canary: istioCanary(), steps: [{ setWeight: 5 }] }), ns);
      await cluster.apply(rolloutObject('plain', { steps: [{ setWeight: 50 }] }), ns);
    });
    await then('the plain Rollout is Healthy: the controller runs', () => cluster.waitFor<RolloutObject>(rolloutRef(ns, 'plain'), settledAt('Healthy'), { what: 'plain Healthy' }));
    await then('the Istio Rollout is Degraded: InvalidSpec names the router, the kinds and verbs missing, and the fix', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'web'), (r) => r?.status?.phase === 'Degraded', { what: 'Istio Rollout Degraded' });
      const invalid = ro?.status?.conditions?.find((c) => c.type === 'InvalidSpec');
      assert.match(invalid?.message ?? '', /trafficRouting\.istio: the istio router is disabled: the controller's ServiceAccount may not use virtualservices\.networking\.istio\.io \(get, list, watch, patch\)/);
      assert.match(invalid?.message ?? '', /fix: grant those verbs/);
    });
    await then('the log says the router is disabled, and no request was refused', () => {
      assert.match(controller!.logs(), /router istio disabled: RBAC forbids virtualservices\.networking\.istio\.io/);
      assertNoForbidden(controller!);
    });
  } finally {
    await controller?.kill();
  }
}, { timeoutMs: 120_000 });
