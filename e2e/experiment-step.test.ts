// The canary experiment step on the local control plane: a baseline-vs-canary Experiment that
// succeeds (the Rollout goes on and completes), one whose analysis fails (the Experiment fails,
// the Rollout aborts with its message), and weighted steps with Istio and
// with Gateway API where the routing object carries exactly stable 90 / canary 0 / baseline 5 /
// experiment-canary 5 while the Experiment runs (shown by `rollway get rollout`, put back after a
// GitOps-style revert), and the next step's weights afterwards.
import assert from 'node:assert/strict';
import type { RolloutObject } from '../api/views.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import type { HTTPRoute } from '../routers/gateway-api/render.ts';
import type { VirtualService } from '../routers/istio/render.ts';
import { rollway, scenario, sleep, startController, type Cluster } from './harness.ts';
import { APP, CANARY, healthyOn, pausedAt, removeRollout, rollout, rolloutRef, services, STABLE } from './routers-support.ts';

type Experiment = KubeObject & { spec: { templates: { name: string }[] }; status?: { phase?: string; message?: string; templateStatuses?: { name: string; serviceName?: string }[] } };
const experimentsRef = (ns: string, name?: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'experiments', namespace: ns, name });
const vsRef = (ns: string): ResourceRef => ({ group: 'networking.istio.io', version: 'v1', plural: 'virtualservices', namespace: ns, name: 'web' });
const routeRef = (ns: string): ResourceRef => ({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: ns, name: 'web' });

const BASELINE_VS_CANARY = (duration: string, weights?: [number, number]) => ({
  experiment: {
    duration,
    templates: [
      { name: 'baseline', specRef: 'stable', ...(weights ? { weight: weights[0] } : {}) },
      { name: 'canary', specRef: 'canary', ...(weights ? { weight: weights[1] } : {}) },
    ],
  },
});

/** A Rollout of 2 pods, deployed and Healthy on web:blue, then updated to web:green. */
async function deployAndUpdate(cluster: Cluster, ns: string, trafficRouting: Record<string, unknown> | undefined, steps: Record<string, unknown>[], spec: Record<string, unknown> = {}): Promise<void> {
  const object = rollout(trafficRouting ?? {}, steps, 2) as RolloutObject;
  Object.assign(object.spec, spec);
  const canary = object.spec.strategy!.canary as Record<string, unknown>;
  if (!trafficRouting) delete canary.trafficRouting;
  await cluster.apply(services(), ns);
  await cluster.apply(object, ns);
  // The shared control plane can take a while to start pods under load.
  await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn(), { what: 'first revision Healthy', timeoutMs: 120_000 });
  // A merge patch replaces the list: the port stays, so template Services have one to serve.
  await cluster.patch(rolloutRef(ns), { spec: { template: { spec: { containers: [{ name: APP, image: 'example.com/web:green', ports: [{ name: 'http', containerPort: 8080 }] }] } } } });
}

/** The Experiment the Rollout created, once it is in `phases`. */
async function experimentIn(cluster: Cluster, ns: string, phases: string[], timeoutMs = 120_000): Promise<Experiment> {
  const deadline = Date.now() + timeoutMs;
  let last: Experiment[] = [];
  while (Date.now() < deadline) {
    last = await cluster.list<Experiment>(experimentsRef(ns));
    const found = last.find((e) => phases.includes(e.status?.phase ?? ''));
    if (found) return found;
    await sleep(200);
  }
  return assert.fail(`an Experiment in ${phases.join('/')} expected; found ${JSON.stringify(last.map((e) => [e.metadata.name, e.status?.phase]))}`);
}

scenario('experiment step, baseline vs canary: the Rollout creates the Experiment it owns, goes on when it succeeds, and completes', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given('a Rollout with an experiment step of 3 s, updated to a new template', () => deployAndUpdate(cluster, ns, undefined, [BASELINE_VS_CANARY('3s')]));
    await then('an Experiment <rollout>-<hash>-<revision>-0 owned by the Rollout runs both templates', async () => {
      const experiment = await experimentIn(cluster, ns, ['Running', 'Successful']);
      const ro = await cluster.get<RolloutObject>(rolloutRef(ns));
      assert.equal(experiment.metadata.name, `${APP}-${ro?.status?.currentPodHash}-2-0`);
      assert.equal(experiment.metadata.ownerReferences?.[0]?.uid, ro?.metadata.uid);
      assert.deepEqual(experiment.spec.templates.map((t) => t.name), ['baseline', 'canary']);
    });
    await then('the Rollout completes after the Experiment succeeds', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), healthyOn((r) => r.status?.stableRS === r.status?.currentPodHash), { what: 'second revision Healthy', timeoutMs: 120_000 });
      assert.equal((await experimentIn(cluster, ns, ['Successful'], 5_000)).status?.phase, 'Successful');
    });
    await removeRollout(cluster, ns);
  } finally {
    await controller.kill();
  }
}, { timeoutMs: 360_000 });

/** An AnalysisTemplate whose one measurement is a Job that fails (KWOK ends its pod with exit code 1). */
const FAILING_TEMPLATE: KubeObject = {
  apiVersion: 'rollway.dev/v1alpha1',
  kind: 'AnalysisTemplate',
  metadata: { name: 'smoke-fails' },
  spec: {
    metrics: [
      {
        name: 'smoke',
        provider: {
          job: {
            spec: {
              backoffLimit: 0,
              template: {
                metadata: { annotations: { 'e2e.rollway.dev/exit-code': '1' } },
                spec: { restartPolicy: 'Never', containers: [{ name: 'smoke', image: 'example.com/smoke:1' }] },
              },
            },
          },
        },
      },
    ],
  },
};

scenario('experiment step whose analysis fails: the Experiment fails and the Rollout aborts with its message', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    const failing = { experiment: { templates: [{ name: 'baseline', specRef: 'stable' }, { name: 'canary', specRef: 'canary' }], analyses: [{ name: 'smoke', templateName: 'smoke-fails', requiredForCompletion: true }] } };
    await given('a Rollout whose experiment step runs a failing analysis, updated to a new template', async () => {
      await cluster.apply(FAILING_TEMPLATE, ns);
      await deployAndUpdate(cluster, ns, undefined, [failing, { pause: {} }]);
    });
    await then('the Experiment fails, the Rollout is aborted and Degraded, naming the Experiment and why', async () => {
      const experiment = await experimentIn(cluster, ns, ['Failed', 'Error']);
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.abort === true && r.status.phase === 'Degraded', { what: 'aborted', timeoutMs: 60_000 });
      assert.match(ro?.status?.message ?? '', new RegExp(`Experiment ${experiment.metadata.name} (Failed|Error)`));
      assert.notEqual(ro?.status?.stableRS, ro?.status?.currentPodHash, 'the stable revision stays');
    });
    await removeRollout(cluster, ns);
  } finally {
    await controller.kill();
  }
}, { timeoutMs: 360_000 });

/** A router under test: its routing object and how to read its weights by Service. */
interface WeightedRouter {
  trafficRouting: Record<string, unknown>;
  object: KubeObject;
  ref: (ns: string) => ResourceRef;
  read: (cluster: Cluster, ns: string) => Promise<Record<string, number>>;
}

const istio: WeightedRouter = {
  trafficRouting: { istio: { virtualService: { name: 'web', routes: ['primary'] } } },
  ref: vsRef,
  object: {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name: 'web' },
    spec: { hosts: ['web.example.com'], http: [{ name: 'primary', route: [{ destination: { host: STABLE, port: { number: 80 } }, weight: 100 }, { destination: { host: CANARY, port: { number: 80 } }, weight: 0 }] }] },
  },
  async read(cluster, ns) {
    const vs = await cluster.get<VirtualService>(vsRef(ns));
    const route = vs?.spec?.http?.find((r) => r.name === 'primary')?.route ?? [];
    return Object.fromEntries(route.map((d) => [d.destination.host, d.weight ?? 0]));
  },
};

const gatewayApi: WeightedRouter = {
  trafficRouting: { gatewayAPI: { httpRoutes: [{ name: 'web' }], verify: { mode: 'off' } } },
  ref: routeRef,
  object: {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web' },
    spec: {
      parentRefs: [{ name: 'gateway' }],
      rules: [{ name: 'web', backendRefs: [{ group: '', kind: 'Service', name: STABLE, port: 80, weight: 100 }, { group: '', kind: 'Service', name: CANARY, port: 80, weight: 0 }] }],
    },
  },
  async read(cluster, ns) {
    const route = await cluster.get<HTTPRoute>(routeRef(ns));
    return Object.fromEntries((route?.spec?.rules?.[0]?.backendRefs ?? []).map((b) => [b.name, b.weight ?? 1]));
  },
};

async function waitForShares(router: WeightedRouter, cluster: Cluster, ns: string, wanted: () => Promise<Record<string, number>>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, number> = {};
  let want: Record<string, number> = {};
  while (Date.now() < deadline) {
    want = await wanted();
    last = await router.read(cluster, ns);
    try {
      assert.deepEqual(last, want);
      return;
    } catch {
      await sleep(150);
    }
  }
  assert.fail(`routing object should carry ${JSON.stringify(want)}, carries ${JSON.stringify(last)}`);
}

for (const [label, router] of [['Istio', istio], ['Gateway API', gatewayApi]] as const) {
  scenario(`weighted experiment step with ${label}: stable 90 / canary 0 / baseline 5 / experiment-canary 5, then the next step's 80 / 20`, async ({ cluster, ns, given, then }) => {
    const controller = startController(ns);
    try {
      // The experiment runs long enough to be seen on a loaded machine.
      await given(`the ${label} routing object and a Rollout stepping setWeight 0, a weighted experiment of 60 s, setWeight 20, pause`, async () => {
        await cluster.apply(router.object, ns);
        await deployAndUpdate(cluster, ns, router.trafficRouting, [{ setWeight: 0 }, BASELINE_VS_CANARY('60s', [5, 5]), { setWeight: 20 }, { pause: {} }]);
      });
      let name = '';
      // The template Services as the Experiment reports them.
      const duringExperiment = async (): Promise<Record<string, number>> => {
        const experiment = await cluster.get<Experiment>(experimentsRef(ns, name));
        const service = (template: string): string => experiment?.status?.templateStatuses?.find((t) => t.name === template)?.serviceName ?? `(no Service for ${template} yet)`;
        return { [STABLE]: 90, [CANARY]: 0, [service('baseline')]: 5, [service('canary')]: 5 };
      };
      await then('while the Experiment runs, the routing object carries exactly 90 / 0 / 5 / 5', async () => {
        name = (await experimentIn(cluster, ns, ['Running'])).metadata.name ?? '';
        await waitForShares(router, cluster, ns, duringExperiment);
      });
      await then('`get rollout` shows the Experiment under revision 2 with its templates, and the shares the routing object gives them', async () => {
        const out = rollway('-n', ns, 'get', 'rollout', APP, '--no-color');
        const services = Object.keys(await duringExperiment()).filter((s) => s !== STABLE && s !== CANARY);
        const revision2 = out.slice(out.indexOf('revision 2'), out.indexOf('revision 1'));
        assert.match(revision2, new RegExp(`└─ ${name} +Experiment +◌ Running`), out);
        assert.match(revision2, new RegExp(`${name}-baseline +ReplicaSet +\\S+ \\S+ +\\S+ +baseline`), out);
        assert.match(revision2, new RegExp(`${name}-canary +ReplicaSet`), out);
        assert.match(out, new RegExp(`Routing: .*canary 0% \\(0/100\\) · ${services[0]} 5% · ${services[1]} 5%`), out);
      });
      await then('a GitOps sync that puts the routing object back as in Git loses the experiment shares only until the controller puts them back', async () => {
        const synced = await cluster.patch(router.ref(ns), { spec: router.object.spec });
        assert.ok(!JSON.stringify(synced.spec).includes(`${name}-baseline`), 'the sync took the experiment destinations out');
        await waitForShares(router, cluster, ns, duringExperiment);
      });
      await then("after it succeeds, the next step's weights and nothing else: stable 80, canary 20", async () => {
        await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(3), { what: 'paused after setWeight 20', timeoutMs: 120_000 });
        await waitForShares(router, cluster, ns, () => Promise.resolve({ [STABLE]: 80, [CANARY]: 20 }));
      });
      await removeRollout(cluster, ns);
    } finally {
      await controller.kill();
    }
  }, { timeoutMs: 360_000 });
}
