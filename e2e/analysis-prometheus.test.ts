// Canary analysis against a real Prometheus server scraping an exporter whose error rate the test
// sets: an update passes its analysis while errors are low and is rolled back by itself once they
// cross the threshold — as a step, and in the background between steps.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { RolloutObject } from '../controller/controller.ts';
import { expectEvent, phaseIs, rolloutRef, rolloutYaml, rsRef, runsOf, setImage, waitForRun } from './analysis-fixtures.ts';
import { scenario, startController } from './harness.ts';
import { startExporter, startPrometheus, type Exporter, type PrometheusServer } from './prometheus.ts';

let prometheus: PrometheusServer;
let exporter: Exporter;

before(async () => {
  exporter = await startExporter(0.01);
  prometheus = await startPrometheus([exporter.target]);
  await prometheus.waitFor('app_error_rate', (v) => v === 0.01);
});

after(async () => {
  await prometheus?.stop();
  await exporter?.close();
});

/** Sets the error rate and waits until Prometheus has scraped it. */
async function errorRate(rate: number): Promise<void> {
  exporter.setErrorRate(rate);
  await prometheus.waitFor('app_error_rate', (v) => v === rate);
}

// The template takes the Prometheus address as an arg, as teams do to share one template.
const TEMPLATE = (count: string) => `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata:
  name: error-rate
spec:
  args:
  - name: address
  - name: threshold
    value: "0.05"
  metrics:
  - name: error-rate
    interval: 1s
${count}
    successCondition: result[0] < {{args.threshold}}
    failureLimit: 0
    provider:
      prometheus:
        address: "{{args.address}}"
        query: max(app_error_rate)
        timeout: 5
`;

type ReplicaSet = { metadata: { annotations?: Record<string, string> }; spec: { replicas: number } };

scenario(
  'step analysis on Prometheus: an update passes while errors are low, the next one rolls back by itself when they are high',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    const ro = rolloutRef(ns, 'shop');
    const steps = `
      - setWeight: 50
      - analysis:
          templates: [{templateName: error-rate}]
          args: [{name: address, value: "${prometheus.url}"}]`;
    try {
      await given('an error-rate AnalysisTemplate and a Rollout with an analysis step, deployed', async () => {
        await cluster.apply(TEMPLATE('    count: 3'), ns);
        await cluster.apply(rolloutYaml('shop', { steps }), ns);
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'first deploy Healthy' });
        await errorRate(0.01);
      });

      await when('the image changes while the error rate is 1%', () => setImage(cluster, ns, 'shop', 'registry.example/app:2'));
      await then('the step AnalysisRun measures 3 times, succeeds, and revision 2 becomes stable', async () => {
        const done = await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && (r.metadata.generation ?? 0) > 1), {
          what: 'revision 2 promoted',
          timeoutMs: 60_000,
        });
        const [run] = await runsOf(cluster, ns, 'shop');
        assert.equal(run?.metadata.name, `shop-${done!.status!.currentPodHash}-1`);
        assert.equal(run?.status?.phase, 'Successful');
        assert.equal(run?.metadata.labels?.['rollouts-pod-template-hash'], done!.status!.currentPodHash);
        assert.equal(run?.metadata.labels?.['rollway.dev/analysis-type'], 'step');
        assert.equal(run?.metadata.ownerReferences?.[0]?.kind, 'Rollout');
        const result = run?.status?.metricResults?.[0];
        assert.equal(result?.count, 3);
        assert.equal(result?.successful, 3);
        assert.deepEqual(result?.measurements?.map((m) => m.value), ['[0.01]', '[0.01]', '[0.01]']);
        await expectEvent(cluster, ns, { kind: 'Rollout', name: 'shop' }, 'RolloutStepCompleted', [/step 2\/2 completed \(analysis/]);
      });

      await when('the error rate rises to 50% and the image changes again', async () => {
        await errorRate(0.5);
        await setImage(cluster, ns, 'shop', 'registry.example/app:3');
      });
      await then('the analysis fails, the update is aborted: weight 0, Degraded, the metric and its value named', async () => {
        const aborted = await cluster.waitFor<RolloutObject>(ro, phaseIs('Degraded', (r) => r.status?.abort === true), { what: 'Rollout Degraded by analysis', timeoutMs: 60_000 });
        const status = aborted!.status!;
        assert.equal(status.canary?.weights?.canary.weight, 0);
        assert.match(status.message ?? '', /RolloutAborted: .*Metric "error-rate" assessed Failed due to failed \(1\) > failureLimit \(0\); last value \[0\.5\]/);
        const runs = await runsOf(cluster, ns, 'shop');
        const failed = runs.find((r) => r.metadata.name === `shop-${status.currentPodHash}-1`);
        assert.equal(failed?.status?.phase, 'Failed');
        await expectEvent(cluster, ns, { kind: 'Rollout', name: 'shop' }, 'AnalysisRunFailed', [/error-rate/, /\[0\.5\]/]);
        await expectEvent(cluster, ns, { kind: 'Rollout', name: 'shop' }, 'RolloutAborted', [/revision 3/]);
      });
      await then('the canary ReplicaSet is scaled to 0 and revision 2 serves all pods', async () => {
        await cluster.waitForList<ReplicaSet & import('../kube/client.ts').KubeObject>(
          rsRef(ns),
          (sets) => sets.find((rs) => rs.metadata.annotations?.['rollway.dev/revision'] === '3')?.spec.replicas === 0 && sets.find((rs) => rs.metadata.annotations?.['rollway.dev/revision'] === '2')?.spec.replicas === 2,
          { what: 'canary at 0, stable at 2' },
        );
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 150_000 },
);

scenario(
  'background analysis on Prometheus: runs from its starting step, ends with the promotion, aborts between steps when errors rise',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    const ro = rolloutRef(ns, 'cart');
    const steps = `
      - setWeight: 50
      - pause: {duration: 3}
      - pause: {}`;
    const background = `        startingStep: 1
        templates: [{templateName: error-rate}]
        args: [{name: address, value: "${prometheus.url}"}]`;
    try {
      await given('a Rollout with background analysis from step 1 (measuring every second until promoted), deployed', async () => {
        await cluster.apply(TEMPLATE(''), ns);
        await cluster.apply(rolloutYaml('cart', { steps, background }), ns);
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'first deploy Healthy' });
        await errorRate(0.01);
      });

      await when('the image changes with a low error rate', () => setImage(cluster, ns, 'cart', 'registry.example/app:2'));
      await then('the background run starts at step 1 and keeps passing; the rollout waits at its manual pause', async () => {
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 2), { what: 'paused at step 3', timeoutMs: 60_000 });
        const rollout = await cluster.get<RolloutObject>(ro);
        const name = `cart-${rollout!.status!.currentPodHash}-background`;
        const run = await cluster.waitFor<import('./analysis-fixtures.ts').RunObject>(
          { group: 'rollway.dev', version: 'v1alpha1', plural: 'analysisruns', namespace: ns, name },
          (r) => r?.status?.phase === 'Running' && (r.status.metricResults?.[0]?.successful ?? 0) >= 2,
          { what: 'background run measuring' },
        );
        assert.equal(run?.metadata.labels?.['rollway.dev/analysis-type'], 'background');
      });
      await when('it is promoted', async () => {
        const current = await cluster.get<RolloutObject>(ro);
        await cluster.patch({ ...ro, subresource: 'status' }, { metadata: { resourceVersion: current!.metadata.resourceVersion }, status: { pauseConditions: null } });
      });
      await then('revision 2 becomes stable and the background run is terminated Successful', async () => {
        const done = await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && (r.metadata.generation ?? 0) > 1), { what: 'revision 2 promoted', timeoutMs: 30_000 });
        const run = await waitForRun(cluster, ns, `cart-${done!.status!.currentPodHash}-background`, 'Successful');
        assert.equal(run.spec.terminate, true);
        assert.equal(run.status?.message, 'Run Terminated');
      });

      await when('the next update is at its manual pause and the error rate rises to 30%', async () => {
        await setImage(cluster, ns, 'cart', 'registry.example/app:3');
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 2 && (r.metadata.generation ?? 0) > 2), { what: 'revision 3 paused at step 3', timeoutMs: 60_000 });
        await errorRate(0.3);
      });
      await then('the background run fails and the update is rolled back: weight 0, Degraded, Event naming the metric', async () => {
        const aborted = await cluster.waitFor<RolloutObject>(ro, phaseIs('Degraded'), { what: 'Degraded by background analysis', timeoutMs: 30_000 });
        assert.equal(aborted!.status!.canary?.weights?.canary.weight, 0);
        assert.match(aborted!.status!.message ?? '', /AnalysisRun cart-\w+-background Failed: Metric "error-rate" assessed Failed .*last value \[0\.3\]/);
        await expectEvent(cluster, ns, { kind: 'Rollout', name: 'cart' }, 'AnalysisRunFailed', [/Background AnalysisRun/, /error-rate/, /\[0\.3\]/]);
        await cluster.waitForList<ReplicaSet & import('../kube/client.ts').KubeObject>(rsRef(ns), (sets) => sets.find((rs) => rs.metadata.annotations?.['rollway.dev/revision'] === '3')?.spec.replicas === 0, { what: 'canary scaled to 0' });
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 150_000 },
);
