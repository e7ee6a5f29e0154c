// What the fault scenarios (e2e/faults/*.test.ts) share: sizes from the environment, a seeded
// random source, a watch that records every event with its resourceVersion, checks that a
// controller process is alive and crash-free, and the printed table of figures.
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { isNotFound, KubeApiError, type KubeClient, type KubeObject, type ResourceRef, type WatchEvent } from '../../kube/client.ts';
import { loadConnection } from '../../kube/kubeconfig.ts';
import { sleep } from '../harness.ts';

/** A whole number from the environment (FAULTS_*), so a longer run needs no code change. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return value;
}

/** The seed of this run: FAULTS_SEED, else a fresh one (printed, so a failure can be replayed). */
export function runSeed(): number {
  return envInt('FAULTS_SEED', Math.floor(Math.random() * 2 ** 31));
}

/** mulberry32: small, fast and seedable; the same seed gives the same sequence. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** a whole number from lo to hi, both included */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Prints a scenario's figures as an aligned table (node:test shows console output). */
export function printFigures(title: string, rows: [string, string | number][]): void {
  const width = Math.max(...rows.map(([k]) => k.length));
  console.log(`\n=== ${title} ===\n${rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`).join('\n')}\n`);
}

export const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

export function quantile(values: number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Whether a pid still runs the Rollway CLI (a reaped child leaves no /proc entry). */
export function controllerAlive(pid: number): boolean {
  try {
    return existsSync(`/proc/${pid}`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('cli/rollway.');
  } catch {
    return false;
  }
}

/** Lines of a controller log that show a crash: an uncaught error, or a stack frame. */
export function crashSigns(log: string): string[] {
  return log.split('\n').filter((line) => /uncaught|unhandled|FATAL|RangeError: Maximum call stack/i.test(line) || /^\s+at .+[:(].*\d+:\d+\)?$/.test(line));
}

export interface RecordedEvent<T extends KubeObject = KubeObject> {
  type: WatchEvent['type'];
  /** the object's resourceVersion: one etcd revision counter for every kind, so events of different kinds interleave correctly */
  rv: bigint;
  /** when this process received it (ms) */
  at: number;
  object: T;
}

/**
 * Lists, then watches a collection from the list's resourceVersion until stopped, keeping every
 * event. A dropped watch is resumed from the last resourceVersion seen; a 410 (history lost)
 * is counted in `gaps`, which a scenario asserts is 0: its replay would be incomplete.
 */
export function recordWatch<T extends KubeObject>(client: KubeClient, ref: ResourceRef): { events: RecordedEvent<T>[]; gaps: () => number; stop: () => Promise<void>; ready: Promise<void> } {
  const events: RecordedEvent<T>[] = [];
  const abort = new AbortController();
  let gaps = 0;
  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const loop = async (): Promise<void> => {
    let rv = '';
    while (!abort.signal.aborted) {
      try {
        if (rv === '') {
          const list = await client.list<T>(ref);
          const at = Date.now();
          for (const object of list.items) events.push({ type: 'ADDED', rv: BigInt(object.metadata.resourceVersion ?? '0'), at, object });
          rv = list.metadata.resourceVersion ?? '';
          markReady();
        }
        await client.watch<T>(ref, { resourceVersion: rv, timeoutSeconds: 300 }, (event) => {
          if (event.type === 'BOOKMARK') {
            rv = event.object.metadata.resourceVersion ?? rv;
            return;
          }
          rv = event.object.metadata.resourceVersion ?? rv;
          events.push({ type: event.type, rv: BigInt(rv), at: Date.now(), object: event.object });
        }, { signal: abort.signal });
      } catch (err) {
        if (abort.signal.aborted) break;
        if (err instanceof KubeApiError && err.isGone) {
          gaps++;
          rv = '';
        }
        await sleep(200);
      }
    }
  };
  const running = loop();
  return {
    events,
    gaps: () => gaps,
    ready,
    stop: async () => {
      abort.abort();
      await running;
    },
  };
}

/** GET /readyz with the kubeconfig's credentials: true when the API server answers "ok". */
export async function apiReady(kubeconfig: string): Promise<boolean> {
  const connection = loadConnection({ path: kubeconfig });
  const options: https.RequestOptions = { method: 'GET', timeout: 1000 };
  await connection.authenticate(options);
  return new Promise((resolve) => {
    const req = https.request(`${connection.server}/readyz`, options, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.trim() === 'ok'));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** Polls `check` every `intervalMs` until it answers true; answers the time it did (ms), or throws after `timeoutMs`. */
export async function waitUntil(what: string, check: () => Promise<boolean> | boolean, options: { timeoutMs: number; intervalMs?: number }): Promise<number> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await check();
    } catch (err) {
      if (!(err instanceof Error)) throw err; // an API error while the server restarts: try again
    }
    if (ok) return Date.now();
    if (Date.now() >= deadline) throw new Error(`timed out after ${options.timeoutMs} ms waiting for ${what}`);
    await sleep(options.intervalMs ?? 100);
  }
}

/**
 * Deletes every Rollout of a namespace while its controller still runs (so finalizers are
 * released), then drops the finalizers of any left, so the namespace can go.
 */
export async function deleteRollouts(client: KubeClient, namespace: string, timeoutMs = 20_000): Promise<void> {
  const ref: ResourceRef = { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace };
  await client.request('DELETE', `/apis/rollway.dev/v1alpha1/namespaces/${namespace}/rollouts`, { body: { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' } }).catch(() => {});
  const deadline = Date.now() + timeoutMs;
  let left = (await client.list(ref)).items;
  while (left.length > 0 && Date.now() < deadline) {
    await sleep(300);
    left = (await client.list(ref)).items;
  }
  for (const ro of left) {
    await client.patch({ ...ref, name: ro.metadata.name }, 'merge', { metadata: { finalizers: null } }).catch((err: unknown) => {
      if (!isNotFound(err)) throw err;
    });
  }
}

// --- routed Rollouts (Istio VirtualService, host-level), several per namespace -------------------

export const ISTIO_VS: ResourceRef = { group: 'networking.istio.io', version: 'v1', plural: 'virtualservices' };
export const ROLLOUTS: ResourceRef = { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts' };

/** Two Services, a VirtualService and a Rollout named `name` whose steps move traffic through it. */
export function routedRollout(name: string, steps: Record<string, unknown>[], options: { replicas?: number; image?: string } = {}): KubeObject[] {
  const service = (role: string): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name: `${name}-${role}` }, spec: { selector: { app: name }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
  const destination = (role: string, weight: number) => ({ destination: { host: `${name}-${role}`, port: { number: 80 } }, weight });
  return [
    service('stable'),
    service('canary'),
    { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name }, spec: { hosts: [`${name}.example.com`], http: [{ name: 'primary', route: [destination('stable', 100), destination('canary', 0)] }] } },
    {
      apiVersion: 'rollway.dev/v1alpha1',
      kind: 'Rollout',
      metadata: { name },
      spec: {
        replicas: options.replicas ?? 2,
        revisionHistoryLimit: 2,
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'app', image: options.image ?? 'example.com/app:1', ports: [{ name: 'http', containerPort: 8080 }] }] } },
        strategy: {
          canary: {
            stableService: `${name}-stable`,
            canaryService: `${name}-canary`,
            scaleDownDelaySeconds: 0,
            trafficRouting: { istio: { virtualService: { name, routes: ['primary'] } } },
            steps,
          },
        },
      },
    },
  ];
}

type VirtualServiceLike = KubeObject & { spec?: { http?: { name?: string; route?: { destination?: { host?: string }; weight?: number }[] }[] } };

/** The canary weight a host-level VirtualService made by routedRollout carries. */
export function canaryWeight(vs: KubeObject): number | undefined {
  const route = (vs as VirtualServiceLike).spec?.http?.find((r) => r.name === 'primary')?.route ?? [];
  return route.find((d) => d.destination?.host === `${vs.metadata.name}-canary`)?.weight;
}

export interface RolloutLike extends KubeObject {
  spec: { template?: { spec?: { containers?: { image?: string }[] } } };
  status?: { phase?: string; observedGeneration?: string; currentStepIndex?: number; stableRS?: string; currentPodHash?: string; pauseConditions?: { startTime?: string }[]; conditions?: { type: string; status: string; message?: string }[]; message?: string };
}

export const imageOf = (ro: RolloutLike): string => ro.spec.template?.spec?.containers?.[0]?.image ?? '';

/** Healthy on its current spec: the new version is the stable one and every step is done. */
export function healthyOnSpec(ro: RolloutLike | undefined): boolean {
  const s = ro?.status;
  return s !== undefined && s.phase === 'Healthy' && s.observedGeneration === String(ro!.metadata.generation) && s.stableRS !== undefined && s.stableRS === s.currentPodHash;
}

/**
 * Runs `fn` again while it fails the way a busy or restarting API server fails (429, 503, 504, a
 * dropped connection), for up to `timeoutMs`; other errors (4xx) are thrown at once. The shared
 * cluster's API server answers 429 while another engineer's CRD change reinitializes its storage.
 */
export async function retrying<T>(fn: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      // 500 is not retried: server-side apply also answers 500 for a patch that does not fit the schema.
      const transient = err instanceof KubeApiError ? [429, 503, 504].includes(err.statusCode) : err instanceof Error;
      if (!transient || Date.now() >= deadline) throw err;
      await sleep(250);
    }
  }
}
