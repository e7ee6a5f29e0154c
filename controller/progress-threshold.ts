// strategy.canary.replicaProgressThreshold, as in Argo Rollouts: a step that sets the canary's size
// (setWeight, setCanaryScale) counts as reached once this many of the step's canary pods are
// available, instead of all of them, so a canary whose pods come up slowly or churn (an HPA,
// node consolidation) still moves on. Argo applies it to the steps only: the final promotion still
// waits for every pod of the new revision, and so does this controller.

export interface ReplicaProgressThreshold {
  /** "Percent" of the step's desired canary pods, or "Pod" for a number of pods */
  type: string;
  value: number;
}


/** How many available canary pods a step needs when it wants `desired` of them. */
export function progressThresholdPods(desired: number, threshold: ReplicaProgressThreshold | undefined): number {
  if (threshold === undefined || desired <= 0 || threshold.value <= 0) return desired;
  // A threshold above what the step wants falls back to all of them, as Argo documents.
  if (threshold.type === 'Pod') return Math.min(desired, threshold.value);
  if (threshold.type === 'Percent') return Math.min(desired, Math.ceil((desired * threshold.value) / 100 - 1e-9));
  return desired;
}
