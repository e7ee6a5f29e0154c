// NGINX rendering, pure: the canary Ingress for one stable Ingress. It copies the stable
// Ingress's rules whose backend is the stable Service (pointed at the canary Service), its TLS and
// ingress class, and carries the canary annotations. The stable Ingress itself is never changed.
import type { V1HTTPIngressPath, V1IngressRule, V1IngressSpec } from '@kubernetes/client-node';
import type { SpecIssue } from '../types.ts';
import type { KubeObject } from '../../kube/client.ts';
import { clone, controllerOf, controllerReference, isOwnedBy, prefixAsRegex, type RolloutIdentity } from '../common.ts';
import type { DesiredTraffic, WeightRatio } from '../types.ts';
import { ratioOfWeights } from '../weights.ts';
import { additionalAnnotationKey, canaryAnnotations, parseCanaryAnnotations, settingOf, type CanaryAnnotations } from './annotations.ts';

export type Ingress = KubeObject & { spec?: V1IngressSpec };

/** The legacy class annotation: the canary must be picked up by the same controller. */
const INGRESS_CLASS_ANNOTATION = 'kubernetes.io/ingress.class';
const MAX_NAME = 253;

export function canaryIngressName(rolloutName: string, stableIngress: string): string {
  const name = `${rolloutName}-${stableIngress}-canary`;
  return name.length <= MAX_NAME ? name : `${name.slice(0, MAX_NAME - '-canary'.length)}-canary`;
}

export interface CanaryIngressInput {
  stable: Ingress;
  /** the canary Ingress as read, if it exists */
  existing: Ingress | undefined;
  desired: DesiredTraffic;
  rollout: RolloutIdentity;
  namespace: string;
  prefix: string;
  /** annotation names with or without the prefix (trafficRouting.nginx.additionalIngressAnnotations) */
  additionalAnnotations: Record<string, string>;
  /** full annotation keys (trafficRouting.nginx.canaryIngressAnnotations) */
  canaryIngressAnnotations: Record<string, string>;
  /** where this stable Ingress is named in the spec */
  refPath: string;
}

export interface RenderedIngress {
  object: Ingress;
  issues: SpecIssue[];
  weight: WeightRatio;
}

/** The header routing settings for the header route in force (at most one, one header). */
function headerSettings(desired: DesiredTraffic): Partial<CanaryAnnotations> {
  const route = desired.headerRoutes[0];
  const match = route?.match[0];
  if (!match) return {};
  const value = match.headerValue;
  if ('exact' in value) return { byHeader: match.headerName, byHeaderValue: value.exact };
  if ('prefix' in value) return { byHeader: match.headerName, byHeaderPattern: prefixAsRegex(value.prefix) };
  return { byHeader: match.headerName, byHeaderPattern: value.regex };
}

export function renderCanaryIngress(input: CanaryIngressInput): RenderedIngress {
  const { stable, existing, desired, rollout, refPath } = input;
  const issues: SpecIssue[] = [];
  const stableName = stable.metadata.name ?? '';
  const name = canaryIngressName(rollout.name, stableName);

  if (existing && !isOwnedBy(existing, rollout)) {
    issues.push({
      path: refPath,
      message: `Ingress "${name}" exists and is controlled by ${controllerOf(existing)}, not by this Rollout; it is not taken over`,
      fix: `delete or rename Ingress ${name} so the router can create its canary Ingress`,
    });
  }
  const spec = canarySpec(stable, desired, refPath, issues);
  const annotations = mergedAnnotations(input, issues);

  const object: Ingress = existing ? clone(existing) : { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name, namespace: input.namespace } };
  object.metadata.annotations = annotations;
  if (!existing) object.metadata.ownerReferences = [controllerReference(rollout)];
  object.spec = spec;
  return { object, issues, weight: ratioOfWeights(desired.weight.canary, desired.weight.total - desired.weight.canary) };
}

/** The canary Ingress's spec: the stable Ingress's rules, TLS and ingress class. */
function canarySpec(stable: Ingress, desired: DesiredTraffic, refPath: string, issues: SpecIssue[]): V1IngressSpec {
  const stableName = stable.metadata.name ?? '';
  // Rules: only the paths that send to the stable Service, sent to the canary Service instead.
  const rules: V1IngressRule[] = [];
  for (const rule of stable.spec?.rules ?? []) {
    const paths: V1HTTPIngressPath[] = (rule.http?.paths ?? [])
      .filter((p) => p.backend.service?.name === desired.stableService)
      .map((p) => ({ ...clone(p), backend: { ...clone(p.backend), service: { ...clone(p.backend.service!), name: desired.canaryService } } }));
    if (paths.length > 0) rules.push({ ...clone(rule), http: { paths } });
  }
  if (rules.length === 0) {
    issues.push({
      path: refPath,
      message: `Ingress "${stableName}" has no path whose backend is the stable Service "${desired.stableService}"`,
      fix: `point a path of Ingress ${stableName} at Service ${desired.stableService}`,
    });
  }
  const spec: V1IngressSpec = { rules };
  if (stable.spec?.ingressClassName !== undefined) spec.ingressClassName = stable.spec.ingressClassName;
  if (stable.spec?.tls !== undefined) spec.tls = clone(stable.spec.tls);
  return spec;
}

/**
 * The canary Ingress's annotations: ours replace any canary annotation under the prefix; others
 * (another tool's, a user's) stay as they are on an existing canary Ingress.
 */
function mergedAnnotations(input: CanaryIngressInput, issues: SpecIssue[]): Record<string, string> {
  const { stable, existing, prefix } = input;
  const additional: Record<string, string> = {};
  for (const [name, value] of Object.entries(input.additionalAnnotations)) additional[additionalAnnotationKey(name, prefix)] = value;
  const ours = canarySettingAnnotations(additional, input.desired, prefix, input.refPath, issues);
  const annotations: Record<string, string> = {};
  for (const [key, value] of Object.entries(existing?.metadata.annotations ?? {})) {
    if (!settingOf(key, prefix) && !(key in additional)) annotations[key] = value;
  }
  for (const [key, value] of Object.entries(additional)) if (!settingOf(key, prefix)) annotations[key] = value; // canary ones are in `ours`
  Object.assign(annotations, input.canaryIngressAnnotations, ours);
  const stableClass = stable.metadata.annotations?.[INGRESS_CLASS_ANNOTATION];
  if (stableClass !== undefined) annotations[INGRESS_CLASS_ANNOTATION] = stableClass;
  return annotations;
}

/** The canary annotations under the prefix ({} when they would be invalid: an issue says why). */
function canarySettingAnnotations(additional: Record<string, string>, desired: DesiredTraffic, prefix: string, refPath: string, issues: SpecIssue[]): Record<string, string> {
  const parsedAdditional = parseCanaryAnnotations(additional, prefix);
  const header = headerSettings(desired);
  const settings: CanaryAnnotations = {
    ...(parsedAdditional.ok ? parsedAdditional.value : {}),
    ...header,
    canary: true,
    weight: desired.weight.canary,
    weightTotal: desired.weight.total,
  };
  // A header route in force replaces whatever header setting additionalIngressAnnotations gives.
  if ('byHeaderValue' in header) delete settings.byHeaderPattern;
  if ('byHeaderPattern' in header) delete settings.byHeaderValue;
  try {
    return canaryAnnotations(settings, prefix);
  } catch (err) {
    issues.push({ path: `${refPath}`, message: `the canary annotations would be invalid: ${String(err)}`, fix: 'check additionalIngressAnnotations and the header route steps' });
    return {};
  }
}

/** The weight a canary Ingress carries now (from its annotations). */
export function ingressWeight(ingress: Ingress, prefix: string): WeightRatio | undefined {
  const parsed = parseCanaryAnnotations(ingress.metadata.annotations, prefix);
  if (!parsed.ok || !parsed.value.canary || parsed.value.weight === undefined) return undefined;
  const total = parsed.value.weightTotal ?? 100;
  return ratioOfWeights(parsed.value.weight, total - parsed.value.weight);
}
