// What routers can express, with no I/O, so validation (the controller and `rollway lint`) can
// reject a spec a router cannot carry out before anything is written. Each router declares its
// own capabilities in its plugin object; this combines them.
import { configuredPlugins } from './registry.ts';
import type { RouterCapabilities } from './types.ts';

/** The keys of the routers a trafficRouting configures, in a fixed order (built-in keys, then plugin names). */
export function configuredRouters(trafficRouting: Record<string, unknown> | undefined): string[] {
  return configuredPlugins(trafficRouting).map((c) => c.plugin.key);
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
  if (all.every((c) => c.weightedDestinations === true)) result.weightedDestinations = true;
  if (maxHeadersPerRoute !== undefined) result.maxHeadersPerRoute = maxHeadersPerRoute;
  if (maxHeaderRoutes !== undefined) result.maxHeaderRoutes = maxHeaderRoutes;
  const methods = all.map((c) => c.mirrorMethodMatch).filter((m) => m !== undefined);
  if (methods.length > 0) result.mirrorMethodMatch = methods.reduce((kinds, m) => kinds.filter((k) => m.includes(k)));
  return result;
}

