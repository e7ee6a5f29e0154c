// The objects an Experiment makes, built from its spec (pure): a ReplicaSet per template, a Service
// for a template that asks for one, and an AnalysisRun per analysis. All are owned by the
// Experiment (the garbage collector removes them with it) and carry the experiment label the
// Experiment reconciler watches them by.
import { ANALYSIS_API_VERSION, ANALYSIS_RUN_KIND, type Argument } from '../api/analysis.ts';
import { EXPERIMENT_API_VERSION, EXPERIMENT_KIND, EXPERIMENT_NAME_ANNOTATION, EXPERIMENT_TEMPLATE_ANNOTATION, type ExperimentSpec, type ExperimentTemplate } from '../api/experiment.ts';
import { INSTANCE_ID_LABEL } from '../api/labels.ts';
import type { KubeObject } from '../kube/client.ts';
import type { ComposedSpec } from '../analysis/run-spec.ts';
import { mergeArgs } from '../analysis/run-spec.ts';
import { labelValue } from '../analysis/providers/job.ts';
import { podTemplateHash, POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';

/** On the ReplicaSets, Services and AnalysisRuns of an Experiment: its name (as a label value). */
export const EXPERIMENT_LABEL = 'rollway.dev/experiment';

export interface ExperimentOwner {
  name: string;
  namespace: string;
  uid: string;
  labels?: Record<string, string> | undefined;
}

const ownerRef = (owner: ExperimentOwner) => ({ apiVersion: EXPERIMENT_API_VERSION, kind: EXPERIMENT_KIND, name: owner.name, uid: owner.uid, controller: true, blockOwnerDeletion: true });

function ownLabels(owner: ExperimentOwner): Record<string, string> {
  const labels: Record<string, string> = { [EXPERIMENT_LABEL]: labelValue(owner.name) };
  const instance = owner.labels?.[INSTANCE_ID_LABEL];
  if (instance) labels[INSTANCE_ID_LABEL] = instance;
  return labels;
}

/** The pod-template hash of a template (without any hash label it was copied with). */
export function templateHash(template: ExperimentTemplate, collisionCount = 0): string {
  const copy = structuredClone(template.template);
  if (copy.metadata?.labels) delete copy.metadata.labels[POD_TEMPLATE_HASH_LABEL];
  return podTemplateHash(copy, collisionCount);
}

export function buildTemplateReplicaSet(owner: ExperimentOwner, template: ExperimentTemplate, name: string, replicas: number, collisionCount = 0): KubeObject {
  const hash = templateHash(template, collisionCount);
  const podTemplate = structuredClone(template.template);
  podTemplate.metadata = { ...(podTemplate.metadata ?? {}), labels: { ...(podTemplate.metadata?.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash } };
  const selector = structuredClone(template.selector);
  selector.matchLabels = { ...(selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: owner.namespace,
      labels: { ...ownLabels(owner), [POD_TEMPLATE_HASH_LABEL]: hash },
      annotations: { [EXPERIMENT_NAME_ANNOTATION]: owner.name, [EXPERIMENT_TEMPLATE_ANNOTATION]: template.name },
      ownerReferences: [ownerRef(owner)],
    },
    spec: { replicas, ...(template.minReadySeconds ? { minReadySeconds: template.minReadySeconds } : {}), selector, template: podTemplate },
  } as KubeObject;
}

type ContainerPort = { containerPort?: number; name?: string; protocol?: string };

/** The template's Service (its container ports), or undefined when the pods expose no port. */
export function buildTemplateService(owner: ExperimentOwner, template: ExperimentTemplate, name: string, podTemplateHashValue: string): KubeObject | undefined {
  const containers = (template.template.spec?.containers ?? []) as { ports?: ContainerPort[] }[];
  const ports = containers.flatMap((c) => c.ports ?? []).filter((p) => typeof p.containerPort === 'number');
  if (ports.length === 0) return undefined;
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name,
      namespace: owner.namespace,
      labels: ownLabels(owner),
      annotations: { [EXPERIMENT_NAME_ANNOTATION]: owner.name, [EXPERIMENT_TEMPLATE_ANNOTATION]: template.name },
      ownerReferences: [ownerRef(owner)],
    },
    spec: {
      selector: { ...(template.selector.matchLabels ?? {}), [POD_TEMPLATE_HASH_LABEL]: podTemplateHashValue },
      ports: ports.map((p) => ({ ...(p.name ? { name: p.name } : {}), protocol: p.protocol ?? 'TCP', port: p.containerPort, targetPort: p.containerPort })),
    },
  } as KubeObject;
}

/** An AnalysisRun of the experiment from its composed templates and resolved args. */
export function buildExperimentRun(owner: ExperimentOwner, spec: ExperimentSpec, name: string, composed: ComposedSpec, args: Argument[]): KubeObject {
  const merged = mergeArgs(composed.args, args);
  const dryRun = [...composed.dryRun, ...(spec.dryRun ?? [])];
  const retention = [...composed.measurementRetention, ...(spec.measurementRetention ?? [])];
  const metadata = spec.analysisRunMetadata ?? {};
  return {
    apiVersion: ANALYSIS_API_VERSION,
    kind: ANALYSIS_RUN_KIND,
    metadata: {
      name,
      namespace: owner.namespace,
      labels: { ...(metadata.labels ?? {}), ...ownLabels(owner) },
      ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
      ownerReferences: [ownerRef(owner)],
    },
    spec: {
      metrics: composed.metrics,
      ...(merged.length ? { args: merged } : {}),
      ...(dryRun.length ? { dryRun } : {}),
      ...(retention.length ? { measurementRetention: retention } : {}),
    },
  } as KubeObject;
}
