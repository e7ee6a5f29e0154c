// What the planner sees and what it decides: plain data, no Kubernetes client. The controller
// fills a PlanInput from its caches and carries out the Plan.
import type { SpecIssue } from '../api/issues.ts';
import type { DesiredTraffic, RouterCapabilities } from '../routers/types.ts';
import type { ObservedWorkload } from './workload-ref.ts';

export const REVISION_ANNOTATION = 'rollway.dev/revision';
export const SCALE_DOWN_DEADLINE_ANNOTATION = 'rollway.dev/scale-down-deadline';
export const MANAGED_BY_ANNOTATION = 'rollway.dev/managed-by-rollouts';

export interface StepView {
  setWeight?: number;
  setHeaderRoute?: { name: string; match?: { headerName: string; headerValue: Record<string, string> }[] };
  setMirrorRoute?: { name: string; percentage?: number; match?: { method?: Record<string, string>; path?: Record<string, string>; headers?: Record<string, Record<string, string>> }[] };
  pause?: { duration?: number | string };
  setCanaryScale?: { weight?: number; replicas?: number; matchTrafficWeight?: boolean };
  analysis?: RolloutAnalysisView;
  [other: string]: unknown;
}

/** The part of a Rollout spec the planner reads (the zod-derived type is a structural superset). */
export interface SpecView {
  replicas?: number;
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] };
  template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: unknown };
  minReadySeconds?: number;
  revisionHistoryLimit?: number;
  restartAt?: string;
  rollbackWindow?: { revisions?: number };
  workloadRef?: { apiVersion?: string; kind?: string; name?: string; scaleDown?: string };
  paused?: boolean;
  progressDeadlineSeconds?: number;
  progressDeadlineAbort?: boolean;
  analysis?: { successfulRunHistoryLimit?: number; unsuccessfulRunHistoryLimit?: number };
  strategy?: {
    canary?: {
      canaryService?: string;
      stableService?: string;
      steps?: StepView[];
      maxSurge?: number | string;
      maxUnavailable?: number | string;
      scaleDownDelaySeconds?: number;
      abortScaleDownDelaySeconds?: number;
      dynamicStableScale?: boolean;
      minPodsPerReplicaSet?: number;
      scaleDownDelayRevisionLimit?: number;
      canaryMetadata?: PodMetadata;
      stableMetadata?: PodMetadata;
      antiAffinity?: AntiAffinityView;
      replicaProgressThreshold?: { type: string; value: number };
      trafficRouting?: unknown;
      analysis?: RolloutAnalysisView & { startingStep?: number };
    };
    blueGreen?: BlueGreenView;
  };
}

/** strategy.blueGreen as the planner reads it (controller/bluegreen.ts). */
export interface BlueGreenView {
  activeService: string;
  previewService?: string;
  autoPromotionEnabled?: boolean;
  autoPromotionSeconds?: number;
  scaleDownDelaySeconds?: number;
  scaleDownDelayRevisionLimit?: number;
  abortScaleDownDelaySeconds?: number;
  previewReplicaCount?: number;
  prePromotionAnalysis?: RolloutAnalysisView;
  postPromotionAnalysis?: RolloutAnalysisView;
  previewMetadata?: PodMetadata;
  activeMetadata?: PodMetadata;
  maxUnavailable?: number | string;
  antiAffinity?: AntiAffinityView;
}

/** Labels and annotations of a pod template (canaryMetadata, stableMetadata). */
export interface PodMetadata {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface AntiAffinityView {
  preferredDuringSchedulingIgnoredDuringExecution?: { weight: number };
  requiredDuringSchedulingIgnoredDuringExecution?: Record<string, never>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastUpdateTime: string;
  lastTransitionTime: string;
}

export interface WeightDestination {
  weight: number;
  podTemplateHash?: string;
  serviceName?: string;
}

export interface StatusView {
  observedGeneration?: string;
  phase?: string;
  message?: string;
  currentPodHash?: string;
  currentStepHash?: string;
  currentStepIndex?: number;
  stableRS?: string;
  replicas?: number;
  updatedReplicas?: number;
  readyReplicas?: number;
  availableReplicas?: number;
  HPAReplicas?: number;
  selector?: string;
  pauseConditions?: { reason: string; startTime: string }[];
  controllerPause?: boolean;
  abort?: boolean;
  abortedAt?: string;
  promoteFull?: boolean;
  restartedAt?: string;
  collisionCount?: number;
  conditions?: Condition[];
  canary?: {
    weights?: { canary: WeightDestination; stable: WeightDestination; verified?: boolean };
    currentStepAnalysisRunStatus?: AnalysisRunRecord;
    currentBackgroundAnalysisRunStatus?: AnalysisRunRecord;
  };
  blueGreen?: {
    activeSelector?: string;
    previewSelector?: string;
    scaleUpPreviewCheckPoint?: boolean;
    prePromotionAnalysisRunStatus?: AnalysisRunRecord;
    postPromotionAnalysisRunStatus?: AnalysisRunRecord;
  };
  [other: string]: unknown;
}

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
  /** the Deployment spec.workloadRef names (absent: none, or not found) */
  workload?: ObservedWorkload | undefined;
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

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
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
  /** AnalysisRuns to create, terminate and delete (absent: nothing to do) */
  analysis?: AnalysisActions | undefined;
}

/** An analysis block of a step or of strategy.canary.analysis, as the Rollout spec has it. */
export interface RolloutAnalysisView {
  templates?: { templateName?: string; clusterScope?: boolean }[];
  args?: { name: string; value?: string; valueFrom?: { podTemplateHashValue?: string; fieldRef?: { fieldPath: string } } }[];
  dryRun?: { metricName: string }[];
  measurementRetention?: { metricName: string; limit: number }[];
  analysisRunMetadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

/** status.canary.current{Step,Background}AnalysisRunStatus */
export interface AnalysisRunRecord {
  name: string;
  status: string;
  message?: string;
}

export interface ObservedAnalysisRun {
  name: string;
  /** rollouts-pod-template-hash label: the revision it analyses */
  podHash: string;
  type: 'step' | 'background' | string;
  stepIndex?: number | undefined;
  /** status.phase; '' before the run reconciler has seen it */
  phase: string;
  message?: string | undefined;
  /** spec.terminate */
  terminated: boolean;
  createdAt: string;
}

export interface AnalysisRunCreate {
  name: string;
  type: 'step' | 'background' | 'prePromotion' | 'postPromotion';
  podHash: string;
  stepIndex?: number;
  analysis: RolloutAnalysisView;
}

export interface AnalysisActions {
  create: AnalysisRunCreate[];
  /** runs to stop (spec.terminate: true) */
  terminate: string[];
  /** completed runs beyond the history limits */
  delete: string[];
}
