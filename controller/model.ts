// What the planner sees and what it decides: plain data, no Kubernetes client. The controller
// fills a PlanInput from its caches and carries out the Plan.
import type { SpecIssue } from '../api/issues.ts';
import type { DesiredTraffic, RouterCapabilities } from '../routers/types.ts';
import type { ObservedWorkload } from './workload-ref.ts';
import type { ExperimentActions, ObservedExperiment } from './experiment-step.ts';
// The views of spec and status live in api/ (analysis/ reads them too); re-exported for the planner.
import type { AnalysisActions, ObservedAnalysisRun, PlannedEvent, PodMetadata, SpecView, StatusView } from '../api/views.ts';
export type { StepView, SpecView, BlueGreenView, PodMetadata, AntiAffinityView, Condition, WeightDestination, StatusView, PlannedEvent, RolloutAnalysisView, AnalysisRunRecord, ObservedAnalysisRun, AnalysisRunCreate, AnalysisActions } from '../api/views.ts';

export { MANAGED_BY_ANNOTATION, REVISION_ANNOTATION, SCALE_DOWN_DEADLINE_ANNOTATION } from '../api/labels.ts';

export interface RolloutView {
  name: string;
  namespace: string;
  uid: string;
  generation: number;
  spec: SpecView;
  status?: StatusView | undefined;
}

export interface ObservedReplicaSet {
  name: string;
  hash: string;
  revision: number;
  /** spec.replicas */
  replicas: number;
  /** status.replicas / readyReplicas / availableReplicas */
  current: number;
  ready: number;
  available: number;
  scaleDownDeadline?: string | undefined;
  /** status.observedGeneration has caught up with metadata.generation */
  settled: boolean;
  /** metadata.creationTimestamp (orders revisions for rollbackWindow; absent: by revision) */
  createdAt?: string | undefined;
  /** labels and annotations of its pod template */
  podMetadata?: PodMetadata | undefined;
  /** spec.template.spec.affinity */
  affinity?: unknown;
  /** the ephemeral metadata we put on its template (EPHEMERAL_METADATA_ANNOTATION) */
  ephemeralRecord?: string | undefined;
  /** templateKey of its pod template (controller/adopt.ts): finds an adopted ReplicaSet */
  templateKey?: string | undefined;
}

export interface ObservedPod {
  name: string;
  /** pod-template hash label: which ReplicaSet it belongs to */
  hash: string;
  createdAt: string;
  ready: boolean;
  deleting: boolean;
  labels?: Record<string, string> | undefined;
  annotations?: Record<string, string> | undefined;
}

export interface ObservedService {
  name: string;
  selector: Record<string, string>;
}

export interface PlanInput {
  rollout: RolloutView;
  replicaSets: ObservedReplicaSet[];
  /** the pods of those ReplicaSets (for spec.restartAt) */
  pods: ObservedPod[];
  /** the canary/stable Services by name; undefined when not found */
  services: Record<string, ObservedService | undefined>;
  specIssues: SpecIssue[];
  notImplemented: SpecIssue[];
  router: { name: string; capabilities: RouterCapabilities };
  /** whether the router confirmed the traffic of this plan; the controller replans with false */
  trafficVerified: boolean;
  now: number;
  /** the AnalysisRuns the Rollout owns (absent: none) */
  analysisRuns?: ObservedAnalysisRun[];
  /** the Experiments the Rollout owns (absent: none) */
  experiments?: ObservedExperiment[];
  /** the Deployment spec.workloadRef names (absent: none, or not found) */
  workload?: ObservedWorkload | undefined;
  /** podTemplateHash(spec.template, status.collisionCount) when the caller kept it (absent: computed) */
  templateHash?: string | undefined;
}

export interface ReplicaSetCreate {
  name: string;
  hash: string;
  revision: number;
  replicas: number;
  /** labels and annotations of the pod template, the rollout template's with ephemeral metadata applied */
  podMetadata?: PodMetadata;
  /** spec.template.spec.affinity when it differs from the rollout template's (anti-affinity injected) */
  affinity?: unknown;
  /** annotations of the ReplicaSet itself (the ephemeral-metadata record) */
  annotations?: Record<string, string>;
}

/** A change of a ReplicaSet's pod template that leaves its running pods in place. */
export interface ReplicaSetTemplatePatch {
  name: string;
  /** JSON merge patch of the ReplicaSet (template metadata, affinity, record annotation) */
  patch: Record<string, unknown>;
}

/** Labels and annotations to set (string) or remove (null) on a running pod. */
export interface PodMetadataPatch {
  name: string;
  labels: Record<string, string | null>;
  annotations: Record<string, string | null>;
}

export interface ReplicaSetScale {
  name: string;
  from: number;
  to: number;
  /** annotations to set (string) or remove (null) in the same write */
  annotations?: Record<string, string | null>;
}

export interface ServiceSelectorChange {
  service: string;
  from: string | undefined;
  to: string;
}

export interface Plan {
  create?: ReplicaSetCreate | undefined;
  scale: ReplicaSetScale[];
  deleteReplicaSets: string[];
  /** pods to delete now for spec.restartAt, oldest first */
  deletePods: string[];
  /** pod-template changes of existing ReplicaSets (ephemeral metadata, anti-affinity) */
  templatePatches?: ReplicaSetTemplatePatch[] | undefined;
  /** ephemeral metadata on running pods, applied in place (no restart) */
  podPatches?: PodMetadataPatch[] | undefined;
  /** spec.workloadRef.scaleDown: the Deployment's new spec.replicas */
  workloadScale?: { name: string; from: number; to: number } | undefined;
  services: ServiceSelectorChange[];
  traffic?: DesiredTraffic | undefined;
  status: StatusView;
  events: PlannedEvent[];
  /** reconcile again after this long even if nothing changes (pause end, scale-down deadline) */
  requeueAfterMs?: number | undefined;
  /** the deadline (epoch ms) of the timed pause step this plan ends: how late it ends goes to /metrics */
  timedPauseDeadline?: number | undefined;
  /** this plan begins a timed pause: it counts from when the watch shows the weight written for it */
  timedPauseBegins?: boolean | undefined;
  /** AnalysisRuns to create, terminate and delete (absent: nothing to do) */
  analysis?: AnalysisActions | undefined;
  /** Experiments of experiment steps to create, terminate and delete (absent: nothing to do) */
  experiments?: ExperimentActions | undefined;
}
