// Traefik rendering, pure: the canary and stable weights in a user's weighted TraefikService
// (spec.weighted.services[], the entries named by canaryService and stableService), as Argo
// Rollouts sets them. Every other entry and field is carried over as it was.
import type { TraefikServiceV1alpha1 } from '../../crds-types/traefikservice.ts';
import type { KubeObject } from '../kube-api.ts';
import { clone } from '../common.ts';
import type { DesiredTraffic, SpecIssue, WeightRatio } from '../types.ts';
import { poolWeights, ratioOfWeights } from '../weights.ts';

export const TRAEFIK_GROUP = 'traefik.io';
export const TRAEFIK_VERSIONS = ['v1alpha1'] as const;

type TraefikServiceSpec = NonNullable<TraefikServiceV1alpha1['spec']>;
export type WeightedEntry = NonNullable<NonNullable<TraefikServiceSpec['weighted']>['services']>[number];
export type TraefikService = KubeObject & { spec?: TraefikServiceSpec };

/** Traefik's weight when an entry has none. */
const DEFAULT_WEIGHT = 1;

/** Whether an entry is the Kubernetes Service `name` of the TraefikService's own namespace. */
function isService(entry: WeightedEntry, name: string, namespace: string): boolean {
  return entry.name === name && (entry.kind ?? 'Service') === 'Service' && (entry.namespace ?? namespace) === namespace;
}

export interface ServiceNames {
  canaryService: string;
  stableService: string;
  /** where the Services are when the object does not say (a manifest in a file) */
  namespace?: string | undefined;
}

/** The canary and stable entries of a TraefikService, and the other ones (any shape is read safely). */
export function weightedEntries(object: TraefikService, services: ServiceNames) {
  const namespace = object.metadata?.namespace ?? services.namespace ?? '';
  const given: unknown = object.spec?.weighted?.services;
  const entries = Array.isArray(given) ? (given as unknown[]).filter((e): e is WeightedEntry => e !== null && typeof e === 'object') : undefined;
  const canary = entries?.find((e) => isService(e, services.canaryService, namespace));
  const stable = entries?.find((e) => isService(e, services.stableService, namespace));
  const others = (entries ?? []).filter((e) => e !== canary && e !== stable);
  return { entries, canary, stable, others };
}

/** The canary share a TraefikService carries (of the canary and stable entries), or undefined. */
export function readTraefikService(object: TraefikService, services: ServiceNames): WeightRatio | undefined {
  const { canary, stable } = weightedEntries(object, services);
  if (!canary || !stable) return undefined;
  const c = canary.weight ?? DEFAULT_WEIGHT;
  const total = c + (stable.weight ?? DEFAULT_WEIGHT);
  return total > 0 ? { canary: c, total } : undefined;
}

/** What a TraefikService lacks to carry the weights (as a lint or reconcile issue). */
export function shapeIssues(object: TraefikService, services: ServiceNames, path: string): SpecIssue[] {
  const name = object.metadata?.name ?? '';
  const { entries, canary, stable } = weightedEntries(object, services);
  if (!entries) {
    return [{ path, message: `TraefikService "${name}" has no spec.weighted.services (it is not a weighted TraefikService)`, fix: `give it spec.weighted.services with entries for ${services.stableService} and ${services.canaryService} (weight 0)` }];
  }
  if (canary && stable) return [];
  const missing = [!stable && `the stable Service "${services.stableService}"`, !canary && `the canary Service "${services.canaryService}"`].filter(Boolean).join(' and ');
  return [{ path, message: `TraefikService "${name}": spec.weighted.services has no entry for ${missing}`, fix: 'add both entries (kind Service, same namespace; the canary one with weight 0)' }];
}

export interface RenderedTraefikService {
  object: TraefikService;
  issues: SpecIssue[];
  weight?: WeightRatio | undefined;
}

/**
 * The TraefikService with the canary getting exactly `desired.weight` of the canary and stable
 * entries' pool; other entries keep their share (scaled by a whole factor only when a finer
 * ratio needs a larger total). Weights that already say the ratio are left as they are.
 */
export function renderTraefikService(object: TraefikService, desired: DesiredTraffic, refPath: string): RenderedTraefikService {
  const draft = clone(object);
  const issues = shapeIssues(draft, desired, refPath);
  if (issues.length > 0) return { object, issues };
  const { canary, stable, others } = weightedEntries(draft, desired);
  const next = poolWeights(desired.weight, { canary: canary!.weight ?? DEFAULT_WEIGHT, stable: stable!.weight ?? DEFAULT_WEIGHT }, others.map((e) => e.weight ?? DEFAULT_WEIGHT));
  canary!.weight = next.canary;
  stable!.weight = next.stable;
  if (next.othersScale !== 1) for (const e of others) e.weight = (e.weight ?? DEFAULT_WEIGHT) * next.othersScale;
  return { object: draft, issues, weight: ratioOfWeights(next.canary, next.stable) };
}
