// The Experiment a canary `experiment` step creates, built from the step and the stable and
// canary ReplicaSets (pure). Each template runs the pod template its specRef names, as Argo
// Rollouts builds it: the ReplicaSet's template and minReadySeconds, the step's selector (or the
// ReplicaSet's), the step's metadata added to the pod labels (and selector) and annotations, and a
// Service when the template has a weight or asks for one.
import { labelValue } from '../analysis/providers/job.ts';
import { resolveRolloutArgs } from '../analysis/run-spec.ts';
import { REVISION_ANNOTATION } from './model.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import { EXPERIMENT_ROLLOUT_LABEL, EXPERIMENT_STEP_INDEX_LABEL, type ExperimentCreate } from './experiment-step.ts';

export const EXPERIMENT_API_VERSION = 'rollway.dev/v1alpha1';
export const EXPERIMENT_KIND = 'Experiment';
export const EXPERIMENT_PLURAL = 'experiments';
const INSTANCE_ID_LABEL = 'rollway.dev/controller-instance-id';

type Selector = { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
type PodTemplate = { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };

/** What a template is built from: a ReplicaSet of the Rollout. */
export interface TemplateSource {
  template: PodTemplate;
  selector: Selector;
  minReadySeconds?: number | undefined;
}

export interface ExperimentSources {
  rollout: { name: string; uid: string; namespace: string; labels?: Record<string, string> | undefined; object: unknown };
  stableHash: string;
  stable: TemplateSource | undefined;
  canary: TemplateSource | undefined;
  progressDeadlineSeconds?: number | undefined;
}

export interface ExperimentObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string>; annotations: Record<string, string>; ownerReferences: unknown[] };
  spec: Record<string, unknown>;
}

/** Without the Rollout's own hash label: the Experiment's ReplicaSets get their own. */
function withoutHash(labels: Record<string, string> | undefined): Record<string, string> {
  const { [POD_TEMPLATE_HASH_LABEL]: _hash, ...rest } = labels ?? {};
  return rest;
}

/** The Experiment object, or the name of the ReplicaSet it cannot be built without yet. */
export function buildExperiment(create: ExperimentCreate, sources: ExperimentSources): ExperimentObject | { missing: 'stable' | 'canary' } {
  const templates: Record<string, unknown>[] = [];
  for (const t of create.step.templates) {
    const source = t.specRef === 'stable' ? sources.stable : sources.canary;
    if (!source) return { missing: t.specRef === 'stable' ? 'stable' : 'canary' };
    const template = structuredClone(source.template);
    const labels = { ...withoutHash(template.metadata?.labels), ...(t.metadata?.labels ?? {}) };
    const annotations = { ...(template.metadata?.annotations ?? {}), ...(t.metadata?.annotations ?? {}) };
    template.metadata = { ...(template.metadata ?? {}), labels, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) };
    // The selector goes to the Experiment as written (matchExpressions with key, operator and values too).
    const selector: Selector = structuredClone(t.selector ?? source.selector);
    selector.matchLabels = { ...withoutHash(selector.matchLabels), ...(t.metadata?.labels ?? {}) };
    templates.push({
      name: t.name,
      ...(t.replicas !== undefined ? { replicas: t.replicas } : {}),
      ...(source.minReadySeconds ? { minReadySeconds: source.minReadySeconds } : {}),
      selector,
      template,
      ...(t.weight !== undefined || t.service !== undefined ? { service: t.service?.name ? { name: t.service.name } : {} } : {}),
    });
  }
  const { rollout } = sources;
  const analyses = (create.step.analyses ?? []).map((a) => ({
    name: a.name,
    ...(a.templateName !== undefined ? { templateName: a.templateName } : {}),
    ...(a.clusterScope !== undefined ? { clusterScope: a.clusterScope } : {}),
    ...(a.args?.length ? { args: resolveRolloutArgs(a.args, { object: rollout.object, stableHash: sources.stableHash, latestHash: create.podHash }) } : {}),
    ...(a.requiredForCompletion !== undefined ? { requiredForCompletion: a.requiredForCompletion } : {}),
  }));
  const labels: Record<string, string> = { [POD_TEMPLATE_HASH_LABEL]: create.podHash, [EXPERIMENT_ROLLOUT_LABEL]: labelValue(rollout.name), [EXPERIMENT_STEP_INDEX_LABEL]: String(create.stepIndex) };
  const instance = rollout.labels?.[INSTANCE_ID_LABEL];
  if (instance) labels[INSTANCE_ID_LABEL] = instance;
  return {
    apiVersion: EXPERIMENT_API_VERSION,
    kind: EXPERIMENT_KIND,
    metadata: {
      name: create.name,
      namespace: rollout.namespace,
      labels,
      annotations: { [REVISION_ANNOTATION]: String(create.revision) },
      ownerReferences: [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: rollout.name, uid: rollout.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: {
      ...(create.step.duration !== undefined ? { duration: create.step.duration } : {}),
      ...(sources.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: sources.progressDeadlineSeconds } : {}),
      templates,
      ...(analyses.length > 0 ? { analyses } : {}),
    },
  };
}
