// The web provider against a local HTTP server: a JSON answer that passes, one that fails, a
// server that never answers (Error once consecutiveErrorLimit is exceeded), and an answer without
// the value (no data: Inconclusive, which pauses a Rollout until it is promoted).
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import type { RolloutObject } from '../controller/controller.ts';
import { expectEvent, phaseIs, rolloutRef, rolloutYaml, runsOf, setImage, waitForRun } from './analysis-fixtures.ts';
import { parseYamlObjects, scenario, startController } from './harness.ts';
import { closeLocal, listenLocal } from '../testing/http-server.ts';

let server: http.Server;
let base = '';
let slowRequests = 0;

before(async () => {
  server = http.createServer((req, res) => {
    const json = (status: number, body: unknown): void => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.url === '/ok') json(200, { data: { ok: true, rate: 0.01 } });
    else if (req.url === '/bad') json(200, { data: { ok: false, rate: 0.4 } });
    else if (req.url === '/nodata') json(200, { data: {} });
    else if (req.url === '/down') json(503, { error: 'maintenance' });
    else if (req.url === '/slow') slowRequests++; // never answers
    else json(404, {});
  });
  base = await listenLocal(server);
});

after(async () => {
  await closeLocal(server);
});

function webRun(name: string, metric: string): ReturnType<typeof parseYamlObjects>[number] {
  return parseYamlObjects(`
apiVersion: rollway.dev/v1alpha1
kind: AnalysisRun
metadata:
  name: ${name}
spec:
  metrics:
${metric}
`)[0]!;
}

scenario('web provider: a passing answer, a failing one, and a timeout that becomes Error after consecutiveErrorLimit', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('three AnalysisRuns measuring a local HTTP server: /ok, /bad and /slow (1 s timeout, consecutiveErrorLimit 2)', async () => {
      await cluster.create(
        webRun(
          'passes',
          `  - name: healthy
    successCondition: result.ok == true && result.rate < 0.05
    provider:
      web:
        url: ${base}/ok
        jsonPath: "{$.data}"
        headers: [{key: X-Test, value: "1"}]`,
        ),
        ns,
      );
      await cluster.create(
        webRun(
          'fails',
          `  - name: healthy
    successCondition: result == true
    provider:
      web: {url: "${base}/bad", jsonPath: "$.data.ok"}`,
        ),
        ns,
      );
      await cluster.create(
        webRun(
          'times-out',
          `  - name: healthy
    interval: 1s
    count: 3
    consecutiveErrorLimit: 2
    successCondition: result == true
    provider:
      web: {url: "${base}/slow", timeoutSeconds: 1}`,
        ),
        ns,
      );
    });
    await then('the run on /ok is Successful with the value it read', async () => {
      const run = await waitForRun(cluster, ns, 'passes', 'Successful');
      assert.equal(run.status?.metricResults?.[0]?.measurements?.[0]?.value, '{"ok":true,"rate":0.01}');
    });
    await then('the run on /bad is Failed, naming the metric and the value', async () => {
      const run = await waitForRun(cluster, ns, 'fails', 'Failed');
      assert.equal(run.status?.message, 'Metric "healthy" assessed Failed due to failed (1) > failureLimit (0); last value false');
      await expectEvent(cluster, ns, { kind: 'AnalysisRun', name: 'fails' }, 'AnalysisRunFailed', [/healthy/]);
    });
    await then('the run on /slow is Error after 3 timeouts in a row, and the message says why', async () => {
      const run = await waitForRun(cluster, ns, 'times-out', 'Error', 30_000);
      const result = run.status?.metricResults?.[0];
      assert.equal(result?.error, 3);
      assert.equal(result?.count, 0, 'errors do not count as measurements');
      assert.match(run.status?.message ?? '', /consecutiveErrors \(3\) > consecutiveErrorLimit \(2\)/);
      assert.match(run.status?.message ?? '', /no answer from http:\/\/127\.0\.0\.1:\d+ within 1s \(timeout\)/);
      assert.equal(slowRequests, 3);
    });
  } finally {
    await controller.kill();
  }
});

scenario('no data is Inconclusive by default: a Rollout pauses on it with InconclusiveAnalysisRun and a promote goes on', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const ro = rolloutRef(ns, 'web');
  try {
    await given('a template reading $.data.ok from an answer that has no such field, and a Rollout with it as a step', async () => {
      await cluster.apply(
        `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: health}
spec:
  metrics:
  - name: health
    successCondition: result == true
    provider:
      web: {url: "${base}/nodata", jsonPath: "$.data.ok"}
`,
        ns,
      );
      await cluster.apply(rolloutYaml('web', { steps: '      - setWeight: 50\n      - analysis: {templates: [{templateName: health}]}\n      - setWeight: 100' }), ns);
      await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'first deploy Healthy' });
    });
    await when('the image changes', () => setImage(cluster, ns, 'web', 'registry.example/app:2'));
    await then('the run is Inconclusive with a "no data" message and the Rollout is Paused on it', async () => {
      const paused = await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.pauseConditions?.some((c) => c.reason === 'InconclusiveAnalysisRun') ?? false), { what: 'Paused on inconclusive analysis', timeoutMs: 60_000 });
      assert.equal(paused!.status!.currentStepIndex, 1);
      const [run] = await runsOf(cluster, ns, 'web');
      assert.equal(run?.status?.phase, 'Inconclusive');
      assert.match(run?.status?.metricResults?.[0]?.measurements?.[0]?.message ?? '', /no data: jsonPath \$\.data\.ok matched nothing/);
      await expectEvent(cluster, ns, { kind: 'Rollout', name: 'web' }, 'AnalysisRunInconclusive', [/paused until promoted/]);
    });
    await when('it is promoted', async () => {
      const current = await cluster.get<RolloutObject>(ro);
      await cluster.patch({ ...ro, subresource: 'status' }, { metadata: { resourceVersion: current!.metadata.resourceVersion }, status: { pauseConditions: null } });
    });
    await then('the remaining steps run and revision 2 becomes stable', async () => {
      await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && (r.metadata.generation ?? 0) > 1), { what: 'promoted past the inconclusive step', timeoutMs: 60_000 });
    });
  } finally {
    await controller.kill();
  }
});
