// What each router can express, in one place with no I/O, so validation (the controller and
// `rollway lint`) can reject a spec a router cannot carry out before anything is written.
import type { RouterCapabilities } from './types.ts';

export const istioCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // relative integer weights since Istio 1.13: 1 and 9999
  headerMatch: ['exact', 'prefix', 'regex'],
  mirror: true,
  verification: false,
  replicaBased: false,
};

export const nginxCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // canary-weight over canary-weight-total (1 of 10000)
  // canary-by-header-value (exact) or canary-by-header-pattern (regex; a prefix becomes ^prefix.*)
  headerMatch: ['exact', 'prefix', 'regex'],
  maxHeadersPerRoute: 1,
  maxHeaderRoutes: 1,
  mirror: false,
  verification: false,
  replicaBased: false,
};

export const smiCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // relative backend weights (v1alpha1 as quantities)
  headerMatch: [],
  mirror: false,
  verification: false,
  replicaBased: false,
};

export const gatewayApiCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // relative integer backendRef weights
  // HTTPHeaderMatch types Exact and RegularExpression (a prefix becomes ^prefix.*)
  headerMatch: ['exact', 'prefix', 'regex'],
  mirror: true, // RequestMirror filter with percent
  mirrorMethodMatch: ['exact'], // HTTPRouteMatch.method is one method
  verification: true, // status.parents[].conditions Accepted for our generation
  replicaBased: false,
};

/** The routers Rollway implements, by their trafficRouting key, with a name for messages. */
export const ROUTER_CAPABILITIES: Record<'istio' | 'nginx' | 'smi' | 'gatewayAPI', { label: string; capabilities: RouterCapabilities }> = {
  istio: { label: 'the Istio router', capabilities: istioCapabilities },
  nginx: { label: 'the NGINX router', capabilities: nginxCapabilities },
  smi: { label: 'the SMI router', capabilities: smiCapabilities },
  gatewayAPI: { label: 'the Gateway API router', capabilities: gatewayApiCapabilities },
};

export type RouterKey = keyof typeof ROUTER_CAPABILITIES;
export const ROUTER_KEYS = Object.keys(ROUTER_CAPABILITIES) as RouterKey[];

/** The implemented routers a trafficRouting configures, in a fixed order. */
export function configuredRouters(trafficRouting: Record<string, unknown> | undefined): RouterKey[] {
  return ROUTER_KEYS.filter((key) => trafficRouting?.[key] !== undefined && trafficRouting[key] !== null);
}

/** What several routers can all express. */
export function commonCapabilities(all: RouterCapabilities[]): RouterCapabilities {
  const minDefined = (values: (number | undefined)[]): number | undefined => {
    const defined = values.filter((v): v is number => v !== undefined);
    return defined.length > 0 ? Math.min(...defined) : undefined;
  };
  const result: RouterCapabilities = {
    weightResolutionPercent: Math.max(...all.map((c) => c.weightResolutionPercent)),
    headerMatch: all.reduce<RouterCapabilities['headerMatch']>((kinds, c) => kinds.filter((k) => c.headerMatch.includes(k)), ['exact', 'prefix', 'regex']),
    mirror: all.every((c) => c.mirror),
    verification: all.some((c) => c.verification),
    replicaBased: all.some((c) => c.replicaBased),
  };
  const maxHeadersPerRoute = minDefined(all.map((c) => c.maxHeadersPerRoute));
  const maxHeaderRoutes = minDefined(all.map((c) => c.maxHeaderRoutes));
  if (maxHeadersPerRoute !== undefined) result.maxHeadersPerRoute = maxHeadersPerRoute;
  if (maxHeaderRoutes !== undefined) result.maxHeaderRoutes = maxHeaderRoutes;
  const methods = all.map((c) => c.mirrorMethodMatch).filter((m) => m !== undefined);
  if (methods.length > 0) result.mirrorMethodMatch = methods.reduce((kinds, m) => kinds.filter((k) => m.includes(k)));
  return result;
}

