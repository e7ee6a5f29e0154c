// The job provider: each measurement is a Kubernetes Job owned by the AnalysisRun; KWOK runs its
// pod and ends it with the exit code the pod template's annotation names, so the test decides
// success or failure. The Job goes when the run is deleted.
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject } from '../kube/client.ts';
import { jobRef, phaseIs, rolloutRef, rolloutYaml, runRef, runsOf, setImage, waitForRun } from './analysis-fixtures.ts';
import { parseYamlObjects, scenario, startController } from './harness.ts';


const jobMetric = (name: string, exitCode: string) => `
  - name: ${name}
    provider:
      job:
        metadata:
          labels: {purpose: smoke-test}
        spec:
          backoffLimit: 0
          template:
            metadata:
              annotations: {e2e.rollway.dev/exit-code: "${exitCode}"}
            spec:
              restartPolicy: Never
              containers:
              - name: smoke
                image: registry.example/smoke:1
                args: ["--target", "{{args.target}}"]`;

function jobRun(name: string, exitCode: string): KubeObject {
  return parseYamlObjects(`
apiVersion: rollway.dev/v1alpha1
kind: AnalysisRun
metadata:
  name: ${name}
spec:
  args:
  - {name: target, value: "http://shop.internal"}
  metrics:${jobMetric('smoke', exitCode)}
`)[0]!;
}

type Job = KubeObject & { spec: { template: { spec: { containers: { args: string[] }[] } } } };

scenario('job provider: a Job that completes passes, one that fails fails, and the Job is deleted with its run', async ({ cluster, ns, given, then, when }) => {
  const controller = startController(ns);
  let okJob = '';
  try {
    await given('two AnalysisRuns whose Job pods exit with 0 and with 1', async () => {
      await cluster.create(jobRun('smoke-ok', '0'), ns);
      await cluster.create(jobRun('smoke-ko', '1'), ns);
    });
    await then('the run whose Job completed is Successful, and the Job is owned by it with the args filled in', async () => {
      const run = await waitForRun(cluster, ns, 'smoke-ok', 'Successful');
      const measurement = run.status?.metricResults?.[0]?.measurements?.[0];
      assert.match(measurement?.message ?? '', /completed/);
      const jobName = measurement?.metadata?.['job-name'] ?? '';
      assert.equal(jobName, 'smoke-ok-smoke-1');
      okJob = jobName;
      const job = await cluster.get<Job>(jobRef(ns, jobName));
      assert.ok(job, `Job ${jobName} exists`);
      assert.equal(job.metadata.ownerReferences?.[0]?.kind, 'AnalysisRun');
      assert.equal(job.metadata.ownerReferences?.[0]?.name, 'smoke-ok');
      assert.equal(job.metadata.labels?.purpose, 'smoke-test');
      assert.deepEqual(job.spec.template.spec.containers[0]?.args, ['--target', 'http://shop.internal']);
    });
    await then('the run whose Job failed is Failed, naming the Job', async () => {
      const run = await waitForRun(cluster, ns, 'smoke-ko', 'Failed');
      assert.match(run.status?.message ?? '', /Metric "smoke" assessed Failed/);
      assert.match(run.status?.metricResults?.[0]?.measurements?.[0]?.message ?? '', /Job smoke-ko-smoke-1 failed/);
    });
    await when('the successful run is deleted', () => cluster.delete(runRef(ns, 'smoke-ok')));
    await then('its Job is deleted with it', async () => {
      await cluster.waitFor(jobRef(ns, okJob), (job) => job === undefined, { what: `Job ${okJob} garbage-collected with its run`, timeoutMs: 30_000 });
      assert.ok(await cluster.get(jobRef(ns, 'smoke-ko-smoke-1')), 'the other run keeps its Job');
    });
  } finally {
    await controller.kill();
  }
});

scenario('a Job as a Rollout analysis step: the update goes on when the Job passes', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  const ro = rolloutRef(ns, 'api');
  try {
    await given('a template whose Job exits 0 and a Rollout that runs it as its second step, deployed', async () => {
      await cluster.apply(
        `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: smoke}
spec:
  args: [{name: target}]
  metrics:${jobMetric('smoke', '0')}
`,
        ns,
      );
      const steps = `      - setWeight: 50
      - analysis:
          templates: [{templateName: smoke}]
          args: [{name: target, valueFrom: {podTemplateHashValue: Latest}}]`;
      await cluster.apply(rolloutYaml('api', { steps }), ns);
      await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'first deploy Healthy' });
    });
    await when('the image changes', () => setImage(cluster, ns, 'api', 'registry.example/app:2'));
    await then('the Job runs against the new revision (its hash as the arg), passes, and revision 2 becomes stable', async () => {
      const done = await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.stableRS === r.status?.currentPodHash && (r.metadata.generation ?? 0) > 1), { what: 'revision 2 promoted', timeoutMs: 60_000 });
      const [run] = await runsOf(cluster, ns, 'api');
      assert.equal(run?.status?.phase, 'Successful');
      const jobName = run?.status?.metricResults?.[0]?.measurements?.[0]?.metadata?.['job-name'] ?? '';
      const job = await cluster.get<Job>(jobRef(ns, jobName));
      assert.deepEqual(job?.spec.template.spec.containers[0]?.args, ['--target', done!.status!.currentPodHash]);
    });
  } finally {
    await controller.kill();
  }
});
