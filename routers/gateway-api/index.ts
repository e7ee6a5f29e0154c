// The Gateway API router as a plugin: its configuration (trafficRouting.gatewayAPI, and Argo's
// argoproj-labs/gatewayAPI plugin configuration), what it can express, the HTTPRoutes it edits,
// and how an HTTPRoute's backendRef weights are read.
import { z } from 'zod';
import { definePlugin } from '../plugin.ts';
import { MANAGED_DESTINATIONS_ANNOTATION, managedRouteNames } from '../common.ts';
import { routingRead, type RouterCapabilities, type RoutingRead, type SpecIssue } from '../types.ts';
import type { HTTPRoute } from './render.ts';
import { GATEWAY_GROUP, GATEWAY_VERSIONS, GatewayApiRouter } from './router.ts';

export const GatewayApiConfigSchema = z
  .object({
    httpRoutes: z.array(
      z.object({
        name: z.string(),
        namespace: z.string().optional(),
        rules: z.array(z.string()).optional().describe('Names of the rules whose backendRefs carry the weights; absent: every rule with the stable Service.'),
      }),
    ),
    verify: z
      .object({
        timeoutSeconds: z.number().optional(),
        mode: z.enum(['wait', 'off']).optional(),
      })
      .optional(),
  })
  .describe('Gateway API HTTPRoutes whose backendRefs carry the canary and stable weights.');
export type GatewayApiConfig = z.output<typeof GatewayApiConfigSchema>;

export const gatewayApiCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // relative integer backendRef weights
  // HTTPHeaderMatch types Exact and RegularExpression (a prefix becomes ^prefix.*)
  headerMatch: ['exact', 'prefix', 'regex'],
  mirror: true, // RequestMirror filter with percent
  mirrorMethodMatch: ['exact'], // HTTPRouteMatch.method is one method
  verification: true, // status.parents[].conditions Accepted for our generation
  replicaBased: false,
  weightedDestinations: true, // extra backendRefs (experiment Services)
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The weight of the first rule (of those named) that sends to the stable Service, with the experiment backendRefs this Rollout added. */
export function readHttpRoute(object: HTTPRoute, where: { canaryService: string; stableService: string; rolloutName?: string; rules?: string[] | undefined }): RoutingRead | undefined {
  const ours = where.rolloutName !== undefined ? managedRouteNames(object, where.rolloutName, MANAGED_DESTINATIONS_ANNOTATION) : [];
  for (const rule of object.spec?.rules ?? []) {
    if (where.rules?.length && !where.rules.includes(rule.name ?? '')) continue;
    const refs = rule.backendRefs ?? [];
    const s = refs.find((r) => r.name === where.stableService);
    if (!s) continue;
    const c = refs.find((r) => r.name === where.canaryService);
    const cw = c ? (c.weight ?? 1) : 0;
    const sw = s.weight ?? 1;
    const extras = ours.flatMap((service) => {
      const b = refs.find((r) => r.name === service);
      return b ? [{ service, weight: b.weight ?? 1 }] : [];
    });
    return routingRead(cw, sw, extras);
  }
  return undefined;
}

function validate(config: GatewayApiConfig, path: string, routing: { managedRoutes?: { name: string }[] | undefined }): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (config.httpRoutes.length === 0) issues.push({ path: `${path}.httpRoutes`, message: 'gatewayAPI lists no HTTPRoute', fix: 'add httpRoutes: [{name: <HTTPRoute name>}]' });
  const seen = new Set<string>();
  for (const [j, route] of config.httpRoutes.entries()) {
    const key = `${route.namespace ?? ''}/${route.name}`;
    if (seen.has(key)) issues.push({ path: `${path}.httpRoutes[${j}].name`, message: `HTTPRoute ${JSON.stringify(route.name)} is listed twice`, fix: 'list each HTTPRoute once' });
    seen.add(key);
  }
  const timeout = config.verify?.timeoutSeconds;
  if (timeout !== undefined && timeout < 0) issues.push({ path: `${path}.verify.timeoutSeconds`, message: `timeoutSeconds must be 0 or more, got ${timeout}`, fix: 'use a number of seconds such as 30' });
  // Header and mirror routes become HTTPRoute rules named after the managed route.
  const routingPath = path.replace(/\.(gatewayAPI|plugins\[.*\])$/, '');
  for (const [i, route] of (routing.managedRoutes ?? []).entries()) {
    if (route.name.length > 253 || !DNS_SUBDOMAIN.test(route.name)) {
      issues.push({
        path: `${routingPath}.managedRoutes[${i}].name`,
        message: `${JSON.stringify(route.name)} cannot name an HTTPRoute rule (the Gateway API router names the rule it adds after the managed route)`,
        fix: 'use lower-case letters, digits, - and ., e.g. header-beta',
      });
    }
  }
  return issues;
}

/**
 * Argo's argoproj-labs/gatewayAPI plugin configuration as ours: `httpRoute` (one name) or
 * `httpRoutes` ([{name, useHeaderRoutes}]), all in `namespace` (default: the Rollout's).
 * Header routes go on every listed route here, so useHeaderRoutes changes nothing.
 */
function fromArgoPlugin(raw: unknown, path: string): { config: unknown; issues: SpecIssue[] } {
  const given = (raw ?? {}) as { httpRoute?: unknown; httpRoutes?: unknown; namespace?: unknown; [other: string]: unknown };
  const issues: SpecIssue[] = [];
  for (const other of ['grpcRoute', 'grpcRoutes', 'tcpRoute', 'tcpRoutes', 'tlsRoute', 'tlsRoutes']) {
    if (given[other] !== undefined) issues.push({ path: `${path}.${other}`, message: `${other} is not supported: Rollway's Gateway API router splits HTTPRoutes only`, fix: 'use httpRoute or httpRoutes' });
  }
  const names: unknown[] = typeof given.httpRoute === 'string' ? [given.httpRoute] : Array.isArray(given.httpRoutes) ? given.httpRoutes.map((r) => (r as { name?: unknown } | null)?.name) : [];
  if (names.length === 0 && issues.length === 0) issues.push({ path, message: 'the gatewayAPI plugin configuration names no HTTPRoute', fix: 'set httpRoute: <name> or httpRoutes: [{name: <name>}]' });
  const namespace = typeof given.namespace === 'string' ? given.namespace : undefined;
  return { config: { httpRoutes: names.map((name) => ({ name, ...(namespace ? { namespace } : {}) })) }, issues };
}

export const gatewayApiPlugin = definePlugin({
  key: 'gatewayAPI',
  label: 'the Gateway API router',
  schema: GatewayApiConfigSchema,
  capabilities: gatewayApiCapabilities,
  kinds: [{ kind: 'HTTPRoute', group: GATEWAY_GROUP, plural: 'httproutes', versions: GATEWAY_VERSIONS, editedInPlace: true, crdTypes: { source: 'crds/third-party/gateway-api-httproutes.yaml', output: 'crds-types/httproute.ts' } }],
  validate,
  routingObjects: (config, where) =>
    config.httpRoutes.map((route, i) => ({
      kind: 'HTTPRoute',
      group: GATEWAY_GROUP,
      plural: 'httproutes',
      namespace: route.namespace ?? where.namespace,
      name: route.name,
      carriesWeight: true,
      access: 'edits' as const,
      field: `httpRoutes[${i}].name`,
      part: route.rules ?? [],
    })),
  checkObject: (object, named, where, path) => {
    const rules = Array.isArray((object.spec as { rules?: unknown } | undefined)?.rules) ? (object.spec as { rules: { name?: unknown; backendRefs?: unknown }[] }).rules : [];
    const base = path.replace(/\.name$/, '');
    const issues: SpecIssue[] = ((named.part ?? []) as string[]).flatMap((rule, j) =>
      rules.some((r) => r?.name === rule) ? [] : [{ path: `${base}.rules[${j}]`, message: `HTTPRoute "${named.name}" has no rule named "${rule}"`, fix: 'name the rule in the HTTPRoute, or correct the name here' }],
    );
    const toStable = rules.some((r) => Array.isArray(r?.backendRefs) && (r.backendRefs as { name?: unknown }[]).some((b) => b?.name === where.stableService));
    if (where.stableService && !toStable) {
      issues.push({ path, message: `HTTPRoute "${named.name}" has no backendRef to the stable Service "${where.stableService}"`, fix: `add a backendRef to ${where.stableService} in the rule that carries the traffic` });
    }
    return issues;
  },
  read: (object, config, where) => {
    const route = config.httpRoutes.find((r) => r.name === object.metadata.name && (r.namespace ?? where.namespace) === (object.metadata.namespace ?? where.namespace));
    return readHttpRoute(object as HTTPRoute, { ...where, rules: route?.rules });
  },
  create: (ctx, config) => new GatewayApiRouter(ctx, config, gatewayApiCapabilities),
  argoPlugins: { 'argoproj-labs/gatewayAPI': fromArgoPlugin },
});
