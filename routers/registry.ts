// The router registry: the one list of routers. Adding a built-in router is one folder and one
// line in BUILTIN_ROUTERS; a third-party router is loaded at start (routers/load.ts) and
// registered here. Everything else (schema, validation, controller, CLI, dashboard, CRDs)
// iterates over routerPlugins().
import { setRouterOfKind } from './common.ts';
import { gatewayApiPlugin } from './gateway-api/index.ts';
import { istioPlugin } from './istio/index.ts';
import { nginxPlugin } from './nginx/index.ts';
import type { ReadContext, RouterPlugin, RoutingObject } from './plugin.ts';
import { smiPlugin } from './smi/index.ts';
import { traefikPlugin } from './traefik/index.ts';
import type { SpecIssue } from './types.ts';

/** Built-in routers by their trafficRouting key, in the order they are applied. */
export const BUILTIN_ROUTERS = {
  istio: istioPlugin,
  nginx: nginxPlugin,
  smi: smiPlugin,
  gatewayAPI: gatewayApiPlugin,
  traefik: traefikPlugin,
} as const;

export const ROUTING_PATH = 'spec.strategy.canary.trafficRouting';

/** Third-party routers registered at start, with where each came from. */
const thirdParty: { plugin: RouterPlugin; source: string }[] = [];

export function registerRouterPlugin(plugin: RouterPlugin, source: string): void {
  const taken = routerPlugins().find((p) => p.key === plugin.key || Object.keys(p.argoPlugins ?? {}).includes(plugin.key));
  if (taken) throw new Error(`router plugin "${plugin.key}" from ${source}: the name is already taken by ${taken.label}`);
  thirdParty.push({ plugin, source });
}

/** For tests: forgets the third-party plugins registered so far. */
export function unregisterRouterPlugins(): void {
  thirdParty.length = 0;
}

export function routerPlugins(): RouterPlugin[] {
  return [...(Object.values(BUILTIN_ROUTERS) as RouterPlugin[]), ...thirdParty.map((t) => t.plugin)];
}

/** The loaded third-party plugins and their sources (for `rollway version` and /metrics). */
export function thirdPartyRouterPlugins(): readonly { plugin: RouterPlugin; source: string }[] {
  return thirdParty;
}

setRouterOfKind((kind) => routerPlugins().find((p) => p.kinds.some((k) => k.kind === kind))?.key);

/** Names trafficRouting.plugins accepts: third-party plugins and the Argo plugins a built-in router carries out. */
export function pluginNames(): string[] {
  return [...thirdParty.map((t) => t.plugin.key), ...routerPlugins().flatMap((p) => Object.keys(p.argoPlugins ?? {}))].sort();
}

/** A router a trafficRouting configures, with its configuration and where that sits. */
export interface ConfiguredRouter {
  plugin: RouterPlugin;
  config: unknown;
  path: string;
  /** problems found turning the configuration into the plugin's (an Argo plugin's fields we lack) */
  issues: SpecIssue[];
  /** whether the configuration parses with the plugin's schema (validation reports it when not) */
  valid: boolean;
}

/**
 * The routers a trafficRouting configures: the built-in keys in registry order, then each entry of
 * trafficRouting.plugins that a loaded plugin (or a built-in router's Argo plugin name) answers to.
 */
export function configuredPlugins(trafficRouting: Record<string, unknown> | undefined): ConfiguredRouter[] {
  if (!trafficRouting) return [];
  const out: ConfiguredRouter[] = [];
  for (const plugin of Object.values(BUILTIN_ROUTERS) as RouterPlugin[]) {
    const given = trafficRouting[plugin.key];
    if (given !== undefined && given !== null) out.push({ plugin, path: `${ROUTING_PATH}.${plugin.key}`, issues: [], ...parsed(plugin, given) });
  }
  const plugins = trafficRouting.plugins;
  if (plugins === null || typeof plugins !== 'object') return out;
  for (const [name, given] of Object.entries(plugins as Record<string, unknown>)) {
    const path = `${ROUTING_PATH}.plugins[${JSON.stringify(name)}]`;
    const own = thirdParty.find((t) => t.plugin.key === name)?.plugin;
    if (own) {
      out.push({ plugin: own, path, issues: [], ...parsed(own, given) });
      continue;
    }
    const carrier = routerPlugins().find((p) => p.argoPlugins?.[name]);
    if (carrier) {
      const { config, issues } = carrier.argoPlugins![name]!(given, path);
      out.push({ plugin: carrier, path, issues, ...parsed(carrier, config) });
    }
  }
  return out;
}

/** The plugin names of a trafficRouting.plugins that nothing loaded answers to, as issues. */
export function unknownPluginIssues(trafficRouting: Record<string, unknown>): SpecIssue[] {
  const plugins = trafficRouting.plugins;
  if (plugins === null || typeof plugins !== 'object') return [];
  const known = pluginNames();
  return Object.keys(plugins as Record<string, unknown>)
    .filter((name) => !known.includes(name))
    .map((name) => ({
      path: `${ROUTING_PATH}.plugins[${JSON.stringify(name)}]`,
      message: `no traffic router plugin named ${JSON.stringify(name)} is loaded (loaded: ${known.join(', ') || 'none'})`,
      fix: 'use one of the loaded plugin names, or start the controller with --router-plugin naming the plugin',
    }));
}

/** A configuration as the plugin's schema parses it; as given when it does not parse (validation reports that). */
function parsed(plugin: RouterPlugin, given: unknown): { config: unknown; valid: boolean } {
  const result = plugin.schema.safeParse(given);
  return result.success ? { config: result.data, valid: true } : { config: given, valid: false };
}

/** The objects every configured router refers to. */
export function routingObjectsOf(trafficRouting: Record<string, unknown> | undefined, where: ReadContext): (RoutingObject & { plugin: RouterPlugin; config: unknown; path: string })[] {
  return configuredPlugins(trafficRouting)
    .filter((c) => c.valid)
    .flatMap(({ plugin, config, path }) => plugin.routingObjects(config, where).map((object) => ({ ...object, plugin, config, path: object.field ? `${path}.${object.field}` : path })));
}
