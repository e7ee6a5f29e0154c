// Standalone Experiments on the local control plane: two templates judged by a web-provider
// analysis (success, failure), one bound by its duration, one whose pods never become ready (the
// progress deadline fails it), a bad spec, and a controller killed while one runs.
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { expectEvent, runRef, type RunObject } from './analysis-fixtures.ts';
import { scenario, startController, type Cluster, type ControllerProcess } from './harness.ts';
import { closeLocal, listenLocal } from '../testing/http-server.ts';

interface ExperimentObject extends KubeObject {
  status?: {
    phase?: string;
    message?: string;
    availableAt?: string;
    templateStatuses?: { name: string; status?: string; serviceName?: string; podTemplateHash?: string; availableReplicas?: number }[];
    analysisRuns?: { name: string; analysisRun?: string; phase?: string }[];
  };
}
interface ReplicaSetObject extends KubeObject {
  spec?: { replicas?: number };
  status?: { availableReplicas?: number };
}

const expRef = (ns: string, name?: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'experiments', namespace: ns, name });
const rsRef = (ns: string, name?: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, name });
const svcRef = (ns: string, name?: string): ResourceRef => ({ group: '', version: 'v1', plural: 'services', namespace: ns, name });

let server: http.Server;
let base = '';
before(async () => {
  server = http.createServer((req, res) => {
    const ok = req.url?.split('?')[0] === '/ok';
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ ok }));
  });
  base = await listenLocal(server);
});
after(async () => {
  await closeLocal(server);
});

function templateYaml(name: string, options: { replicas?: number; service?: boolean; annotations?: string } = {}): string {
  return `
  - name: ${name}
    replicas: ${options.replicas ?? 1}
    ${options.service ? 'service: {}' : ''}
    selector: {matchLabels: {app: demo, role: ${name}}}
    template:
      metadata:
        labels: {app: demo, role: ${name}}
        ${options.annotations ? `annotations: {${options.annotations}}` : ''}
      spec: {containers: [{name: web, image: example.com/web:${name}, ports: [{containerPort: 8080}]}]}`;
}

function analysisTemplate(path: string): string {
  return `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: http-check}
spec:
  args: [{name: hash}]
  metrics:
  - name: healthy
    count: 2
    interval: 1s
    successCondition: result == true
    provider:
      web: {url: "${base}${path}?hash={{args.hash}}", jsonPath: "$.ok"}
`;
}

function experimentYaml(name: string, body: string): string {
  return `
apiVersion: rollway.dev/v1alpha1
kind: Experiment
metadata: {name: ${name}}
spec:
${body}
`;
}

async function waitPhase(cluster: Cluster, ns: string, name: string, phase: string, timeoutMs = 150_000): Promise<ExperimentObject> {
  const exp = await cluster.waitFor<ExperimentObject>(expRef(ns, name), (e) => e?.status?.phase === phase, { what: `Experiment ${name} ${phase}`, timeoutMs });
  return exp!;
}

/**
 * SIGTERM, and SIGKILL if the process has not exited 20 s later. Seen on this machine under load:
 * after SIGTERM a controller sometimes keeps two routing-object watches (httproutes,
 * traefikservices) open and never exits; not the Experiment code's doing, reported.
 */
async function stop(controller: ControllerProcess): Promise<void> {
  const exited = controller.kill();
  const timer = setTimeout(() => process.kill(controller.pid, 'SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

const ownedReplicaSets = async (cluster: Cluster, ns: string, uid: string | undefined): Promise<ReplicaSetObject[]> =>
  (await cluster.list<ReplicaSetObject>(rsRef(ns))).filter((rs) => rs.metadata.ownerReferences?.some((o) => o.kind === 'Experiment' && o.uid === uid && o.controller));

scenario('experiment: two templates and a required web analysis end Successful, then scale down', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('an AnalysisTemplate reading /ok and an Experiment with baseline and canary (with a Service) and a required analysis', async () => {
      await cluster.apply(analysisTemplate('/ok'), ns);
      await cluster.apply(
        experimentYaml(
          'pass',
          `  scaleDownDelaySeconds: 2
  templates:${templateYaml('baseline')}${templateYaml('canary', { replicas: 2, service: true })}
  analyses:
  - name: check
    templateName: http-check
    requiredForCompletion: true
    args: [{name: hash, value: "{{templates.canary.podTemplateHash}}"}]`,
        ),
        ns,
      );
    });
    let uid: string | undefined;
    await then('each template gets a ReplicaSet owned by the Experiment, the canary a Service, and the experiment runs', async () => {
      const exp = await waitPhase(cluster, ns, 'pass', 'Running');
      uid = exp.metadata.uid;
      assert.ok(exp.status?.availableAt, 'availableAt is set once all pods are available');
      const sets = await ownedReplicaSets(cluster, ns, uid);
      assert.deepEqual(sets.map((rs) => [rs.metadata.name, rs.spec?.replicas]).sort(), [['pass-baseline', 1], ['pass-canary', 2]]);
      const canary = exp.status?.templateStatuses?.find((t) => t.name === 'canary');
      assert.equal(canary?.serviceName, 'pass-canary');
      assert.ok(await cluster.client.getOptional(svcRef(ns, 'pass-canary')), 'the Service exists');
    });
    await then('the AnalysisRun gets the canary hash as its arg, ends Successful, and so does the experiment, naming it', async () => {
      const exp = await waitPhase(cluster, ns, 'pass', 'Successful');
      assert.match(exp.status?.message ?? '', /required analyses \(check\) completed Successful/);
      const run = await cluster.client.get<RunObject>(runRef(ns, 'pass-check'));
      const hash = exp.status?.templateStatuses?.find((t) => t.name === 'canary')?.podTemplateHash;
      assert.ok(hash);
      assert.deepEqual((run.spec as { args?: unknown[] }).args, [{ name: 'hash', value: hash }]);
    });
    await then('after scaleDownDelaySeconds the ReplicaSets go to 0 and the Service is deleted', async () => {
      await cluster.waitForList<ReplicaSetObject>(rsRef(ns), (items) => items.filter((rs) => rs.metadata.name?.startsWith('pass-')).every((rs) => rs.spec?.replicas === 0), { what: 'experiment ReplicaSets at 0', timeoutMs: 30_000 });
      await cluster.waitFor(svcRef(ns, 'pass-canary'), (svc) => svc === undefined, { what: 'Service pass-canary deleted', timeoutMs: 30_000 });
    });
  } finally {
    await stop(controller);
  }
}, { timeoutMs: 400_000 });

scenario('experiment: a failing web analysis fails the experiment with a message naming the analysis', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('an AnalysisTemplate reading /bad and an Experiment running it for 1 hour', async () => {
      await cluster.apply(analysisTemplate('/bad'), ns);
      await cluster.apply(
        experimentYaml(
          'fail',
          `  duration: 1h
  templates:${templateYaml('baseline')}${templateYaml('canary')}
  analyses:
  - name: check
    templateName: http-check
    args: [{name: hash, value: "{{templates.baseline.replicaset.name}}"}]`,
        ),
        ns,
      );
    });
    await then('the experiment is Failed long before its duration, saying which analysis failed, with a Warning Event', async () => {
      const exp = await waitPhase(cluster, ns, 'fail', 'Failed');
      assert.match(exp.status?.message ?? '', /^analysis 'check' Failed: Metric "healthy" assessed Failed/);
      await expectEvent(cluster, ns, { kind: 'Experiment', name: 'fail' }, 'ExperimentFailed', [/analysis 'check' Failed/]);
    });
  } finally {
    await stop(controller);
  }
}, { timeoutMs: 400_000 });

scenario('experiment: without analyses it runs for its duration, counted from when all pods are available', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('an Experiment with duration 6s whose pods take 2 s to become ready', async () => {
      await cluster.apply(experimentYaml('timed', `  duration: 6s\n  templates:${templateYaml('only', { replicas: 2, annotations: '"e2e.rollway.dev/ready-delay": 2s' })}`), ns);
    });
    await then('it is Successful at availableAt + 6 s, not earlier', async () => {
      const running = await waitPhase(cluster, ns, 'timed', 'Running');
      const availableAt = Date.parse(running.status?.availableAt ?? '');
      const created = Date.parse(running.metadata.creationTimestamp ?? '');
      assert.ok(availableAt - created >= 1000, 'availableAt waits for the ready pods');
      const done = await waitPhase(cluster, ns, 'timed', 'Successful');
      assert.match(done.status?.message ?? '', /ran for its duration \(6s\)/);
      assert.ok(Date.now() >= availableAt + 6000);
    });
  } finally {
    await stop(controller);
  }
}, { timeoutMs: 400_000 });

scenario('experiment: pods that never become ready fail it at progressDeadlineSeconds, naming the template', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('an Experiment whose canary pods are never ready, progressDeadlineSeconds 5, and an analysis', async () => {
      await cluster.apply(analysisTemplate('/ok'), ns);
      await cluster.apply(experimentYaml('stuck', `  progressDeadlineSeconds: 5\n  templates:${templateYaml('canary', { annotations: '"e2e.rollway.dev/never-ready": "true"' })}\n  analyses: [{name: check, templateName: http-check}]`), ns);
    });
    await then('it is Failed with the template in the message, and the analyses never start', async () => {
      const exp = await waitPhase(cluster, ns, 'stuck', 'Failed');
      assert.match(exp.status?.message ?? '', /Template 'canary' exceeded its progressDeadlineSeconds \(5\)/);
      assert.equal(exp.status?.availableAt, undefined);
      assert.equal(exp.status?.analysisRuns?.[0]?.analysisRun, undefined, 'no AnalysisRun was created');
      await expectEvent(cluster, ns, { kind: 'Experiment', name: 'stuck' }, 'ExperimentFailed', [/canary/]);
    });
  } finally {
    await stop(controller);
  }
}, { timeoutMs: 400_000 });

scenario('experiment: a bad spec is Error with the field path and an InvalidSpec Event', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('an Experiment with two templates named alike and one naming a missing AnalysisTemplate', async () => {
      await cluster.apply(experimentYaml('twins', `  templates:${templateYaml('same')}${templateYaml('same')}`), ns);
      await cluster.apply(experimentYaml('orphan', `  templates:${templateYaml('one')}\n  analyses: [{name: check, templateName: nowhere}]`), ns);
    });
    await then('the duplicate is Error naming spec.templates[1].name; the missing template is Error naming the analysis', async () => {
      const twins = await waitPhase(cluster, ns, 'twins', 'Error');
      assert.match(twins.status?.message ?? '', /spec\.templates\[1\]\.name: two templates are named "same"/);
      await expectEvent(cluster, ns, { kind: 'Experiment', name: 'twins' }, 'InvalidSpec', [/spec\.templates\[1\]\.name/]);
      const orphan = await waitPhase(cluster, ns, 'orphan', 'Error');
      assert.match(orphan.status?.message ?? '', /analysis 'check' Error: spec\.analyses\[0\]\.templateName: AnalysisTemplate "nowhere" not found/);
      assert.deepEqual(await ownedReplicaSets(cluster, ns, twins.metadata.uid), [], 'nothing is created for an invalid spec');
    });
  } finally {
    await stop(controller);
  }
}, { timeoutMs: 400_000 });

scenario('experiment: a controller killed (SIGKILL) while it runs is resumed by the next one without new ReplicaSets', async ({ cluster, ns, given, when, then }) => {
  let controller = startController(ns);
  let before: string[] = [];
  try {
    await given('a running Experiment of 12 s', async () => {
      await cluster.apply(experimentYaml('resume', `  duration: 12s\n  templates:${templateYaml('baseline')}${templateYaml('canary')}`), ns);
      const exp = await waitPhase(cluster, ns, 'resume', 'Running');
      before = (await ownedReplicaSets(cluster, ns, exp.metadata.uid)).map((rs) => `${rs.metadata.name}/${rs.metadata.uid}`).sort();
      assert.equal(before.length, 2);
    });
    await when('the controller is SIGKILLed and a new one starts', async () => {
      await controller.kill('SIGKILL');
      controller = startController(ns);
    });
    await then('the experiment ends Successful on time with the same two ReplicaSets', async () => {
      const done = await waitPhase(cluster, ns, 'resume', 'Successful');
      const after = (await ownedReplicaSets(cluster, ns, done.metadata.uid)).map((rs) => `${rs.metadata.name}/${rs.metadata.uid}`).sort();
      assert.deepEqual(after, before);
    });
  } finally {
    await stop(controller);
  }
}, { timeoutMs: 400_000 });
