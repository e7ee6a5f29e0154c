// Which module acts on each field of the Rollout spec. An Argo manifest runs here after changing
// only its apiVersion, so every field the schema accepts must either do what it does in Argo or
// be reported as not implemented (NOT_YET_IMPLEMENTED in api/rollout.ts, shown in the
// NotImplemented condition). controller/implemented-fields.test.ts walks every field of the schema
// and fails for one that is in neither place, and for an entry here whose module does not mention
// the field (the entry's last name, and the name of each field it covers).
//
// A key covers the field it names and every field below it. Keep keys narrow: a broad one (say
// spec.strategy.canary) would let a new field pass unnoticed.

export const FIELD_IMPLEMENTATIONS: Readonly<Record<string, readonly string[]>> = {
  'spec.replicas': ['controller/planner.ts'],
  'spec.selector': ['controller/planner.ts', 'controller/plan-common.ts', 'controller/controller.ts'],
  'spec.template': ['controller/controller.ts', 'api/hash.ts'],
  'spec.minReadySeconds': ['controller/controller.ts'],
  'spec.revisionHistoryLimit': ['controller/planner.ts'],
  'spec.paused': ['controller/planner.ts'],
  'spec.progressDeadlineSeconds': ['controller/plan-common.ts'],
  'spec.progressDeadlineAbort': ['controller/plan-common.ts'],
  'spec.restartAt': ['controller/plan-common.ts'],
  'spec.rollbackWindow': ['controller/planner.ts', 'controller/rollback-window.ts'],
  'spec.analysis': ['controller/planner.ts', 'analysis/rollout-plan.ts'],
  // apiVersion and kind admit only apps/v1 Deployment (api/workload-ref.ts), which the controller reads.
  'spec.workloadRef': ['controller/workload-ref.ts', 'controller/controller.ts', 'api/workload-ref.ts'],

  'spec.strategy.canary.canaryService': ['controller/planner.ts'],
  'spec.strategy.canary.stableService': ['controller/planner.ts'],
  'spec.strategy.canary.maxSurge': ['controller/planner.ts'],
  'spec.strategy.canary.maxUnavailable': ['controller/planner.ts'],
  'spec.strategy.canary.scaleDownDelaySeconds': ['controller/planner.ts'],
  'spec.strategy.canary.abortScaleDownDelaySeconds': ['controller/planner.ts'],
  'spec.strategy.canary.scaleDownDelayRevisionLimit': ['controller/planner.ts', 'controller/scale-down-limit.ts'],
  'spec.strategy.canary.dynamicStableScale': ['controller/planner.ts', 'controller/replicas.ts'],
  'spec.strategy.canary.minPodsPerReplicaSet': ['controller/planner.ts', 'controller/replicas.ts'],
  'spec.strategy.canary.canaryMetadata': ['controller/pod-metadata.ts'],
  'spec.strategy.canary.stableMetadata': ['controller/pod-metadata.ts'],
  'spec.strategy.canary.antiAffinity': ['controller/pod-metadata.ts'],
  'spec.strategy.canary.replicaProgressThreshold': ['controller/planner.ts', 'controller/progress-threshold.ts'],
  'spec.strategy.canary.analysis': ['controller/planner.ts', 'analysis/rollout-plan.ts', 'analysis/rollout-wiring.ts', 'analysis/run-spec.ts'],

  'spec.strategy.canary.steps[].setWeight': ['controller/planner.ts'],
  'spec.strategy.canary.steps[].pause': ['controller/planner.ts'],
  'spec.strategy.canary.steps[].setCanaryScale': ['controller/planner.ts'],
  'spec.strategy.canary.steps[].analysis': ['controller/planner.ts', 'analysis/rollout-plan.ts', 'analysis/rollout-wiring.ts', 'analysis/run-spec.ts'],
  'spec.strategy.canary.steps[].experiment': ['controller/experiment-step.ts', 'controller/experiment-manifest.ts', 'api/experiment-step.ts', 'analysis/run-spec.ts'],
  'spec.strategy.canary.steps[].setHeaderRoute': ['controller/planner.ts', 'routers/types.ts'],
  'spec.strategy.canary.steps[].setMirrorRoute': ['controller/planner.ts', 'routers/types.ts'],

  'spec.strategy.canary.trafficRouting.istio': ['routers/istio/index.ts', 'routers/istio/router.ts', 'routers/registry.ts'],
  'spec.strategy.canary.trafficRouting.nginx': ['routers/nginx/index.ts', 'routers/nginx/router.ts', 'routers/registry.ts'],
  'spec.strategy.canary.trafficRouting.smi': ['routers/smi/index.ts', 'routers/smi/router.ts', 'routers/registry.ts'],
  'spec.strategy.canary.trafficRouting.gatewayAPI': ['routers/gateway-api/index.ts', 'routers/gateway-api/router.ts', 'routers/registry.ts'],
  'spec.strategy.canary.trafficRouting.traefik': ['routers/traefik/index.ts', 'routers/traefik/router.ts', 'routers/registry.ts'],
  'spec.strategy.canary.trafficRouting.plugins': ['routers/registry.ts'],
  'spec.strategy.canary.trafficRouting.managedRoutes': ['routers/index.ts'],
  'spec.strategy.canary.trafficRouting.maxTrafficWeight': ['controller/planner.ts'],

  'spec.strategy.blueGreen.activeService': ['controller/bluegreen.ts', 'controller/controller.ts'],
  'spec.strategy.blueGreen.previewService': ['controller/bluegreen.ts', 'controller/controller.ts'],
  'spec.strategy.blueGreen.autoPromotionEnabled': ['controller/bluegreen.ts'],
  'spec.strategy.blueGreen.autoPromotionSeconds': ['controller/bluegreen.ts'],
  'spec.strategy.blueGreen.scaleDownDelaySeconds': ['controller/bluegreen.ts'],
  'spec.strategy.blueGreen.scaleDownDelayRevisionLimit': ['controller/bluegreen.ts', 'controller/scale-down-limit.ts'],
  'spec.strategy.blueGreen.abortScaleDownDelaySeconds': ['controller/bluegreen.ts'],
  'spec.strategy.blueGreen.previewReplicaCount': ['controller/bluegreen.ts'],
  'spec.strategy.blueGreen.prePromotionAnalysis': ['controller/bluegreen.ts', 'controller/bluegreen-analysis.ts', 'analysis/rollout-plan.ts', 'analysis/rollout-wiring.ts', 'analysis/run-spec.ts'],
  'spec.strategy.blueGreen.postPromotionAnalysis': ['controller/bluegreen.ts', 'controller/bluegreen-analysis.ts', 'analysis/rollout-plan.ts', 'analysis/rollout-wiring.ts', 'analysis/run-spec.ts'],
  'spec.strategy.blueGreen.previewMetadata': ['controller/bluegreen.ts', 'controller/pod-metadata.ts'],
  'spec.strategy.blueGreen.activeMetadata': ['controller/bluegreen.ts', 'controller/pod-metadata.ts'],
  'spec.strategy.blueGreen.maxUnavailable': ['controller/bluegreen.ts'],
  'spec.strategy.blueGreen.antiAffinity': ['controller/bluegreen.ts', 'controller/pod-metadata.ts'],
};

/**
 * Subtrees passed on whole to Kubernetes (the pod template goes into each ReplicaSet as written):
 * the fields below them need no mention in the module, only the subtree's own name.
 */
export const COPIED_AS_IS: readonly string[] = ['spec.template'];
