// Validation a Rollout's traffic router adds to the API's own: every step must be something the
// configured router can express (capabilities), and the router-specific fields must make sense.
// Called from api/rollout.ts, so the controller (InvalidSpec) and `rollway lint` say the same.
import type { SpecIssue } from '../api/issues.ts';
import { commonCapabilities, configuredRouters, ROUTER_CAPABILITIES } from './capabilities.ts';
import { additionalAnnotationProblems, AnnotationPrefixSchema, DEFAULT_ANNOTATION_PREFIX } from './nginx/annotations.ts';
import { capabilityIssues } from './types.ts';

const ROUTING = 'spec.strategy.canary.trafficRouting';
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * Whether a trafficRouting needs canaryService and stableService. Istio subset-level splitting
 * (a destinationRule) does not, as in Argo Rollouts: the VirtualService names its own host and the
 * DestinationRule's subsets select the pods. Every other router sends traffic to the two Services.
 */
export function needsCanaryStableServices(routing: Record<string, unknown>): boolean {
  const istio = routing.istio as { destinationRule?: unknown } | undefined;
  const subsetLevelOnly = istio?.destinationRule !== undefined && configuredRouters(routing).every((key) => key === 'istio');
  return !subsetLevelOnly;
}

export function trafficRoutingIssues(routing: Record<string, unknown>, steps: readonly Record<string, unknown>[], replicas: number): SpecIssue[] {
  const keys = configuredRouters(routing);
  if (keys.length === 0) return [];
  const label = keys.length === 1 ? ROUTER_CAPABILITIES[keys[0]!].label : `the ${keys.map((k) => ROUTER_CAPABILITIES[k].label.replace(/^the | router$/g, '')).join(' and ')} routers together`;
  const capabilities = keys.length === 1 ? ROUTER_CAPABILITIES[keys[0]!].capabilities : commonCapabilities(keys.map((k) => ROUTER_CAPABILITIES[k].capabilities));
  // Weights finer than 0.01 are the API's own check (every router here is that fine).
  const issues = capabilityIssues(label, capabilities, steps, replicas).filter((i) => !(i.path.endsWith('.setWeight') && capabilities.weightResolutionPercent <= 0.01));

  const nginx = routing.nginx as { annotationPrefix?: string; additionalIngressAnnotations?: Record<string, string> } | undefined;
  if (nginx) {
    const prefix = nginx.annotationPrefix ?? DEFAULT_ANNOTATION_PREFIX;
    const prefixCheck = AnnotationPrefixSchema.safeParse(prefix);
    if (!prefixCheck.success) {
      issues.push({ path: `${ROUTING}.nginx.annotationPrefix`, message: `annotationPrefix ${JSON.stringify(prefix)} ${prefixCheck.error.issues[0]?.message ?? 'is invalid'}`, fix: `leave it out for ${DEFAULT_ANNOTATION_PREFIX}` });
    }
    for (const [name, message] of additionalAnnotationProblems(nginx.additionalIngressAnnotations ?? {}, prefix)) {
      issues.push({ path: `${ROUTING}.nginx.additionalIngressAnnotations.${name}`, message, fix: 'set canary-by-header, canary-by-header-value, canary-by-header-pattern or canary-by-cookie here; weights come from the steps' });
    }
  }

  const smi = routing.smi as { trafficSplitName?: string } | undefined;
  if (smi?.trafficSplitName !== undefined && !DNS_SUBDOMAIN.test(smi.trafficSplitName)) {
    issues.push({ path: `${ROUTING}.smi.trafficSplitName`, message: `trafficSplitName ${JSON.stringify(smi.trafficSplitName)} is not a valid object name`, fix: 'use lower-case letters, digits, - and .' });
  }

  if (routing.gatewayAPI !== undefined) {
    // Header and mirror routes become HTTPRoute rules named after the managed route.
    for (const [i, route] of ((routing.managedRoutes ?? []) as { name: string }[]).entries()) {
      if (route.name.length > 253 || !DNS_SUBDOMAIN.test(route.name)) {
        issues.push({
          path: `${ROUTING}.managedRoutes[${i}].name`,
          message: `${JSON.stringify(route.name)} cannot name an HTTPRoute rule (the Gateway API router names the rule it adds after the managed route)`,
          fix: 'use lower-case letters, digits, - and ., e.g. header-beta',
        });
      }
    }
  }
  return issues;
}
