// Third-party router plugins: a file or an npm package named at start (the controller's
// --router-plugin, or ROLLWAY_ROUTER_PLUGINS for every rollway command), imported, checked
// (a schema, well-formed capabilities and kinds, the functions a router must have) and
// registered. A plugin that does not check out stops the start with a message saying what is wrong.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { importOnDemand } from '../lib/on-demand.ts';
import { RouterPluginShape, type RouterPlugin } from './plugin.ts';
import { registerRouterPlugin, thirdPartyRouterPlugins } from './registry.ts';

/** The plugins asked for: the flag's values (repeated or comma-separated), then ROLLWAY_ROUTER_PLUGINS. */
export function routerPluginSpecs(flag: string | undefined, env: string | undefined = process.env.ROLLWAY_ROUTER_PLUGINS): string[] {
  const all = [...(flag ?? '').split(','), ...(env ?? '').split(',')].map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set(all)];
}

/** Problems with an object offered as a plugin, each naming the field ('' when it is fine). */
export function pluginProblems(candidate: unknown): string[] {
  const checked = RouterPluginShape.safeParse(candidate);
  if (checked.success) return [];
  return checked.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(the export)'}: ${i.message}`);
}

/**
 * Imports one plugin: a path (relative to `cwd`) or a package name (resolved as Node resolves
 * imports of Rollway's own modules). The module exports the plugin
 * as its default export or as `routerPlugin`.
 */
export async function loadRouterPlugin(spec: string, cwd = process.cwd()): Promise<RouterPlugin> {
  // A path when it looks like one or names a file; otherwise a package name.
  const isPath = spec.startsWith('.') || isAbsolute(spec) || existsSync(resolve(cwd, spec));
  const target = isPath ? pathToFileURL(resolve(cwd, spec)).href : spec;
  let module: { default?: unknown; routerPlugin?: unknown };
  try {
    module = await importOnDemand<typeof module>(target);
  } catch (err) {
    throw new Error(`router plugin ${spec}: cannot be loaded (${(err as Error).message})`, { cause: err });
  }
  const candidate = module.routerPlugin ?? module.default;
  const problems = pluginProblems(candidate);
  if (problems.length > 0) throw new Error(`router plugin ${spec} is not a valid plugin: ${problems.join('; ')}`);
  const plugin = candidate as RouterPlugin;
  registerRouterPlugin(plugin, spec);
  return plugin;
}

/** Loads every plugin asked for, once (a second call with the same spec does nothing). */
export async function loadRouterPlugins(specs: readonly string[], cwd = process.cwd()): Promise<RouterPlugin[]> {
  const loaded: RouterPlugin[] = [];
  for (const spec of specs) {
    if (thirdPartyRouterPlugins().some((t) => t.source === spec)) continue;
    loaded.push(await loadRouterPlugin(spec, cwd));
  }
  return loaded;
}

/** The loaded plugins, one line each, for `rollway version` and the like. */
export function describeRouterPlugins(): { name: string; label: string; source: string }[] {
  return thirdPartyRouterPlugins().map(({ plugin, source }) => ({ name: plugin.key, label: plugin.label, source }));
}
