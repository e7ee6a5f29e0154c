// The Rollout as the controller and the analysis code read it: plain views of spec and status
// (the zod-derived types are structural supersets), the analysis run records kept in status, and
// the Events a plan asks for. Type-only, so every layer above api/ can share them.
import type { KubeObject } from '../kube/client.ts';

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

export interface PlannedEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
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

/** A Rollout object as read from the API server. */
export interface RolloutObject extends KubeObject {
  spec: SpecView & Record<string, unknown>;
  status?: StatusView;
}

/** The fields of a ReplicaSet the controller and the CLI read. */
export interface ReplicaSetObject extends KubeObject {
  spec: {
    replicas?: number;
    minReadySeconds?: number;
    selector?: unknown;
    template?: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec?: { affinity?: unknown } & Record<string, unknown> };
  };
  status?: { replicas?: number; readyReplicas?: number; availableReplicas?: number; observedGeneration?: number };
}
