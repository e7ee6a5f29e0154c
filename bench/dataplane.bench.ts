// `make bench-dataplane` (part of `make bench` as root): how long after a step's status change the
// data plane serves the new weight, through a real Traefik (its Gateway API provider: HTTPRoute
// backendRef weights written by our Gateway API router) to pods that answer
// (e2e/dataplane/pod-server.ts). Runs inside hack/netns.sh's network namespace, on a cluster of its own.
//
// Each Rollout keeps one stable and one canary pod (setCanaryScale) and alternates setWeight 100
// and setWeight 0, with a pause after each. Before a step every answer comes from one ReplicaSet
// and after it every answer from the other, so the first answer from the other ReplicaSet is,
// unambiguously, the first response served by the new weight. Each host is probed (one keep-alive
// connection, a GET every few ms) from before the promote until that answer.
// Per step: the status write that leaves the pause, seen by a watcher → that first answer; also
// promote → first answer and HTTPRoute write seen → first answer (Traefik's own share).
//
// Settings: BENCH_DATAPLANE_ROLLOUTS (default 100, promoted at once, BENCH_DATAPLANE_ROUNDS times,
// default 2), BENCH_DATAPLANE_STEPS (steps of the single Rollout, one at a time, default 20),
// BENCH_DATAPLANE_PROBE_MS (default 5; BENCH_DATAPLANE_PROBE_RPS, default 400, bounds all hosts' probes together), BENCH_DATAPLANE_GAP_MS (pause before each promote, default 5000).
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { RolloutObject } from '../api/views.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { Cluster, ensureCluster, sleep, startController } from '../e2e/harness.ts';
import { applyClasses, GATEWAY_CLASS, requireNetns, startPodServer, startTraefik, type Traefik } from '../e2e/dataplane/support.ts';

const ROLLOUTS = Number(process.env.BENCH_DATAPLANE_ROLLOUTS ?? 100);
const ROUNDS = Number(process.env.BENCH_DATAPLANE_ROUNDS ?? 2);
const SINGLE_STEPS = Number(process.env.BENCH_DATAPLANE_STEPS ?? 20);
const PROBE_MS = Number(process.env.BENCH_DATAPLANE_PROBE_MS ?? 5);
/** All hosts' probes together stay under this rate: on a shared 2-core machine they would take the CPU the controller and Traefik need. */
const PROBE_RPS = Number(process.env.BENCH_DATAPLANE_PROBE_RPS ?? 400);
/** Each host's probe interval with `count` hosts. */
const probeEvery = (count: number): number => Math.max(PROBE_MS, (1000 * count) / PROBE_RPS);
/**
 * How long each pause lasts before its promote. Real pauses last minutes. Traefik forwards a
 * provider's new configuration at most once per providersThrottleDuration (2 s by default; the
 * provider's own throttleDuration is 0 here), so a step that comes less than 2 s after the last
 * applied change waits for the rest of that time: back-to-back steps (BENCH_DATAPLANE_GAP_MS=0)
 * measure that throttle more than the step.
 */
const GAP_MS = Number(process.env.BENCH_DATAPLANE_GAP_MS ?? 5000);
const TIMEOUT_MS = 180_000;

const now = (): number => performance.now();
const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const rolloutsRef = (ns: string, name?: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const routesRef = (ns: string): ResourceRef => ({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: ns });
/** Host names carry the namespace: the sections' Rollouts share names and Traefik serves them all. */
const hostOf = (ns: string, name: string): string => `${name}.${ns}.bench.test`;
/** Round r ends the pause at index 1 + 2r and sets weight 100 (even r) or 0 (odd r). */
const pauseOf = (round: number): number => 1 + 2 * round;
const weightOf = (round: number): number => (round % 2 === 0 ? 100 : 0);

function steps(rounds: number): Record<string, unknown>[] {
  const weights = Array.from({ length: rounds }, (_, r) => [{ setWeight: weightOf(r) }, { pause: {} }]);
  return [{ setCanaryScale: { replicas: 1 } }, { pause: {} }, ...weights.flat()];
}

/** Stable and canary Services, the HTTPRoute on the namespace's Gateway, and the Rollout. */
function objects(ns: string, name: string, rounds: number): KubeObject[] {
  const service = (role: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `${name}-${role}` }, spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] } });
  const backends = [{ name: `${name}-stable`, port: 80, weight: 100 }, { name: `${name}-canary`, port: 80, weight: 0 }];
  const route = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name }, spec: { parentRefs: [{ name: 'gw' }], hostnames: [hostOf(ns, name)], rules: [{ backendRefs: backends }] } };
  const template = { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: 'example.com/app:1', ports: [{ containerPort: 8080 }] }] } };
  const canary = { stableService: `${name}-stable`, canaryService: `${name}-canary`, scaleDownDelaySeconds: 0, trafficRouting: { gatewayAPI: { httpRoutes: [{ name }] } }, steps: steps(rounds) };
  const rollout = { apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', metadata: { name }, spec: { replicas: 1, selector: { matchLabels: { app: name } }, template, strategy: { canary } } };
  return [service('stable'), service('canary'), route, rollout];
}

/** Per object name, when a watcher first saw each new value of `read` (a number from the object). */
class Seen {
  readonly latest = new Map<string, KubeObject>();
  private readonly history = new Map<string, { at: number; value: number }[]>();
  private readonly waiters = new Set<() => void>();
  private readonly read: (object: KubeObject) => number | undefined;
  constructor(read: (object: KubeObject) => number | undefined) {
    this.read = read;
  }

  onEvent(object: KubeObject): void {
    const name = object.metadata?.name;
    if (!name) return;
    this.latest.set(name, object);
    const value = this.read(object);
    const list = this.history.get(name) ?? [];
    if (value !== undefined && list.at(-1)?.value !== value) this.history.set(name, [...list, { at: now(), value }]);
    for (const wake of this.waiters) wake();
  }

  /** When `name` first showed a value passing `test` at or after `since`. */
  firstAfter(name: string, since: number, test: (value: number) => boolean): number {
    return this.history.get(name)?.find((h) => h.at >= since && test(h.value))?.at ?? NaN;
  }

  /** Resolves once `ready` holds for what was seen (checked on each event, no polling). */
  until(ready: () => boolean, what: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => (this.waiters.delete(check), reject(new Error(`bench-dataplane: ${what} not seen within ${TIMEOUT_MS / 1000} s`))), TIMEOUT_MS);
      const check = (): void => {
        if (!ready()) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
      check();
    });
  }
}

/** Keeps a watch open (reopened if the server ends it) feeding `seen`, until the signal aborts. */
async function watchInto(cluster: Cluster, ref: ResourceRef, seen: Seen, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      await cluster.client.watch<KubeObject>(ref, {}, (event) => event.type !== 'DELETED' && event.type !== 'BOOKMARK' && seen.onEvent(event.object), { signal });
    } catch {
      if (!signal.aborted) await sleep(200);
    }
  }
}

const stepIndexOf = (object: KubeObject): number | undefined => (object as RolloutObject).status?.currentStepIndex;
const pausedAt = (object: KubeObject | undefined, index: number): boolean => {
  const status = (object as RolloutObject | undefined)?.status;
  return status?.phase === 'Paused' && status.currentStepIndex === index && (status.pauseConditions?.length ?? 0) > 0;
};
const canaryWeightOf = (object: KubeObject): number | undefined => {
  const name = object.metadata.name;
  const rules = (object as KubeObject & { spec?: { rules?: { backendRefs?: { name: string; weight?: number }[] }[] } }).spec?.rules;
  return rules?.[0]?.backendRefs?.find((b) => b.name === `${name}-canary`)?.weight;
};

/** One GET for `host` through Traefik: the answering pod's ReplicaSet hash, or why there was none. */
function answerOf(agent: http.Agent, port: number, host: string): Promise<{ hash?: string; failed?: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/', agent, headers: { host }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        if (res.statusCode !== 200) return resolve({ failed: `HTTP ${res.statusCode}` });
        try {
          resolve({ hash: (JSON.parse(body) as { rsHash?: string }).rsHash });
        } catch {
          resolve({ failed: 'not a pod answer' });
        }
      });
      res.on('error', (err) => resolve({ failed: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
    req.on('error', (err) => resolve({ failed: err.message }));
  });
}

interface Probe {
  /** when the first answer from ReplicaSet `want` arrived */
  servedAt: number;
  /** when the last answer before it arrived (the probe's resolution is the gap) */
  lastBeforeAt: number;
  /** requests that got no pod's 200 answer */
  failed: number;
}

/** GETs for `host`, one every `everyMs` on one keep-alive connection, until ReplicaSet `want` answers. */
async function probeUntil(port: number, host: string, want: string, everyMs: number, signal: AbortSignal): Promise<Probe> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let lastBeforeAt = NaN;
  let failed = 0;
  try {
    while (!signal.aborted) {
      const started = now();
      const answer = await answerOf(agent, port, host);
      if (answer.hash === want) return { servedAt: now(), lastBeforeAt, failed };
      if (answer.failed) failed++;
      lastBeforeAt = now();
      const wait = everyMs - (now() - started);
      if (wait > 0) await sleep(wait);
    }
    throw new Error(`bench-dataplane: ${host} never answered from ReplicaSet ${want}`);
  } finally {
    agent.destroy();
  }
}

interface Sample {
  /** promote → the status write that leaves the pause, seen (the controller's part) */
  toStatus: number;
  fromStatus: number;
  fromPromote: number;
  fromRoute: number;
  resolution: number;
  failed: number;
}

interface Section {
  cluster: Cluster;
  ns: string;
  names: string[];
  traefik: Traefik;
  rollouts: Seen;
  routes: Seen;
  /** stable and canary hash of each Rollout */
  hashes: Map<string, { stable: string; canary: string }>;
}

/** Promotes every Rollout at once out of round r's pause and times each one's first answer from the new weight. */
async function round(s: Section, r: number): Promise<Sample[]> {
  const pause = pauseOf(r);
  const target = weightOf(r);
  const want = (name: string): string => (target === 100 ? s.hashes.get(name)!.canary : s.hashes.get(name)!.stable);
  await sleep(GAP_MS); // the pause a person or a pipeline leaves before promoting, not a wait for a state
  const stop = AbortSignal.timeout(TIMEOUT_MS);
  const probes = s.names.map((name) => probeUntil(s.traefik.webPort, hostOf(s.ns, name), want(name), probeEvery(s.names.length), stop));
  const promotedAt = new Map<string, number>();
  await Promise.all(
    s.names.map(async (name) => {
      promotedAt.set(name, now());
      await s.cluster.client.patch({ ...rolloutsRef(s.ns, name), subresource: 'status' }, 'merge', { status: { pauseConditions: null } });
    }),
  );
  const served = await Promise.all(probes);
  await s.rollouts.until(() => s.names.every((name) => pausedAt(s.rollouts.latest.get(name), pause + 2)), `every Rollout paused at step ${pause + 2}`);
  return s.names.map((name, i) => {
    const at = promotedAt.get(name)!;
    const { servedAt, lastBeforeAt, failed } = served[i]!;
    const statusAt = s.rollouts.firstAfter(name, at, (index) => index > pause);
    const routeAt = s.routes.firstAfter(name, at, (weight) => weight === target);
    return { toStatus: statusAt - at, fromStatus: servedAt - statusAt, fromPromote: servedAt - at, fromRoute: servedAt - routeAt, resolution: servedAt - lastBeforeAt, failed };
  });
}

/** `count` Rollouts behind one Gateway, each with its canary pod up, paused at weight 0 with every answer from the stable. */
async function setUp(cluster: Cluster, traefik: Traefik, ns: string, count: number, rounds: number, signal: AbortSignal): Promise<Section> {
  const names = Array.from({ length: count }, (_, i) => `d${i}`);
  const rollouts = new Seen(stepIndexOf);
  const routes = new Seen(canaryWeightOf);
  void watchInto(cluster, rolloutsRef(ns), rollouts, signal);
  void watchInto(cluster, routesRef(ns), routes, signal);
  const gateway = { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: GATEWAY_CLASS, listeners: [{ name: 'web', protocol: 'HTTP', port: traefik.webPort }] } };
  await cluster.apply(gateway, ns);
  for (let i = 0; i < count; i += 20) await Promise.all(names.slice(i, i + 20).map((name) => cluster.apply(objects(ns, name, rounds), ns)));
  // A first deploy skips the steps: the canary comes with an update.
  await rollouts.until(() => names.every((name) => (rollouts.latest.get(name) as RolloutObject | undefined)?.status?.phase === 'Healthy'), 'every Rollout Healthy');
  const update = { spec: { template: { spec: { containers: [{ name: 'app', image: 'example.com/app:2', ports: [{ containerPort: 8080 }] }] } } } };
  for (let i = 0; i < count; i += 20) await Promise.all(names.slice(i, i + 20).map((name) => cluster.patch(rolloutsRef(ns, name), update)));
  await rollouts.until(() => names.every((name) => pausedAt(rollouts.latest.get(name), pauseOf(0))), `every Rollout paused at step ${pauseOf(0)} with its canary pod`);
  const hashes = new Map(names.map((name) => {
    const status = (rollouts.latest.get(name) as RolloutObject).status;
    return [name, { stable: status?.stableRS ?? '', canary: status?.currentPodHash ?? '' }];
  }));
  // The first round's "before" state: Traefik has every route and answers from the stable.
  const ready = AbortSignal.timeout(TIMEOUT_MS);
  await Promise.all(names.map((name) => probeUntil(traefik.webPort, hostOf(ns, name), hashes.get(name)!.stable, probeEvery(count), ready)));
  return { cluster, ns, names, traefik, rollouts, routes, hashes };
}

function percentile(values: number[], p: number): number {
  const sorted = values.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
}
const spread = (values: number[]): string => `p50 ${percentile(values, 0.5).toFixed(0)} ms, p99 ${percentile(values, 0.99).toFixed(0)} ms, max ${percentile(values, 1).toFixed(0)} ms`;

/** Starts a controller for a fresh namespace of `count` Rollouts and runs `rounds` steps of all of them at once. */
async function section(cluster: Cluster, traefik: Traefik, count: number, rounds: number, report: (what: string, figure: string) => void): Promise<void> {
  const watches = new AbortController();
  const setUpAt = now();
  const namespace = await cluster.namespace(`bench-dp-${count}`);
  const ns = namespace.name;
  const controller = startController(ns, ['--leader-elect=false']);
  try {
    const s = await setUp(cluster, traefik, ns, count, rounds, watches.signal);
    process.stdout.write(`bench-dataplane: ${count} rollout(s) set up in ${((now() - setUpAt) / 1000).toFixed(1)} s\n`);
    const load = [loadavg()];
    const samples: Sample[] = [];
    for (let r = 0; r < rounds; r++) samples.push(...(await round(s, r)));
    load.push(loadavg());
    const who = count === 1 ? '1 rollout, one step at a time' : `${count} rollouts promoted at once`;
    const what = `${who}, ${rounds} steps alternating setWeight 0 ↔ 100, ${GAP_MS / 1000} s paused before each promote (${samples.length} samples)`;
    const pick = (key: keyof Sample): number[] => samples.map((x) => x[key]);
    report(`step → data plane through Traefik (Gateway API), ${what}: step's status change seen by a watcher → first answer from the new weight`, `${spread(pick('fromStatus'))} (load average ${load.join(' → ')})`);
    report(`the same steps: promote → first answer from the new weight`, spread(pick('fromPromote')));
    report(`the same steps: promote → the step's status change seen (the controller's part)`, spread(pick('toStatus')));
    report(`the same steps: HTTPRoute write seen by a watcher → first answer (Traefik's share)`, spread(pick('fromRoute')));
    report(`the same steps: probe resolution (gap to the last answer from the old weight), failed requests`, `${spread(pick('resolution'))}; ${pick('failed').reduce((a, b) => a + b, 0)} failed`);
  } catch (err) {
    process.stderr.write(`controller log (last lines):\n${controller.logs().slice(-4000)}\n`);
    throw err;
  } finally {
    watches.abort();
    await controller.kill();
    // Its Services and routes go; the Rollouts keep their finalizers, and the namespace with them,
    // until the cluster ends with the network namespace.
    await namespace.remove();
  }
}

async function main(): Promise<void> {
  requireNetns();
  ensureCluster();
  const cluster = new Cluster();
  const podServer = startPodServer();
  const traefik = await startTraefik();
  const results: [string, string][] = [];
  const report = (what: string, figure: string): void => {
    results.push([what, figure]);
    process.stdout.write(`${what}: ${figure}\n`);
  };
  try {
    await applyClasses(cluster);
    await section(cluster, traefik, 1, SINGLE_STEPS, report);
    await section(cluster, traefik, ROLLOUTS, ROUNDS, report);
  } finally {
    await traefik.stop();
    await podServer.stop();
    cluster.close();
  }
  process.stdout.write(`\n| what | figure |\n|---|---|\n${results.map(([w, f]) => `| ${w} | ${f} |`).join('\n')}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
