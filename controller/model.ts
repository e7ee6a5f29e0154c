// What the planner sees and what it decides: plain data, no Kubernetes client. The controller
// fills a PlanInput from its caches and carries out the Plan.
import type { SpecIssue } from '../api/issues.ts';
import type { DesiredTraffic, RouterCapabilities } from '../routers/types.ts';

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
      trafficRouting?: unknown;
      analysis?: RolloutAnalysisView & { startingStep?: number };
    };
    blueGreen?: unknown;
  };
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
}

export interface ObservedPod {
  name: string;
  /** pod-template hash label: which ReplicaSet it belongs to */
  hash: string;
  createdAt: string;
  ready: boolean;
  deleting: boolean;
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
}

export interface ReplicaSetCreate {
  name: string;
  hash: string;
  revision: number;
  replicas: number;
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
  type: 'step' | 'background';
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
