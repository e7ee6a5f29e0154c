// The NGINX router as a conformance fixture: two stable Ingresses full of user content; the
// router's canary Ingresses are read back through the annotations helper.
import type { ResourceRef } from '../../kube/client.ts';
import { HEADER_ROUTE, read, recreate, STABLE_SERVICE, userView, type ConformanceEnv, type RouterFixture, type TrafficState } from '../conformance.ts';
import { DEFAULT_ANNOTATION_PREFIX, parseCanaryAnnotations } from './annotations.ts';
import { canaryIngressName, type Ingress } from './render.ts';

const STABLE_INGRESSES = ['conf-web', 'conf-api'];
const ref = (env: ConformanceEnv, name: string): ResourceRef => ({ group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: env.namespace, name });

function stableIngress(name: string): Ingress {
  const host = `${name}.example.com`;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: {
      name,
      labels: { app: 'conf' },
      annotations: { [`${DEFAULT_ANNOTATION_PREFIX}/proxy-body-size`]: '8m', 'team.example.com/owner': 'shop' },
    },
    spec: {
      ingressClassName: 'nginx',
      tls: [{ hosts: [host], secretName: `${name}-tls` }],
      rules: [
        {
          host,
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: { service: { name: STABLE_SERVICE, port: { number: 80 } } } },
              { path: '/status', pathType: 'Exact', backend: { service: { name: 'status-page', port: { name: 'http' } } } },
            ],
          },
        },
        { host: `admin.${host}`, http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'admin', port: { number: 8080 } } } }] } },
      ],
    },
  };
}

export function nginxFixture(): RouterFixture {
  const canaries = (env: ConformanceEnv): Promise<(Ingress | undefined)[]> => Promise.all(STABLE_INGRESSES.map((name) => read<Ingress>(env, ref(env, canaryIngressName(env.rollout.name, name)))));
  return {
    title: 'nginx',
    key: 'nginx',
    supports: { header: true, mirror: false },

    async setup(env) {
      for (const name of STABLE_INGRESSES) await recreate(env, ref(env, name), stableIngress(name));
      for (const name of STABLE_INGRESSES) await env.client.delete(ref(env, canaryIngressName(env.rollout.name, name))).catch(() => {});
      return { managedRoutes: [{ name: HEADER_ROUTE }], nginx: { stableIngresses: STABLE_INGRESSES, additionalIngressAnnotations: { 'canary-by-cookie': 'beta-user' } } };
    },

    async read(env): Promise<TrafficState> {
      const state: TrafficState = { weights: [], headerRoutes: [], mirrorRoutes: [] };
      for (const ingress of await canaries(env)) {
        if (!ingress) {
          state.weights.push({ canary: 0, stable: 100 }); // no canary Ingress: all traffic to the stable one
          continue;
        }
        const parsed = parseCanaryAnnotations(ingress.metadata.annotations);
        if (!parsed.ok) throw new Error(`canary Ingress ${ingress.metadata.name} has invalid annotations: ${JSON.stringify(parsed.issues)}`);
        const weight = parsed.value.weight ?? 0;
        state.weights.push({ canary: weight, stable: (parsed.value.weightTotal ?? 100) - weight });
        if (parsed.value.byHeader && !state.headerRoutes.includes(HEADER_ROUTE)) state.headerRoutes.push(HEADER_ROUTE);
      }
      return state;
    },

    async userContent(env) {
      // The stable Ingresses are never changed, not even a field we would manage elsewhere.
      const stables = await Promise.all(STABLE_INGRESSES.map(async (name) => userView(await read<Ingress>(env, ref(env, name)))));
      return JSON.stringify(stables);
    },

    async ourMarks(env) {
      return (await canaries(env)).filter((i): i is Ingress => i !== undefined).map((i) => `Ingress ${i.metadata.name}`);
    },

    async revertWeight(env) {
      const name = canaryIngressName(env.rollout.name, STABLE_INGRESSES[0]!);
      await env.client.patch(ref(env, name), 'merge', { metadata: { labels: { 'gitops.example.com/synced': 'true' }, annotations: { [`${DEFAULT_ANNOTATION_PREFIX}/canary-weight`]: '0' } } }, { fieldManager: 'gitops-sync' });
    },

    async otherWritersChangeKept(env) {
      const ingress = await read<Ingress>(env, ref(env, canaryIngressName(env.rollout.name, STABLE_INGRESSES[0]!)));
      return ingress?.metadata.labels?.['gitops.example.com/synced'] === 'true';
    },
  };
}
