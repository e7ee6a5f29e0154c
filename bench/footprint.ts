// The controller's footprint for `make bench` (issue 16): resident memory with many Rollouts and
// their pods, and the time from a new process to "controller started" (caches synced, reconciling),
// cluster-wide and namespaced, each against its target. Sections:
//   memory  BENCH_ROLLOUTS rollouts (1 pod each): RSS settled, restart time, RSS after the restart
//   startup an empty namespace: start → ready, best and median of BENCH_STARTS runs
//   large   BENCH_LARGE_ROLLOUTS (default 10000) rollouts of 0 or 1 replicas: RSS and restart time
// The cluster-wide controller runs with an --instance-id, so it plans only the bench's Rollouts
// (other suites share this control plane) while it caches every Rollway-labelled ReplicaSet and pod.
// The controller runs as the image runs it: restored from the startup snapshot of the bundled program
// (tools/build-snapshot.ts, into dist/, built first), with the Dockerfile's ENV. Start-up is also
// timed for the compiled JavaScript without the snapshot (`node cli/rollway.js` in the image, what it
// ran before) and for the TypeScript sources, each with an empty compile cache as a new pod has.
// Another cluster than the shared one: ROLLWAY_CLUSTER_DIR, ROLLWAY_API_PORT (hack/cluster.sh) and
// ROLLWAY_E2E_KUBECONFIG=$ROLLWAY_CLUSTER_DIR/kubeconfig.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, sleep, startController, type Cluster, type ControllerProcess } from '../e2e/harness.ts';
import { BLOB } from '../tools/build-snapshot.ts';
import { dockerfileEnv } from '../tools/image-files.ts';
import type { RolloutObject } from '../controller/controller.ts';
import type { ResourceRef } from '../kube/client.ts';

export type Report = (what: string, figure: string) => void;

export const TARGETS = {
  rssMiB1000: 120,
  rssMiB10000: 500,
  readyEmptyMs: 500,
  ready10000Ms: 5000,
};

const INSTANCE = 'bench-footprint';
const rolloutsRef = (ns: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns });

export const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
/** CPU time (user + system) a process has used, in ms: unlike wall time, not stretched by other load on a shared machine. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10; // utime, stime in clock ticks of 10 ms
}

/** "… (target ≤ 120 MiB: met)" */
export function versus(value: number, target: number, unit: string): string {
  return `target ≤ ${target} ${unit}: ${value <= target ? 'met' : 'not met'}`;
}

function rollout(name: string, replicas: number) {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name, labels: { 'rollway.dev/controller-instance-id': INSTANCE } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } },
      strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
    },
  };
}

/** Deletes a bench namespace and waits until it is gone: the next section must not share the machine with its deletion. */
export async function removeNamespace(cluster: Cluster, ns: { name: string; remove: () => Promise<void> }): Promise<void> {
  await ns.remove();
  await cluster.waitFor({ group: '', version: 'v1', plural: 'namespaces', name: ns.name }, (found) => found === undefined, { timeoutMs: 900_000, intervalMs: 1000, what: `namespace ${ns.name} deleted` });
}

/** How the controller is started: as the image's ENTRYPOINT does (the startup snapshot), the compiled program without it, or the TypeScript sources. */
export type Launcher = 'image' | 'compiled' | 'sources';
const LAUNCHERS: Record<Launcher, string[]> = {
  image: ['--snapshot-blob', path.join(repoRoot, 'dist', BLOB)],
  compiled: [path.join(repoRoot, 'dist/cli/rollway.js')],
  sources: [path.join(repoRoot, 'cli/rollway.js')],
};

/** The image's environment (its Dockerfile's ENV lines), Node options added to the bench's own (BENCH_CPU_PROF). */
function imageEnv(): Record<string, string> {
  const env = dockerfileEnv(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
  const nodeOptions = [process.env.NODE_OPTIONS, env.NODE_OPTIONS].filter(Boolean).join(' ');
  return { ...env, ...(nodeOptions ? { NODE_OPTIONS: nodeOptions } : {}) };
}

/** BENCH_LAUNCHER picks how every section starts its controllers (A/B runs); default as the image does. */
function defaultLauncher(): Launcher {
  const chosen = process.env.BENCH_LAUNCHER || 'image';
  if (!(chosen in LAUNCHERS)) throw new Error(`bench: BENCH_LAUNCHER=${chosen}: use ${Object.keys(LAUNCHERS).join(', ')}`);
  return chosen as Launcher;
}

let built = false;
/** Builds the program as the image's build stages do (tsc into dist/, then the bundle and its snapshot), once per bench. */
function buildCompiled(): void {
  if (built) return;
  execFileSync(path.join(repoRoot, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json'], { cwd: repoRoot, stdio: 'inherit' });
  execFileSync(path.join(repoRoot, 'node_modules/.bin/node'), ['tools/build-snapshot.ts', 'dist'], { cwd: repoRoot, stdio: 'inherit' });
  built = true;
}

function start(ns: string, clusterWide: boolean, launcher: Launcher = 'image'): ControllerProcess {
  return startAsImage(ns, ['--leader-elect=false', `--instance-id=${INSTANCE}`], { allNamespaces: clusterWide, launcher });
}

/**
 * A controller run as the image runs it: the compiled program (built first, once), the
 * Dockerfile's ENV, and an empty compile cache, as a new pod has (the cache lives in its /tmp).
 */
export function startAsImage(ns: string, args: string[], options: { allNamespaces?: boolean; launcher?: Launcher; kubeconfig?: string } = {}): ControllerProcess {
  const launcher = options.launcher ?? defaultLauncher();
  if (launcher !== 'sources') buildCompiled();
  const cache = mkdtempSync(path.join(os.tmpdir(), 'rollway-bench-cc-'));
  const { launcher: _, ...rest } = options;
  const controller = startController(ns, args, { ...rest, launcher: LAUNCHERS[launcher], env: { ...imageEnv(), NODE_COMPILE_CACHE: cache } });
  const kill = controller.kill;
  return { ...controller, kill: async (signal) => { await kill(signal); rmSync(cache, { recursive: true, force: true }); } };
}

/** Milliseconds from spawning a controller to its "controller started" line. */
async function timedStart(ns: string, clusterWide: boolean, launcher: Launcher = 'image', timeoutMs = 120_000): Promise<{ controller: ControllerProcess; ms: number; cpu: number }> {
  const spawned = performance.now();
  const controller = start(ns, clusterWide, launcher);
  const deadline = spawned + timeoutMs;
  while (!controller.logs().includes('controller started')) {
    if (performance.now() > deadline) {
      await controller.kill('SIGKILL');
      throw new Error(`bench: the controller did not start within ${timeoutMs} ms:\n${controller.logs().slice(-2000)}`);
    }
    await sleep(5);
  }
  return { controller, ms: Math.round(performance.now() - spawned), cpu: cpuMs(controller.pid) };
}

async function createRollouts(cluster: Cluster, ns: string, count: number, replicas: (i: number) => number): Promise<void> {
  for (let i = 0; i < count; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, count - i) }, (_, k) => cluster.client.create({ ...rolloutsRef(ns) }, rollout(`f${i + k}`, replicas(i + k)))));
  }
}

/** Healthy Rollouts counted page by page: one LIST of 10,000 Rollouts outlasts the client's 30 s on a loaded machine. */
async function countHealthy(cluster: Cluster, ns: string): Promise<number> {
  let ok = 0;
  let next: string | undefined;
  do {
    const page = await cluster.client.list<RolloutObject>(rolloutsRef(ns), { limit: '500', ...(next ? { continue: next } : {}) });
    ok += page.items.filter((ro) => ro.status?.observedGeneration === String(ro.metadata.generation) && ro.status?.phase === 'Healthy').length;
    next = page.metadata.continue || undefined;
  } while (next);
  return ok;
}

async function waitHealthy(cluster: Cluster, ns: string, count: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let ok = 0;
  for (;;) {
    // A count that times out while thousands of objects are written is tried again, until the deadline.
    ok = await countHealthy(cluster, ns).catch((err: unknown) => (process.stderr.write(`bench: counting Healthy rollouts: ${String(err)}\n`), ok));
    if (ok === count) return;
    if (Date.now() > deadline) throw new Error(`bench: only ${ok}/${count} rollouts Healthy after ${timeoutMs} ms`);
    await sleep(Math.min(10_000, 500 + count));
  }
}

/** RSS once the process has been idle a while (the figure a long-running controller shows). */
async function settledRss(controller: ControllerProcess, idleMs: number): Promise<number> {
  await sleep(idleMs);
  return Math.round(rssMiB(controller.pid));
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? NaN;

/** Start on an empty namespace: as the image starts, namespaced and cluster-wide; without the snapshot and from the sources, namespaced. */
export async function startupSection(cluster: Cluster, report: Report, runs: number): Promise<void> {
  buildCompiled();
  const ns = await cluster.namespace('bench-empty');
  try {
    for (const [launcher, clusterWide] of [['image', false], ['image', true], ['compiled', false], ['sources', false]] as const) {
      const times: number[] = [];
      const cpu: number[] = [];
      let rss = 0;
      for (let i = 0; i < runs; i++) {
        const started = await timedStart(ns.name, clusterWide, launcher);
        const controller = started.controller;
        times.push(started.ms);
        cpu.push(started.cpu);
        if (i === runs - 1) rss = await settledRss(controller, 5000);
        // SIGKILL: ends it at once, so the next start does not share the machine with a shutdown.
        await controller.kill('SIGKILL');
      }
      const scope = clusterWide ? 'cluster-wide (the other suites\' objects on this control plane included)' : 'namespaced';
      const how = { image: 'as the image starts (startup snapshot)', compiled: 'compiled JavaScript without the snapshot, empty compile cache', sources: 'TypeScript sources (type stripping), empty compile cache' }[launcher];
      const best = Math.min(...times);
      report(`start on an empty namespace → ready, ${scope}, ${how}: best / median of ${runs}`, `${best} / ${median(times)} ms (${versus(median(times), TARGETS.readyEmptyMs, 'ms')}); CPU used by then ${median(cpu)} ms; RSS ${rss} MiB`);
    }
  } finally {
    await removeNamespace(cluster, ns);
  }
}

/**
 * `count` rollouts: RSS settled, then a SIGKILL and a restart (time to ready, RSS again), once
 * cluster-wide and once namespaced.
 */
export async function memorySection(cluster: Cluster, report: Report, count: number, options: { label: string; replicas: (i: number) => number; rssTarget: number; readyTarget?: number; idleMs: number; createTimeoutMs: number }): Promise<void> {
  buildCompiled();
  const ns = await cluster.namespace(`bench-memory-${count}`);
  let controller: ControllerProcess | undefined = start(ns.name, true);
  try {
    const created = Date.now();
    await createRollouts(cluster, ns.name, count, options.replicas);
    await waitHealthy(cluster, ns.name, count, options.createTimeoutMs);
    report(`${count} rollouts (${options.label}) created and Healthy`, `${((Date.now() - created) / 1000).toFixed(0)} s`);
    const first = await settledRss(controller, options.idleMs);
    for (const clusterWide of [true, false]) {
      await controller.kill('SIGKILL');
      controller = undefined;
      const restarted = await timedStart(ns.name, clusterWide);
      controller = restarted.controller;
      const after = await settledRss(controller, options.idleMs);
      const scope = clusterWide ? 'cluster-wide' : 'namespaced';
      const rssFigure = clusterWide ? `${first} MiB after creating them, ${after} MiB after a restart` : `${after} MiB after a restart`;
      report(`controller resident memory with ${count} rollouts and their pods (${options.label}), ${scope}`, `${rssFigure} (${versus(Math.max(after, clusterWide ? first : 0), options.rssTarget, 'MiB')})`);
      const ready = options.readyTarget === undefined ? '' : ` (${versus(restarted.ms, options.readyTarget, 'ms')})`;
      report(`restart with ${count} rollouts (${options.label}), ${scope}: new process → caches synced and reconciling`, `${restarted.ms} ms${ready}; CPU used by then ${restarted.cpu} ms`);
    }
  } finally {
    await controller?.kill('SIGKILL');
    await removeNamespace(cluster, ns);
  }
}
