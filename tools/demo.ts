// `make demo`: the getting-started walkthrough on the local control plane. Starts the cluster
// and the controller, applies an example Rollout and drives it: update → pause → promote →
// timed pauses → Healthy → a bad update → abort → back to the good version. Prints each step,
// and under it the live tree of `rollway get rollout -w` (one snapshot per change).
// `make demo DEMO=bluegreen` runs the blue-green walkthrough instead: preview, manual promote,
// the switch of the active Service, the old stack scaled down after its delay, then an abort.
// ROLLWAY_DEMO_KEEP_CLUSTER=1 leaves the cluster up at the end (it is stopped otherwise, unless
// it was already running before the demo).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Cluster, ensureCluster, kubeconfigPath, repoRoot, startController, type ControllerProcess, rollway as runCli } from '../e2e/harness.ts';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';

const NAMESPACE = 'rollway-demo';
const NAME = 'rollouts-demo';
const started = Date.now();

const say = (text: string): void => {
  const t = ((Date.now() - started) / 1000).toFixed(1).padStart(6);
  process.stdout.write(`[${t}s] ${text}\n`);
};

function rollway(...args: string[]): string {
  return runCli('-n', NAMESPACE, ...args).trim();
}

/** The demo Rollout of `image`; `strategy` is the YAML that goes under `strategy:`. */
const rolloutYaml = (image: string, replicas: number, strategy: string): string => `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: ${NAME}
spec:
  replicas: ${replicas}
  revisionHistoryLimit: 2
  selector:
    matchLabels: {app: ${NAME}}
  template:
    metadata:
      labels: {app: ${NAME}}
    spec:
      containers:
      - name: ${NAME}
        image: argoproj/rollouts-demo:${image}
  strategy:
${strategy}
`;

const canaryYaml = (image: string): string =>
  rolloutYaml(
    image,
    5,
    `    canary:
      steps:
      - setWeight: 20
      - pause: {}
      - setWeight: 40
      - pause: {duration: 10}
      - setWeight: 60
      - pause: {duration: 10}
      - setWeight: 80
      - pause: {duration: 10}`,
  );

const blueGreenYaml = (image: string): string => `
apiVersion: v1
kind: Service
metadata: {name: ${NAME}-active}
spec: {selector: {app: ${NAME}}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: ${NAME}-preview}
spec: {selector: {app: ${NAME}}, ports: [{port: 80, targetPort: 8080}]}
---${rolloutYaml(
  image,
  3,
  `    blueGreen:
      activeService: ${NAME}-active
      previewService: ${NAME}-preview
      autoPromotionEnabled: false
      scaleDownDelaySeconds: 10
      abortScaleDownDelaySeconds: 10`,
)}`;

/** The hash each Service selects, for the narration: `active → abc, preview → def`. */
async function selectors(cluster: Cluster): Promise<string> {
  const of = async (svc: string): Promise<string> => {
    const found = await cluster.get<KubeObject & { spec?: { selector?: Record<string, string> } }>({ group: '', version: 'v1', plural: 'services', namespace: NAMESPACE, name: `${NAME}-${svc}` });
    return found?.spec?.selector?.['rollouts-pod-template-hash'] ?? '(none)';
  };
  return `active → ${await of('active')}, preview → ${await of('preview')}`;
}

/** The blue-green walkthrough (DEMO=bluegreen). */
async function blueGreenDemo(cluster: Cluster, startTree: () => void): Promise<void> {
  say('1. create two Services and a blue-green Rollout of 3 blue pods (autoPromotionEnabled: false)');
  await cluster.apply(blueGreenYaml('blue'), NAMESPACE);
  say(`  $ rollway get rollout ${NAME} -w   (its snapshots follow, one per change)`);
  startTree();
  await waitUntil(cluster, 'Healthy', (ro) => ro.status?.phase === 'Healthy' && ro.status.blueGreen?.activeSelector === ro.status.stableRS);
  say(`  Services: ${await selectors(cluster)}`);

  say('2. update the image blue → green: a green stack of 3 behind the preview Service; the active one stays on blue');
  say(`  $ rollway set image ${NAME} ${NAME}=argoproj/rollouts-demo:green → ${rollway('set', 'image', NAME, `${NAME}=argoproj/rollouts-demo:green`)}`);
  await waitUntil(cluster, 'Paused (BlueGreenPause)', (ro) => ro.status?.phase === 'Paused');
  say(`  Services: ${await selectors(cluster)}`);

  say('3. promote: the active Service switches to green; blue keeps its pods for scaleDownDelaySeconds (10 s)');
  say(`  $ rollway promote ${NAME} → ${rollway('promote', NAME)}`);
  await waitUntil(cluster, 'Healthy on green', (ro) => ro.status?.phase === 'Healthy' && ro.status.stableRS === ro.status.currentPodHash);
  say(`  Services: ${await selectors(cluster)}`);
  await waitUntil(cluster, 'blue scaled down', (ro) => ro.status?.replicas === 3, 60_000);

  say('4. update the image green → red, then abort at the pause: the preview goes back to green, red is scaled down after 10 s');
  say(`  $ rollway set image ${NAME} ${NAME}=argoproj/rollouts-demo:red → ${rollway('set', 'image', NAME, `${NAME}=argoproj/rollouts-demo:red`)}`);
  await waitUntil(cluster, 'Paused on red', (ro) => ro.status?.phase === 'Paused');
  say(`  $ rollway abort ${NAME} → ${rollway('abort', NAME)}`);
  await waitUntil(cluster, 'Degraded', (ro) => ro.status?.phase === 'Degraded');
  say(`  Services: ${await selectors(cluster)}`);

  say('5. set the image back to green: the stable version, Healthy at once with no new pods');
  say(`  $ rollway set image ${NAME} ${NAME}=argoproj/rollouts-demo:green → ${rollway('set', 'image', NAME, `${NAME}=argoproj/rollouts-demo:green`)}`);
  await waitUntil(cluster, 'Healthy again', (ro) => ro.status?.phase === 'Healthy');
}

/**
 * `rollway get rollout NAME -w` in a pipe prints one snapshot of the tree per change; each
 * complete snapshot is shown indented under the narration (a blank line and "Name:" start one).
 */
function startLiveTree(): { stop: () => Promise<void> } {
  const child: ChildProcess = spawn(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.ts'), '--kubeconfig', kubeconfigPath(), '-n', NAMESPACE, 'get', 'rollout', NAME, '-w'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buffered = '';
  let quiet: NodeJS.Timeout | undefined;
  const show = (frame: string): void => {
    if (frame.trim() === '') return;
    process.stdout.write(`${frame.replace(/\n+$/, '').replace(/^/gm, '        │ ')}\n`);
  };
  child.stdout!.setEncoding('utf8');
  child.stdout!.on('data', (chunk: string) => {
    buffered += chunk;
    const frames = buffered.split(/\n\n(?=Name: )/);
    buffered = frames.pop() ?? '';
    frames.forEach(show);
    // The CLI writes a frame in one piece: once the pipe is quiet for a moment, the last one is whole.
    clearTimeout(quiet);
    quiet = setTimeout(() => {
      show(buffered);
      buffered = '';
    }, 100);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    stop: async () => {
      child.kill('SIGINT');
      await exited;
      clearTimeout(quiet);
      show(buffered);
      buffered = '';
    },
  };
}

async function waitUntil(cluster: Cluster, what: string, check: (ro: RolloutObject) => boolean, timeoutMs = 120_000): Promise<void> {
  const ref: ResourceRef = { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: NAMESPACE, name: NAME };
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ro = await cluster.get<RolloutObject>(ref);
    if (ro && ro.status?.observedGeneration === String(ro.metadata.generation) && check(ro)) return;
    if (Date.now() > deadline) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

async function main(): Promise<void> {
  say('starting the local control plane (built from Kubernetes sources on first use)…');
  const wasUp = process.env.ROLLWAY_DEMO_CLUSTER_WAS_UP === '1';
  ensureCluster();
  const cluster = new Cluster();
  let controller: ControllerProcess | undefined;
  let tree: { stop: () => Promise<void> } | undefined;
  try {
    const nsRef: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', name: NAMESPACE };
    await cluster.delete(nsRef);
    await cluster.waitFor(nsRef, (ns) => ns === undefined, { timeoutMs: 60_000, what: 'the previous demo namespace to go' });
    await cluster.apply({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } }, NAMESPACE);
    await cluster.waitFor({ group: '', version: 'v1', plural: 'serviceaccounts', namespace: NAMESPACE, name: 'default' }, (sa) => sa !== undefined);
    controller = startController(NAMESPACE);
    say(`controller started (pid ${controller.pid}), watching namespace ${NAMESPACE}`);

    if (process.env.DEMO === 'bluegreen') {
      await blueGreenDemo(cluster, () => (tree = startLiveTree()));
      await new Promise((r) => setTimeout(r, 500)); // the last snapshot
      const events = await cluster.events(NAMESPACE, { kind: 'Rollout', name: NAME });
      say(`done: ${events.length} Events on the Rollout, for example:`);
      for (const e of events.filter((ev) => ['SwitchService', 'RolloutAborted', 'RolloutCompleted'].includes(ev.reason ?? '')).slice(-4)) say(`  ${e.reason}: ${e.message}`);
      await tree?.stop();
      tree = undefined;
      return;
    }
    say('1. create the Rollout: 5 blue pods; the first deploy runs no steps');
    await cluster.apply(canaryYaml('blue'), NAMESPACE);
    say(`  $ rollway get rollout ${NAME} -w   (its snapshots follow, one per change)`);
    tree = startLiveTree();
    await waitUntil(cluster, 'Healthy', (ro) => ro.status?.phase === 'Healthy');

    say('2. update the image blue → yellow: the canary gets 20% (1 of 5 pods) and pauses for a human');
    say(`  $ rollway set image ${NAME} ${NAME}=argoproj/rollouts-demo:yellow → ${rollway('set', 'image', NAME, `${NAME}=argoproj/rollouts-demo:yellow`)}`);
    await waitUntil(cluster, 'Paused at step 1', (ro) => ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1);

    say('3. promote: the remaining steps run unattended (40%, 60%, 80% with 10 s pauses)');
    say(`  $ rollway promote ${NAME} → ${rollway('promote', NAME)}`);
    await waitUntil(cluster, 'Healthy on yellow', (ro) => ro.status?.phase === 'Healthy' && ro.status.stableRS === ro.status.currentPodHash && ro.status.currentStepIndex === 8);

    say('4. update the image yellow → red, then abort the bad version at its first pause');
    say(`  $ rollway set image ${NAME} ${NAME}=argoproj/rollouts-demo:red → ${rollway('set', 'image', NAME, `${NAME}=argoproj/rollouts-demo:red`)}`);
    await waitUntil(cluster, 'Paused on red', (ro) => ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1);
    say(`  $ rollway abort ${NAME} → ${rollway('abort', NAME)}`);
    await waitUntil(cluster, 'Degraded with 5 yellow pods', (ro) => ro.status?.phase === 'Degraded' && ro.status.availableReplicas === 5 && ro.status.updatedReplicas === 0);

    say('5. set the image back to yellow: the stable version, so Healthy at once with no steps');
    say(`  $ rollway set image ${NAME} ${NAME}=argoproj/rollouts-demo:yellow → ${rollway('set', 'image', NAME, `${NAME}=argoproj/rollouts-demo:yellow`)}`);
    await waitUntil(cluster, 'Healthy again', (ro) => ro.status?.phase === 'Healthy');

    await new Promise((r) => setTimeout(r, 500)); // the last snapshot
    const events = await cluster.events(NAMESPACE, { kind: 'Rollout', name: NAME });
    say(`done: ${events.length} Events on the Rollout (kubectl -n ${NAMESPACE} get events), for example:`);
    for (const e of events.filter((ev) => ['RolloutStepCompleted', 'RolloutAborted', 'RolloutCompleted'].includes(ev.reason ?? '')).slice(-4)) say(`  ${e.reason}: ${e.message}`);
    await tree.stop();
    tree = undefined;
  } finally {
    await tree?.stop();
    await controller?.kill();
    cluster.close();
    if (wasUp || process.env.ROLLWAY_DEMO_KEEP_CLUSTER === '1') {
      say(`the local cluster is left up: KUBECONFIG=${kubeconfigPath()} (stop it with make cluster-down)`);
    } else {
      execFileSync(path.join(repoRoot, 'hack/cluster.sh'), ['down'], { stdio: 'ignore' });
      say('the local cluster is stopped (ROLLWAY_DEMO_KEEP_CLUSTER=1 keeps it up)');
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
