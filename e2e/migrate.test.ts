// rollway migrate on the real control plane with Argo Rollouts' CRDs (crds/reference/argo-rollouts,
// group argoproj.io, beside ours). No Argo controller: each scenario creates the Argo Rollout, its
// ReplicaSets (Argo's names and hashes), their pods and the routing as Argo leaves them, then
// migrates. Zero pods may be deleted or created by the move, weights stay, and the Rollway
// controller carries on from the same step; --back gives the Argo objects back.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { before } from 'node:test';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { Cluster, kubeconfigPath, parseYamlObjects, repoRoot, rollway, scenario, sleep, startController } from './harness.ts';

const argoRef = (ns: string, name?: string, subresource?: string): ResourceRef => ({ group: 'argoproj.io', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name, subresource });
const oursRef = (ns: string, name?: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const rsRef = (ns: string, name?: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name });
const podRef = (ns: string): ResourceRef => ({ group: '', version: 'v1', plural: 'pods', namespace: ns });
const vsRef = (ns: string): ResourceRef => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns, name: 'web' });
const runRef = (group: string, ns: string, name?: string): ResourceRef => ({ group, version: 'v1alpha1', plural: 'analysisruns', namespace: ns, name });
const leaseRef = (ns: string, name?: string): ResourceRef => ({ group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: ns, name });

const STABLE_HASH = '6b8f7c9d45';
const CANARY_HASH = '58cd967857';
const STEPS = [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: '2s' } }];

const template = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });

before(async () => {
  // Argo's CRDs, applied as they are; our group is rollway.dev, so nothing collides.
  const dir = path.join(repoRoot, 'crds/reference/argo-rollouts');
  const cluster = new Cluster();
  try {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.yaml'))) {
      for (const crd of parseYamlObjects(readFileSync(path.join(dir, file), 'utf8'))) {
        await cluster.client.apply({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: crd.metadata.name }, crd, 'rollway-e2e-migrate');
        await cluster.waitFor({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: crd.metadata.name }, (c) =>
          ((c as { status?: { conditions?: { type: string; status: string }[] } } | undefined)?.status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True'),
        );
      }
    }
  } finally {
    cluster.close();
  }
});

interface ArgoState {
  steps?: unknown[];
  stableReplicas: number;
  canaryReplicas: number;
  weight: number;
  status: Record<string, unknown>;
}

/** The Argo Rollout, its two ReplicaSets with pods and the VirtualService, as Argo leaves them. */
async function argoRollout(cluster: Cluster, ns: string, state: ArgoState): Promise<KubeObject> {
  await cluster.apply(
    [
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-stable' }, spec: { selector: { app: 'web', 'rollouts-pod-template-hash': STABLE_HASH }, ports: [{ port: 80 }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web-canary' }, spec: { selector: { app: 'web', 'rollouts-pod-template-hash': CANARY_HASH }, ports: [{ port: 80 }] } },
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'VirtualService',
        metadata: { name: 'web' },
        spec: { hosts: ['web'], http: [{ name: 'primary', route: [{ destination: { host: 'web-stable' }, weight: 100 - state.weight }, { destination: { host: 'web-canary' }, weight: state.weight }] }] },
      },
    ] as KubeObject[],
    ns,
  );
  const rollout = await cluster.client.create<KubeObject>(argoRef(ns), {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web', annotations: { 'rollout.argoproj.io/revision': '2' } },
    spec: {
      replicas: 5,
      selector: { matchLabels: { app: 'web' } },
      template: template('web:2'),
      strategy: { canary: { canaryService: 'web-canary', stableService: 'web-stable', trafficRouting: { istio: { virtualService: { name: 'web', routes: ['primary'] } } }, steps: state.steps ?? STEPS } },
    },
  });
  const owner = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web', uid: rollout.metadata.uid!, controller: true, blockOwnerDeletion: true };
  const replicaSet = (hash: string, revision: number, replicas: number, image: string): KubeObject => {
    const labels = { app: 'web', 'rollouts-pod-template-hash': hash };
    return {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: `web-${hash}`, labels, annotations: { 'rollout.argoproj.io/revision': String(revision) }, ownerReferences: [owner] },
      spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: template(image).spec } },
    };
  };
  await cluster.client.create(rsRef(ns), replicaSet(STABLE_HASH, 1, state.stableReplicas, 'web:1'));
  await cluster.client.create(rsRef(ns), replicaSet(CANARY_HASH, 2, state.canaryReplicas, 'web:2'));
  const total = state.stableReplicas + state.canaryReplicas;
  await cluster.waitForList(podRef(ns), (pods) => pods.filter((p) => ((p as { status?: { conditions?: { type: string; status: string }[] } }).status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length === total, { what: `${total} ready pods` });
  await cluster.patch(argoRef(ns, 'web', 'status'), { status: { ...state.status, currentStepHash: 'argo-steps-hash', observedGeneration: '1', collisionCount: 0 } });
  return rollout;
}

/** `rollway migrate` run in the background: `printed(re)` resolves once its output matches. */
function migrateInBackground(...args: string[]): { printed: (re: RegExp) => Promise<void>; done: Promise<string> } {
  const child = spawn(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.js'), '--kubeconfig', kubeconfigPath(), 'migrate', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const waiting: { re: RegExp; resolve: () => void }[] = [];
  const onData = (chunk: Buffer): void => {
    out += chunk.toString();
    for (const w of waiting.filter((x) => x.re.test(out))) w.resolve();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const done = new Promise<string>((resolve, reject) => child.once('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`rollway migrate exited ${code}:\n${out}`)))));
  const printed = (re: RegExp): Promise<void> => (re.test(out) ? Promise.resolve() : Promise.race([new Promise<void>((resolve) => waiting.push({ re, resolve })), done.then(() => assert.fail(`rollway migrate ended without printing ${re}:\n${out}`))]));
  return { printed, done };
}

const HOLD = 'e2e.rollway.dev/hold';

const podUids = async (cluster: Cluster, ns: string): Promise<string[]> => (await cluster.list(podRef(ns))).map((p) => p.metadata.uid!).sort();
const weights = async (cluster: Cluster, ns: string): Promise<number[]> => {
  const vs = await cluster.get<KubeObject & { spec: { http: { route: { weight: number }[] }[] } }>(vsRef(ns));
  return vs!.spec.http[0]!.route.map((r) => r.weight);
};
const status = async (cluster: Cluster, ns: string): Promise<Record<string, unknown>> => ((await cluster.get(oursRef(ns, 'web'))) as { status?: Record<string, unknown> } | undefined)?.status ?? {};
const owners = async (cluster: Cluster, ns: string): Promise<string[]> => (await cluster.list(rsRef(ns))).map((rs) => `${rs.metadata.name}:${rs.metadata.ownerReferences?.[0]?.apiVersion}`).sort();

const pausedAt20 = (): ArgoState => ({
  stableReplicas: 5,
  canaryReplicas: 1,
  weight: 20,
  status: {
    phase: 'Paused',
    currentPodHash: CANARY_HASH,
    stableRS: STABLE_HASH,
    currentStepIndex: 1,
    controllerPause: true,
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: new Date(Date.now() - 60_000).toISOString() }],
    canary: { weights: { canary: { weight: 20, podTemplateHash: CANARY_HASH, serviceName: 'web-canary' }, stable: { weight: 80, podTemplateHash: STABLE_HASH, serviceName: 'web-stable' } } },
  },
});

scenario('a canary paused at 20% with Istio moves without a pod restarting, then completes under Rollway', async ({ cluster, ns, given, when, then }) => {
  let pods: string[] = [];
  await given('an Argo Rollout paused at step 2 with 20% in the VirtualService', async () => {
    await argoRollout(cluster, ns, pausedAt20());
    pods = await podUids(cluster, ns);
    assert.equal(pods.length, 6);
  });
  await when('a live Argo controller Lease is found, migrate refuses and changes nothing', async () => {
    await cluster.client.create(leaseRef(ns), { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'argo-rollouts-controller-lock' }, spec: { holderIdentity: 'argo-rollouts-abc', leaseDurationSeconds: 15, renewTime: new Date().toISOString().replace(/\.(\d{3})Z$/, '.$1000Z') } });
    assert.throws(() => rollway('migrate', '-n', ns), /Argo Rollouts controller still runs/);
    assert.ok(await cluster.get(argoRef(ns, 'web')));
    await cluster.delete(leaseRef(ns, 'argo-rollouts-controller-lock'));
  });
  await then('a dry run names the Rollout and its state and writes nothing', () => {
    const out = rollway('migrate', '-n', ns, '--dry-run');
    assert.match(out, new RegExp(`${ns}/web: would move to Rollway: 2 ReplicaSets, 0 Ingresses, 0 TrafficSplits, 0 AnalysisRuns; phase Paused, step index 1, paused`));
  });
  await when('rollway migrate runs', () => {
    const out = rollway('migrate', '-n', ns);
    assert.match(out, /1 Rollout moved, 0 failed/);
  });
  await then('the Argo Rollout is gone, ours carries its status, the ReplicaSets are ours, no pod changed and the weights stay', async () => {
    await cluster.waitFor(argoRef(ns, 'web'), (o) => o === undefined, { what: 'the Argo Rollout deleted' });
    const s = await status(cluster, ns);
    assert.equal(s.currentPodHash, CANARY_HASH);
    assert.equal(s.stableRS, STABLE_HASH);
    assert.equal(s.currentStepIndex, 1);
    assert.deepEqual(await owners(cluster, ns), [`web-${CANARY_HASH}:rollway.dev/v1alpha1`, `web-${STABLE_HASH}:rollway.dev/v1alpha1`]);
    await sleep(1500); // the garbage collector would have acted on an orphaned or cascaded ReplicaSet by now
    assert.deepEqual(await podUids(cluster, ns), pods);
    assert.deepEqual(await weights(cluster, ns), [80, 20]);
  });
  const controller = startController(ns);
  try {
    await then('the Rollway controller keeps it paused at the same step, same pods, same weights', async () => {
      await cluster.waitFor(oursRef(ns, 'web'), (o) => (o as { status?: { observedGeneration?: string } } | undefined)?.status?.observedGeneration === '1', { what: 'the controller to reconcile it' });
      await sleep(2000);
      const s = await status(cluster, ns);
      assert.equal(s.currentStepIndex, 1);
      assert.ok((s.pauseConditions as unknown[]).length > 0);
      assert.deepEqual(await podUids(cluster, ns), pods);
      assert.deepEqual(await weights(cluster, ns), [80, 20]);
      assert.equal((await cluster.list(rsRef(ns))).length, 2, 'no ReplicaSet created');
    });
    await when('it is promoted', () => rollway('promote', 'web', '-n', ns));
    await then('it completes on the adopted ReplicaSet, under its Argo name and hash', async () => {
      await cluster.waitFor(oursRef(ns, 'web'), (o) => {
        const s = (o as { status?: { stableRS?: string; phase?: string } } | undefined)?.status;
        return s?.stableRS === CANARY_HASH && s.phase === 'Healthy';
      }, { timeoutMs: 60_000, what: 'the Rollout Healthy on the adopted canary' });
      assert.deepEqual((await cluster.list(rsRef(ns))).map((rs) => rs.metadata.name).sort(), [`web-${CANARY_HASH}`, `web-${STABLE_HASH}`]);
      assert.deepEqual(await weights(cluster, ns), [100, 0]);
    });
  } finally {
    await controller.kill();
  }
}, { timeoutMs: 180_000 });

scenario('an aborted canary stays at stable under Rollway, and --back gives Argo its objects', async ({ cluster, ns, given, when, then }) => {
  let pods: string[] = [];
  await given('an Argo Rollout Degraded after an abort: canary scaled to 0, all traffic on stable', async () => {
    const state = pausedAt20();
    await argoRollout(cluster, ns, {
      stableReplicas: 5,
      canaryReplicas: 0,
      weight: 0,
      status: { ...state.status, phase: 'Degraded', pauseConditions: null, controllerPause: false, abort: true, abortedAt: new Date(Date.now() - 120_000).toISOString(), currentStepIndex: 0, canary: { weights: { canary: { weight: 0, podTemplateHash: CANARY_HASH, serviceName: 'web-canary' }, stable: { weight: 100, podTemplateHash: STABLE_HASH, serviceName: 'web-stable' } } } },
    });
    pods = await podUids(cluster, ns);
    assert.equal(pods.length, 5);
    // Holds the Argo Rollout, once migrate deletes it, as the garbage collector may for a while.
    await cluster.patch(argoRef(ns, 'web'), { metadata: { finalizers: [HOLD] } });
  });
  await when('migrated and run by Rollway for a while', async () => {
    rollway('migrate', '-n', ns);
    const controller = startController(ns);
    try {
      await cluster.waitFor(oursRef(ns, 'web'), (o) => (o as { status?: { observedGeneration?: string } } | undefined)?.status?.observedGeneration === '1', { what: 'the controller to reconcile it' });
      await sleep(3000);
    } finally {
      await controller.kill();
    }
  });
  await then('it is still aborted at stable: same pods, canary at 0, weights 100/0', async () => {
    const s = await status(cluster, ns);
    assert.equal(s.abort, true);
    assert.equal(s.stableRS, STABLE_HASH);
    assert.equal(s.phase, 'Degraded');
    assert.deepEqual(await podUids(cluster, ns), pods);
    assert.deepEqual(await weights(cluster, ns), [100, 0]);
    assert.equal((await cluster.get<KubeObject & { spec: { replicas: number } }>(rsRef(ns, `web-${CANARY_HASH}`)))?.spec.replicas, 0);
  });
  await when('rollway migrate --back runs while the Argo Rollout it left is still being deleted', async () => {
    const back = migrateInBackground('-n', ns, '--back');
    await back.printed(new RegExp(`waiting for the Argo Rollout web that is being deleted to go \\(finalizers: ${HOLD}\\)`));
    assert.ok(await cluster.get(oursRef(ns, 'web')), 'ours stays until the name is free');
    await cluster.patch(argoRef(ns, 'web'), { metadata: { finalizers: null } });
    assert.match(await back.done, /moved to Argo Rollouts/);
  });
  await then('the Argo Rollout is back with its status and owns the ReplicaSets; ours is gone; no pod changed', async () => {
    await cluster.waitFor(oursRef(ns, 'web'), (o) => o === undefined, { what: 'our Rollout deleted' });
    const argo = (await cluster.get(argoRef(ns, 'web'))) as KubeObject & { status?: Record<string, unknown> };
    assert.equal(argo.status?.abort, true);
    assert.equal(argo.status?.currentPodHash, CANARY_HASH);
    assert.equal(argo.metadata.annotations?.['rollout.argoproj.io/revision'], '2');
    assert.deepEqual(await owners(cluster, ns), [`web-${CANARY_HASH}:argoproj.io/v1alpha1`, `web-${STABLE_HASH}:argoproj.io/v1alpha1`]);
    await sleep(1500);
    assert.deepEqual(await podUids(cluster, ns), pods);
    assert.deepEqual(await weights(cluster, ns), [100, 0]);
  });
}, { timeoutMs: 180_000 });

scenario('a canary in the middle of a step analysis moves with its AnalysisRun, which Rollway runs to its end', async ({ cluster, ns, given, when, then }) => {
  let asked = 0;
  const server = http.createServer((_req, res) => {
    asked++;
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok": true}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ok`;
  const metric = { name: 'ok', interval: '1s', count: 3, successCondition: 'result == true', provider: { web: { url, jsonPath: '{$.ok}' } } };
  const runName = `web-${CANARY_HASH}-2-1`;
  let pods: string[] = [];
  try {
    await given('an Argo Rollout at its analysis step with a Running AnalysisRun (1 of 3 measurements taken)', async () => {
      await cluster.client.create({ group: 'argoproj.io', version: 'v1alpha1', plural: 'analysistemplates', namespace: ns }, { apiVersion: 'argoproj.io/v1alpha1', kind: 'AnalysisTemplate', metadata: { name: 'check' }, spec: { metrics: [metric] } });
      const state = pausedAt20();
      const rollout = await argoRollout(cluster, ns, {
        ...state,
        steps: [{ setWeight: 20 }, { analysis: { templates: [{ templateName: 'check' }] } }, { setWeight: 60 }, { pause: { duration: '1s' } }],
        status: { ...state.status, phase: 'Progressing', pauseConditions: null, controllerPause: false, canary: { ...(state.status.canary as object), currentStepAnalysisRunStatus: { name: runName, status: 'Running' } } },
      });
      const startedAt = new Date(Date.now() - 2000).toISOString().replace(/\.\d+Z$/, 'Z');
      await cluster.client.create(runRef('argoproj.io', ns), {
        apiVersion: 'argoproj.io/v1alpha1',
        kind: 'AnalysisRun',
        metadata: { name: runName, labels: { 'rollout-type': 'Step', 'step-index': '1', 'rollouts-pod-template-hash': CANARY_HASH }, annotations: { 'rollout.argoproj.io/revision': '2' }, ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: 'web', uid: rollout.metadata.uid!, controller: true, blockOwnerDeletion: true }] },
        spec: { metrics: [metric] },
        // Argo's AnalysisRun has no status subresource.
        status: { phase: 'Running', startedAt, metricResults: [{ name: 'ok', phase: 'Running', count: 1, successful: 1, measurements: [{ phase: 'Successful', value: 'true', startedAt, finishedAt: startedAt }] }] },
      });
      pods = await podUids(cluster, ns);
    });
    await when('migrated', () => {
      assert.match(rollway('migrate', '-n', ns), /1 AnalysisRun;/);
    });
    await then('our AnalysisRun carries the same name and measurements, and our template exists', async () => {
      const run = (await cluster.get(runRef('rollway.dev', ns, runName))) as KubeObject & { status?: { metricResults?: { count?: number }[] } };
      assert.equal(run.status?.metricResults?.[0]?.count, 1);
      assert.equal(await cluster.get(runRef('argoproj.io', ns, runName)), undefined);
      assert.ok(await cluster.get({ group: 'rollway.dev', version: 'v1alpha1', plural: 'analysistemplates', namespace: ns, name: 'check' }));
      assert.deepEqual(await podUids(cluster, ns), pods);
    });
    const controller = startController(ns);
    try {
      await then('Rollway takes the 2 measurements left on the same run, and the Rollout completes', async () => {
        await cluster.waitFor(oursRef(ns, 'web'), (o) => {
          const s = (o as { status?: { stableRS?: string; phase?: string } } | undefined)?.status;
          return s?.stableRS === CANARY_HASH && s.phase === 'Healthy';
        }, { timeoutMs: 60_000, what: 'the Rollout Healthy after its analysis' });
        const runs = await cluster.list<KubeObject & { status?: { phase?: string; metricResults?: { count?: number }[] } }>(runRef('rollway.dev', ns));
        assert.deepEqual(runs.map((r) => r.metadata.name), [runName], 'no second run');
        assert.equal(runs[0]!.status?.phase, 'Successful');
        assert.equal(runs[0]!.status?.metricResults?.[0]?.count, 3);
        assert.equal(asked, 2);
      });
    } finally {
      await controller.kill();
    }
  } finally {
    server.close();
  }
}, { timeoutMs: 180_000 });

scenario('a Rollout whose move fails midway is left fully on Argo, and the command says so', async ({ cluster, ns, given, when, then }) => {
  let pods: string[] = [];
  let uid = '';
  await given('an Argo Rollout naming an analysis template that exists nowhere', async () => {
    const state = pausedAt20();
    const rollout = await argoRollout(cluster, ns, { ...state, steps: [{ setWeight: 20 }, { pause: {} }, { analysis: { templates: [{ templateName: 'gone' }] } }] });
    uid = rollout.metadata.uid!;
    pods = await podUids(cluster, ns);
  });
  await when('rollway migrate runs, it fails on that Rollout after re-pointing its ReplicaSets, and exits 1', () => {
    assert.throws(() => rollway('migrate', '-n', ns), (err: Error & { stdout?: string }) => {
      assert.match(err.stdout ?? '', new RegExp(`${ns}/web: FAILED, left fully on Argo Rollouts: the AnalysisTemplate gone it names exists neither`));
      assert.match(err.stdout ?? '', /0 Rollouts moved, 1 failed/);
      return true;
    });
  });
  await then('everything is as Argo left it: its Rollout and status, its ReplicaSets, no Rollway Rollout, the same pods', async () => {
    const argo = (await cluster.get(argoRef(ns, 'web'))) as KubeObject & { status?: Record<string, unknown> };
    assert.equal(argo.metadata.uid, uid);
    assert.equal(argo.status?.currentStepIndex, 1);
    assert.deepEqual((await cluster.list(rsRef(ns))).map((rs) => rs.metadata.ownerReferences?.[0]?.uid), [uid, uid]);
    await cluster.waitFor(oursRef(ns, 'web'), (o) => o === undefined, { what: 'the Rollway Rollout removed again' });
    await sleep(1500);
    assert.deepEqual(await podUids(cluster, ns), pods);
    assert.deepEqual(await weights(cluster, ns), [80, 20]);
  });
  await when('a Rollway Rollout of the same name is made by hand, and a dry run looks', async () => {
    await cluster.client.create(oursRef(ns), { apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', metadata: { name: 'web' }, spec: { replicas: 0, selector: { matchLabels: { app: 'web' } }, template: template('other:1'), strategy: { canary: { steps: [] } } } } as KubeObject);
  });
  await then('the dry run already says the move would fail, and why', () => {
    assert.throws(() => rollway('migrate', '-n', ns, '--dry-run'), (err: Error & { stdout?: string }) => {
      assert.match(err.stdout ?? '', new RegExp(`${ns}/web: FAILED, left fully on Argo Rollouts: a Rollway Rollout named web already exists in ${ns}: delete it`));
      return true;
    });
  });
}, { timeoutMs: 120_000 });

scenario('rollway convert output is accepted by the API server under our CRDs', async ({ cluster, ns, then }) => {
  await then('every converted Rollout, AnalysisTemplate, ClusterAnalysisTemplate and AnalysisRun of the test set passes a server-side dry-run create', async () => {
    const dir = path.join(repoRoot, 'cli/testdata/argo');
    const plurals: Record<string, string> = { Rollout: 'rollouts', AnalysisTemplate: 'analysistemplates', ClusterAnalysisTemplate: 'clusteranalysistemplates', AnalysisRun: 'analysisruns' };
    let checked = 0;
    for (const file of ['canary-istio.yaml', 'analysis.yaml', 'gateway-plugin.yaml', 'list-bluegreen.yaml']) {
      const objects = parseYamlObjects(rollway('convert', '-f', path.join(dir, file))).flatMap((o) => (o.kind === 'List' ? (o.items as KubeObject[]) : [o]));
      for (const o of objects.filter((x) => x.apiVersion === 'rollway.dev/v1alpha1')) {
        const cluster_ = o.kind === 'ClusterAnalysisTemplate';
        const body = { ...o, metadata: { ...o.metadata, namespace: cluster_ ? undefined : ns, ownerReferences: undefined } } as KubeObject;
        await cluster.client.create({ group: 'rollway.dev', version: 'v1alpha1', plural: plurals[o.kind!]!, namespace: cluster_ ? undefined : ns }, body, { dryRun: 'All' });
        checked++;
      }
    }
    assert.equal(checked, 6);
  });
});
