// Ephemeral pod metadata (strategy.canary.canaryMetadata / stableMetadata) and the anti-affinity
// the canary gets against the stable pods (strategy.canary.antiAffinity), as Argo Rollouts has them.
//
// Both live in a ReplicaSet's pod template but are not part of the Rollout's template, so they never
// change the pod-template hash, and a ReplicaSet keeps its pods when they change: labels and
// annotations are patched onto the running pods in place; affinity only matters for pods the
// scheduler places later (a running pod's affinity cannot change, nor does it need to).
//
// What we put on a template is remembered in an annotation on its ReplicaSet, with the values the
// template had before for the same keys, so that a role change (canary → stable at promotion, stable
// → old afterwards) removes exactly our keys and gives back a template value we had covered.
// Pure functions: the planner calls planPodTemplates, the controller applies its patches.
import { canonicalJson, POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import type { AntiAffinityView, ObservedPod, ObservedReplicaSet, PodMetadata, PodMetadataPatch, ReplicaSetTemplatePatch } from './model.ts';
import { EPHEMERAL_METADATA_ANNOTATION } from '../api/labels.ts';

export { EPHEMERAL_METADATA_ANNOTATION };
/** Canary pods keep off the nodes of stable pods (per node), as Argo's injected term does. */
export const ANTI_AFFINITY_TOPOLOGY_KEY = 'kubernetes.io/hostname';

type Kind = 'labels' | 'annotations';
const KINDS: readonly Kind[] = ['labels', 'annotations'];
type Values = Record<string, string | null>;

/** The content of EPHEMERAL_METADATA_ANNOTATION: what we set, and what it covered. */
interface EphemeralRecord extends PodMetadata {
  original?: PodMetadata;
}

export interface CanaryMetadataSpec {
  canaryMetadata?: PodMetadata | undefined;
  stableMetadata?: PodMetadata | undefined;
  antiAffinity?: AntiAffinityView | undefined;
}

/** Whether a canary strategy asks for anything this module does. */
export function usesPodTemplateExtras(canary: CanaryMetadataSpec | undefined): boolean {
  return canary?.canaryMetadata !== undefined || canary?.stableMetadata !== undefined || canary?.antiAffinity !== undefined;
}

export function parseEphemeralRecord(text: string | undefined): EphemeralRecord {
  if (!text) return {};
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as EphemeralRecord) : {};
  } catch {
    return {}; // not something we wrote
  }
}

/**
 * For one ReplicaSet: the value each managed key should have on its template and pods (null: absent)
 * and the record to keep on it. Managed keys are those we set before and those we set now; a key we
 * stop setting gets back the template's own value, if we had covered one.
 */
export function ephemeralValues(template: PodMetadata, record: EphemeralRecord, desired: PodMetadata | undefined): { values: Record<Kind, Values>; record: string | undefined } {
  const values: Record<Kind, Values> = { labels: {}, annotations: {} };
  const next: EphemeralRecord = {};
  for (const kind of KINDS) {
    const before = record[kind] ?? {};
    const coveredBefore = record.original?.[kind] ?? {};
    const want = desired?.[kind] ?? {};
    const covered: Record<string, string> = {};
    for (const key of new Set([...Object.keys(before), ...Object.keys(want)])) {
      if (kind === 'labels' && key === POD_TEMPLATE_HASH_LABEL) continue; // never ours to move
      const own = key in before ? coveredBefore[key] : template[kind]?.[key];
      const value = want[key];
      if (value !== undefined) {
        values[kind][key] = value;
        if (own !== undefined) covered[key] = own;
      } else {
        values[kind][key] = own ?? null;
      }
    }
    const set = Object.fromEntries(Object.entries(want).filter(([key]) => !(kind === 'labels' && key === POD_TEMPLATE_HASH_LABEL)));
    if (Object.keys(set).length > 0) next[kind] = set;
    if (Object.keys(covered).length > 0) next.original = { ...next.original, [kind]: covered };
  }
  const empty = next.labels === undefined && next.annotations === undefined;
  return { values, record: empty ? undefined : canonicalJson(next) };
}

/** The keys of `current` that differ from `values` (null: must be absent). */
function differences(current: PodMetadata, values: Record<Kind, Values>): Record<Kind, Values> | undefined {
  const out: Record<Kind, Values> = { labels: {}, annotations: {} };
  let any = false;
  for (const kind of KINDS) {
    for (const [key, value] of Object.entries(values[kind])) {
      if ((current[kind]?.[key] ?? null) !== value) {
        out[kind][key] = value;
        any = true;
      }
    }
  }
  return any ? out : undefined;
}

/** Metadata with the managed values applied (null removes the key). */
export function withValues(metadata: PodMetadata, values: Record<Kind, Values>): PodMetadata {
  const out: PodMetadata = {};
  for (const kind of KINDS) {
    const merged: Record<string, string> = { ...(metadata[kind] ?? {}) };
    for (const [key, value] of Object.entries(values[kind])) {
      if (value === null) delete merged[key];
      else merged[key] = value;
    }
    if (Object.keys(merged).length > 0) out[kind] = merged;
  }
  return out;
}

// --- anti-affinity ------------------------------------------------------------------------------

type AffinityObject = Record<string, unknown>;
const isObject = (v: unknown): v is AffinityObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The term keeping a pod off nodes that run pods of the stable ReplicaSet. */
export function antiAffinityTerm(stableHash: string, namespace: string): AffinityObject {
  return {
    labelSelector: { matchExpressions: [{ key: POD_TEMPLATE_HASH_LABEL, operator: 'In', values: [stableHash] }] },
    namespaces: [namespace],
    topologyKey: ANTI_AFFINITY_TOPOLOGY_KEY,
  };
}

/** The template's affinity plus the injected term (preferred with its weight, else required). */
export function withAntiAffinity(base: unknown, antiAffinity: AntiAffinityView, stableHash: string, namespace: string): AffinityObject {
  const affinity: AffinityObject = isObject(base) ? structuredClone(base) : {};
  const anti: AffinityObject = isObject(affinity.podAntiAffinity) ? affinity.podAntiAffinity : {};
  const term = antiAffinityTerm(stableHash, namespace);
  const preferred = antiAffinity.preferredDuringSchedulingIgnoredDuringExecution;
  if (preferred !== undefined) {
    const list = Array.isArray(anti.preferredDuringSchedulingIgnoredDuringExecution) ? anti.preferredDuringSchedulingIgnoredDuringExecution : [];
    anti.preferredDuringSchedulingIgnoredDuringExecution = [...(list as unknown[]), { weight: preferred.weight, podAffinityTerm: term }];
  } else {
    const list = Array.isArray(anti.requiredDuringSchedulingIgnoredDuringExecution) ? anti.requiredDuringSchedulingIgnoredDuringExecution : [];
    anti.requiredDuringSchedulingIgnoredDuringExecution = [...(list as unknown[]), term];
  }
  affinity.podAntiAffinity = anti;
  return affinity;
}

/** An RFC 7386 merge patch that turns `current` into `desired` (absent keys become null). */
export function mergePatch(current: unknown, desired: unknown): unknown {
  if (!isObject(current) || !isObject(desired)) return desired === undefined ? null : desired;
  const patch: AffinityObject = {};
  for (const key of Object.keys(current)) if (desired[key] === undefined) patch[key] = null;
  for (const [key, value] of Object.entries(desired)) {
    if (value !== undefined && canonicalJson(current[key]) !== canonicalJson(value)) patch[key] = mergePatch(current[key], value);
  }
  return patch;
}

// --- the plan -----------------------------------------------------------------------------------

export interface PodTemplateInput {
  namespace: string;
  /** the Rollout's spec.template */
  template: { metadata?: PodMetadata; spec?: unknown } | undefined;
  canary: CanaryMetadataSpec;
  replicaSets: ObservedReplicaSet[];
  pods: ObservedPod[];
  currentHash: string;
  stableHash: string;
  /** the current revision is a canary (not yet stable) after this plan */
  inCanary: boolean;
  /** spec.replicas a ReplicaSet has after this plan: pods of a ReplicaSet going to 0 are left alone */
  sizeAfter: (rs: ObservedReplicaSet) => number;
}

export interface PodTemplatePlan {
  templatePatches: ReplicaSetTemplatePatch[];
  podPatches: PodMetadataPatch[];
  /** for a ReplicaSet of the current hash still to be created */
  create: { podMetadata: PodMetadata; affinity?: unknown; annotations?: Record<string, string> };
}

function ephemeralFor(hash: string, input: PodTemplateInput): PodMetadata | undefined {
  if (input.inCanary && hash === input.currentHash) return input.canary.canaryMetadata;
  return hash === input.stableHash ? input.canary.stableMetadata : undefined;
}

/** The affinity the current ReplicaSet's template should have. */
function desiredAffinity(input: PodTemplateInput): unknown {
  const base = isObject(input.template?.spec) ? input.template.spec.affinity : undefined;
  const anti = input.canary.antiAffinity;
  const canary = input.inCanary && input.stableHash !== '' && input.stableHash !== input.currentHash;
  return anti !== undefined && canary ? withAntiAffinity(base, anti, input.stableHash, input.namespace) : base;
}

const hasInjectedTerm = (affinity: unknown): boolean => JSON.stringify(affinity ?? null).includes(`"key":"${POD_TEMPLATE_HASH_LABEL}"`);

/** The template patch of one existing ReplicaSet, and the pod patches of its running pods. */
function planReplicaSet(rs: ObservedReplicaSet, input: PodTemplateInput, out: PodTemplatePlan): void {
  const patch: Record<string, unknown> = {};
  const record = parseEphemeralRecord(rs.ephemeralRecord);
  const desired = ephemeralFor(rs.hash, input);
  if (desired !== undefined || rs.ephemeralRecord !== undefined) {
    const current = rs.podMetadata ?? {};
    const planned = ephemeralValues(current, record, desired);
    const changed = differences(current, planned.values);
    if (changed) patch.spec = { template: { metadata: changed } };
    if (planned.record !== rs.ephemeralRecord) patch.metadata = { annotations: { [EPHEMERAL_METADATA_ANNOTATION]: planned.record ?? null } };
    if (input.sizeAfter(rs) > 0) {
      for (const pod of input.pods) {
        if (pod.hash !== rs.hash || pod.deleting) continue;
        const diff = differences({ labels: pod.labels ?? {}, annotations: pod.annotations ?? {} }, planned.values);
        if (diff) out.podPatches.push({ name: pod.name, labels: diff.labels, annotations: diff.annotations });
      }
    }
  }
  if (rs.hash === input.currentHash && (input.canary.antiAffinity !== undefined || hasInjectedTerm(rs.affinity))) {
    const want = desiredAffinity(input);
    if (canonicalJson(rs.affinity ?? null) !== canonicalJson(want ?? null)) {
      const spec = (patch.spec ?? { template: {} }) as { template: Record<string, unknown> };
      spec.template.spec = { affinity: mergePatch(rs.affinity, want) };
      patch.spec = spec;
    }
  }
  if (Object.keys(patch).length > 0) out.templatePatches.push({ name: rs.name, patch });
}

export function planPodTemplates(input: PodTemplateInput): PodTemplatePlan {
  const templateMetadata = input.template?.metadata ?? {};
  const forNew = ephemeralValues(templateMetadata, {}, ephemeralFor(input.currentHash, input));
  const affinity = desiredAffinity(input);
  const baseAffinity = isObject(input.template?.spec) ? input.template.spec.affinity : undefined;
  const out: PodTemplatePlan = {
    templatePatches: [],
    podPatches: [],
    create: {
      podMetadata: withValues(templateMetadata, forNew.values),
      ...(affinity !== baseAffinity ? { affinity } : {}),
      ...(forNew.record ? { annotations: { [EPHEMERAL_METADATA_ANNOTATION]: forNew.record } } : {}),
    },
  };
  for (const rs of input.replicaSets) planReplicaSet(rs, input, out);
  return out;
}
