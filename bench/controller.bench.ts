// `make bench`: figures, not pass/fail. Runs the controller as its own process against the local
// control plane and measures what design brief §9 sets targets for:
//   - timed pause accuracy (how late a pause ends after its deadline), p50/p99
//   - API writes per weight step, and per settled reconcile
//   - idle cost: API calls while nothing changes
//   - resident memory with N rollouts, and the time to resume (caches synced) after a restart
//   - a pure weight step through Istio: promote → VirtualService written, alone and 100 at once
// Settings: BENCH_ROLLOUTS (default 1000), BENCH_PAUSES (default 20), BENCH_STEPPERS (default 100),
// BENCH_SECTIONS (default pause,scale,step,startup,memory; `large` adds the 10,000-rollout section,
// sized by BENCH_LARGE_ROLLOUTS), BENCH_STARTS (start-ups timed on an empty namespace, default 5),
// BENCH_IDLE_MS (every idle window), BENCH_README=README.md (merge the printed table into the
// README's, bench/readme-table.ts; `make bench` sets it). Memory and start-up figures are in footprint.ts.
// Every controller runs as the image runs it (footprint.ts startAsImage: compiled, the Dockerfile's ENV).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Cluster, ensureCluster, kubeconfigPath, repoRoot, sleep, type ControllerProcess } from '../e2e/harness.ts';
import type { RolloutObject } from '../controller/controller.ts';
import { INSTANCE_ID_LABEL } from '../api/labels.ts';
import { KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { profileApiserver } from './apiserver-profile.ts';
import { cpuMs, memorySection, removeNamespace, rssMiB, startAsImage, startupSection, TARGETS } from './footprint.ts';
import { mergeIntoReadme } from './readme-table.ts';

const ROLLOUTS = Number(process.env.BENCH_ROLLOUTS ?? 1000);
const PAUSES = Number(process.env.BENCH_PAUSES ?? 20);
const STEPPERS = Number(process.env.BENCH_STEPPERS ?? 100);
// More flags for the controllers the bench starts, e.g. BENCH_CONTROLLER_ARGS=--workers=48
const CONTROLLER_ARGS = (process.env.BENCH_CONTROLLER_ARGS ?? '').split(' ').filter((a) => a !== '');
/** CPU used so far by the control plane's kube-apiserver and etcd (their pid files), to say what bounds a burst. */
function controlPlaneCpuMs(): number {
  const run = path.join(process.env.ROLLWAY_CLUSTER_DIR ?? path.join(repoRoot, '.cluster'), 'run');
  return ['kube-apiserver', 'etcd'].reduce((sum, name) => sum + cpuMs(Number(readFileSync(path.join(run, `${name}.pid`), 'utf8').trim())), 0);
}
/** a directory for kube-apiserver's CPU profile of the 100-step burst (apiserver-profile.ts) */
const APISERVER_PROF = process.env.BENCH_APISERVER_PROF;
const SECTIONS = new Set((process.env.BENCH_SECTIONS ?? 'pause,scale,step,startup,memory').split(','));
const LARGE_ROLLOUTS = Number(process.env.BENCH_LARGE_ROLLOUTS ?? 10_000);
const STARTS = Number(process.env.BENCH_STARTS ?? 5);
/** overrides every idle window (30 s idle cost, 20-30 s before memory is read): CI's smoke run keeps them short */
const IDLE_MS = process.env.BENCH_IDLE_MS === undefined ? undefined : Number(process.env.BENCH_IDLE_MS);
const rolloutsRef = (ns: string, name?: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });

const rolloutManifest = (name: string, steps: unknown[], replicas = 1, image = 'app:1') => ({
  apiVersion: 'rollway.dev/v1alpha1',
  kind: 'Rollout',
  metadata: { name },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image }] } },
    strategy: { canary: { steps } },
  },
});

async function metrics(controller: ControllerProcess): Promise<Map<string, number>> {
  const port = /metrics listening address=127\.0\.0\.1:(\d+)/.exec(controller.logs())?.[1];
  if (!port) throw new Error('controller metrics port not found in its log');
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    out.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return out;
}

/**
 * The p-quantile of what a histogram observed between two scrapes, as the upper bound of its
 * bucket ("≤ 50 ms"): the exact value is not in the exposition.
 */
function bucketQuantile(before: Map<string, number>, after: Map<string, number>, family: string, p: number): string {
  const buckets = [...after]
    .map(([key, n]) => ({ le: /_bucket\{le="([^"]+)"\}$/.exec(key)?.[1], key, n: n - (before.get(key) ?? 0) }))
    .filter((b) => b.key.startsWith(`${family}_bucket{`) && b.le !== undefined);
  const total = buckets.find((b) => b.le === '+Inf')?.n ?? 0;
  const hit = buckets.find((b) => b.n >= Math.ceil(p * total));
  if (total === 0 || !hit) return 'none observed';
  return hit.le === '+Inf' ? 'beyond the last bucket' : `≤ ${Number(hit.le) * 1000} ms`;
}

function apiCalls(m: Map<string, number>): { writes: number; reads: number; byCall: Map<string, number> } {
  let writes = 0;
  let reads = 0;
  const byCall = new Map<string, number>();
  for (const [key, n] of m) {
    const call = /rollway_api_calls_total\{verb="(\w+)",status="(\w+)"/.exec(key);
    const verb = call?.[1];
    if (!verb) continue;
    byCall.set(`${verb} ${call[2]}`, n);
    if (['create', 'update', 'patch', 'apply', 'delete'].includes(verb)) writes += n;
    else if (verb !== 'watch') reads += n;
  }
  return { writes, reads, byCall };
}

/**
 * Polls the controller's API calls until it has written nothing for 500 ms (at most 6 s); `sample`
 * (CPU counters) is read when its last write was first seen, so the quiet wait is not counted.
 */
async function writesSettled<T>(controller: ControllerProcess, sample: () => T): Promise<{ calls: ReturnType<typeof apiCalls>; sampled: T }> {
  let calls = apiCalls(await metrics(controller));
  let sampled = sample();
  let lastWriteSeen = performance.now();
  const deadline = lastWriteSeen + 6000;
  while (performance.now() - lastWriteSeen < 500 && performance.now() < deadline) {
    await sleep(50);
    const now = apiCalls(await metrics(controller));
    if (now.writes !== calls.writes) {
      sampled = sample();
      lastWriteSeen = performance.now();
    }
    calls = now;
  }
  return { calls, sampled };
}

/** "list 200 ×1, get 404 ×2": the calls made between two readings, watches left out. */
function callsBetween(before: ReturnType<typeof apiCalls>, after: ReturnType<typeof apiCalls>): string {
  const made = [...after.byCall].map(([call, n]) => [call, n - (before.byCall.get(call) ?? 0)] as const).filter(([call, n]) => n > 0 && !call.startsWith('watch'));
  return made.map(([call, n]) => `${call} ×${n}`).join(', ');
}

/** "(target …: met)" after a figure of the step, pause and Event targets (issue 16). */
const target = (what: string, met: boolean): string => `(target ${what}: ${met ? 'met' : 'not met'})`;
const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
};

async function waitAll(cluster: Cluster, ns: string, count: number, until: (ro: RolloutObject) => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const items = await cluster.list<RolloutObject>(rolloutsRef(ns));
    const ok = items.filter((ro) => ro.status?.observedGeneration === String(ro.metadata.generation) && until(ro)).length;
    if (ok === count) return;
    if (Date.now() > deadline) throw new Error(`bench: only ${ok}/${count} rollouts reached the state in ${timeoutMs}ms`);
    await sleep(500);
  }
}

// BENCH_CPU_PROF=DIR: every controller the bench starts writes a CPU profile there when it stops;
// the bench prints the window of the parts worth looking at, for bench/cpu-profile.ts.
if (process.env.BENCH_CPU_PROF) process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${process.env.BENCH_CPU_PROF}`.trim();
/** With BENCH_CPU_PROF, each controller's log goes beside its profile. */
const keepLog = (name: string, controller: ControllerProcess): void => {
  if (process.env.BENCH_CPU_PROF) writeFileSync(`${process.env.BENCH_CPU_PROF}/${name}.log`, controller.logs());
};
const monotonicUs = (): bigint => process.hrtime.bigint() / 1000n;
function profileMark(): (what: string) => void {
  const from = monotonicUs();
  return (what) => {
    if (process.env.BENCH_CPU_PROF) process.stdout.write(`cpu profile window (${what}): node bench/cpu-profile.ts FILE ${from} ${monotonicUs()}\n`);
  };
}

/** `count` Rollouts s0… routed by Istio (a VirtualService and two Services each), 4 pods, paused at step 1 after an update. */
async function createSteppers(cluster: Cluster, ns: string, count: number): Promise<void> {
  const steps = [{ setWeight: 10 }, { pause: {} }, { setWeight: 20 }, { pause: {} }];
  for (let i = 0; i < count; i += 20) {
    await Promise.all(
      Array.from({ length: Math.min(20, count - i) }, async (_, k) => {
        const name = `s${i + k}`;
        await cluster.apply(
          ['stable', 'canary'].map((role) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `${name}-${role}` }, spec: { selector: { app: name }, ports: [{ port: 80 }] } })),
          ns,
        );
        await cluster.apply(
          {
            apiVersion: 'networking.istio.io/v1',
            kind: 'VirtualService',
            metadata: { name },
            spec: { hosts: [name], http: [{ name: 'primary', route: [{ destination: { host: `${name}-stable` }, weight: 100 }, { destination: { host: `${name}-canary` }, weight: 0 }] }] },
          },
          ns,
        );
        const ro = rolloutManifest(name, steps, 4);
        (ro.spec.strategy.canary as Record<string, unknown>).canaryService = `${name}-canary`;
        (ro.spec.strategy.canary as Record<string, unknown>).stableService = `${name}-stable`;
        (ro.spec.strategy.canary as Record<string, unknown>).trafficRouting = { istio: { virtualService: { name, routes: ['primary'] } } };
        await cluster.apply(ro, ns);
      }),
    );
  }
  await waitAll(cluster, ns, count, (ro) => ro.metadata.name!.startsWith('s') && ro.status?.phase === 'Healthy', 300_000);
  for (let i = 0; i < count; i++) await cluster.patch(rolloutsRef(ns, `s${i}`), { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } });
}

/**
 * Promotes s0…s(count-1) at once (their pause removed, as `rollway promote` does); answers when
 * each was sent and how long the API server took to acknowledge it (a bound of the burst).
 */
async function promoteAll(cluster: Cluster, ns: string, count: number): Promise<Map<string, { at: number; ackMs: number }>> {
  const promoted = new Map<string, { at: number; ackMs: number }>();
  await Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const at = Date.now();
      await cluster.client.patch({ ...rolloutsRef(ns, `s${i}`), subresource: 'status' }, 'merge', { status: { pauseConditions: null } });
      promoted.set(`s${i}`, { at, ackMs: Date.now() - at });
    }),
  );
  return promoted;
}

const FLOOR_PROBE = 'floor-';

/**
 * What a controller that took no time at all would get: at each pause's deadline the bench writes
 * the status of a Rollout of its own for that pausing Rollout, one no controller handles (another
 * instance's label), and the pause section's watcher tells when it sees the write. The writes go
 * over a client of their own, as a controller's would: not queued behind the bench's promotes.
 */
function floorProbe(cluster: Cluster, ns: string) {
  const client = KubeClient.fromKubeconfig({ path: kubeconfigPath() });
  const deadlines = new Map<string, number>();
  const seenAt = new Map<string, number>();
  const timers: NodeJS.Timeout[] = [];
  let failed = 0;
  return {
    create: (rollout: string) => cluster.apply({ ...rolloutManifest(FLOOR_PROBE + rollout, [{ setWeight: 50 }], 0), metadata: { name: FLOOR_PROBE + rollout, labels: { [INSTANCE_ID_LABEL]: 'bench-floor-probe' } } }, ns),
    writeAt(rollout: string, deadline: number): void {
      deadlines.set(FLOOR_PROBE + rollout, deadline);
      const write = (): Promise<unknown> => client.patch({ ...rolloutsRef(ns, FLOOR_PROBE + rollout), subresource: 'status' }, 'merge', { status: { message: 'deadline' } });
      timers.push(setTimeout(() => void write().catch(() => failed++), Math.max(0, deadline - Date.now())));
    },
    seen(ro: RolloutObject): void {
      const name = ro.metadata.name!;
      if (ro.status?.message === 'deadline' && !seenAt.has(name)) seenAt.set(name, Date.now());
    },
    async allSeen(timeoutMs: number): Promise<void> {
      const until = Date.now() + timeoutMs;
      while (seenAt.size + failed < deadlines.size && Date.now() < until) await sleep(50);
    },
    lateness: (): number[] => [...seenAt].map(([name, at]) => at - deadlines.get(name)!),
    failed: (): number => failed,
    close(): void {
      for (const timer of timers) clearTimeout(timer);
      client.close();
    },
  };
}
type FloorProbe = ReturnType<typeof floorProbe>;

type Report = (what: string, figure: string) => void;

/**
 * Watches `ref` until `signal` aborts, calling `onObject` for each object event. Under load the
 * API server ends watches early: each is resumed from the last version seen, so none is missed.
 */
async function watchResuming<T extends KubeObject>(cluster: Cluster, ref: ResourceRef, onObject: (object: T) => void, signal: AbortSignal): Promise<void> {
  let seen: string | undefined;
  const onEvent = (event: { object: T }): void => {
    seen = event.object.metadata.resourceVersion ?? seen;
    if (event.object.metadata.name !== undefined) onObject(event.object); // else a bookmark
  };
  while (!signal.aborted) {
    await cluster.client.watch<T>(ref, seen ? { resourceVersion: seen } : {}, onEvent, { signal }).catch(() => sleep(100));
  }
}

/** Finite values only: a Rollout a watcher never saw is counted apart, not turned into a figure. */
const seenOnly = (values: number[]): number[] => values.filter(Number.isFinite);

/**
 * Timed pause accuracy: PAUSES Rollouts pausing 3 s alone (steppers 0), or while `steppers` other
 * Rollouts are promoted 300 ms before the first pause ends (their weight steps in flight then).
 */
async function pauseSection(cluster: Cluster, report: Report, steppers: number): Promise<void> {
  const ns = await cluster.namespace('bench-pause');
  // The default lease (the harness's 3 s one lapses under load: its 2 s renew deadline stopped
  // writes for seconds at load average 25, which was most of the pauses' lateness then).
  const controller = startAsImage(ns.name, ['--lease-duration=15s', ...CONTROLLER_ARGS]);
  const floor = floorProbe(cluster, ns.name);
  try {
    const steps = [{ setWeight: 50 }, { pause: { duration: '3s' } }, { setWeight: 100 }];
    for (let i = 0; i < PAUSES; i++) await cluster.apply(rolloutManifest(`p${i}`, steps, 2), ns.name);
    for (let i = 0; i < PAUSES; i++) await floor.create(`p${i}`);
    await waitAll(cluster, ns.name, PAUSES, (ro) => ro.status?.phase === 'Healthy', 120_000);
    if (steppers > 0) {
      await createSteppers(cluster, ns.name, steppers);
      await waitAll(cluster, ns.name, PAUSES + steppers, (ro) => ro.metadata.name!.startsWith('p') || (ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1), 300_000);
    }
    const scrapedBefore = await metrics(controller);
    const run = await runPauses(cluster, ns.name, steppers, floor);
    reportPauses(report, steppers, run, floor, { before: scrapedBefore, after: await metrics(controller) });
  } finally {
    floor.close();
    // The namespace goes while its controller still runs: routed Rollouts carry the
    // rollway.dev/traffic-routing finalizer, which only a controller takes off.
    await removeNamespace(cluster, ns).finally(() => controller.kill());
    keepLog(ns.name, controller);
  }
}

interface PauseRun {
  /** pausing Rollout → its pause's start, and when a watcher saw it leave the pause */
  starts: Map<string, number>;
  ends: Map<string, number>;
  /** stepping Rollout → when a watcher saw it reach its next pause */
  stepped: Map<string, number>;
  /** when the steppers were promoted (0 without them) */
  promoted: number;
}

/**
 * Updates the pausing Rollouts, then watches each leave its pause: lateness = seen − (start + 3 s).
 * Under load the pauses start over seconds, as their canary pods become ready; the steppers are
 * promoted 300 ms before the first deadline, so that a burst of 100 steps lasts through them.
 */
async function runPauses(cluster: Cluster, ns: string, steppers: number, floor: FloorProbe): Promise<PauseRun> {
  const run: PauseRun = { starts: new Map(), ends: new Map(), stepped: new Map(), promoted: 0 };
  let firstStarted: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstStarted = resolve));
  const onRollout = (ro: RolloutObject): void => {
    const name = ro.metadata.name!;
    if (name.startsWith(FLOOR_PROBE)) return floor.seen(ro);
    const stepIndex = ro.status?.currentStepIndex ?? 0;
    if (!name.startsWith('p')) {
      if (!run.stepped.has(name) && stepIndex >= 3) run.stepped.set(name, Date.now());
      return;
    }
    const pause = ro.status?.pauseConditions?.[0];
    if (pause && !run.starts.has(name)) floor.writeAt(name, Date.parse(pause.startTime) + 3000);
    if (pause) run.starts.set(name, Date.parse(pause.startTime));
    if (run.starts.size > 0) firstStarted();
    if (run.starts.has(name) && !run.ends.has(name) && stepIndex >= 2) run.ends.set(name, Date.now());
  };
  const abort = new AbortController();
  const watching = watchResuming<RolloutObject>(cluster, rolloutsRef(ns), onRollout, abort.signal);
  try {
    for (let i = 0; i < PAUSES; i++) await cluster.patch(rolloutsRef(ns, `p${i}`), { spec: { template: { spec: { containers: [{ name: 'app', image: 'app:2' }] } } } });
    if (steppers > 0) {
      await started;
      const deadlines = [...run.starts.values()].map((t) => t + 3000);
      await sleep(Math.max(0, Math.min(...deadlines) - 300 - Date.now()));
      run.promoted = Date.now();
      await promoteAll(cluster, ns, steppers);
    }
    await waitAll(cluster, ns, PAUSES + steppers, (ro) => ro.metadata.name!.startsWith('p') ? ro.status?.phase === 'Healthy' && ro.status.stableRS === ro.status.currentPodHash : (ro.status?.currentStepIndex ?? 0) >= 3, 120_000);
    await floor.allSeen(10_000);
  } finally {
    abort.abort();
    await watching;
  }
  return run;
}

/** The pause section's rows. Their names stay the same from run to run (the README table is keyed by them). */
function reportPauses(report: Report, steppers: number, run: PauseRun, floor: FloorProbe, scraped: { before: Map<string, number>; after: Map<string, number> }): void {
  const lateness = [...run.ends].map(([name, end]) => end - (run.starts.get(name)! + 3000));
  const p99 = percentile(lateness, 0.99);
  const earliest = Math.min(...lateness);
  const deadlines = [...run.starts.values()].map((t) => t + 3000);
  const during = steppers > 0 ? ` while ${steppers} Istio rollouts step` : '';
  // What this run's burst looked like goes with the figure.
  const burst = steppers > 0
    ? `; the ${steppers} were promoted ${Math.min(...deadlines) - run.promoted} ms before the first deadline, the deadlines spanned ${Math.max(...deadlines) - Math.min(...deadlines)} ms and the steps ended ${Math.max(...run.stepped.values()) - Math.max(...deadlines)} ms after the last one`
    : '';
  report(
    `timed pause lateness, ${lateness.length} pauses of 3 s${during} (deadline → status change seen by a watcher)`,
    `p50 ${percentile(lateness, 0.5)} ms, p99 ${p99} ms, earliest ${earliest} ms ${target('p99 ≤ 50 ms, never early', p99 <= 50 && earliest >= 0)}; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}${burst}`,
  );
  const floorLateness = floor.lateness();
  report(
    `the floor of that lateness here: a status write sent by the bench itself at each deadline, of a Rollout no controller handles, seen by the same watcher${during}`,
    `p50 ${percentile(floorLateness, 0.5)} ms, p99 ${percentile(floorLateness, 0.99)} ms (${floorLateness.length} of ${PAUSES} seen${floor.failed() > 0 ? `, ${floor.failed()} writes failed` : ''}): what a controller that took no time at all would get on this control plane`,
  );
  // Where the lateness is: until the controller's write of the pause's end was acknowledged
  // (its /metrics), and from there until a watcher saw it (the API server's watch delivery).
  const written = (q: number): string => bucketQuantile(scraped.before, scraped.after, 'rollway_timed_pause_end_delay_seconds', q);
  report(`timed pause end written (deadline → the controller's status write acknowledged, rollway_timed_pause_end_delay_seconds)${during}`, `p50 ${written(0.5)}, p99 ${written(0.99)}`);
  if (steppers === 0) {
    const writes = apiCalls(scraped.after).writes - apiCalls(scraped.before).writes;
    report('API writes per rollout for one update (2 pods, steps setWeight 50, pause 3s, setWeight 100: create RS, scales, status, events)', `${(writes / PAUSES).toFixed(1)}`);
  }
}

/** A pure weight step through a router: `count` Rollouts promoted at once, promote → VirtualService weight written. */
async function stepSection(cluster: Cluster, report: Report, count: number): Promise<void> {
  const ns = await cluster.namespace(`bench-step-${count}`);
  const controller = startAsImage(ns.name, ['--leader-elect=false', ...CONTROLLER_ARGS]);
  const abort = new AbortController();
  try {
    await createSteppers(cluster, ns.name, count);
    await waitAll(cluster, ns.name, count, (ro) => ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 1, 300_000);
    const written = new Map<string, number>();
    const vsRef: ResourceRef = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns.name };
    const watching = watchResuming<KubeObject & { spec: { http: { route: { weight?: number }[] }[] } }>(cluster, vsRef, (vs) => {
      if (!written.has(vs.metadata.name!) && vs.spec?.http?.[0]?.route[1]?.weight === 20) written.set(vs.metadata.name!, Date.now());
    }, abort.signal);
    // When each promote itself was seen: the earliest any controller could act on it.
    const promoteSeen = new Map<string, number>();
    let promoting = false;
    const watchingRollouts = watchResuming<RolloutObject>(cluster, rolloutsRef(ns.name), (ro) => {
      if (promoting && !promoteSeen.has(ro.metadata.name!) && !ro.status?.pauseConditions?.length) promoteSeen.set(ro.metadata.name!, Date.now());
    }, abort.signal);
    await sleep(500);
    const before = apiCalls(await metrics(controller));
    const window = profileMark();
    const cpuBefore = { controller: cpuMs(controller.pid), controlPlane: controlPlaneCpuMs() };
    const apiserverProfile = APISERVER_PROF && count > 1 ? profileApiserver(kubeconfigPath(), APISERVER_PROF, `apiserver-${count}-promoted`, 4) : undefined;
    if (apiserverProfile) await sleep(100); // the profile runs from its request's arrival
    promoting = true;
    const promotedAt = await promoteAll(cluster, ns.name, count);
    await waitAll(cluster, ns.name, count, (ro) => ro.status?.phase === 'Paused' && ro.status.currentStepIndex === 3, 120_000);
    if (count > 1) window(`${count} rollouts promoted at once`);
    if (apiserverProfile) process.stdout.write(`bench: kube-apiserver profile of the burst in ${await apiserverProfile}\n`);
    // The step's Events follow the burst (kube/events.ts holds them while other writes go on):
    // counted, and their CPU too, once the controller has written nothing for a while.
    const { calls: after, sampled } = await writesSettled(controller, () => ({ controller: cpuMs(controller.pid), controlPlane: controlPlaneCpuMs() }));
    abort.abort();
    await Promise.all([watching, watchingRollouts]);
    const cpu = { controller: (sampled.controller - cpuBefore.controller) / count, controlPlane: (sampled.controlPlane - cpuBefore.controlPlane) / count };
    reportStep(report, count, { promotedAt, promoteSeen, written }, cpu, { before, after });
  } finally {
    abort.abort();
    // The namespace goes while its controller still runs: routed Rollouts carry the
    // rollway.dev/traffic-routing finalizer, which only a controller takes off.
    await removeNamespace(cluster, ns).finally(() => controller.kill());
    keepLog(ns.name, controller);
  }
}

/** The step section's rows: its latency, where it goes, and its API calls. */
function reportStep(
  report: Report,
  count: number,
  seen: { promotedAt: Awaited<ReturnType<typeof promoteAll>>; promoteSeen: Map<string, number>; written: Map<string, number> },
  cpu: { controller: number; controlPlane: number },
  calls: { before: ReturnType<typeof apiCalls>; after: ReturnType<typeof apiCalls> },
): void {
  const { promotedAt, promoteSeen, written } = seen;
  const latencies = seenOnly([...promotedAt].map(([name, { at }]) => (written.get(name) ?? NaN) - at));
  const seenAfter = seenOnly([...promotedAt].map(([name, { at }]) => (promoteSeen.get(name) ?? NaN) - at));
  const actedAfter = seenOnly([...promotedAt.keys()].map((name) => (written.get(name) ?? NaN) - (promoteSeen.get(name) ?? NaN)));
  const acks = [...promotedAt.values()].map((p) => p.ackMs);
  const stepP99 = percentile(latencies, 0.99);
  const unseen = count - latencies.length;
  report(
    `pure weight step with Istio (10% → 20%, no new pods), ${count} rollout(s) promoted at once: promote → VirtualService written`,
    `p50 ${percentile(latencies, 0.5)} ms, p99 ${stepP99} ms${count >= 100 ? ` ${target('p99 ≤ 1 s on an idle machine', stepP99 <= 1000 && unseen === 0)}` : ''}${unseen > 0 ? ` (${unseen} never seen written)` : ''}; the promotes acknowledged p50 ${percentile(acks, 0.5)} ms, p99 ${percentile(acks, 0.99)} ms; controller CPU ${cpu.controller.toFixed(1)} ms per rollout, kube-apiserver and etcd ${cpu.controlPlane.toFixed(1)} ms; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ')[0]}`,
  );
  report(
    `where that step's time goes, ${count} rollout(s) promoted at once: promote → the promote seen by a watcher (the earliest a controller can act); from there → VirtualService written`,
    `p50 ${percentile(seenAfter, 0.5)} ms, p99 ${percentile(seenAfter, 0.99)} ms; p50 ${percentile(actedAfter, 0.5)} ms, p99 ${percentile(actedAfter, 0.99)} ms (${actedAfter.length} of ${count} seen by both watches)`,
  );
  const { before, after } = calls;
  const writes = (after.writes - before.writes) / count;
  const reads = (after.reads - before.reads) / count;
  // One write per routing object (the VirtualService), the status, one Event for the step.
  // Totals too: a lost race (a conflict, a refused patch and its fresh read) shows as a fraction.
  report(`API writes per rollout for that step (VirtualService, status, Event)`, `${writes.toFixed(2)} (${callsBetween(before, after)}) ${target('≤ 3', writes <= 3)}`);
  report(`API reads (GET, LIST) per rollout for that step`, `${reads.toFixed(2)} (${after.reads - before.reads} in all) ${target('0', reads === 0)}`);
}

/** Scale: ROLLOUTS Rollouts created, their idle cost and memory, and a restart among them. */
async function scaleSection(cluster: Cluster, report: Report): Promise<void> {
  const ns = await cluster.namespace('bench-scale');
  // Without leader election: its Lease renewals (one write every ~2 s with the default 15 s
  // lease) would hide what the reconcilers themselves cost.
  let controller = startAsImage(ns.name, ['--leader-elect=false', ...CONTROLLER_ARGS]);
  try {
    const created = Date.now();
    for (let i = 0; i < ROLLOUTS; i += 20) {
      await Promise.all(Array.from({ length: Math.min(20, ROLLOUTS - i) }, (_, k) => cluster.apply(rolloutManifest(`r${i + k}`, [{ setWeight: 50 }, { pause: {} }]), ns.name)));
    }
    await waitAll(cluster, ns.name, ROLLOUTS, (ro) => ro.status?.phase === 'Healthy', 600_000);
    report(`${ROLLOUTS} rollouts created and Healthy`, `${((Date.now() - created) / 1000).toFixed(1)} s`);
    await sleep(3000);
    const m0 = apiCalls(await metrics(controller));
    await sleep(IDLE_MS ?? 30_000);
    const m1 = apiCalls(await metrics(controller));
    report(`idle cost over ${(IDLE_MS ?? 30_000) / 1000} s with ${ROLLOUTS} settled rollouts`, `${m1.writes - m0.writes} writes, ${m1.reads - m0.reads} reads (watches stay open)${m1.writes + m1.reads > m0.writes + m0.reads ? `: ${callsBetween(m0, m1)}` : ''}`);
    report(`controller resident memory with ${ROLLOUTS} rollouts`, `${rssMiB(controller.pid).toFixed(0)} MiB`);
    await controller.kill('SIGKILL');
    const restarted = Date.now();
    controller = startAsImage(ns.name, ['--leader-elect=false', ...CONTROLLER_ARGS]);
    for (let i = 0; i < 600 && !controller.logs().includes('controller started'); i++) await sleep(50);
    report(`restart: new process to caches synced and reconciling, ${ROLLOUTS} rollouts (no leader election)`, `${((Date.now() - restarted) / 1000).toFixed(2)} s`);
    await sleep(5000);
    const m2 = apiCalls(await metrics(controller));
    report(`writes by the restarted controller in its first 5 s (nothing changed meanwhile)`, `${m2.writes}`);
  } finally {
    // The namespace goes while its controller still runs: routed Rollouts carry the
    // rollway.dev/traffic-routing finalizer, which only a controller takes off.
    await removeNamespace(cluster, ns).finally(() => controller.kill());
    keepLog(ns.name, controller);
  }
}

async function main(): Promise<void> {
  ensureCluster();
  const cluster = new Cluster();
  const results: [string, string][] = [];
  const report: Report = (what, figure) => {
    results.push([what, figure]);
    process.stdout.write(`${what}: ${figure}\n`);
  };

  // 1. Timed pause accuracy: the pauses alone, then while `STEPPERS` other Rollouts step.
  for (const steppers of SECTIONS.has('pause') ? [0, STEPPERS] : []) await pauseSection(cluster, report, steppers);

  // 2. Scale: N rollouts, memory, idle cost, restart.
  if (SECTIONS.has('scale')) await scaleSection(cluster, report);
  // 3. A pure weight step through a router: promote → VirtualService weight written.
  for (const count of SECTIONS.has('step') ? [1, STEPPERS] : []) await stepSection(cluster, report, count);

  // 4. Footprint: start-up on an empty namespace, memory and restart with many rollouts.
  if (SECTIONS.has('startup')) await startupSection(cluster, report, STARTS);
  if (SECTIONS.has('memory')) {
    await memorySection(cluster, report, ROLLOUTS, { label: 'one pod each', replicas: () => 1, rssTarget: TARGETS.rssMiB1000, idleMs: IDLE_MS ?? 20_000, createTimeoutMs: 900_000 });
  }
  if (SECTIONS.has('large')) {
    await memorySection(cluster, report, LARGE_ROLLOUTS, { label: '0 or 1 pod each', replicas: (i) => i % 2, rssTarget: TARGETS.rssMiB10000, readyTarget: TARGETS.ready10000Ms, idleMs: IDLE_MS ?? 30_000, createTimeoutMs: 3_600_000 });
  }

  cluster.close();
  process.stdout.write(`\n| what | figure |\n|---|---|\n${results.map(([w, f]) => `| ${w} | ${f} |`).join('\n')}\n`);
  if (process.env.BENCH_README) {
    const file = path.resolve(repoRoot, process.env.BENCH_README);
    mergeIntoReadme(file, results.map(([what, figure]) => ({ what, figure })));
    process.stdout.write(`bench: the table in ${file} is updated\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
