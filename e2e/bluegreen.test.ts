// Blue-green on the real control plane (issue 12), read from what users see: the Services'
// selectors, the ReplicaSets' ready pods, the Rollout's phase. Every scenario records the watch
// events of its pods and Services and replays them in resourceVersion order, to prove the active
// Service never selected a ReplicaSet with fewer ready pods than spec.replicas.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject, ResourceRef, WatchEvent } from '../kube/client.ts';
import { expectEvent, phaseIs, rolloutRef, runsOf, setImage, waitForRun } from './analysis-fixtures.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startCli } from './cli-helpers.ts';
import { rollway, scenario, startController, type Cluster } from './harness.ts';
import { closeLocal, listenLocal } from '../testing/http-server.ts';

const HASH = 'rollouts-pod-template-hash';
const APP = 'bg';
const REPLICAS = 3;
const svcRef = (ns: string, name?: string): ResourceRef => ({ group: '', version: 'v1', plural: 'services', namespace: ns, name });
const podsRef = (ns: string): ResourceRef => ({ group: '', version: 'v1', plural: 'pods', namespace: ns });
const rsRef = (ns: string, name?: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name });
type Service = KubeObject & { spec: { selector?: Record<string, string> } };
type ReplicaSet = KubeObject & { spec: { replicas?: number }; status?: { readyReplicas?: number } };
type Pod = KubeObject & { status?: { conditions?: { type: string; status: string }[] } };

let server: http.Server;
let base = '';

before(async () => {
  server = http.createServer((req, res) => {
    const ok = req.url === '/ok';
    res.writeHead(ok || req.url === '/bad' ? 200 : 404, { 'Content-Type': 'application/json' }).end(JSON.stringify({ data: { ok } }));
  });
  base = await listenLocal(server);
});

after(async () => {
  await closeLocal(server);
});

function services(): KubeObject[] {
  return ['active', 'preview'].map((name) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: APP }, ports: [{ port: 80, targetPort: 8080 }] } }) as KubeObject);
}

function rollout(blueGreen: Record<string, unknown>, extra: { progressDeadlineSeconds?: number; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: APP },
    spec: {
      replicas: REPLICAS,
      revisionHistoryLimit: 3,
      ...(extra.progressDeadlineSeconds ? { progressDeadlineSeconds: extra.progressDeadlineSeconds } : {}),
      selector: { matchLabels: { app: APP } },
      template: { metadata: { labels: { app: APP } }, spec: { containers: [{ name: APP, image: 'example.com/web:blue' }] } },
      strategy: { blueGreen: { activeService: 'active', previewService: 'preview', scaleDownDelaySeconds: 2, abortScaleDownDelaySeconds: 2, ...blueGreen } },
    },
  } as KubeObject;
}

function webTemplate(name: string, path: string): KubeObject {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'AnalysisTemplate',
    metadata: { name },
    spec: { metrics: [{ name: 'healthy', successCondition: 'result == true', provider: { web: { url: `${base}${path}`, jsonPath: '{$.data.ok}' } } }] },
  } as KubeObject;
}

const selectorOf = async (cluster: Cluster, ns: string, name: string): Promise<string | undefined> => (await cluster.get<Service>(svcRef(ns, name)))?.spec.selector?.[HASH];

async function waitForSelector(cluster: Cluster, ns: string, service: string, hash: string, timeoutMs = 30_000): Promise<void> {
  await cluster.waitFor<Service>(svcRef(ns, service), (s) => s?.spec.selector?.[HASH] === hash, { what: `Service ${service} selecting ${hash}`, timeoutMs });
}

/** Waits until the ReplicaSet of `hash` wants `replicas` pods and has that many ready. */
async function waitForSize(cluster: Cluster, ns: string, hash: string, replicas: number, timeoutMs = 30_000): Promise<void> {
  await cluster.waitFor<ReplicaSet>(rsRef(ns, `${APP}-${hash}`), (rs) => rs?.spec.replicas === replicas && (rs.status?.readyReplicas ?? 0) === replicas, { what: `ReplicaSet ${hash} at ${replicas} ready`, timeoutMs });
}

async function deployed(cluster: Cluster, ns: string, blueGreen: Record<string, unknown>, templates: KubeObject[] = []): Promise<string> {
  await cluster.apply([...services(), ...templates, rollout(blueGreen)], ns);
  const healthy = await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy'), { what: 'Rollout Healthy after create' });
  const blue = healthy!.status!.stableRS!;
  await waitForSelector(cluster, ns, 'active', blue);
  await waitForSelector(cluster, ns, 'preview', blue);
  return blue;
}

/** The hash of the template after an update, once the controller has seen it. */
async function updated(cluster: Cluster, ns: string, image: string): Promise<string> {
  const before = (await cluster.get<RolloutObject>(rolloutRef(ns, APP)))?.status?.currentPodHash;
  await setImage(cluster, ns, APP, image);
  const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), (r) => r?.status?.currentPodHash !== undefined && r.status.currentPodHash !== before, { what: 'new revision seen' });
  return ro!.status!.currentPodHash!;
}

type Recorded = { rv: bigint; kind: 'pod' | 'svc'; type: string; object: KubeObject };

/** Records the namespace's pod and Service watch events until `stop` aborts. */
function sampler(cluster: Cluster, ns: string): { stop: () => Recorded[]; opened: Promise<void> } {
  const seen: Recorded[] = [];
  const watching = new AbortController();
  for (const [ref, kind] of [[podsRef(ns), 'pod'], [svcRef(ns), 'svc']] as const) {
    void cluster.client
      .watch(ref, {}, (event: WatchEvent<KubeObject>) => {
        if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
        seen.push({ rv: BigInt(event.object.metadata.resourceVersion ?? '0'), kind, type: event.type, object: event.object });
      }, { signal: watching.signal })
      .catch(() => {});
  }
  return { stop: () => (watching.abort(), seen), opened: new Promise((resolve) => setTimeout(resolve, 300)) };
}

/** Replays the events in resourceVersion order: after each, the active Service's ReplicaSet must have all its pods ready. */
function assertActiveNeverUnready(events: Recorded[]): void {
  const ordered = [...events].sort((a, b) => (a.rv < b.rv ? -1 : a.rv > b.rv ? 1 : 0));
  const ready = new Map<string, { hash: string; ready: boolean }>();
  let active: string | undefined;
  const violations: string[] = [];
  let checks = 0;
  for (const e of ordered) {
    if (e.kind === 'pod') {
      const pod = e.object as Pod;
      const serving = e.type !== 'DELETED' && !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      ready.set(pod.metadata.name ?? '', { hash: pod.metadata.labels?.[HASH] ?? '', ready: serving });
    } else if (e.object.metadata.name === 'active') {
      active = e.type === 'DELETED' ? undefined : (e.object as Service).spec.selector?.[HASH];
    }
    if (active === undefined) continue;
    checks++;
    const count = [...ready.values()].filter((p) => p.hash === active && p.ready).length;
    if (count < REPLICAS) violations.push(`rv ${e.rv} (${e.kind} ${e.type} ${e.object.metadata.name ?? ''}): active selects ${active} with ${count} ready pods`);
  }
  assert.ok(checks > 0, 'the sampler saw the active Service');
  assert.deepEqual(violations, [], 'the active Service selected a ReplicaSet with fewer ready pods than spec.replicas');
}

async function removeRollout(cluster: Cluster, ns: string): Promise<void> {
  await cluster.delete(rolloutRef(ns, APP));
}

scenario('blue-green walkthrough: preview switched while active stays, manual promote, old stack scaled down after the delay', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const sample = sampler(cluster, ns);
  let blue = '';
  let green = '';
  try {
    await given('a blue-green Rollout of 3 (autoPromotionEnabled false) with active and preview Services, deployed', async () => {
      await sample.opened;
      blue = await deployed(cluster, ns, { autoPromotionEnabled: false });
      const svc = await cluster.get<Service>(svcRef(ns, 'active'));
      assert.equal(svc?.spec.selector?.app, APP, "the user's own selector key stays");
    });
    await when('the image changes to green', async () => {
      green = await updated(cluster, ns, 'example.com/web:green');
    });
    await then('the preview Service selects green with 3 ready pods, the active Service stays on blue, the Rollout is Paused (BlueGreenPause)', async () => {
      await waitForSelector(cluster, ns, 'preview', green);
      await waitForSize(cluster, ns, green, REPLICAS);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Paused', (r) => r.status?.message === 'BlueGreenPause'), { what: 'Paused BlueGreenPause' });
      assert.equal(await selectorOf(cluster, ns, 'active'), blue);
      assert.equal(ro?.status?.blueGreen?.activeSelector, blue);
      assert.equal(ro?.status?.blueGreen?.previewSelector, green);
      const shown = rollway('-n', ns, 'get', 'rollout', APP);
      assert.match(shown, /Active: +revision 1 \(/);
      assert.match(shown, new RegExp(`Preview: +revision 2 \\(${green}\\)`));
      assert.match(shown, /waiting for promotion/);
    });
    await then('the dashboard page of the Rollout shows the active and preview revisions and the pause', async () => {
      const dashboard = startCli(['-n', ns, 'dashboard', '--port', '0']);
      const profile = mkdtempSync(path.join(tmpdir(), 'rollway-chromium-'));
      // The dashboard is stopped even when the browser does not start: a live child holds the file's run open.
      let browser: Awaited<ReturnType<typeof chromium.launchPersistentContext>> | undefined;
      try {
        browser = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
        await dashboard.waitForOutput((o) => /http:\/\/127\.0\.0\.1:\d+\//.test(o), 'the dashboard URL');
        const url = /http:\/\/127\.0\.0\.1:\d+\//.exec(dashboard.output())![0];
        const page = browser.pages()[0] ?? (await browser.newPage());
        await page.goto(`${url}#/${ns}/${APP}`);
        await page.locator('[data-testid="active"]').waitFor();
        assert.equal(await page.textContent('[data-testid="active"]'), `#1 (${blue})`);
        assert.equal(await page.textContent('[data-testid="preview"]'), `#2 (${green})`);
        assert.match((await page.textContent('[data-testid="message"]')) ?? '', /BlueGreenPause · waiting for promotion/);
      } finally {
        await browser?.close();
        await dashboard.stop();
        rmSync(profile, { recursive: true, force: true });
      }
    });
    await when('it is promoted with rollway promote', () => rollway('-n', ns, 'promote', APP));
    await then('the active Service switches to green, green becomes stable, blue keeps its pods through scaleDownDelaySeconds, then goes', async () => {
      await waitForSelector(cluster, ns, 'active', green);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy', (r) => r.status?.stableRS === green), { what: 'Healthy on green' });
      const old = await cluster.get<ReplicaSet>(rsRef(ns, `${APP}-${blue}`));
      assert.ok(old?.metadata.annotations?.['rollway.dev/scale-down-deadline'], 'blue carries its scale-down deadline');
      await cluster.waitFor<ReplicaSet>(rsRef(ns, `${APP}-${blue}`), (rs) => rs?.spec.replicas === 0, { what: 'blue scaled down', timeoutMs: 15_000 });
    });
    await then('replayed in resourceVersion order, the active Service never selected a ReplicaSet with fewer ready pods than spec.replicas', () => assertActiveNeverUnready(sample.stop()));
    await when('the Rollout is deleted', () => cluster.delete(rolloutRef(ns, APP)));
    await then("both Services are released: our hash key and annotation go, the user's selector stays", async () => {
      for (const name of ['active', 'preview']) {
        const svc = await cluster.waitFor<Service>(svcRef(ns, name), (s) => s?.spec.selector?.[HASH] === undefined, { what: `Service ${name} released` });
        assert.deepEqual(svc?.spec.selector, { app: APP });
        assert.equal(svc?.metadata.annotations?.['rollway.dev/managed-by-rollouts'], undefined);
      }
    });
  } finally {
    sample.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('blue-green: autoPromotionSeconds promotes by itself; previewReplicaCount runs a smaller preview that grows before the switch', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const sample = sampler(cluster, ns);
  let blue = '';
  let green = '';
  try {
    await given('a deployed blue-green Rollout with autoPromotionSeconds 3 and previewReplicaCount 1', async () => {
      await sample.opened;
      blue = await deployed(cluster, ns, { autoPromotionSeconds: 3, previewReplicaCount: 1 });
    });
    await when('the image changes to green', async () => {
      green = await updated(cluster, ns, 'example.com/web:green');
    });
    await then('green runs 1 preview pod and the Rollout pauses while active stays on blue', async () => {
      await waitForSize(cluster, ns, green, 1);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Paused'), { what: 'Paused' });
      assert.equal(await selectorOf(cluster, ns, 'active'), blue);
    });
    await then('without a promote, 3 s after the pause began, green grows to 3 and takes the active Service', async () => {
      const paused = await cluster.get<RolloutObject>(rolloutRef(ns, APP));
      const pausedAt = Date.parse(paused!.status!.pauseConditions![0]!.startTime);
      await waitForSelector(cluster, ns, 'active', green, 20_000);
      assert.ok(Date.now() >= pausedAt + 3000, 'not before autoPromotionSeconds');
      await waitForSize(cluster, ns, green, REPLICAS);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy', (r) => r.status?.stableRS === green), { what: 'Healthy on green' });
    });
    await then('the active Service never selected an unready ReplicaSet', () => assertActiveNeverUnready(sample.stop()));
  } finally {
    sample.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('blue-green: rollway abort during the preview: active stays, preview back to blue, the preview stack scaled down after abortScaleDownDelaySeconds', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const sample = sampler(cluster, ns);
  let blue = '';
  let green = '';
  try {
    await given('a deployed blue-green Rollout (autoPromotionEnabled false) paused on a green preview', async () => {
      await sample.opened;
      blue = await deployed(cluster, ns, { autoPromotionEnabled: false });
      green = await updated(cluster, ns, 'example.com/web:green');
      await waitForSize(cluster, ns, green, REPLICAS);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Paused'), { what: 'Paused on green' });
    });
    await when('it is aborted with rollway abort', () => rollway('-n', ns, 'abort', APP));
    await then('it is Degraded, the preview Service is back on blue, the active never left it, green goes after 2 s', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Degraded', (r) => /RolloutAborted/.test(r.status?.message ?? '')), { what: 'Degraded (aborted)' });
      await waitForSelector(cluster, ns, 'preview', blue);
      assert.equal(await selectorOf(cluster, ns, 'active'), blue);
      const aborted = await cluster.get<ReplicaSet>(rsRef(ns, `${APP}-${green}`));
      assert.equal(aborted?.spec.replicas, REPLICAS, 'the preview keeps its pods through abortScaleDownDelaySeconds');
      await cluster.waitFor<ReplicaSet>(rsRef(ns, `${APP}-${green}`), (rs) => rs?.spec.replicas === 0, { what: 'green scaled down', timeoutMs: 15_000 });
    });
    await when('the template goes back to blue (rollway undo)', () => rollway('-n', ns, 'undo', APP));
    await then('the Rollout is Healthy on blue with no new pods', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy', (r) => r.status?.currentPodHash === blue), { what: 'Healthy on blue' });
      const sets = await cluster.list<ReplicaSet>(rsRef(ns));
      assert.equal(sets.length, 2, 'no third ReplicaSet');
    });
    await then('the active Service never selected an unready ReplicaSet', () => assertActiveNeverUnready(sample.stop()));
  } finally {
    sample.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('blue-green: a failing pre-promotion analysis (web) aborts with the active Service untouched; abort and retry', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const sample = sampler(cluster, ns);
  let blue = '';
  let green = '';
  try {
    await given('a deployed blue-green Rollout whose prePromotionAnalysis asks a web endpoint that answers ok: false', async () => {
      await sample.opened;
      blue = await deployed(cluster, ns, { prePromotionAnalysis: { templates: [{ templateName: 'web-check' }] } }, [webTemplate('web-check', '/bad')]);
    });
    await when('the image changes to green', async () => {
      green = await updated(cluster, ns, 'example.com/web:green');
    });
    await then('the pre-promotion run fails, the Rollout is Degraded (aborted), active never left blue, preview is back on blue, green is scaled down', async () => {
      const runs = await waitRuns(cluster, ns);
      await waitForRun(cluster, ns, runs[0]!, 'Failed');
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Degraded', (r) => r.status?.abort === true), { what: 'Degraded after the failed analysis' });
      await expectEvent(cluster, ns, { kind: 'Rollout', name: APP }, 'RolloutAborted', [/aborted/]);
      assert.equal(await selectorOf(cluster, ns, 'active'), blue);
      await waitForSelector(cluster, ns, 'preview', blue);
      await cluster.waitFor<ReplicaSet>(rsRef(ns, `${APP}-${green}`), (rs) => rs?.spec.replicas === 0, { what: 'green scaled down after abortScaleDownDelaySeconds', timeoutMs: 15_000 });
    });
    await when('the template is retried with a passing analysis (rollway retry after pointing the template at /ok)', async () => {
      await cluster.apply(webTemplate('web-check', '/ok'), ns);
      rollway('-n', ns, 'retry', 'rollout', APP);
    });
    await then('a second run passes and green takes the active Service', async () => {
      await waitForSelector(cluster, ns, 'active', green, 30_000);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy', (r) => r.status?.stableRS === green), { what: 'Healthy on green' });
      const runs = await runsOf(cluster, ns, APP);
      assert.equal(runs.length, 2, 'one run per attempt');
    });
    await then('the active Service never selected an unready ReplicaSet', () => assertActiveNeverUnready(sample.stop()));
  } finally {
    sample.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

async function waitRuns(cluster: Cluster, ns: string): Promise<string[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const runs = await runsOf(cluster, ns, APP);
    if (runs.length > 0) return runs.map((r) => r.metadata.name ?? '');
    if (Date.now() > deadline) assert.fail('no AnalysisRun was created');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

scenario('blue-green: a failing post-promotion analysis switches the active Service back to the previous stack', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const sample = sampler(cluster, ns);
  let blue = '';
  let green = '';
  try {
    await given('a deployed blue-green Rollout whose postPromotionAnalysis fails', async () => {
      await sample.opened;
      blue = await deployed(cluster, ns, { postPromotionAnalysis: { templates: [{ templateName: 'web-check' }] } }, [webTemplate('web-check', '/bad')]);
    });
    await when('the image changes to green', async () => {
      green = await updated(cluster, ns, 'example.com/web:green');
    });
    await then('green takes the active Service, the post-promotion run fails, and the active Service goes back to blue, which kept its pods', async () => {
      // The run fails at its first measurement: the switch and the switch back may both fall
      // between two polls, so the switch to green is read from the Events.
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Degraded', (r) => r.status?.abort === true), { what: 'Degraded after the failed post-promotion analysis' });
      await expectEvent(cluster, ns, { kind: 'Rollout', name: APP }, 'SwitchService', [/service 'active'/, new RegExp(`to '${green}'`)]);
      await expectEvent(cluster, ns, { kind: 'Rollout', name: APP }, 'AnalysisRunFailed', [/Post-promotion/]);
      await waitForSelector(cluster, ns, 'active', blue);
      const ro = await cluster.get<RolloutObject>(rolloutRef(ns, APP));
      assert.equal(ro?.status?.stableRS, blue, 'green never became stable');
      await waitForSize(cluster, ns, blue, REPLICAS);
    });
    await then('the active Service never selected an unready ReplicaSet', () => assertActiveNeverUnready(sample.stop()));
  } finally {
    sample.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('blue-green: a new revision during the preview moves the preview; a SIGKILL of the controller mid-preview resumes without a second switch', async ({ cluster, ns, given, when, then }) => {
  let controller = startController(ns);
  const sample = sampler(cluster, ns);
  let blue = '';
  let green = '';
  let yellow = '';
  try {
    await given('a deployed blue-green Rollout (autoPromotionEnabled false) paused on a green preview', async () => {
      await sample.opened;
      blue = await deployed(cluster, ns, { autoPromotionEnabled: false });
      green = await updated(cluster, ns, 'example.com/web:green');
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Paused'), { what: 'Paused on green' });
    });
    await when('the image changes to yellow during the preview', async () => {
      yellow = await updated(cluster, ns, 'example.com/web:yellow');
    });
    await then('the preview moves to yellow, green is scaled down, active stays on blue', async () => {
      await waitForSelector(cluster, ns, 'preview', yellow);
      await waitForSize(cluster, ns, yellow, REPLICAS);
      await cluster.waitFor<ReplicaSet>(rsRef(ns, `${APP}-${green}`), (rs) => rs?.spec.replicas === 0, { what: 'green scaled down' });
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Paused'), { what: 'Paused on yellow' });
      assert.equal(await selectorOf(cluster, ns, 'active'), blue);
    });
    await when('the controller is killed with SIGKILL, started again, and the Rollout promoted', async () => {
      await controller.kill('SIGKILL');
      controller = startController(ns);
      rollway('-n', ns, 'promote', APP);
    });
    await then('yellow takes the active Service once: one switch of the active Service in the Events', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy', (r) => r.status?.stableRS === yellow), { what: 'Healthy on yellow' });
      assert.equal(await selectorOf(cluster, ns, 'active'), yellow);
      // Events are written after the status: wait for the switch's, then count them.
      await expectEvent(cluster, ns, { kind: 'Rollout', name: APP }, 'SwitchService', [/service 'active'/, new RegExp(`to '${yellow}'`)]);
      const switched = new RegExp(`service 'active' from '[^']*' to '${yellow}'`);
      const switches = (await cluster.events(ns, { kind: 'Rollout', name: APP })).filter((e) => switched.test(e.message ?? ''));
      assert.equal(switches.length, 1, 'switched once');
      assert.equal(switches[0]?.count ?? 1, 1, 'switched once');
    });
    await then('the active Service never selected an unready ReplicaSet', () => assertActiveNeverUnready(sample.stop()));
  } finally {
    sample.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('blue-green: never-ready pods are never given the active Service; the update ends ProgressDeadlineExceeded', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const sample = sampler(cluster, ns);
  let blue = '';
  try {
    await given('a deployed blue-green Rollout with progressDeadlineSeconds 5', async () => {
      await sample.opened;
      await cluster.apply([...services(), rollout({}, { progressDeadlineSeconds: 5 })], ns);
      const healthy = await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Healthy'), { what: 'Healthy' });
      blue = healthy!.status!.stableRS!;
      await waitForSelector(cluster, ns, 'active', blue);
    });
    await when('the new template has pods that never become ready', () =>
      cluster.patch(rolloutRef(ns, APP), { spec: { template: { metadata: { annotations: { 'e2e.rollway.dev/never-ready': 'true' } }, spec: { containers: [{ name: APP, image: 'example.com/web:green' }] } } } }),
    );
    await then('the Rollout becomes Degraded with ProgressDeadlineExceeded and the active Service stays on blue', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), phaseIs('Degraded', (r) => /ProgressDeadlineExceeded/.test(r.status?.message ?? '')), { what: 'ProgressDeadlineExceeded', timeoutMs: 30_000 });
      assert.equal(await selectorOf(cluster, ns, 'active'), blue);
      const pods = await cluster.list<Pod>(podsRef(ns), `app=${APP}`);
      assert.ok(pods.some((p) => p.metadata.labels?.[HASH] !== blue), 'the new pods exist');
    });
    await then('the active Service never selected an unready ReplicaSet', () => assertActiveNeverUnready(sample.stop()));
  } finally {
    sample.stop();
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

scenario('blue-green: a missing Service is InvalidSpec naming the field; other Rollouts go on', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('a blue-green Rollout whose previewService does not exist', () => cluster.apply([services()[0]!, rollout({ previewService: 'nowhere' })], ns));
    await then('it is Degraded with InvalidSpec naming spec.strategy.blueGreen.previewService', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, APP), (r) => r?.status?.phase === 'Degraded', { what: 'Degraded' });
      const invalid = ro?.status?.conditions?.find((c) => c.type === 'InvalidSpec');
      assert.match(invalid?.message ?? '', /spec\.strategy\.blueGreen\.previewService/);
      assert.match(invalid?.message ?? '', /"nowhere" not found/);
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});
