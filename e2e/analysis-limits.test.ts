// User text that used to stall or crash the controller: a dryRun pattern that backtracks
// exponentially ((a+)+ against a name of 26 a's and a "!": /healthz took 25.8 s), a condition of
// 10000 nested parentheses (a stack overflow, and a run that never got a status), a pattern RE2
// refuses. The controller stays responsive; each bad spec ends as an Error or InvalidSpec that
// names the field, and a predicate condition from Argo's docs decides a real run. A dryRun rule is
// searched for in the metric names as Argo does, and one naming no metric makes the run Error.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import type { RolloutObject } from '../controller/controller.ts';
import { phaseIs, rolloutRef, rolloutYaml, runsOf, setImage, templateYaml as template, type RunObject } from './analysis-fixtures.ts';
import { scenario, sleep, startController } from './harness.ts';
import { closeLocal, freePort, listenLocal } from '../testing/http-server.ts';

let server: http.Server;
let url = '';

before(async () => {
  server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok": true, "latency": [120, 450, 999]}'));
  url = `${await listenLocal(server)}/health`;
});

after(async () => {
  await closeLocal(server);
});

/** Milliseconds /healthz takes to answer 200. */
async function healthzMs(port: number): Promise<number> {
  const started = performance.now();
  const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(20_000) });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  return performance.now() - started;
}

const DEEP = `${'('.repeat(10_000)}result.ok == true${')'.repeat(10_000)}`;

const RUNS = [
  {
    rollout: 'redos',
    // Pinned to the whole name (as Argo reads metricName, it is searched for in the name), so the
    // first name is the backtracking engine's slow case; the rule names the second metric.
    body: `  dryRun: [{metricName: "^(a+)+$"}]
  metrics:
  - name: aaaaaaaaaaaaaaaaaaaaaaaaaa!
    successCondition: "all(result.latency, # < 1000)"
    provider:
      web: {url: "URL"}
  - name: aaaa
    provider:
      web: {url: "URL"}`,
    phase: 'Successful',
    dryRun: ['aaaa'],
  },
  {
    rollout: 'deep',
    body: `  metrics:
  - name: health
    successCondition: "${DEEP}"
    provider:
      web: {url: "URL"}`,
    phase: 'Error',
    message: /metric "health": successCondition condition is longer than 4096 characters \(it has 20017\)/,
  },
  {
    rollout: 'lookahead',
    body: `  dryRun: [{metricName: "(?!health)"}]
  metrics:
  - name: health
    successCondition: result.ok
    provider:
      web: {url: "URL"}`,
    phase: 'Error',
    message: /dryRun\[0\]\.metricName: "\(\?!health\)" is not a regular expression RE2 accepts/,
  },
  {
    // Argo: "Analysis spec invalid: dryRun[0]: Rule didn't match any metric name(s)".
    rollout: 'unmatched',
    body: `  dryRun: [{metricName: "health$"}, {metricName: healthz}]
  metrics:
  - name: health
    successCondition: result.ok
    provider:
      web: {url: "URL"}`,
    phase: 'Error',
    message: /dryRun\[1\]\.metricName: "healthz" matches no metric of this run \(metrics: health\)/,
  },
];

scenario(
  'catastrophic regexes, 10000 nested parentheses and patterns RE2 refuses: the controller stays responsive and names the field',
  async ({ cluster, ns, given, when, then }) => {
    const port = await freePort();
    const controller = startController(ns, [`--healthz-port=${port}`]);
    try {
      await given('four templates (a ^(a+)+$ dryRun, a 20017-character condition, a lookahead dryRun, a dryRun naming no metric), a Rollout stepping through each, and one whose own dryRun has a lookahead', async () => {
        for (const r of RUNS) {
          await cluster.apply(template(r.rollout, r.body.replace('URL', url)), ns);
          await cluster.apply(rolloutYaml(r.rollout, { steps: `      - setWeight: 50\n      - analysis: {templates: [{templateName: ${r.rollout}}]}` }), ns);
        }
        await cluster.apply(rolloutYaml('bad-rollout', { steps: '      - setWeight: 50\n      - analysis: {templates: [{templateName: redos}], dryRun: [{metricName: "(?=x)"}]}' }), ns);
        for (const r of RUNS) await cluster.waitFor<RolloutObject>(rolloutRef(ns, r.rollout), phaseIs('Healthy'), { what: `${r.rollout} deployed` });
      });

      await then('the Rollout whose dryRun RE2 refuses is Degraded with InvalidSpec at that field', async () => {
        const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'bad-rollout'), phaseIs('Degraded'), { what: 'bad-rollout Degraded' });
        assert.match(ro!.status!.message ?? '', /InvalidSpec: spec\.strategy\.canary\.steps\[1\]\.analysis\.dryRun\[0\]\.metricName: "\(\?=x\)" is not a regular expression RE2 accepts/);
      });

      await when('each Rollout gets a new image', async () => {
        for (const r of RUNS) await setImage(cluster, ns, r.rollout, 'registry.example/app:2');
      });

      await then('/healthz answers at once all along, and each run ends as expected', async () => {
        const slowest = { ms: 0 };
        for (const r of RUNS) {
          for (;;) {
            slowest.ms = Math.max(slowest.ms, await healthzMs(port));
            const runs = await runsOf(cluster, ns, r.rollout);
            const done = runs.find((run: RunObject) => run.status?.phase === r.phase);
            if (done) {
              if (r.message) assert.match(done.status?.message ?? '', r.message);
              const results = (done.status?.metricResults ?? []) as { name: string; dryRun?: boolean }[];
              if (r.dryRun) assert.deepEqual(results.filter((m) => m.dryRun).map((m) => m.name), r.dryRun, 'the rule names the metric it is found in');
              assert.ok((done.status?.message ?? '').length < 2000, 'the message does not repeat the condition');
              break;
            }
            assert.ok(!runs.some((run) => ['Successful', 'Failed', 'Error', 'Inconclusive'].includes(run.status?.phase ?? '') && run.status?.phase !== r.phase), `${r.rollout}: ${JSON.stringify(runs.map((x) => x.status))}`);
            await sleep(250);
          }
        }
        assert.ok(slowest.ms < 1000, `/healthz took ${Math.round(slowest.ms)} ms at worst`);
      });

      await then('the Rollouts with a bad template are aborted with the same reason; the (a+)+ one is promoted', async () => {
        for (const r of RUNS.filter((x) => x.message)) {
          const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, r.rollout), phaseIs('Degraded', (x) => x.status?.abort === true), { what: `${r.rollout} aborted` });
          assert.match(ro!.status!.message ?? '', r.message as RegExp);
        }
        await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'redos'), phaseIs('Healthy', (x) => x.status?.stableRS === x.status?.currentPodHash && (x.metadata.generation ?? 0) > 1), { what: 'redos promoted', timeoutMs: 60_000 });
        assert.doesNotMatch(controller.logs(), /RangeError|Maximum call stack|reconcile failed|unhandled/i);
        assert.equal(process.kill(controller.pid, 0), true, 'the controller process is alive');
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 240_000 },
);
