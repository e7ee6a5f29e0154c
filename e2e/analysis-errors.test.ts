// Templates that cannot be measured — an unknown provider, a malformed condition, a missing arg —
// end their AnalysisRun in Error with a message that says what is wrong, and abort the Rollout
// with that message; a template that does not exist is an InvalidSpec on the Rollout. The
// controller keeps running, and a fixed template plus a retry completes the update.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import type { RolloutObject } from '../controller/controller.ts';
import { phaseIs, rolloutRef, rolloutYaml, runsOf, setImage, templateYaml as template } from './analysis-fixtures.ts';
import { scenario, startController } from './harness.ts';
import { closeLocal, listenLocal } from '../testing/http-server.ts';

let server: http.Server;
let url = '';

before(async () => {
  server = http.createServer((_req, res) => res.writeHead(200, { 'Content-Type': 'application/json' }).end('{"ok": true}'));
  url = `${await listenLocal(server)}/health`;
});

after(async () => {
  await closeLocal(server);
});

const CASES = [
  {
    rollout: 'unknown-provider',
    template: template(
      'unknown-provider',
      `  metrics:
  - name: latency
    successCondition: result < 100
    provider:
      datadog: {query: "avg:latency{*}"}`,
    ),
    message: /metric "latency": provider datadog is not supported \(supported: prometheus, web, job\)/,
  },
  {
    rollout: 'malformed',
    template: template(
      'malformed',
      `  metrics:
  - name: health
    successCondition: result.ok == true &&
    provider:
      web: {url: "URL"}`,
    ),
    message: /metric "health": successCondition malformed expression "result.ok == true &&" at column 21: expected a value/,
  },
  {
    rollout: 'missing-arg',
    template: template(
      'missing-arg',
      `  args:
  - name: service
  metrics:
  - name: health
    successCondition: result.ok == true
    provider:
      web: {url: "URL?service={{args.service}}"}`,
    ),
    message: /arg "service" has no value: pass it in the Rollout \(analysis.args\) or give it a value in the template/,
  },
];

scenario(
  'an unknown provider, a malformed condition or a missing arg: the run is Error, the Rollout aborted with the reason, nothing crashes',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    try {
      await given('three templates that cannot be measured, a Rollout using each as a step, and one naming a template that does not exist', async () => {
        for (const c of CASES) {
          await cluster.apply(c.template.replaceAll('URL', url), ns);
          await cluster.apply(rolloutYaml(c.rollout, { steps: `      - setWeight: 50\n      - analysis: {templates: [{templateName: ${c.rollout}}]}` }), ns);
        }
        await cluster.apply(rolloutYaml('no-template', { steps: '      - setWeight: 50\n      - analysis: {templates: [{templateName: nowhere}]}' }), ns);
        for (const c of CASES) await cluster.waitFor<RolloutObject>(rolloutRef(ns, c.rollout), phaseIs('Healthy'), { what: `${c.rollout} deployed` });
      });

      await then('the Rollout naming a missing template is Degraded with InvalidSpec at the templateName', async () => {
        const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'no-template'), phaseIs('Degraded'), { what: 'no-template Degraded' });
        assert.match(ro!.status!.message ?? '', /InvalidSpec: spec\.strategy\.canary\.steps\[1\]\.analysis\.templates\[0\]\.templateName: AnalysisTemplate "nowhere" not found/);
      });

      await when('each Rollout gets a new image', async () => {
        for (const c of CASES) await setImage(cluster, ns, c.rollout, 'registry.example/app:2');
      });
      await then('each AnalysisRun is Error with a message naming the problem', async () => {
        for (const c of CASES) {
          const runs = await cluster.waitForList<import('./analysis-fixtures.ts').RunObject>(
            { group: 'rollway.dev', version: 'v1alpha1', plural: 'analysisruns', namespace: ns },
            (items) => items.some((r) => r.status?.phase === 'Error'),
            { what: `Error run of ${c.rollout}`, labelSelector: `rollway.dev/rollout=${c.rollout}`, timeoutMs: 60_000 },
          );
          assert.match(runs[0]?.status?.message ?? '', c.message);
        }
      });
      await then('each Rollout is aborted (Degraded, weight 0) with the same reason, and the controller still runs', async () => {
        for (const c of CASES) {
          const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns, c.rollout), phaseIs('Degraded', (r) => r.status?.abort === true), { what: `${c.rollout} aborted` });
          assert.equal(ro!.status!.canary?.weights?.canary.weight, 0);
          assert.match(ro!.status!.message ?? '', c.message);
        }
        assert.doesNotMatch(controller.logs(), /reconcile failed|unhandled|TypeError/i);
        assert.equal(process.kill(controller.pid, 0), true, 'the controller process is alive');
      });

      await when('the missing arg is given a value in the template and the update is retried', async () => {
        await cluster.apply(template('missing-arg', `  args:\n  - {name: service, value: shop}\n  metrics:\n  - name: health\n    successCondition: result.ok == true\n    provider:\n      web: {url: "${url}?service={{args.service}}"}`), ns);
        await cluster.patch({ ...rolloutRef(ns, 'missing-arg'), subresource: 'status' }, { status: { abort: false } });
      });
      await then('a new AnalysisRun passes and the update completes', async () => {
        await cluster.waitFor<RolloutObject>(rolloutRef(ns, 'missing-arg'), phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && (r.metadata.generation ?? 0) > 1), { what: 'missing-arg promoted after retry', timeoutMs: 60_000 });
        const runs = await runsOf(cluster, ns, 'missing-arg');
        assert.deepEqual(runs.map((r) => r.status?.phase), ['Error', 'Successful']);
        assert.match(runs[1]?.metadata.name ?? '', /^missing-arg-\w+-1\.1$/, 'the retry gets a new run name');
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 200_000 },
);
