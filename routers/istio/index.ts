// The Istio router as a plugin: its configuration (trafficRouting.istio), what it can express,
// the VirtualServices and DestinationRules it edits, and how their weights are read.
import { z } from 'zod';
import { hostIsService, MANAGED_DESTINATIONS_ANNOTATION, managedRouteNames, namespacedName } from '../common.ts';
import { definePlugin, type ReadContext, type RoutingObject } from '../plugin.ts';
import { routingRead, type RouterCapabilities, type RoutingRead } from '../types.ts';
import type { RouteDestination, VirtualService } from './render.ts';
import { ISTIO_GROUP, ISTIO_VERSIONS, IstioRouter } from './router.ts';

const VirtualServiceRefSchema = z.object({
  name: z.string().describe('VirtualService name; name.namespace names one in another namespace.'),
  routes: z.array(z.string()).optional(),
  tlsRoutes: z.array(z.object({ port: z.int().optional(), sniHosts: z.array(z.string()).optional() })).optional(),
  tcpRoutes: z.array(z.object({ port: z.int().optional() })).optional(),
});

export const IstioConfigSchema = z.object({
  virtualService: VirtualServiceRefSchema.optional(),
  virtualServices: z.array(VirtualServiceRefSchema).optional(),
  destinationRule: z
    .object({
      name: z.string().describe('DestinationRule name; name.namespace names one in another namespace.'),
      canarySubsetName: z.string(),
      stableSubsetName: z.string(),
      additionalSubsetNames: z.array(z.string()).optional(),
    })
    .optional(),
});
export type IstioConfig = z.output<typeof IstioConfigSchema>;

const CRDS = 'crds/third-party/istio-networking.yaml';

export const istioCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // relative integer weights since Istio 1.13: 1 and 9999
  headerMatch: ['exact', 'prefix', 'regex'],
  mirror: true,
  verification: false,
  replicaBased: false,
  weightedDestinations: true, // extra destinations in the managed routes (experiment Services)
};

/** The VirtualService references of a configuration (one, or several). */
export const virtualServiceRefs = (config: IstioConfig): NonNullable<IstioConfig['virtualService']>[] =>
  config.virtualService ? [config.virtualService] : (config.virtualServices ?? []);

/**
 * The weight a VirtualService's managed routes carry: the first route with one of our
 * destinations, with the experiment destinations this Rollout added to it.
 */
export function readVirtualService(object: VirtualService, config: IstioConfig, where: ReadContext): RoutingRead | undefined {
  const ref = virtualServiceRefs(config).find((r) => namespacedName(r.name, where.namespace).name === object.metadata.name);
  const subsets = config.destinationRule;
  const spec = object.spec ?? {};
  const candidates = [...(spec.http ?? []).filter((r) => !ref?.routes?.length || ref.routes.includes(r.name ?? '')), ...(spec.tls ?? []), ...(spec.tcp ?? [])];
  const is = (d: RouteDestination, service: string, subset: string | undefined): boolean =>
    subsets ? d.destination?.subset === subset : hostIsService(d.destination?.host, service, where.namespace);
  const ours = managedRouteNames(object, where.rolloutName, MANAGED_DESTINATIONS_ANNOTATION);
  for (const route of candidates) {
    const dests = (route.route ?? []) as RouteDestination[];
    const c = dests.find((d) => is(d, where.canaryService, subsets?.canarySubsetName));
    const s = dests.find((d) => is(d, where.stableService, subsets?.stableSubsetName));
    if (!c && !s) continue;
    // A lone destination without a weight takes all traffic.
    const cw = c ? (c.weight ?? (dests.length === 1 ? 100 : 0)) : 0;
    const sw = s ? (s.weight ?? (dests.length === 1 ? 100 : 0)) : 0;
    const extras = ours.flatMap((service) => {
      const d = dests.find((x) => x.destination?.subset === undefined && hostIsService(x.destination?.host, service, where.namespace));
      return d ? [{ service, weight: d.weight ?? 0 }] : [];
    });
    return routingRead(cw, sw, extras);
  }
  return undefined;
}

export const istioPlugin = definePlugin({
  key: 'istio',
  label: 'the Istio router',
  schema: IstioConfigSchema,
  capabilities: istioCapabilities,
  kinds: [
    { kind: 'VirtualService', group: ISTIO_GROUP, plural: 'virtualservices', versions: ISTIO_VERSIONS, editedInPlace: true, crdTypes: { source: CRDS, output: 'crds-types/virtualservice.ts' } },
    { kind: 'DestinationRule', group: ISTIO_GROUP, plural: 'destinationrules', versions: ISTIO_VERSIONS, editedInPlace: true, crdTypes: { source: CRDS, output: 'crds-types/destinationrule.ts' } },
  ],
  // Subset-level splitting (a DestinationRule) needs no Services: the subsets select the pods.
  needsServices: (config) => config.destinationRule === undefined,
  validate: (config, path) => {
    const issues = [];
    if ((config.virtualService !== undefined) === ((config.virtualServices?.length ?? 0) > 0)) {
      issues.push({
        path,
        message: config.virtualService !== undefined ? 'istio sets both virtualService and virtualServices' : 'istio names no VirtualService',
        fix: 'set virtualService: {name: ...} for one, or virtualServices: [{name: ...}] for several',
      });
    }
    const rule = config.destinationRule;
    if (rule !== undefined && rule.canarySubsetName === rule.stableSubsetName) {
      issues.push({ path: `${path}.destinationRule.canarySubsetName`, message: `canarySubsetName and stableSubsetName are both ${JSON.stringify(rule.canarySubsetName)}`, fix: 'use two subset names, e.g. canary and stable' });
    }
    return issues;
  },
  routingObjects: (config, where) => {
    const list = config.virtualService ? 'virtualService' : 'virtualServices';
    const out: RoutingObject[] = virtualServiceRefs(config).map((ref, i) => ({
      kind: 'VirtualService',
      group: ISTIO_GROUP,
      plural: 'virtualservices',
      ...namespacedName(ref.name, where.namespace),
      carriesWeight: true,
      access: 'edits' as const,
      field: list === 'virtualService' ? 'virtualService.name' : `virtualServices[${i}].name`,
      part: ref.routes ?? [],
    }));
    const rule = config.destinationRule;
    if (rule) {
      out.push({ kind: 'DestinationRule', group: ISTIO_GROUP, plural: 'destinationrules', ...namespacedName(rule.name, where.namespace), carriesWeight: false, access: 'edits' as const, field: 'destinationRule.name', part: [rule.stableSubsetName, rule.canarySubsetName] });
    }
    return out;
  },
  checkObject: (object, named, _where, path) => {
    if (named.kind !== 'VirtualService') return [];
    const http = Array.isArray((object.spec as { http?: unknown } | undefined)?.http) ? ((object.spec as { http: { name?: unknown }[] }).http) : [];
    const names = http.map((h) => (typeof h?.name === 'string' ? h.name : '(unnamed)'));
    const base = path.replace(/\.name$/, '');
    return ((named.part ?? []) as string[]).flatMap((route, i) =>
      names.includes(route)
        ? []
        : [{ path: `${base}.routes[${i}]`, message: `VirtualService "${named.name}" has no http route named "${route}" (its routes: ${names.join(', ') || 'none'})`, fix: 'name the route in the VirtualService, or correct the name here' }],
    );
  },
  read: (object, config, where) => (object.kind === 'DestinationRule' ? undefined : readVirtualService(object as VirtualService, config, where)),
  create: (ctx, config) => new IstioRouter(ctx, config, istioCapabilities),
});
