// The Traefik router on the real control plane with the upstream TraefikService CRD (traefik.io
// v1alpha1, crds/third-party/): a user's weighted TraefikService through a whole rollout, what
// `rollway get rollout` reads from it, the conformance suite, and a TraefikService that cannot
// carry the weights reported on the Rollout.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { RolloutObject } from '../controller/controller.ts';
import { KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { CANARY_SERVICE, ROLLOUT_NAME, routerConformance, STABLE_SERVICE, type ConformanceEnv } from '../routers/conformance.ts';
import { kubeApiOf } from '../routers/kube-api.ts';
import { traefikFixture } from '../routers/traefik/fixture.ts';
import { weightedEntries, type TraefikService } from '../routers/traefik/render.ts';
import { kubeconfigPath, rollway, scenario, startController } from './harness.ts';
import { APP, CANARY, pausedAt, removeRollout, rollout, rolloutRef, services, STABLE, stepsToFiftyScenario, waitForWeights, type RouterUnderTest } from './routers-support.ts';

const wrrRef = (ns: string): ResourceRef => ({ group: 'traefik.io', version: 'v1alpha1', plural: 'traefikservices', namespace: ns, name: 'web-wrr' });

function weighted(entries: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', metadata: { name: 'web-wrr', labels: { team: 'shop' } }, spec: { weighted: { services: entries, sticky: { cookie: { name: 'lb' } } } } };
}

const traefik: RouterUnderTest = {
  trafficRouting: { traefik: { weightedTraefikServiceName: 'web-wrr' } },
  async setup(cluster, ns) {
    await cluster.apply(weighted([{ name: STABLE, port: 80, weight: 100 }, { name: CANARY, port: 80, weight: 0 }]), ns);
  },
  async weights(cluster, ns) {
    const object = await cluster.get<TraefikService>(wrrRef(ns));
    const { canary, stable } = object ? weightedEntries(object, { canaryService: CANARY, stableService: STABLE }) : {};
    return canary && stable ? [{ canary: canary.weight ?? 1, stable: stable.weight ?? 1 }] : [];
  },
  async leftovers(cluster, ns) {
    const object = await cluster.get<TraefikService>(wrrRef(ns));
    const left = object ? weightedEntries(object, { canaryService: CANARY, stableService: STABLE }).canary?.weight : 0;
    const mark = object?.metadata.annotations?.['rollway.dev/traffic-routed-by'];
    return [...((left ?? 0) > 0 ? [`canary weight ${left}`] : []), ...(mark ? [`annotation rollway.dev/traffic-routed-by ${mark}`] : [])];
  },
};

scenario('Traefik: a weighted TraefikService at 1%, 5%, 20%, 50%, promoted to 100% new stable, a second update aborted, released when the Rollout goes', (ctx) => stepsToFiftyScenario(ctx, traefik), { timeoutMs: 150_000 });

scenario('Traefik: get rollout reads the weight from the TraefikService; one without the canary entry makes the Rollout Degraded naming the field', async ({ cluster, ns, given, when, then }) => {
  const controller = startController(ns);
  try {
    await given('a TraefikService with both entries and a 4-replica Rollout stepping to 20%', async () => {
      await cluster.apply(services(), ns);
      await traefik.setup(cluster, ns);
      await cluster.apply(rollout(traefik.trafficRouting, [{ setWeight: 20 }, { pause: {} }], 4), ns);
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Healthy', { what: 'Rollout Healthy' });
    });
    await when('the image changes', () => rollway('-n', ns, 'set', 'image', APP, `${APP}=example.com/web:green`));
    await then('rollway get rollout shows the 20/80 split it reads from the TraefikService', async () => {
      await cluster.waitFor<RolloutObject>(rolloutRef(ns), pausedAt(1), { what: 'paused at 20%' });
      await waitForWeights(traefik, cluster, ns, 20);
      assert.match(rollway('-n', ns, 'get', 'rollout', APP), /Routing:\s+TraefikService\/web-wrr\s+canary 20% \(20\/100\)/);
      // The mark doctor, uninstall and the next controller start find an orphaned routing by.
      const marks = JSON.parse((await cluster.get<TraefikService>(wrrRef(ns)))?.metadata.annotations?.['rollway.dev/traffic-routed-by'] ?? '{}') as Record<string, unknown>;
      assert.deepEqual(Object.keys(marks), [`${ns}/${APP}`]);
    });
    await when('another writer (a GitOps sync) puts the TraefikService back to 100% stable during the pause', async () => {
      await cluster.patch(wrrRef(ns), { spec: { weighted: { services: [{ name: STABLE, port: 80, weight: 100 }, { name: CANARY, port: 80, weight: 0 }] } } });
    });
    await then('the controller, watching the TraefikService, puts 20% back at once', async () => {
      await waitForWeights(traefik, cluster, ns, 20, 10_000);
    });
    await when('someone replaces the TraefikService with one that has no canary entry', async () => {
      await cluster.delete(wrrRef(ns));
      await cluster.waitFor(wrrRef(ns), (o) => o === undefined, { what: 'TraefikService gone' });
      await cluster.apply(weighted([{ name: STABLE, port: 80, weight: 1 }]), ns);
      rollway('-n', ns, 'promote', APP);
    });
    await then('the Rollout reports InvalidSpec at weightedTraefikServiceName and the TraefikService is left as written', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => (r?.status?.conditions ?? []).some((c) => c.type === 'InvalidSpec' && c.status === 'True'), { what: 'InvalidSpec' });
      const condition = ro!.status!.conditions!.find((c) => c.type === 'InvalidSpec');
      assert.match(condition!.message ?? '', /spec\.strategy\.canary\.trafficRouting\.traefik\.weightedTraefikServiceName: TraefikService "web-wrr": spec\.weighted\.services has no entry for the canary Service "web-canary"/);
      const object = await cluster.get<TraefikService>(wrrRef(ns));
      assert.deepEqual(object?.spec?.weighted?.services, [{ name: STABLE, port: 80, weight: 1 }]);
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});

/** A namespace with the two Services and a Rollout for the conformance suite (no controller runs). */
async function makeEnv(): Promise<ConformanceEnv & { remove: () => Promise<void> }> {
  const client = KubeClient.fromKubeconfig({ path: kubeconfigPath(), userAgent: 'rollway-e2e' });
  const routerClient = KubeClient.fromKubeconfig({ path: kubeconfigPath(), userAgent: 'rollway-router' });
  const namespace = `routers-traefik-${randomBytes(3).toString('hex')}`;
  const nsRef: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', name: namespace };
  await client.create(nsRef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'e2e.rollway.dev/scenario': 'routers-traefik' } } });
  for (const name of [STABLE_SERVICE, CANARY_SERVICE]) {
    await client.create({ group: '', version: 'v1', plural: 'services', namespace }, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: 'conf' }, ports: [{ port: 80, targetPort: 8080 }] } });
  }
  const owner = await client.create<KubeObject>({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace }, {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: ROLLOUT_NAME },
    spec: { replicas: 0, selector: { matchLabels: { app: 'conf' } }, template: { metadata: { labels: { app: 'conf' } }, spec: { containers: [{ name: 'app', image: 'conf:1' }] } }, strategy: { canary: { stableService: STABLE_SERVICE, canaryService: CANARY_SERVICE } } },
  });
  return {
    client: kubeApiOf(client),
    routerClient: kubeApiOf(routerClient),
    routerWrites: () => routerClient.calls.writes() + routerClient.calls.total((verb) => verb === 'apply'),
    namespace,
    rollout: { name: ROLLOUT_NAME, uid: owner.metadata.uid!, apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' },
    remove: async () => {
      if (!process.env.ROLLWAY_E2E_KEEP) await client.delete(nsRef).catch(() => {});
      client.close();
      routerClient.close();
    },
  };
}

routerConformance(traefikFixture(), { makeEnv });
