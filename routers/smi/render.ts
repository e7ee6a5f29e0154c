// SMI rendering, pure: the TrafficSplit a Rollout owns, with the canary and stable backends
// weighted exactly. v1alpha1 weights are Kubernetes quantities, v1alpha2..v1alpha4 integers.
import type { SpecIssue } from '../types.ts';
import type { TrafficSplitV1alpha4 } from '../../crds-types/trafficsplit.ts';
import type { KubeObject } from '../../kube/client.ts';
import { clone, controllerOf, controllerReference, isOwnedBy, type RolloutIdentity } from '../common.ts';
import type { DesiredTraffic, WeightRatio } from '../types.ts';
import { ratioOfWeights, splitWeights } from '../weights.ts';

export const SMI_GROUP = 'split.smi-spec.io';
export const SMI_VERSIONS = ['v1alpha4', 'v1alpha3', 'v1alpha2', 'v1alpha1'] as const;
export type SmiVersion = (typeof SMI_VERSIONS)[number];

type TrafficSplitSpec = NonNullable<TrafficSplitV1alpha4['spec']>;
/**
 * A TrafficSplit of any version. v1alpha1 has no generated type (the upstream CRD no longer
 * carries that version): it differs from the later ones only in its weights being quantities.
 */
export type TrafficSplit = KubeObject & {
  spec?: Omit<TrafficSplitSpec, 'backends'> & { backends: { service: string; weight: number | string }[] };
};

/** A weight as a quantity: milli-units when that is exact ("200m"), else a whole number ("9999"). */
export function weightQuantity(weight: number, total: number): string {
  const milli = (weight * 1000) / total;
  if (Number.isInteger(milli)) return milli % 1000 === 0 ? String(milli / 1000) : `${milli}m`;
  return String(weight);
}

const SUFFIX_MILLI: Record<string, number> = { m: 1, '': 1000, k: 1e6, M: 1e9, G: 1e12 };

/** A quantity (or number) in milli-units, or undefined when it is not one we write or read. */
export function quantityMilli(value: number | string): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value * 1000) : undefined;
  const match = /^(\d+(?:\.\d+)?)(m|k|M|G)?$/.exec(value.trim());
  if (!match) return undefined;
  const milli = Number(match[1]) * (SUFFIX_MILLI[match[2] ?? ''] ?? Number.NaN);
  return Number.isFinite(milli) ? Math.round(milli) : undefined;
}

export interface TrafficSplitInput {
  existing: TrafficSplit | undefined;
  desired: DesiredTraffic;
  rollout: RolloutIdentity;
  namespace: string;
  name: string;
  rootService: string;
  apiVersion: SmiVersion;
  /** the spec field naming the TrafficSplit, for messages */
  refPath: string;
}

export function renderTrafficSplit(input: TrafficSplitInput): { object: TrafficSplit; issues: SpecIssue[]; weight: WeightRatio } {
  const { existing, desired, rollout, apiVersion } = input;
  const issues: SpecIssue[] = [];
  if (existing && !isOwnedBy(existing, rollout)) {
    issues.push({
      path: input.refPath,
      message: `TrafficSplit "${input.name}" exists and is controlled by ${controllerOf(existing)}, not by this Rollout; it is not taken over`,
      fix: 'delete that TrafficSplit, or set trafficSplitName to a name of its own',
    });
  }
  const extras = desired.extraDestinations ?? [];
  // The split as it comes (20% as 20/80; with experiment backends 0/90/5/5): we own every weight.
  const split = splitWeights(desired.weight, extras.map((e) => e.weight), { canary: 0, stable: 0, extras: [] }, []);
  const { canary, stable } = split;
  const total = canary + stable + split.extras.reduce((a, b) => a + b, 0);
  const weight = (w: number): number | string => (apiVersion === 'v1alpha1' ? weightQuantity(w, total) : w);
  const object: TrafficSplit = existing
    ? clone(existing)
    : { apiVersion: `${SMI_GROUP}/${apiVersion}`, kind: 'TrafficSplit', metadata: { name: input.name, namespace: input.namespace, ownerReferences: [controllerReference(rollout)] } };
  object.spec = {
    ...(object.spec ?? {}),
    service: input.rootService,
    backends: [
      { service: desired.canaryService, weight: weight(canary) },
      { service: desired.stableService, weight: weight(stable) },
      ...extras.map((e, i) => ({ service: e.service, weight: weight(split.extras[i]!) })),
    ],
  };
  return { object, issues, weight: ratioOfWeights(canary, total - canary) };
}

/** The canary share a TrafficSplit carries (backends by Service name; experiment backends count in the whole). */
export function trafficSplitWeight(split: TrafficSplit, canaryService: string, stableService: string): WeightRatio | undefined {
  const backends = split.spec?.backends ?? [];
  const canary = backends.find((b) => b.service === canaryService);
  const stable = backends.find((b) => b.service === stableService);
  if (!canary || !stable) return undefined;
  const c = quantityMilli(canary.weight);
  const all = backends.map((b) => quantityMilli(b.weight));
  if (c === undefined || all.some((w) => w === undefined)) return undefined;
  return ratioOfWeights(c, all.reduce<number>((a, b) => a + b!, 0) - c);
}
