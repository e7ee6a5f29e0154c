// The Gateway API router as a conformance fixture: an HTTPRoute with several rules, filters and
// timeouts; verification is off here (the gateway's part is played in e2e/routers-gateway-api).
import type { ResourceRef } from '../../kube/client.ts';
import { MANAGED_DESTINATIONS_ANNOTATION, MANAGED_ROUTES_ANNOTATION } from '../common.ts';
import { CANARY_SERVICE, HEADER_ROUTE, MIRROR_ROUTE, read, recreate, STABLE_SERVICE, userView, type ConformanceEnv, type RouterFixture, type TrafficState } from '../conformance.ts';
import type { HTTPRoute, HTTPRouteRule } from './render.ts';

const ref = (env: ConformanceEnv): ResourceRef => ({ group: 'gateway.networking.k8s.io', version: 'v1', plural: 'httproutes', namespace: env.namespace, name: 'conf-route' });
const USER_RULES = new Set(['web', 'docs']);

function rules(): HTTPRouteRule[] {
  return [
    {
      name: 'docs',
      matches: [{ path: { type: 'PathPrefix', value: '/docs' } }],
      timeouts: { request: '5s' },
      backendRefs: [{ group: '', kind: 'Service', name: 'docs', port: 8080, weight: 1 }],
    },
    {
      name: 'web',
      matches: [{ path: { type: 'PathPrefix', value: '/' } }],
      filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-via', value: 'gateway' }] } }],
      timeouts: { request: '10s' },
      backendRefs: [
        { group: '', kind: 'Service', name: STABLE_SERVICE, port: 80, weight: 100 },
        { group: '', kind: 'Service', name: CANARY_SERVICE, port: 80, weight: 0 },
      ],
    },
  ];
}

export function gatewayApiFixture(): RouterFixture {
  return {
    title: 'gatewayAPI',
    key: 'gatewayAPI',
    supports: { header: true, mirror: true },

    async setup(env) {
      await recreate(env, ref(env), {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'conf-route', labels: { app: 'conf' }, annotations: { 'team.example.com/owner': 'shop' } },
        spec: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'shared-gateway', namespace: 'infra' }], hostnames: ['web.example.com'], rules: rules() },
      });
      return { managedRoutes: [{ name: HEADER_ROUTE }, { name: MIRROR_ROUTE }], gatewayAPI: { httpRoutes: [{ name: 'conf-route' }], verify: { mode: 'off' } } };
    },

    async read(env): Promise<TrafficState> {
      const route = await read<HTTPRoute>(env, ref(env));
      const web = route?.spec?.rules.find((r) => r.name === 'web');
      const weight = (service: string): number | undefined => web?.backendRefs?.find((b) => b.name === service)?.weight;
      const extra = (route?.spec?.rules ?? []).filter((r) => !USER_RULES.has(r.name ?? ''));
      const mirrors = (r: HTTPRouteRule): boolean => (r.filters ?? []).some((f) => f.type === 'RequestMirror');
      const canary = weight(CANARY_SERVICE);
      const stable = weight(STABLE_SERVICE);
      return {
        weights: canary !== undefined && stable !== undefined ? [{ canary, stable }] : [],
        extraWeights: canary !== undefined && stable !== undefined ? [Object.fromEntries((web?.backendRefs ?? []).filter((b) => b.name !== CANARY_SERVICE && b.name !== STABLE_SERVICE).map((b) => [b.name, b.weight ?? 1]))] : [],
        headerRoutes: extra.filter((r) => !mirrors(r)).map((r) => r.name ?? ''),
        mirrorRoutes: extra.filter(mirrors).map((r) => r.name ?? ''),
      };
    },

    async userContent(env, managed) {
      const route = userView(await read<HTTPRoute>(env, ref(env))) as HTTPRoute;
      if (managed === 'masked' && route.spec) {
        delete route.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION];
        delete route.metadata.annotations?.[MANAGED_DESTINATIONS_ANNOTATION];
        route.spec.rules = route.spec.rules.filter((r) => USER_RULES.has(r.name ?? ''));
        for (const b of route.spec.rules.find((r) => r.name === 'web')?.backendRefs ?? []) b.weight = -1;
      }
      return JSON.stringify(route);
    },

    async ourMarks(env) {
      const route = await read<HTTPRoute>(env, ref(env));
      const marks = (route?.spec?.rules ?? []).filter((r) => !USER_RULES.has(r.name ?? '')).map((r) => `rule ${r.name}`);
      for (const annotation of [MANAGED_ROUTES_ANNOTATION, MANAGED_DESTINATIONS_ANNOTATION]) if (route?.metadata.annotations?.[annotation]) marks.push(`annotation ${annotation}`);
      const web = route?.spec?.rules.find((r) => r.name === 'web');
      for (const b of web?.backendRefs ?? []) if (b.name !== CANARY_SERVICE && b.name !== STABLE_SERVICE) marks.push(`backendRef ${b.name}`);
      return marks;
    },

    async revertWeight(env) {
      await env.client.patch(ref(env), 'merge', { spec: { hostnames: ['web.example.com', 'www.example.com'], rules: rules() } }, { fieldManager: 'gitops-sync' });
    },

    async otherWritersChangeKept(env) {
      return (await read<HTTPRoute>(env, ref(env)))?.spec?.hostnames?.includes('www.example.com') === true;
    },
  };
}
