// The Traefik router measured on the data plane: a Rollout steps through 1, 5, 20 and 50 percent
// with trafficRouting.traefik, and at each pause real requests go through a real Traefik
// (its Kubernetes CRD provider: an IngressRoute to the weighted TraefikService the router edits)
// to pods that answer with their ReplicaSet hash. The canary's share of N requests must fall
// inside the 99.9% binomial interval of the set weight, with no failed request (Traefik's weighted
// round robin is deterministic, so in practice the count is the weight exactly: 200 of 20000 at
// 1%). Runs inside hack/netns.sh's namespace (make e2e-dataplane), with the helpers of support.ts;
// Traefik is started here with only its Kubernetes CRD provider.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { stringify } from 'yaml';
import type { RolloutObject } from '../../api/views.ts';
import type { KubeObject, ResourceRef } from '../../kube/client.ts';
import { ratioFromPercent } from '../../routers/types.ts';
import { Cluster, kubeconfigPath, repoRoot, scenario, sleep, startController } from '../harness.ts';
import { freePort } from '../../testing/http-server.ts';
import { APP, CANARY, pausedAt, removeRollout, rollout, rolloutRef, rollway, services, STABLE } from '../routers-support.ts';
import { binomialInterval, failed, requireNetns, sendRequests, startPodServer, type Process, type Tally } from './support.ts';

const N = Number(process.env.ROLLWAY_DATAPLANE_REQUESTS ?? 20_000);
const WEIGHTS = [1, 5, 20, 50];
const REPLICAS = 4;
const STEPS = WEIGHTS.flatMap((setWeight) => [{ setWeight }, { pause: {} }]);

interface TraefikCrd extends Process {
  webPort: number;
  /** Traefik's API (the configuration it is serving now) */
  apiUrl: string;
}

let traefik: TraefikCrd;
let podServer: Process;

/**
 * Traefik's own CRDs, unchanged from its module (the CRD provider lists every kind of them). Read
 * from the module cache inside the wrapper module: its go.sum vouches for the module offline (this
 * runs in a network namespace without a network), and hack/build-traefik.sh put it in the cache.
 */
function traefikCrdsYaml(): string {
  const wrapper = path.join(repoRoot, 'hack/traefik');
  const version = /github\.com\/traefik\/traefik\/v3 (v\S+)/.exec(readFileSync(path.join(wrapper, 'go.mod'), 'utf8'))?.[1];
  const download = ['mod', 'download', '-json', `github.com/traefik/traefik/v3@${version}`];
  const info = JSON.parse(execFileSync('go', download, { cwd: wrapper, encoding: 'utf8', env: { ...process.env, GOPROXY: 'off' } })) as { Dir: string };
  return readFileSync(path.join(info.Dir, 'docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml'), 'utf8');
}

/** Traefik with only the Kubernetes CRD provider (IngressRoute, TraefikService) on the namespace's API server. */
async function startTraefikCrd(): Promise<TraefikCrd> {
  const binary = execFileSync(path.join(repoRoot, 'hack/build-traefik.sh'), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop()!;
  const [webPort, apiPort] = [await freePort(), await freePort()];
  const clusterDir = path.dirname(kubeconfigPath());
  const server = /server: (\S+)/.exec(readFileSync(kubeconfigPath(), 'utf8'))?.[1];
  // The token itself, trimmed: read from a file, a trailing newline makes an invalid Authorization header.
  const token = readFileSync(path.join(clusterDir, 'run/pki/admin.token'), 'utf8').trim();
  const kube = { endpoint: server, token, certAuthFilePath: path.join(clusterDir, 'run/pki/ca.crt'), throttleDuration: '0s', allowEmptyServices: true };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollway-traefik-crd-'));
  const config = {
    entryPoints: { web: { address: `127.0.0.1:${webPort}` }, traefik: { address: `127.0.0.1:${apiPort}` } },
    api: { insecure: true },
    ping: {},
    providers: { kubernetesCRD: kube },
    log: { level: 'INFO' },
    global: { checkNewVersion: false, sendAnonymousUsage: false },
  };
  writeFileSync(path.join(dir, 'traefik.yml'), stringify(config));
  const child = spawn(binary, [`--configFile=${path.join(dir, 'traefik.yml')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk: Buffer): void => void (output = (output + chunk.toString()).slice(-200_000));
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  for (const deadline = Date.now() + 30_000; ; await sleep(200)) {
    if (child.exitCode !== null) throw new Error(`Traefik exited at start (code ${child.exitCode}):\n${output.slice(-3000)}`);
    const ok = await fetch(`${apiUrl}/ping`, { signal: AbortSignal.timeout(1000) }).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Traefik did not answer /ping within 30 s:\n${output.slice(-3000)}`);
    }
  }
  return { webPort, apiUrl, stop, logs: () => output };
}

/** Applies Traefik's CRDs and waits until the API server serves them (the provider lists them at start). */
async function installTraefikCrds(): Promise<void> {
  const cluster = new Cluster();
  try {
    const crds = await cluster.apply(traefikCrdsYaml(), '');
    for (const crd of crds) {
      const ref: ResourceRef = { group: 'apiextensions.k8s.io', version: 'v1', plural: 'customresourcedefinitions', name: crd.metadata.name };
      await cluster.waitFor<KubeObject & { status?: { conditions?: { type: string; status: string }[] } }>(ref, (o) => o?.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') === true, { what: `CRD ${crd.metadata.name} established` });
    }
  } finally {
    cluster.close();
  }
}

before(async () => {
  requireNetns();
  await installTraefikCrds();
  podServer = startPodServer();
  traefik = await startTraefikCrd();
});
after(async () => {
  await traefik?.stop();
  await podServer?.stop();
});

const hostOf = (ns: string): string => `${ns}.example.test`;

function routingObjects(ns: string): KubeObject[] {
  return [
    {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'TraefikService',
      metadata: { name: 'web-wrr' },
      spec: { weighted: { services: [{ name: STABLE, port: 80, weight: 100 }, { name: CANARY, port: 80, weight: 0 }] } },
    },
    {
      apiVersion: 'traefik.io/v1alpha1',
      kind: 'IngressRoute',
      metadata: { name: 'web' },
      spec: { entryPoints: ['web'], routes: [{ kind: 'Rule', match: `Host(\`${hostOf(ns)}\`)`, services: [{ name: 'web-wrr', kind: 'TraefikService' }] }] },
    },
  ];
}

/** The weights Traefik serves now for the TraefikService (its API), stable and canary. */
async function servedWeights(ns: string): Promise<{ stable?: number; canary?: number }> {
  const response = await fetch(`${traefik.apiUrl}/api/http/services/${ns}-web-wrr@kubernetescrd`).catch(() => undefined);
  if (!response?.ok) return {};
  const service = (await response.json()) as { weighted?: { services?: { name: string; weight?: number }[] } };
  const weightOf = (svc: string): number | undefined => service.weighted?.services?.find((s) => s.name.startsWith(`${ns}-${svc}-`))?.weight;
  return { stable: weightOf(STABLE), canary: weightOf(CANARY) };
}

async function waitServed(ns: string, canary: number, stable: number): Promise<void> {
  let last = {};
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await sleep(100)) {
    last = await servedWeights(ns);
    if (JSON.stringify(last) === JSON.stringify({ stable, canary })) return;
  }
  assert.fail(`Traefik should serve canary ${canary} / stable ${stable} for ${ns}/web-wrr, serves ${JSON.stringify(last)}\nTraefik log:\n${traefik.logs().slice(-2000)}`);
}

const share = (tally: Tally, hash: string): number => tally.byHash.get(hash) ?? 0;

scenario('Data plane, Traefik router: measured canary share at 1, 5, 20 and 50 percent through a weighted TraefikService', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const host = hostOf(ns);
  try {
    await given(`an IngressRoute to a weighted TraefikService and a ${REPLICAS}-replica Rollout with trafficRouting.traefik`, async () => {
      await cluster.apply([...services(), ...routingObjects(ns)], ns);
      await cluster.apply(rollout({ traefik: { weightedTraefikServiceName: 'web-wrr' } }, STEPS, REPLICAS), ns);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy after create', timeoutMs: 60_000 });
      await waitServed(ns, 0, 100);
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    for (const [i, percent] of WEIGHTS.entries()) {
      await then(`at setWeight ${percent} the canary gets ${percent}% of ${N} requests through Traefik (99.9% binomial interval), none failing`, async () => {
        const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(2 * i + 1), { what: `paused after setWeight ${percent}`, timeoutMs: 60_000 });
        const { stableRS: stable = '', currentPodHash: canary = '' } = ro!.status!;
        await waitServed(ns, percent, 100 - percent);
        const started = Date.now();
        const tally = await sendRequests(N, { port: traefik.webPort, host, concurrency: 32 });
        const rps = Math.round(N / ((Date.now() - started) / 1000));
        const ratio = ratioFromPercent(percent);
        const { low, high } = binomialInterval(N, ratio.canary / ratio.total);
        const got = share(tally, canary);
        console.log(`data plane: Traefik router setWeight ${percent}: ${got}/${N} to the canary (${((100 * got) / N).toFixed(3)}%), 99.9% interval [${low}, ${high}], ${rps} req/s`);
        assert.equal(failed(tally), 0, `failed requests: ${JSON.stringify(tally.errorSamples)} statuses ${JSON.stringify([...tally.byStatus])}`);
        assert.equal(got + share(tally, stable), N, 'every answer comes from the stable or the canary ReplicaSet');
        assert.ok(got >= low && got <= high, `canary share ${got}/${N} outside the 99.9% interval [${low}, ${high}] of ${percent}%`);
      });
      if (i < WEIGHTS.length - 1) await when('promoted to the next step', () => rollway('-n', ns, 'promote', APP));
    }
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
}, { timeoutMs: 300_000 });
