// Labels the controller puts on the objects it makes and that other tools select by: part of the
// wire contract (same keys as Argo Rollouts), so they sit with the resource types.

/** The label every ReplicaSet, selector, pod and AnalysisRun of a revision carries. */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';

/** The controller instance a Rollout belongs to (`--instance-id`); absent: the default controller. */
export const INSTANCE_ID_LABEL = 'rollway.dev/controller-instance-id';

/** The revision number of a ReplicaSet. */
export const REVISION_ANNOTATION = 'rollway.dev/revision';
/** When an old ReplicaSet is scaled down (scaleDownDelaySeconds). */
export const SCALE_DOWN_DEADLINE_ANNOTATION = 'rollway.dev/scale-down-deadline';
/** On a Deployment or ReplicaSet a Rollout took over. */
export const MANAGED_BY_ANNOTATION = 'rollway.dev/managed-by-rollouts';
/** On a ReplicaSet: JSON of the ephemeral metadata injected into its pod template. */
export const EPHEMERAL_METADATA_ANNOTATION = 'rollway.dev/ephemeral-metadata';
/** Held while a Rollout routes traffic, so its deletion first releases the routing objects. */
export const TRAFFIC_ROUTING_FINALIZER = 'rollway.dev/traffic-routing';
/** The routing last applied (JSON of AppliedRouting), to release it once the spec no longer says it. */
export const APPLIED_ROUTING_ANNOTATION = 'rollway.dev/applied-traffic-routing';
