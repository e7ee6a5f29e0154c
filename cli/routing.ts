// The canary share as the routing objects carry it, read for display: an Istio VirtualService's
// destination weights, the NGINX canary Ingress's annotations, an SMI TrafficSplit's backends, a
// Gateway API HTTPRoute's backendRefs. Reading is pure (object in, ratio out); which objects to
// read follows from the Rollout's trafficRouting.
import type { RolloutObject } from '../controller/controller.ts';
import type { KubeObject } from '../kube/client.ts';

export interface WeightRatio {
  canary: number;
  total: number;
}

export interface RoutingTarget {
  kind: 'VirtualService' | 'Ingress' | 'TrafficSplit' | 'HTTPRoute';
  group: string;
  plural: string;
  name: string;
  namespace: string;
  read: (object: KubeObject) => WeightRatio | undefined;
}

interface Routing {
  istio?: {
    virtualService?: { name: string; routes?: string[] };
    virtualServices?: { name: string; routes?: string[] }[];
    destinationRule?: { name: string; canarySubsetName: string; stableSubsetName: string };
  };
  nginx?: { stableIngress?: string; stableIngresses?: string[]; annotationPrefix?: string };
  smi?: { rootService?: string; trafficSplitName?: string };
  gatewayAPI?: { httpRoutes?: { name: string; namespace?: string; rules?: string[] }[] };
}

export const DEFAULT_NGINX_PREFIX = 'nginx.ingress.kubernetes.io';

/** The routing objects whose weights a Rollout's router writes, each with its reader. */
export function routingTargets(rollout: RolloutObject): RoutingTarget[] {
  const canary = rollout.spec.strategy?.canary;
  const routing = canary?.trafficRouting as Routing | undefined;
  if (!canary || !routing) return [];
  const ns = rollout.metadata.namespace ?? 'default';
  const name = rollout.metadata.name ?? '';
  const canaryService = canary.canaryService ?? '';
  const stableService = canary.stableService ?? '';
  const targets: RoutingTarget[] = [];

  const istio = routing.istio;
  if (istio) {
    const services = [...(istio.virtualService ? [istio.virtualService] : []), ...(istio.virtualServices ?? [])];
    for (const vs of services) {
      // `name.namespace` names a VirtualService in another namespace.
      const dot = vs.name.indexOf('.');
      const vsName = dot > 0 ? vs.name.slice(0, dot) : vs.name;
      const vsNamespace = dot > 0 ? vs.name.slice(dot + 1) : ns;
      targets.push({
        kind: 'VirtualService',
        group: 'networking.istio.io',
        plural: 'virtualservices',
        name: vsName,
        namespace: vsNamespace,
        read: (object) => readVirtualService(object, { canaryService, stableService, routes: vs.routes, subsets: istio.destinationRule }),
      });
    }
  }
  const nginx = routing.nginx;
  if (nginx) {
    const prefix = nginx.annotationPrefix ?? DEFAULT_NGINX_PREFIX;
    for (const stable of [...(nginx.stableIngress ? [nginx.stableIngress] : []), ...(nginx.stableIngresses ?? [])]) {
      targets.push({ kind: 'Ingress', group: 'networking.k8s.io', plural: 'ingresses', name: `${name}-${stable}-canary`, namespace: ns, read: (object) => readCanaryIngress(object, prefix) });
    }
  }
  const smi = routing.smi;
  if (smi) {
    targets.push({
      kind: 'TrafficSplit',
      group: 'split.smi-spec.io',
      plural: 'trafficsplits',
      name: smi.trafficSplitName ?? name,
      namespace: ns,
      read: (object) => readTrafficSplit(object, { canaryService, stableService }),
    });
  }
  for (const route of routing.gatewayAPI?.httpRoutes ?? []) {
    targets.push({
      kind: 'HTTPRoute',
      group: 'gateway.networking.k8s.io',
      plural: 'httproutes',
      name: route.name,
      namespace: route.namespace ?? ns,
      read: (object) => readHTTPRoute(object, { canaryService, stableService, rules: route.rules }),
    });
  }
  return targets;
}

const sameHost = (host: string | undefined, service: string): boolean => host !== undefined && service !== '' && (host === service || host.startsWith(`${service}.`));

interface IstioDestination {
  destination?: { host?: string; subset?: string };
  weight?: number;
}

export function readVirtualService(
  object: KubeObject,
  ctx: { canaryService: string; stableService: string; routes?: string[] | undefined; subsets?: { canarySubsetName: string; stableSubsetName: string } | undefined },
): WeightRatio | undefined {
  const spec = (object.spec ?? {}) as { http?: { name?: string; route?: IstioDestination[] }[]; tls?: { route?: IstioDestination[] }[]; tcp?: { route?: IstioDestination[] }[] };
  const candidates = [...(spec.http ?? []).filter((r) => !ctx.routes?.length || ctx.routes.includes(r.name ?? '')), ...(spec.tls ?? []), ...(spec.tcp ?? [])];
  for (const route of candidates) {
    const dests = route.route ?? [];
    const isCanary = (d: IstioDestination): boolean =>
      ctx.subsets ? d.destination?.subset === ctx.subsets.canarySubsetName : sameHost(d.destination?.host, ctx.canaryService);
    const isStable = (d: IstioDestination): boolean =>
      ctx.subsets ? d.destination?.subset === ctx.subsets.stableSubsetName : sameHost(d.destination?.host, ctx.stableService);
    const c = dests.find(isCanary);
    const s = dests.find(isStable);
    if (!c && !s) continue;
    // A lone destination without a weight takes all traffic.
    const cw = c ? (c.weight ?? (dests.length === 1 ? 100 : 0)) : 0;
    const sw = s ? (s.weight ?? (dests.length === 1 ? 100 : 0)) : 0;
    return { canary: cw, total: cw + sw };
  }
  return undefined;
}

export function readCanaryIngress(object: KubeObject, prefix: string): WeightRatio | undefined {
  const annotations = object.metadata.annotations ?? {};
  if (annotations[`${prefix}/canary`] !== 'true') return { canary: 0, total: 100 };
  const weight = Number(annotations[`${prefix}/canary-weight`] ?? 0);
  const total = Number(annotations[`${prefix}/canary-weight-total`] ?? 100);
  if (!Number.isFinite(weight) || !Number.isFinite(total) || total <= 0) return undefined;
  return { canary: weight, total };
}

/** A Kubernetes quantity as SMI v1alpha1 writes weights ("500m", "1", "2k") → number. */
export function parseQuantity(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'string') return 0;
  const m = /^(\d+(?:\.\d+)?)(m|k|M|G)?$/.exec(value.trim());
  if (!m) return 0;
  const n = Number(m[1]);
  const scale = m[2] === 'm' ? 0.001 : m[2] === 'k' ? 1e3 : m[2] === 'M' ? 1e6 : m[2] === 'G' ? 1e9 : 1;
  return n * scale;
}

export function readTrafficSplit(object: KubeObject, ctx: { canaryService: string; stableService: string }): WeightRatio | undefined {
  const backends = ((object.spec ?? {}) as { backends?: { service?: string; weight?: unknown }[] }).backends ?? [];
  const c = backends.find((b) => b.service === ctx.canaryService);
  const s = backends.find((b) => b.service === ctx.stableService);
  if (!c && !s) return undefined;
  const cw = parseQuantity(c?.weight);
  const sw = parseQuantity(s?.weight);
  // Quantities can be fractional ("500m"): scale to whole units for an exact ratio.
  const scale = Number.isInteger(cw) && Number.isInteger(sw) ? 1 : 1000;
  return { canary: Math.round(cw * scale), total: Math.round((cw + sw) * scale) };
}

export function readHTTPRoute(object: KubeObject, ctx: { canaryService: string; stableService: string; rules?: string[] | undefined }): WeightRatio | undefined {
  const rules = ((object.spec ?? {}) as { rules?: { name?: string; backendRefs?: { name?: string; weight?: number }[] }[] }).rules ?? [];
  for (const rule of rules) {
    if (ctx.rules?.length && !ctx.rules.includes(rule.name ?? '')) continue;
    const refs = rule.backendRefs ?? [];
    const s = refs.find((r) => r.name === ctx.stableService);
    if (!s) continue;
    const c = refs.find((r) => r.name === ctx.canaryService);
    const cw = c ? (c.weight ?? 1) : 0;
    const sw = s.weight ?? 1;
    return { canary: cw, total: cw + sw };
  }
  return undefined;
}
