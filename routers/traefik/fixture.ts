// The Traefik router as a conformance fixture: a user's weighted TraefikService with sticky
// sessions and per-entry settings, and another team's mirroring TraefikService beside it that
// must stay untouched. Ours in the object is only the canary's share (no routes, no marks).
import type { ResourceRef } from '../../kube/client.ts';
import { CANARY_SERVICE, read, recreate, STABLE_SERVICE, userView, type ConformanceEnv, type RouterFixture, type TrafficState } from '../conformance.ts';
import { weightedEntries, type TraefikService, type WeightedEntry } from './render.ts';

const NAME = 'conf-weighted';
const ref = (env: ConformanceEnv, name = NAME): ResourceRef => ({ group: 'traefik.io', version: 'v1alpha1', plural: 'traefikservices', namespace: env.namespace, name });

function entries(): WeightedEntry[] {
  return [
    { name: STABLE_SERVICE, kind: 'Service', port: 80, weight: 100, passHostHeader: true, responseForwarding: { flushInterval: '100ms' } },
    { name: CANARY_SERVICE, kind: 'Service', port: 80, weight: 0, scheme: 'http' },
  ];
}

const names = (env: ConformanceEnv) => ({ canaryService: CANARY_SERVICE, stableService: STABLE_SERVICE, namespace: env.namespace });

export function traefikFixture(): RouterFixture {
  return {
    title: 'traefik',
    key: 'traefik',
    supports: { header: false, mirror: false },

    async setup(env) {
      await recreate(env, ref(env), {
        apiVersion: 'traefik.io/v1alpha1',
        kind: 'TraefikService',
        metadata: { name: NAME, labels: { app: 'conf' }, annotations: { 'team.example.com/owner': 'shop' } },
        spec: { weighted: { services: entries(), sticky: { cookie: { name: 'lb', httpOnly: true } } } },
      });
      await recreate(env, ref(env, 'other-team'), {
        apiVersion: 'traefik.io/v1alpha1',
        kind: 'TraefikService',
        metadata: { name: 'other-team' },
        spec: { mirroring: { name: 'payments', port: 80, mirrors: [{ name: 'payments-shadow', port: 80, percent: 10 }] } },
      });
      return { traefik: { weightedTraefikServiceName: NAME } };
    },

    async read(env): Promise<TrafficState> {
      const object = await read<TraefikService>(env, ref(env));
      const { canary, stable } = object ? weightedEntries(object, names(env)) : {};
      const weights = canary && stable ? [{ canary: canary.weight ?? 1, stable: stable.weight ?? 1 }] : [];
      return { weights, headerRoutes: [], mirrorRoutes: [] };
    },

    async userContent(env, managed) {
      const object = userView(await read<TraefikService>(env, ref(env))) as TraefikService;
      if (managed === 'masked') for (const e of object.spec?.weighted?.services ?? []) e.weight = -1;
      return JSON.stringify([object, userView(await read(env, ref(env, 'other-team')))]);
    },

    async ourMarks(env) {
      const object = await read<TraefikService>(env, ref(env));
      const canary = object ? weightedEntries(object, names(env)).canary : undefined;
      return (canary?.weight ?? 0) > 0 ? [`TraefikService ${NAME}: canary weight ${canary!.weight}`] : [];
    },

    async revertWeight(env) {
      const services = entries();
      services[0]!.port = 8080;
      await env.client.patch(ref(env), 'merge', { spec: { weighted: { services } } }, { fieldManager: 'gitops-sync' });
    },

    async otherWritersChangeKept(env) {
      const object = await read<TraefikService>(env, ref(env));
      return object?.spec?.weighted?.services?.find((e) => e.name === STABLE_SERVICE)?.port === 8080;
    },
  };
}
