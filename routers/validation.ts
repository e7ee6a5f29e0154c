// Validation a Rollout's traffic routers add to the API's own: every step must be something the
// configured routers can express (capabilities), each router's configuration must parse with its
// schema and pass its own checks, and trafficRouting.plugins may only name loaded plugins.
// Called from api/rollout.ts, so the controller (InvalidSpec) and `rollway lint` say the same.
import { commonCapabilities } from './capabilities.ts';
import { configuredPlugins, routerPlugins, unknownPluginIssues } from './registry.ts';
import { capabilityIssues, type RouterCapabilities, type SpecIssue } from './types.ts';

/**
 * Whether a trafficRouting needs canaryService and stableService: when any configured router sends
 * traffic to them. Istio subset-level splitting (a destinationRule) alone does not, as in Argo
 * Rollouts: the VirtualService names its own host and the DestinationRule's subsets select the pods.
 */
export function needsCanaryStableServices(routing: Record<string, unknown>): boolean {
  const configured = configuredPlugins(routing);
  return configured.length === 0 || configured.some(({ plugin, config, valid }) => !valid || (plugin.needsServices?.(config) ?? true));
}

export function trafficRoutingIssues(routing: Record<string, unknown>, steps: readonly Record<string, unknown>[]): SpecIssue[] {
  const configured = configuredPlugins(routing);
  if (configured.length === 0) return unknownPluginIssues(routing);
  const plugins = configured.map((c) => c.plugin);
  const label = plugins.length === 1 ? plugins[0]!.label : `the ${plugins.map((p) => p.label.replace(/^the | router$/g, '')).join(' and ')} routers together`;
  const capabilities = plugins.length === 1 ? plugins[0]!.capabilities : commonCapabilities(plugins.map((p) => p.capabilities));
  // Weights finer than 0.01 are the API's own check (every router here is that fine).
  const able = (can: (c: RouterCapabilities) => boolean): string => {
    const keys = routerPlugins().filter((p) => can(p.capabilities)).map((p) => p.key);
    return keys.length > 0 ? `${keys.join(', ')} routing` : 'another router';
  };
  const alternatives = {
    header: able((c) => c.headerMatch.length > 0),
    multiHeader: able((c) => c.headerMatch.length > 0 && c.maxHeadersPerRoute === undefined),
    mirror: able((c) => c.mirror),
    weighted: able((c) => c.weightedDestinations === true),
  };
  const issues = capabilityIssues(label, capabilities, steps, alternatives).filter((i) => !(i.path.endsWith('.setWeight') && capabilities.weightResolutionPercent <= 0.01));
  issues.push(...unknownPluginIssues(routing));
  for (const { plugin, config, path, valid, issues: mapping } of configured) {
    issues.push(...mapping);
    // Built-in configurations are checked by the Rollout schema; plugins' here, with their own schema.
    if (!valid && path.includes('.plugins[')) {
      for (const problem of plugin.schema.safeParse(config).error?.issues ?? []) {
        issues.push({ path: [path, ...problem.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))].join(''), message: problem.message, fix: `see the configuration ${plugin.label} takes` });
      }
    }
    // An Argo plugin configuration that did not map over is reported as such, not in our field names.
    if (valid && mapping.length === 0 && plugin.validate) issues.push(...plugin.validate(config, path, { managedRoutes: routing.managedRoutes as { name: string }[] | undefined }));
  }
  return issues;
}
