// The Istio routers (host-level and subset-level) as conformance fixtures: a VirtualService and a
// DestinationRule full of user content, read back as the conformance suite needs them.
import type { ResourceRef } from '../../kube/client.ts';
import { MANAGED_DESTINATIONS_ANNOTATION, MANAGED_ROUTES_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from '../common.ts';
import { CANARY_SERVICE, HEADER_ROUTE, MIRROR_ROUTE, read, recreate, STABLE_SERVICE, userView, type ConformanceEnv, type RouterFixture, type TrafficState } from '../conformance.ts';
import type { DestinationRule, HttpRoute, VirtualService } from './render.ts';

const GROUP = 'networking.istio.io';
const vsRef = (env: ConformanceEnv): ResourceRef => ({ group: GROUP, version: 'v1', plural: 'virtualservices', namespace: env.namespace, name: 'conf-vs' });
const drRef = (env: ConformanceEnv): ResourceRef => ({ group: GROUP, version: 'v1', plural: 'destinationrules', namespace: env.namespace, name: 'conf-dr' });

function virtualService(subsetLevel: boolean): VirtualService {
  const destination = (service: string, subset: string) => (subsetLevel ? { host: 'conf-web', subset, port: { number: 80 } } : { host: service, port: { number: 80 } });
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'VirtualService',
    metadata: { name: 'conf-vs', labels: { app: 'conf' }, annotations: { 'team.example.com/owner': 'shop', 'argocd.argoproj.io/tracking-id': 'shop:networking.istio.io/VirtualService:conf-vs' } },
    spec: {
      hosts: ['web.example.com', 'conf-web'],
      gateways: ['mesh', 'web-gateway'],
      http: [
        {
          name: 'docs',
          match: [{ uri: { prefix: '/docs' } }],
          timeout: '5s',
          route: [{ destination: { host: 'docs.other.svc.cluster.local', port: { number: 8080 } } }],
        },
        {
          name: 'primary',
          match: [{ uri: { prefix: '/' } }],
          retries: { attempts: 3, perTryTimeout: '2s', retryOn: '5xx,reset' },
          timeout: '10s',
          headers: { request: { set: { 'x-via': 'mesh' } } },
          route: [
            { destination: destination(STABLE_SERVICE, 'stable'), weight: 100 },
            { destination: destination(CANARY_SERVICE, 'canary'), weight: 0 },
          ],
        },
      ],
      tcp: [{ match: [{ port: 5432 }], route: [{ destination: { host: 'db.other.svc.cluster.local', port: { number: 5432 } } }] }],
    },
  };
}

function destinationRule(): DestinationRule {
  return {
    apiVersion: `${GROUP}/v1`,
    kind: 'DestinationRule',
    metadata: { name: 'conf-dr', annotations: { 'team.example.com/owner': 'shop' } },
    spec: {
      host: 'conf-web',
      trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' }, connectionPool: { tcp: { maxConnections: 100 } } },
      subsets: [
        { name: 'stable', labels: { app: 'conf' } },
        { name: 'canary', labels: { app: 'conf' }, trafficPolicy: { loadBalancer: { simple: 'ROUND_ROBIN' } } },
        { name: 'debug', labels: { app: 'conf', track: 'debug' } },
      ],
    },
  };
}

const USER_ROUTES = new Set(['docs', 'primary']);

export function istioFixture(subsetLevel: boolean): RouterFixture {
  const isStable = (d: { host: string; subset?: string }): boolean => (subsetLevel ? d.subset === 'stable' : d.host === STABLE_SERVICE);
  const isCanary = (d: { host: string; subset?: string }): boolean => (subsetLevel ? d.subset === 'canary' : d.host === CANARY_SERVICE);
  const primary = (vs: VirtualService | undefined): HttpRoute | undefined => vs?.spec?.http?.find((r) => r.name === 'primary');

  return {
    title: subsetLevel ? 'istio (subset-level)' : 'istio (host-level)',
    key: 'istio',
    supports: { header: true, mirror: true },

    async setup(env) {
      await recreate(env, vsRef(env), virtualService(subsetLevel));
      if (subsetLevel) await recreate(env, drRef(env), destinationRule());
      return {
        managedRoutes: [{ name: HEADER_ROUTE }, { name: MIRROR_ROUTE }],
        istio: {
          virtualService: { name: 'conf-vs', routes: ['primary'] },
          ...(subsetLevel ? { destinationRule: { name: 'conf-dr', stableSubsetName: 'stable', canarySubsetName: 'canary' } } : {}),
        },
      };
    },

    async read(env): Promise<TrafficState> {
      const vs = await read<VirtualService>(env, vsRef(env));
      const route = primary(vs)?.route ?? [];
      const canary = route.find((d) => isCanary(d.destination));
      const stable = route.find((d) => isStable(d.destination));
      const extra = (vs?.spec?.http ?? []).filter((r) => !USER_ROUTES.has(r.name ?? ''));
      return {
        weights: canary && stable ? [{ canary: canary.weight ?? 0, stable: stable.weight ?? 0 }] : [],
        extraWeights: canary && stable ? [Object.fromEntries(route.filter((d) => d !== canary && d !== stable).map((d) => [d.destination.host, d.weight ?? 0]))] : [],
        headerRoutes: extra.filter((r) => !r.mirror).map((r) => r.name ?? ''),
        mirrorRoutes: extra.filter((r) => r.mirror).map((r) => r.name ?? ''),
      };
    },

    async userContent(env, managed) {
      const vs = userView(await read<VirtualService>(env, vsRef(env))) as VirtualService;
      const dr = subsetLevel ? (userView(await read<DestinationRule>(env, drRef(env))) as DestinationRule) : undefined;
      if (managed === 'masked') {
        delete vs.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION];
        delete vs.metadata.annotations?.[MANAGED_DESTINATIONS_ANNOTATION];
        if (vs.spec) vs.spec.http = (vs.spec.http ?? []).filter((r) => USER_ROUTES.has(r.name ?? ''));
        for (const d of primary(vs)?.route ?? []) if (isStable(d.destination) || isCanary(d.destination)) delete d.weight;
        for (const subset of dr?.spec?.subsets ?? []) if (subset.labels) delete subset.labels[POD_TEMPLATE_HASH_LABEL];
      }
      return JSON.stringify({ vs, dr });
    },

    async ourMarks(env) {
      const marks: string[] = [];
      const vs = await read<VirtualService>(env, vsRef(env));
      for (const annotation of [MANAGED_ROUTES_ANNOTATION, MANAGED_DESTINATIONS_ANNOTATION]) if (vs?.metadata.annotations?.[annotation]) marks.push(`annotation ${annotation}`);
      for (const d of primary(vs)?.route ?? []) if (!isStable(d.destination) && !isCanary(d.destination)) marks.push(`destination ${d.destination.host}`);
      for (const r of vs?.spec?.http ?? []) if (!USER_ROUTES.has(r.name ?? '')) marks.push(`route ${r.name}`);
      const dr = subsetLevel ? await read<DestinationRule>(env, drRef(env)) : undefined;
      for (const subset of dr?.spec?.subsets ?? []) if (subset.labels?.[POD_TEMPLATE_HASH_LABEL]) marks.push(`label on subset ${subset.name}`);
      return marks;
    },

    async revertWeight(env) {
      // What a GitOps sync of the manifest does: the http routes as in Git, with one other change.
      const http = virtualService(subsetLevel).spec!.http!;
      http[0]!.timeout = '7s';
      await env.client.patch(vsRef(env), 'merge', { spec: { http } }, { fieldManager: 'gitops-sync' });
    },

    async otherWritersChangeKept(env) {
      const vs = await read<VirtualService>(env, vsRef(env));
      return vs?.spec?.http?.find((r) => r.name === 'docs')?.timeout === '7s';
    },
  };
}
