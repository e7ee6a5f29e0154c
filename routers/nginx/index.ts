// The NGINX Ingress router as a plugin: its configuration (trafficRouting.nginx), what it can
// express, the stable Ingresses it reads and the canary Ingresses it owns, and how a canary
// Ingress's weight is read.
import { z } from 'zod';
import type { KubeObject } from '../kube-api.ts';
import { definePlugin, type RoutingObject } from '../plugin.ts';
import type { RouterCapabilities, SpecIssue, WeightRatio } from '../types.ts';
import { additionalAnnotationProblems, AnnotationPrefixSchema, DEFAULT_ANNOTATION_PREFIX } from './annotations.ts';
import { canaryIngressName } from './render.ts';
import { NginxRouter } from './router.ts';

const StringMap = z.record(z.string(), z.string());

export const NginxConfigSchema = z.object({
  stableIngress: z.string().optional(),
  stableIngresses: z.array(z.string()).optional(),
  annotationPrefix: z.string().optional(),
  additionalIngressAnnotations: StringMap.optional(),
  canaryIngressAnnotations: StringMap.optional(),
});
export type NginxConfig = z.output<typeof NginxConfigSchema>;

export const nginxCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // canary-weight over canary-weight-total (1 of 10000)
  // canary-by-header-value (exact) or canary-by-header-pattern (regex; a prefix becomes ^prefix.*)
  headerMatch: ['exact', 'prefix', 'regex'],
  maxHeadersPerRoute: 1,
  maxHeaderRoutes: 1,
  mirror: false,
  verification: false,
  replicaBased: false,
  // One canary Ingress per stable Ingress, and NGINX's canary annotations name a single backend:
  // no share for experiment Services.
  weightedDestinations: false,
};

const stableIngresses = (config: NginxConfig): string[] => (config.stableIngress ? [config.stableIngress] : (config.stableIngresses ?? []));

/** The canary share a canary Ingress carries: canary-weight over canary-weight-total, 0 when not a canary. */
export function readCanaryIngress(object: KubeObject, prefix: string): WeightRatio | undefined {
  const annotations = object.metadata.annotations ?? {};
  if (annotations[`${prefix}/canary`] !== 'true') return { canary: 0, total: 100 };
  const weight = Number(annotations[`${prefix}/canary-weight`] ?? 0);
  const total = Number(annotations[`${prefix}/canary-weight-total`] ?? 100);
  if (!Number.isFinite(weight) || !Number.isFinite(total) || total <= 0) return undefined;
  return { canary: weight, total };
}

function validate(config: NginxConfig, path: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  if (Boolean(config.stableIngress) === (config.stableIngresses?.length ?? 0) > 0) {
    issues.push({
      path,
      message: config.stableIngress ? 'nginx sets both stableIngress and stableIngresses' : 'nginx names no stable Ingress',
      fix: 'set stableIngress: <name> for one Ingress, or stableIngresses: [<name>, ...] for several',
    });
  }
  const prefix = config.annotationPrefix ?? DEFAULT_ANNOTATION_PREFIX;
  const prefixCheck = AnnotationPrefixSchema.safeParse(prefix);
  if (!prefixCheck.success) {
    issues.push({ path: `${path}.annotationPrefix`, message: `annotationPrefix ${JSON.stringify(prefix)} ${prefixCheck.error.issues[0]?.message ?? 'is invalid'}`, fix: `leave it out for ${DEFAULT_ANNOTATION_PREFIX}` });
  }
  for (const [name, message] of additionalAnnotationProblems(config.additionalIngressAnnotations ?? {}, prefix)) {
    issues.push({ path: `${path}.additionalIngressAnnotations.${name}`, message, fix: 'set canary-by-header, canary-by-header-value, canary-by-header-pattern or canary-by-cookie here; weights come from the steps' });
  }
  return issues;
}

export const nginxPlugin = definePlugin({
  key: 'nginx',
  label: 'the NGINX router',
  schema: NginxConfigSchema,
  capabilities: nginxCapabilities,
  kinds: [{ kind: 'Ingress', group: 'networking.k8s.io', plural: 'ingresses', versions: ['v1'], editedInPlace: false }],
  validate,
  routingObjects: (config, where) =>
    stableIngresses(config).flatMap((stable, i): RoutingObject[] => [
      { kind: 'Ingress', group: 'networking.k8s.io', plural: 'ingresses', namespace: where.namespace, name: stable, carriesWeight: false, access: 'reads', field: config.stableIngress ? 'stableIngress' : `stableIngresses[${i}]` },
      { kind: 'Ingress', group: 'networking.k8s.io', plural: 'ingresses', namespace: where.namespace, name: canaryIngressName(where.rolloutName, stable), carriesWeight: true, access: 'owns' },
    ]),
  read: (object, config) => readCanaryIngress(object, config.annotationPrefix ?? DEFAULT_ANNOTATION_PREFIX),
  create: (ctx, config) => new NginxRouter(ctx, config, nginxCapabilities),
});
