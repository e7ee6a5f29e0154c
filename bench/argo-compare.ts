// `make bench-argo` (or `make bench BENCH_SECTIONS=argo`): Rollway and Argo Rollouts side by side
// on the same control plane, one after the other, each alone on it, with the same manifests (Argo's
// differ only in apiVersion) and the same promote (the status patch `kubectl argo rollouts promote`
// sends for a rollout paused at a `pause: {}` step). Per controller:
//   - start on an empty namespace → caches synced and reconciling (median of BENCH_STARTS)
//   - BENCH_ARGO_ROLLOUTS (default 100) Istio canaries (setWeight 10, pause {}, setWeight 20, pause {})
//     promoted at once: promote → VirtualService written at 20%, p50 / p99; the controller's CPU
//     and API writes for that step (each controller's own request metrics)
//   - RSS settled with those rollouts
// Rollway runs as its image does (the compiled program, the Dockerfile's ENV, an empty compile
// cache); Argo is the controller hack/build-argo-rollouts.sh builds from its Go module; without that build
// the section prints one line saying so and measures nothing. Run it on a cluster of its own
// (ROLLWAY_CLUSTER_DIR, ROLLWAY_API_PORT): the figures are only comparable under the same load.
import { spawn, execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, ensureCluster, parseYamlObjects, repoRoot, sleep, superviseProcess, type ControllerProcess } from '../e2e/harness.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { cpuMs, rssMiB, startAsImage } from './footprint.ts';
import { freePort } from '../testing/http-server.ts';
import { apiWrites, comparisonLines, comparisonRows, percentile, type Figures } from './argo-compare-report.ts';
import { mergeIntoReadme } from './readme-table.ts';

const COUNT = Number(process.env.BENCH_ARGO_ROLLOUTS ?? 100);
const STARTS = Number(process.env.BENCH_STARTS ?? 3);
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'argo').split(','));
const STEPS = [{ setWeight: 10 }, { pause: {} }, { setWeight: 20 }, { pause: {} }];

interface Side {
  name: 'Rollway' | 'Argo Rollouts';
  apiVersion: string;
  /** the controller, namespaced, with its request metrics on a loopback port */
  start: (ns: string) => Promise<{ proc: ControllerProcess; metricsUrl: () => string }>;
  /** a line it logs once its caches are synced and it reconciles */
  ready: RegExp;
}

const rolloutsRef = (side: Side, ns: string, name?: string): ResourceRef => ({ group: side.apiVersion.split('/')[0]!, version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });

/** The Argo controller binary if hack/build-argo-rollouts.sh has built it (it is not built here). */
function argoBinary(): string | undefined {
  try {
    return execFileSync(path.join(repoRoot, 'hack/build-argo-rollouts.sh'), ['--if-built'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

function rollwaySide(kubeconfig: string): Side {
  return {
    name: 'Rollway',
    apiVersion: 'rollway.dev/v1alpha1',
    ready: /controller started/,
    start: async (ns) => {
      // As the image runs it (compiled, its ENV), as Argo's side runs its release build.
      const proc = startAsImage(ns, ['--leader-elect=false'], { kubeconfig });
      const metricsUrl = (): string => `http://127.0.0.1:${/metrics listening address=127\.0\.0\.1:(\d+)/.exec(proc.logs())?.[1]}/metrics`;
      return { proc, metricsUrl };
    },
  };
}

/** Argo's controller as its install runs it, namespaced (--namespaced), on a kubeconfig, leader election off as Rollway's. */
function argoSide(binary: string, kubeconfig: string): Side {
  return {
    name: 'Argo Rollouts',
    apiVersion: 'argoproj.io/v1alpha1',
    ready: /Started controller/,
    start: async (ns) => {
      const [metricsPort, healthzPort] = [await freePort(), await freePort()];
      const args = ['--kubeconfig', kubeconfig, '--namespaced', '--namespace', ns, '--leader-elect=false', '--metricsPort', `${metricsPort}`, '--healthzPort', `${healthzPort}`, '--logformat', 'text'];
      // POD_NAMESPACE: where it looks for its notification ConfigMap and Secret (else argo-rollouts).
      const proc = spawnProcess(binary, args, { ...process.env, POD_NAMESPACE: ns });
      return { proc, metricsUrl: () => `http://127.0.0.1:${metricsPort}/metrics` };
    },
  };
}

function spawnProcess(binary: string, args: string[], env: NodeJS.ProcessEnv): ControllerProcess {
  return superviseProcess(spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], env }), path.basename(binary), 'SIGKILL');
}

async function waitReady(side: Side, proc: ControllerProcess, timeoutMs = 120_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!side.ready.test(proc.logs())) {
    if (performance.now() > deadline) throw new Error(`bench: ${side.name} not ready within ${timeoutMs} ms:\n${proc.logs().slice(-2000)}`);
    await sleep(5);
  }
}

/** Median start → ready on an empty namespace (SIGKILL after each: a restart's cost, not a clean stop's). */
async function startup(cluster: Cluster, side: Side): Promise<number> {
  const ns = await cluster.namespace('bench-argo-empty');
  const times: number[] = [];
  try {
    for (let i = 0; i < STARTS; i++) {
      const spawned = performance.now();
      const { proc } = await side.start(ns.name);
      try {
        await waitReady(side, proc);
        times.push(Math.round(performance.now() - spawned));
      } finally {
        await proc.kill('SIGKILL');
      }
    }
  } finally {
    await removed(cluster, ns);
  }
  return percentile(times, 0.5);
}

/** Two Services, a VirtualService and a Rollout of 4 replicas routed by it: the same for both but apiVersion. */
function workload(side: Side, name: string): KubeObject[] {
  const services = ['stable', 'canary'].map((role) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `${name}-${role}` }, spec: { selector: { app: name }, ports: [{ port: 80 }] } }));
  const virtualService = {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name },
    spec: { hosts: [name], http: [{ name: 'primary', route: [{ destination: { host: `${name}-stable` }, weight: 100 }, { destination: { host: `${name}-canary` }, weight: 0 }] }] },
  };
  const rollout = {
    apiVersion: side.apiVersion,
    kind: 'Rollout',
    metadata: { name },
    spec: {
      replicas: 4,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
      strategy: {
        canary: { canaryService: `${name}-canary`, stableService: `${name}-stable`, trafficRouting: { istio: { virtualService: { name, routes: ['primary'] } } }, steps: STEPS },
      },
    },
  };
  return [...services, virtualService, rollout];
}

interface Rollout extends KubeObject {
  status?: { phase?: string; currentStepIndex?: number; observedGeneration?: string };
}

async function waitAll(cluster: Cluster, side: Side, ns: string, until: (ro: Rollout) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await cluster.list<Rollout>(rolloutsRef(side, ns));
    const ok = items.filter((ro) => ro.status?.observedGeneration === String(ro.metadata.generation) && until(ro)).length;
    if (ok === COUNT) return;
    if (Date.now() > deadline) throw new Error(`bench: ${side.name}: only ${ok}/${COUNT} rollouts reached the state in ${timeoutMs} ms`);
    await sleep(500);
  }
}

async function createWorkload(cluster: Cluster, side: Side, ns: string): Promise<void> {
  for (let i = 0; i < COUNT; i += 20) {
    await Promise.all(Array.from({ length: Math.min(20, COUNT - i) }, (_, k) => cluster.apply(workload(side, `s${i + k}`), ns)));
  }
  await waitAll(cluster, side, ns, (ro) => ro.status?.phase === 'Healthy', 600_000);
  for (let i = 0; i < COUNT; i++) await cluster.patch(rolloutsRef(side, ns, `s${i}`), { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } });
  await waitAll(cluster, side, ns, (ro) => ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1, 600_000);
}

/** Watches the VirtualServices and answers, per name, when its canary weight first read 20. */
function watchWeights(cluster: Cluster, ns: string): { written: Map<string, number>; stop: () => Promise<void> } {
  const written = new Map<string, number>();
  const abort = new AbortController();
  const vsRef: ResourceRef = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns };
  const watching = cluster.client.watch<KubeObject & { spec?: { http?: { route: { weight?: number }[] }[] } }>(vsRef, {}, (event) => {
    const name = event.object.metadata.name!;
    if (!written.has(name) && event.object.spec?.http?.[0]?.route[1]?.weight === 20) written.set(name, Date.now());
  }, { signal: abort.signal });
  return { written, stop: async () => { abort.abort(); await watching.catch(() => undefined); } };
}

async function writesSoFar(side: Side, url: string): Promise<number> {
  return apiWrites(side.name === 'Rollway' ? 'rollway' : 'argo', await (await fetch(url)).text());
}

/** The promote of a rollout paused at `pause: {}`, as `kubectl argo rollouts promote` sends it (spec.paused is not set by a pause step). */
const promote = (cluster: Cluster, side: Side, ns: string, name: string): Promise<unknown> =>
  cluster.client.patch({ ...rolloutsRef(side, ns, name), subresource: 'status' }, 'merge', { status: { pauseConditions: null } });

async function stepAndMemory(cluster: Cluster, side: Side): Promise<Omit<Figures, 'readyMs'>> {
  const ns = await cluster.namespace('bench-argo-step');
  const { proc, metricsUrl } = await side.start(ns.name);
  try {
    await waitReady(side, proc);
    await createWorkload(cluster, side, ns.name);
    const weights = watchWeights(cluster, ns.name);
    await sleep(500);
    const [writesBefore, cpuBefore] = [await writesSoFar(side, metricsUrl()), cpuMs(proc.pid)];
    const promotedAt = new Map<string, number>();
    await Promise.all(Array.from({ length: COUNT }, (_, i) => (promotedAt.set(`s${i}`, Date.now()), promote(cluster, side, ns.name, `s${i}`))));
    await waitAll(cluster, side, ns.name, (ro) => ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 3, 300_000);
    await sleep(1000);
    await weights.stop();
    const [writesAfter, cpuAfter] = [await writesSoFar(side, metricsUrl()), cpuMs(proc.pid)];
    const latencies = [...promotedAt].map(([name, t]) => (weights.written.get(name) ?? NaN) - t);
    await sleep(15_000); // RSS once idle a while, as a long-running controller shows it
    return {
      stepP50: percentile(latencies, 0.5),
      stepP99: percentile(latencies, 0.99),
      stepCpuMs: cpuAfter - cpuBefore,
      writesPerRollout: (writesAfter - writesBefore) / COUNT,
      rssMiB: Math.round(rssMiB(proc.pid)),
    };
  } finally {
    // The namespace goes first: Rollway holds a finalizer on a Rollout while it routes traffic.
    await removed(cluster, ns);
    await proc.kill('SIGKILL');
  }
}

/** Deletes a namespace and waits until it is gone, so the next controller is alone on the cluster. */
async function removed(cluster: Cluster, ns: { name: string; remove: () => Promise<void> }): Promise<void> {
  await ns.remove();
  await cluster.waitFor({ group: '', version: 'v1', plural: 'namespaces', name: ns.name }, (o) => o === undefined, { timeoutMs: 300_000, intervalMs: 500 });
}

async function applyArgoCrds(cluster: Cluster): Promise<void> {
  const dir = execFileSync(path.join(repoRoot, 'hack/build-argo-rollouts.sh'), ['--crds'], { encoding: 'utf8' }).trim();
  const crdRef = (name?: string): ResourceRef => ({ group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name });
  for (const file of readdirSync(dir).filter((f) => f.endsWith('-crd.yaml'))) {
    for (const crd of parseYamlObjects(readFileSync(path.join(dir, file), 'utf8'))) {
      await cluster.client.apply(crdRef(crd.metadata.name), crd, 'rollway-bench-argo');
      await cluster.waitFor(crdRef(crd.metadata.name), (c) => ((c as { status?: { conditions?: { type: string; status: string }[] } } | undefined)?.status?.conditions ?? []).some((x) => x.type === 'Established' && x.status === 'True'));
    }
  }
}

async function main(): Promise<void> {
  if (!SECTIONS.has('argo')) return;
  const binary = argoBinary();
  if (!binary) {
    process.stdout.write('Argo Rollouts comparison: skipped, the Argo Rollouts controller is not built (make bench-argo builds it from its Go module, or hack/build-argo-rollouts.sh)\n');
    return;
  }
  const kubeconfig = ensureCluster();
  const cluster = new Cluster(kubeconfig);
  await applyArgoCrds(cluster);
  const figures = new Map<string, Figures>();
  for (const side of [rollwaySide(kubeconfig), argoSide(binary, kubeconfig)]) {
    const readyMs = await startup(cluster, side);
    figures.set(side.name, { readyMs, ...(await stepAndMemory(cluster, side)) });
    process.stderr.write(`bench-argo: ${side.name} measured: ${JSON.stringify(figures.get(side.name))}\n`);
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  const [ours, argo] = [figures.get('Rollway')!, figures.get('Argo Rollouts')!];
  for (const line of comparisonLines(ours, argo, COUNT, load)) process.stdout.write(`${line}\n`);
  if (process.env.BENCH_README) {
    // Into the README's bench table beside the other sections' rows, named apart by their prefix.
    const file = path.resolve(repoRoot, process.env.BENCH_README);
    mergeIntoReadme(file, comparisonRows(ours, argo, COUNT).map((r) => ({ what: `Rollway vs Argo Rollouts: ${r.what}`, figure: r.figure })), `load average ${load}`);
    process.stdout.write(`bench-argo: the table in ${file} is updated\n`);
  }
  cluster.close();
}

await main();
