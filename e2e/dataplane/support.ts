// What the data-plane scenarios share: Traefik (built by hack/build-traefik.sh) with its Gateway
// API and Ingress NGINX providers on this namespace's API server, the pod server, the classes
// both providers answer for, a keep-alive load generator and the binomial interval the measured
// shares are held to. Everything runs inside hack/netns.sh's network namespace.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import { kubeconfigPath, repoRoot, sleep, type Cluster } from '../harness.ts';
import { freePort } from '../../testing/http-server.ts';

export const GATEWAY_CLASS = 'traefik';
export const INGRESS_CLASS = 'nginx';

export interface Process {
  logs: () => string;
  stop: () => Promise<void>;
}

/** Refuses to run outside the namespace: pod IPs would be unroutable (or worse, someone's network). */
export function requireNetns(): void {
  if (process.env.ROLLWAY_NETNS !== 'inside') {
    throw new Error('the data-plane scenarios run inside their own network namespace: make e2e-dataplane (or hack/netns.sh tools/run-tests.sh e2e e2e/dataplane/<file>.test.ts)');
  }
}

function spawnLogged(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; proc: Process } {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-200_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  return { child, proc: { logs: () => output, stop } };
}

/** The admin token, API URL and CA of the namespace's cluster (hack/cluster.sh writes them). */
function apiAccess(): { server: string; tokenFile: string; caFile: string } {
  const clusterDir = path.dirname(kubeconfigPath());
  const kubeconfig = readFileSync(kubeconfigPath(), 'utf8');
  const server = /server: (\S+)/.exec(kubeconfig)?.[1];
  if (!server) throw new Error(`no server in ${kubeconfigPath()}`);
  return { server, tokenFile: path.join(clusterDir, 'run/pki/admin.token'), caFile: path.join(clusterDir, 'run/pki/ca.crt') };
}

export interface Traefik extends Process {
  /** the web entrypoint's port on 127.0.0.1 (Gateway listeners use the same port) */
  webPort: number;
  /** host:port of the Prometheus metrics */
  metricsTarget: string;
  /** base URL of Traefik's API (the configuration it serves now) */
  api: string;
}

/** Starts Traefik with both Kubernetes providers and Prometheus metrics; waits until it pings. */
export async function startTraefik(options: { accessLogFile?: string } = {}): Promise<Traefik> {
  const binary = execFileSync(path.join(repoRoot, 'hack/build-traefik.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const [webPort, metricsPort, pingPort, apiPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const api = apiAccess();
  // The token's value, not its file: Traefik would keep the file's trailing newline in the header.
  const kube = { endpoint: api.server, token: readFileSync(api.tokenFile, 'utf8').trim(), certAuthFilePath: api.caFile, throttleDuration: '0s' };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollway-traefik-'));
  const config = {
    entryPoints: { web: { address: `127.0.0.1:${webPort}` }, metrics: { address: `127.0.0.1:${metricsPort}` }, ping: { address: `127.0.0.1:${pingPort}` }, traefik: { address: `127.0.0.1:${apiPort}` } },
    ping: { entryPoint: 'ping' },
    api: { insecure: true }, // read-only view of the routing Traefik serves now, on the loopback of the namespace
    providers: { kubernetesGateway: kube, kubernetesIngressNGINX: { ...kube, ingressClass: INGRESS_CLASS } },
    metrics: { prometheus: { entryPoint: 'metrics', addServicesLabels: true, addRoutersLabels: true } },
    log: { level: 'INFO' },
    // Failed requests only, with the backend each was sent to (which pod a 502 came from).
    ...(options.accessLogFile ? { accessLog: { filePath: options.accessLogFile, format: 'json', filters: { statusCodes: ['300-599'] }, fields: { defaultMode: 'keep' } } } : {}),
    global: { checkNewVersion: false, sendAnonymousUsage: false },
  };
  writeFileSync(path.join(dir, 'traefik.yml'), stringify(config), { mode: 0o600 });
  const { child, proc } = spawnLogged(binary, [`--configFile=${path.join(dir, 'traefik.yml')}`]);
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Traefik exited at start (code ${child.exitCode}):\n${proc.logs().slice(-3000)}`);
    try {
      if ((await fetch(`http://127.0.0.1:${pingPort}/ping`, { signal: AbortSignal.timeout(1000) })).status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await proc.stop();
      throw new Error(`Traefik did not answer /ping within 30 s:\n${proc.logs().slice(-3000)}`);
    }
    await sleep(200);
  }
  const stop = async () => {
    await proc.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { ...proc, stop, webPort, metricsTarget: `127.0.0.1:${metricsPort}`, api: `http://127.0.0.1:${apiPort}` };
}

/** Starts e2e/dataplane/pod-server.ts on the namespace's cluster. */
export function startPodServer(): Process {
  const node = path.join(repoRoot, 'node_modules/.bin/node');
  return spawnLogged(node, [path.join(repoRoot, 'e2e/dataplane/pod-server.ts'), '--kubeconfig', kubeconfigPath(), '--verbose']).proc;
}

/** The GatewayClass and IngressClass Traefik's providers answer for (cluster-scoped; idempotent). */
export async function applyClasses(cluster: Cluster): Promise<void> {
  await cluster.apply({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: GATEWAY_CLASS }, spec: { controllerName: 'traefik.io/gateway-controller' } }, '');
  await cluster.apply({ apiVersion: 'networking.k8s.io/v1', kind: 'IngressClass', metadata: { name: INGRESS_CLASS }, spec: { controller: 'k8s.io/ingress-nginx' } }, '');
}

export interface Tally {
  total: number;
  /** responses by the answering pod's ReplicaSet hash */
  byHash: Map<string, number>;
  /** when the first and the last answer from each ReplicaSet hash came back (Date.now()) */
  seenAt: Map<string, { first: number; last: number }>;
  /** responses by HTTP status */
  byStatus: Map<number, number>;
  /** requests that got no HTTP response at all (connection refused or reset, timeout) */
  errors: number;
  /** a few error messages, for the failure report */
  errorSamples: string[];
}

/** Requests a user would call failed: no answer, or any status but 2xx (Traefik's 404 and 502 included). */
export const failed = (tally: Tally): number => tally.errors + [...tally.byStatus].filter(([status]) => status < 200 || status >= 300).reduce((sum, [, n]) => sum + n, 0);

export interface LoadOptions {
  port: number;
  host: string;
  headers?: Record<string, string>;
  concurrency?: number;
  /** stop early when aborted (a steady stream): the tally counts what was sent */
  signal?: AbortSignal;
  /** the tally to count into, so a caller can read it while a steady stream runs */
  tally?: Tally;
}

export const emptyTally = (): Tally => ({ total: 0, byHash: new Map(), seenAt: new Map(), byStatus: new Map(), errors: 0, errorSamples: [] });

/** Sends `count` GET requests over keep-alive connections, `concurrency` at a time, and tallies the answers. */
export async function sendRequests(count: number, options: LoadOptions): Promise<Tally> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency ?? 16 });
  const tally = options.tally ?? emptyTally();
  let next = 0;
  const worker = async () => {
    while (next < count && !options.signal?.aborted) {
      next++;
      const answer = await request(agent, options);
      tally.total++;
      if ('error' in answer) {
        tally.errors++;
        if (tally.errorSamples.length < 5) tally.errorSamples.push(answer.error);
        continue;
      }
      tally.byStatus.set(answer.status, (tally.byStatus.get(answer.status) ?? 0) + 1);
      if (answer.rsHash !== undefined) {
        tally.byHash.set(answer.rsHash, (tally.byHash.get(answer.rsHash) ?? 0) + 1);
        const now = Date.now();
        tally.seenAt.set(answer.rsHash, { first: tally.seenAt.get(answer.rsHash)?.first ?? now, last: now });
      }
    }
  };
  await Promise.all(Array.from({ length: options.concurrency ?? 16 }, worker));
  agent.destroy();
  return tally;
}

function request(agent: http.Agent, options: LoadOptions): Promise<{ status: number; rsHash?: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port: options.port, path: '/', agent, headers: { host: options.host, ...options.headers }, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        let rsHash: string | undefined;
        try {
          rsHash = (JSON.parse(body) as { rsHash?: string }).rsHash;
        } catch {
          // not one of the pods' answers (e.g. Traefik's own 404 or 502 page)
        }
        resolve({ status: res.statusCode ?? 0, ...(rsHash !== undefined ? { rsHash } : {}) });
      });
      res.on('error', (err) => resolve({ error: err.message }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
    req.on('error', (err) => resolve({ error: err.message }));
  });
}

/**
 * The range of canary counts out of `n` requests that a share `p` gives 99.9% of the time
 * (binomial, normal approximation with continuity correction; fine while n·p ≥ 10).
 */
export function binomialInterval(n: number, p: number, z = 3.2905): { low: number; high: number } {
  const mean = n * p;
  const sd = Math.sqrt(n * p * (1 - p));
  return { low: Math.max(0, Math.floor(mean - z * sd - 0.5)), high: Math.min(n, Math.ceil(mean + z * sd + 0.5)) };
}

/** Waits until Traefik answers for `host` from ReplicaSet `hash` (it has the route and the pods' endpoints). */
export async function waitServing(traefik: Traefik, host: string, hash: string, headers: Record<string, string> = {}): Promise<void> {
  const deadline = Date.now() + 30_000;
  let last: Tally | undefined;
  while (Date.now() < deadline) {
    last = await sendRequests(20, { port: traefik.webPort, host, headers, concurrency: 4 });
    if ((last.byHash.get(hash) ?? 0) > 0) return;
    await sleep(200);
  }
  const seen = { byHash: [...(last?.byHash ?? [])], byStatus: [...(last?.byStatus ?? [])], errors: last?.errorSamples };
  assert.fail(`no answer from ReplicaSet ${hash} through Traefik within 30 s; last tally ${JSON.stringify(seen)}\nTraefik log:\n${traefik.logs().slice(-2000)}`);
}

interface TraefikService {
  name: string;
  weighted?: { services?: { name: string; weight?: number }[] };
}

/**
 * The canary's share in each weighted service Traefik serves now that has a child `isCanary`
 * picks: what Traefik applied, which the routing object alone does not show.
 */
export async function servedShares(traefik: Traefik, isCanary: (serviceName: string) => boolean): Promise<number[]> {
  const services = (await (await fetch(`${traefik.api}/api/http/services?per_page=1000`, { signal: AbortSignal.timeout(5000) })).json()) as TraefikService[];
  return services.flatMap((service) => {
    const children = service.weighted?.services ?? [];
    const total = children.reduce((sum, c) => sum + (c.weight ?? 1), 0);
    const canary = children.filter((c) => isCanary(c.name)).reduce((sum, c) => sum + (c.weight ?? 1), 0);
    return children.some((c) => isCanary(c.name)) && total > 0 ? [canary / total] : [];
  });
}

/** A test file's data plane: the pod server and Traefik, filled in by its before hook. */
export interface DataPlane {
  traefik: Traefik;
  podServer: Process;
}

/**
 * Registers the hooks every data-plane file needs: inside the test's network namespace, the pod
 * server and Traefik start before its scenarios and stop after them.
 */
export function useDataPlane(options: { accessLogFile?: string } = {}): DataPlane {
  const plane = {} as DataPlane;
  before(async () => {
    requireNetns();
    plane.podServer = startPodServer();
    plane.traefik = await startTraefik(options);
  });
  after(async () => {
    await plane.traefik?.stop();
    await plane.podServer?.stop();
  });
  return plane;
}
