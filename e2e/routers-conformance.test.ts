// The router conformance suite (routers/conformance.ts) against every router, on the local control
// plane with the upstream Istio, SMI and Gateway API CRDs (and built-in Ingress).
import { randomBytes } from 'node:crypto';
import { KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { routerConformance, CANARY_SERVICE, ROLLOUT_NAME, STABLE_SERVICE, type ConformanceEnv } from '../routers/conformance.ts';
import { kubeApiOf } from '../routers/kube-api.ts';
import { gatewayApiFixture } from '../routers/gateway-api/fixture.ts';
import { istioFixture } from '../routers/istio/fixture.ts';
import { nginxFixture } from '../routers/nginx/fixture.ts';
import { smiFixture } from '../routers/smi/fixture.ts';
import { kubeconfigPath } from './harness.ts';

const rolloutsRef = (ns: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns });

/** A namespace with the two Services and a Rollout (no controller runs: it only owns what routers create). */
async function makeEnv(): Promise<ConformanceEnv & { remove: () => Promise<void> }> {
  const client = KubeClient.fromKubeconfig({ path: kubeconfigPath(), userAgent: 'rollway-e2e' });
  const routerClient = KubeClient.fromKubeconfig({ path: kubeconfigPath(), userAgent: 'rollway-router' });
  const namespace = `routers-conformance-${randomBytes(3).toString('hex')}`;
  const nsRef: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', name: namespace };
  await client.create(nsRef, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { 'e2e.rollway.dev/scenario': 'routers-conformance' } } });
  for (const name of [STABLE_SERVICE, CANARY_SERVICE]) {
    await client.create({ group: '', version: 'v1', plural: 'services', namespace }, { apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { selector: { app: 'conf' }, ports: [{ port: 80, targetPort: 8080 }] } });
  }
  const rollout = await client.create<KubeObject>(rolloutsRef(namespace), {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: ROLLOUT_NAME },
    spec: {
      replicas: 0,
      selector: { matchLabels: { app: 'conf' } },
      template: { metadata: { labels: { app: 'conf' } }, spec: { containers: [{ name: 'app', image: 'conf:1' }] } },
      strategy: { canary: { stableService: STABLE_SERVICE, canaryService: CANARY_SERVICE } },
    },
  });
  return {
    client: kubeApiOf(client),
    routerClient: kubeApiOf(routerClient),
    // every write of the router's client, whatever the verb (server-side apply included)
    routerWrites: () => routerClient.calls.writes() + routerClient.calls.total((verb) => verb === 'apply'),
    namespace,
    rollout: { name: ROLLOUT_NAME, uid: rollout.metadata.uid!, apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' },
    remove: async () => {
      if (!process.env.ROLLWAY_E2E_KEEP) await client.delete(nsRef).catch(() => {});
      client.close();
      routerClient.close();
    },
  };
}

for (const fixture of [istioFixture(false), istioFixture(true), nginxFixture(), smiFixture(), gatewayApiFixture()]) {
  routerConformance(fixture, { makeEnv });
}
