// Zero failed requests across a whole canary lifecycle, measured on real requests: a steady stream
// of keep-alive requests runs through Traefik (Gateway API HTTPRoute) while a Rollout goes through
// a canary to 100% that completes, an abort, a fast rollback (the template set back to the stable
// one mid-rollout) and a new revision mid-rollout. Any request without a 2xx answer fails the
// scenario; the counts (requests, answers per revision) are printed. Old pods are scaled down at
// once or nearly (scaleDownDelaySeconds 0, abortScaleDownDelaySeconds 1: 0 would keep the aborted
// canary, as in Argo), so what keeps requests whole is
// the order of the controller's writes and the pods' grace period (pod-server.ts drainingUntil).
// With any failure a timeline is printed: pods, weights, the pod server's listeners and each
// failed request with the pod address Traefik sent it to (its access log).
// Runs inside hack/netns.sh's namespace (make e2e-dataplane).
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RolloutObject } from '../../api/views.ts';
import * as actions from '../../client/actions.ts';
import type { KubeObject } from '../../kube/client.ts';
import { Informer } from '../../kube/informer.ts';
import { scenario, sleep, startController, type Cluster } from '../harness.ts';
import { APP, CANARY, removeRollout, rollout, rolloutRef, services, STABLE } from '../routers-support.ts';
import type { PodObject } from './pod-server.ts';
import { applyClasses, emptyTally, failed, GATEWAY_CLASS, sendRequests, servedShares, useDataPlane, waitServing, type Tally } from './support.ts';

const REPLICAS = 4;
/** Traefik logs the failed requests here, each with the backend address it was sent to. */
const ACCESS_LOG = path.join(mkdtempSync(path.join(os.tmpdir(), 'rollway-zero-failures-')), 'access.log');
const STEPS = [{ setWeight: 25 }, { pause: {} }, { setWeight: 50 }, { pause: {} }, { setWeight: 100 }, { pause: { duration: '2s' } }];

const plane = useDataPlane({ accessLogFile: ACCESS_LOG });

const hostOf = (ns: string) => `${ns}.example.test`;
const isCanary = (ns: string) => (name: string) => name.includes(`-svc-${ns}-${CANARY}-`);

function gatewayObjects(ns: string): KubeObject[] {
  return [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'gw' }, spec: { gatewayClassName: GATEWAY_CLASS, listeners: [{ name: 'web', protocol: 'HTTP', port: plane.traefik.webPort }] } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'web' },
      spec: { parentRefs: [{ name: 'gw' }], hostnames: [hostOf(ns)], rules: [{ name: 'web', backendRefs: [{ name: STABLE, port: 80, weight: 100 }, { name: CANARY, port: 80, weight: 0 }] }] },
    },
  ];
}

async function metricsText(): Promise<string> {
  try {
    return await (await fetch(`http://${plane.traefik.metricsTarget}/metrics`, { signal: AbortSignal.timeout(2000) })).text();
  } catch {
    return ''; // a missed sample under load; the next one catches up
  }
}

/** What happened when, relative to the start: pods, the Rollout's weights, Traefik's 5xx answers by service. */
class Timeline {
  readonly lines: string[] = [];
  private readonly t0 = Date.now();
  private readonly stops: (() => void)[] = [];

  note(line: string): void {
    this.lines.push(`${((Date.now() - this.t0) / 1000).toFixed(2).padStart(7)} s  ${line}`);
  }

  watch(cluster: Cluster, ns: string): void {
    const pods = new Informer<PodObject & { metadata: { deletionTimestamp?: string } }>(cluster.client, { group: '', version: 'v1', plural: 'pods', namespace: ns }, { log: () => {} });
    const seen = new Map<string, string>();
    pods.on((event) => {
      const pod = event.object;
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
      const state = event.type === 'deleted' ? 'gone' : pod.metadata.deletionTimestamp ? 'terminating' : ready ? 'ready' : 'not ready';
      const name = pod.metadata.name ?? '';
      if (seen.get(name) === state) return;
      seen.set(name, state);
      this.note(`pod ${pod.metadata.name} ${pod.status?.podIP ?? ''} ${state}`);
    });
    const rollouts = new Informer<RolloutObject>(cluster.client, { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns }, { log: () => {} });
    let last = '';
    rollouts.on((event) => {
      const s = event.object.status;
      const w = s?.canary?.weights;
      const line = `rollout ${s?.phase ?? ''} step ${s?.currentStepIndex ?? '-'} stable ${s?.stableRS ?? ''} current ${s?.currentPodHash ?? ''} weights canary ${w?.canary.weight ?? '-'} (${w?.canary.podTemplateHash ?? ''}) stable ${w?.stable.weight ?? '-'} (${w?.stable.podTemplateHash ?? ''})`;
      if (line !== last) this.note((last = line));
    });
    pods.start();
    rollouts.start();
    this.stops.push(() => pods.stop(), () => rollouts.stop());
    this.sampleTraefik();
  }

  /** Traefik's own count of non-2xx answers per service, sampled: when and where requests failed. */
  private sampleTraefik(): void {
    const previous = new Map<string, number>();
    let stopped = false;
    const sample = async () => {
      while (!stopped) {
        const text = await metricsText();
        for (const m of text.matchAll(/^traefik_service_requests_total\{([^}]*)\} (\d+)/gm)) {
          const labels = m[1] ?? '';
          const code = /code="(\d+)"/.exec(labels)?.[1] ?? '';
          if (code.startsWith('2')) continue;
          const key = `${/service="([^"]*)"/.exec(labels)?.[1]} ${code}`;
          const n = Number(m[2]);
          if (n !== (previous.get(key) ?? 0)) this.note(`traefik ${key}: +${n - (previous.get(key) ?? 0)}`);
          previous.set(key, n);
        }
        await sleep(200);
      }
    };
    void sample();
    this.stops.push(() => (stopped = true));
  }

  /** Timestamped lines from elsewhere (the pod server's log, Traefik's access log) on the same clock. */
  merged(extra: { at: number; line: string }[]): string[] {
    const rel = (at: number) => `${((at - this.t0) / 1000).toFixed(2).padStart(7)} s  `;
    return [...this.lines, ...extra.map((e) => `${rel(e.at)}${e.line}`)].sort((a, b) => parseFloat(a) - parseFloat(b));
  }

  stop(): void {
    for (const stop of this.stops) stop();
  }
}

/** Traefik's access log: when each failed request came, the Service and the address it was sent to. */
function failedRequests(since: number): { at: number; line: string }[] {
  if (!existsSync(ACCESS_LOG)) return [];
  const lines = readFileSync(ACCESS_LOG, 'utf8').split('\n').filter(Boolean);
  return lines.flatMap((text) => {
    const entry = JSON.parse(text) as Record<string, unknown>;
    const service = String(entry.ServiceName ?? '').replace(/.*-svc-[^-]*(-[^-]*)*?-(web-(stable|canary))-\d+@.*/, '$2');
    const at = Date.parse(String(entry.StartUTC));
    if (at < since) return []; // waitServing's probes before the stream began
    return [{ at, line: `failed ${String(entry.DownstreamStatus)} ${service} → ${String(entry.ServiceAddr ?? entry.ServiceURL ?? '?')} (${String(entry.OriginStatus ?? '')}) ${String(entry.Duration ?? '')} ns` }];
  });
}

/** The pod server's listener changes (its --verbose log). */
function podServerLines(): { at: number; line: string }[] {
  return plane.podServer.logs().split('\n').flatMap((line) => {
    const m = /^(\S+Z) pod-server: (.*)$/.exec(line);
    return m?.[1] && m[2] ? [{ at: Date.parse(m[1]), line: `pod-server ${m[2]}` }] : [];
  });
}

const settled = (r: RolloutObject | undefined): boolean => r !== undefined && r.status?.observedGeneration === String(r.metadata.generation);
const pausedAt = (index: number, hash?: string) => (r: RolloutObject | undefined) => settled(r) && r!.status?.phase === 'Paused' && r!.status.currentStepIndex === index && (hash === undefined || r!.status.currentPodHash === hash);

scenario('Data plane: zero failed requests across a canary to 100%, an abort, a fast rollback and a new revision mid-rollout', async ({ cluster, ns, given, when, then }) => {
  const host = hostOf(ns);
  const controller = startController(ns);
  const timeline = new Timeline();
  const stream = new AbortController();
  let running: Promise<Tally> | undefined;
  const live = emptyTally();
  let streamStartedAt = 0;
  const hashes: Record<string, string> = {};
  const hashOf = (tag: string): string => hashes[tag] ?? '';
  const waitRollout = (what: string, predicate: (r: RolloutObject | undefined) => boolean) => cluster.waitFor<RolloutObject>(rolloutRef(ns), predicate, { what, timeoutMs: 60_000 });
  /** Traefik serves the canary this share now (its API), so requests really reach the canary. */
  const waitShare = async (share: number) => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const shares = await servedShares(plane.traefik, isCanary(ns));
      if (shares.length > 0 && shares.every((s) => Math.abs(s - share) < 1e-9)) return;
      await sleep(100);
    }
    assert.fail(`Traefik did not serve ${share * 100}% to the canary within 30 s`);
  };
  /**
   * The stream got answers from this revision. A canary that is aborted or replaced right after
   * Traefik took its weight may otherwise get none on a loaded machine, and then the scenario
   * would prove nothing about requests in flight to it.
   */
  const waitAnswered = async (tag: string) => {
    const deadline = Date.now() + 30_000;
    while ((live.byHash.get(hashOf(tag)) ?? 0) === 0) {
      if (Date.now() > deadline) assert.fail(`no request reached the ${tag} revision within 30 s of Traefik serving it`);
      await sleep(50);
    }
  };
  // What the CLI does, without blocking this process (a synchronous CLI call would stall the
  // request stream and fire its timers late under load).
  const setImage = async (tag: string) => {
    timeline.note(`set image ${tag}`);
    await actions.setImage(cluster.client, ns, APP, `${APP}=example.com/web:${tag}`);
  };
  const act = async (action: 'promote' | 'promote --full' | 'abort') => {
    timeline.note(action);
    if (action === 'abort') await actions.abort(cluster.client, ns, APP);
    else await actions.promote(cluster.client, ns, APP, { full: action === 'promote --full' });
  };
  /** The stream keeps going until every ReplicaSet but the stable has scaled to 0 and its pods are gone. */
  const drained = async (stable: string) => {
    await cluster.waitForList<PodObject>({ group: '', version: 'v1', plural: 'pods', namespace: ns }, (pods) => pods.length === REPLICAS && pods.every((p) => p.metadata.labels?.['rollouts-pod-template-hash'] === stable), { what: `only the ${REPLICAS} pods of ${stable} left`, timeoutMs: 60_000 });
    await sleep(1000); // a second of traffic on the settled state, where a late endpoint update would show
  };
  try {
    await given(`a ${REPLICAS}-replica Rollout behind Traefik (Gateway API) and a steady stream of requests (8 keep-alive connections)`, async () => {
      timeline.watch(cluster, ns);
      await applyClasses(cluster);
      await cluster.apply([...services(), ...gatewayObjects(ns)], ns);
      await cluster.apply(rollout({ gatewayAPI: { httpRoutes: [{ name: 'web' }] } }, STEPS, REPLICAS), ns);
      const ro = await waitRollout('Healthy after create', (r) => r?.status?.phase === 'Healthy');
      hashes.blue = ro!.status!.stableRS!;
      await waitServing(plane.traefik, host, hashes.blue);
      streamStartedAt = Date.now();
      running = sendRequests(Number.MAX_SAFE_INTEGER, { port: plane.traefik.webPort, host, concurrency: 8, signal: stream.signal, tally: live });
    });

    await when('a canary goes 25% → 50% → 100% and completes', async () => {
      await setImage('green');
      const ro = await waitRollout('paused at 25%', pausedAt(1));
      hashes.green = ro!.status!.currentPodHash!;
      await waitShare(0.25);
      await waitAnswered('green');
      await act('promote');
      await waitRollout('paused at 50%', pausedAt(3));
      await waitShare(0.5);
      await act('promote');
      await waitRollout('Healthy on green', (r) => settled(r) && r!.status?.phase === 'Healthy' && r!.status.stableRS === hashes.green);
      await drained(hashOf('green'));
    });

    await when('the next revision is aborted at 25%: all traffic back on stable', async () => {
      await setImage('red');
      const ro = await waitRollout('paused at 25%', pausedAt(1));
      hashes.red = ro!.status!.currentPodHash!;
      await waitShare(0.25);
      await waitAnswered('red');
      await act('abort');
      await waitRollout('aborted', (r) => settled(r) && r!.status?.abort === true && r!.status.phase === 'Degraded');
      await drained(hashOf('green'));
    });

    await when('a fast rollback: at 25% of the next revision the template goes back to the stable one', async () => {
      await setImage('yellow');
      const ro = await waitRollout('paused at 25%', pausedAt(1));
      hashes.yellow = ro!.status!.currentPodHash!;
      await waitShare(0.25);
      await waitAnswered('yellow');
      await setImage('green');
      await waitRollout('Healthy on green again', (r) => settled(r) && r!.status?.phase === 'Healthy' && r!.status.currentPodHash === hashes.green);
      await drained(hashOf('green'));
    });

    await when('a new revision mid-rollout: at 25% another template replaces the canary, which is then promoted to the end', async () => {
      await setImage('purple');
      let ro = await waitRollout('paused at 25%', pausedAt(1));
      hashes.purple = ro!.status!.currentPodHash!;
      await waitShare(0.25);
      await waitAnswered('purple');
      await setImage('orange');
      ro = await waitRollout('paused at 25% on the newer canary', (r) => pausedAt(1)(r) && r!.status!.currentPodHash !== hashes.purple);
      hashes.orange = ro!.status!.currentPodHash!;
      await waitShare(0.25);
      await waitAnswered('orange');
      await act('promote --full');
      await waitRollout('Healthy on orange', (r) => settled(r) && r!.status?.phase === 'Healthy' && r!.status.stableRS === hashes.orange);
      await drained(hashOf('orange'));
    });

    await then('no request failed, and every revision that was served answered', async () => {
      stream.abort();
      const tally = await running!;
      const byRevision = Object.entries(hashes).map(([tag, hash]) => `${tag} ${tally.byHash.get(hash) ?? 0}`).join(', ');
      console.log(`data plane: ${tally.total} requests across the canary, abort, fast rollback and new revision; failed ${failed(tally)} (statuses ${JSON.stringify([...tally.byStatus])}, no answer ${tally.errors}); answers by revision: ${byRevision}`);
      if (failed(tally) > 0) console.log(`timeline:\n${timeline.merged([...failedRequests(streamStartedAt), ...podServerLines()]).join('\n')}`);
      assert.equal(failed(tally), 0, `failed requests: ${JSON.stringify(tally.errorSamples)} statuses ${JSON.stringify([...tally.byStatus])}`);
      for (const tag of ['blue', 'green', 'red', 'yellow', 'purple', 'orange']) assert.ok((tally.byHash.get(hashOf(tag)) ?? 0) > 0, `the ${tag} revision answered some requests`);
    });
  } finally {
    stream.abort();
    await running?.catch(() => undefined);
    timeline.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
}, { timeoutMs: 300_000 });
