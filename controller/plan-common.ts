// Status logic both strategies share (planner.ts for canary, bluegreen.ts for blue-green): phase
// and conditions, spec.restartAt, the selector string. Pure, like the planners that call it.
import { analysisAbortMessage } from '../analysis/rollout-plan.ts';
import type { Condition, ObservedReplicaSet, Plan, PlanInput, PlannedEvent, StatusView } from './model.ts';
import type { PlannedInput } from './plan-spec.ts';

const iso = (ms: number): string => new Date(ms).toISOString();

/** What derivePhase needs beyond status: the facts of this plan, from either strategy. */
export interface PhaseFacts {
  abort: boolean;
  inCanary: boolean;
  currentHash: string;
  revision: number;
  replicas: number;
  newRS: ObservedReplicaSet | undefined;
  oldPodsLeft: number;
  minAvailable: number;
  events: PlannedEvent[];
  requeueAt: (ms: number) => void;
  /** stopped at an analysis step whose run is measuring: no progress deadline meanwhile */
  waitingOnAnalysis?: boolean;
}

export function derivePhase(input: PlannedInput, status: StatusView, prev: StatusView, facts: PhaseFacts): void {
  const { now } = input;
  const spec = input.rollout.spec;
  const paused = spec.paused === true || (status.pauseConditions ?? []).length > 0;
  const newRS = facts.newRS;
  const updatedAvailable = newRS !== undefined && newRS.available >= facts.replicas && newRS.replicas === facts.replicas && newRS.settled;
  const complete = !facts.inCanary && updatedAvailable && facts.oldPodsLeft === 0;
  const moved = progressMoved(prev, status);
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  const lastProgress = moved || !progressing ? now : Date.parse(progressing.lastUpdateTime);
  const deadlineMs = spec.progressDeadlineSeconds * 1000;
  const deadlineExceeded = !facts.abort && !paused && !complete && !facts.waitingOnAnalysis && now - lastProgress > deadlineMs;
  const stalled = deadlineExceeded || (progressing?.reason === 'ProgressDeadlineExceeded' && !moved && !complete);
  // Once, as the deadline passes (an aborted Rollout is not stalled: it is Degraded for its abort).
  if (stalled && !facts.abort && progressing?.reason !== 'ProgressDeadlineExceeded') {
    facts.events.push({ type: 'Warning', reason: 'RolloutProgressDeadlineExceeded', message: `Rollout has not progressed for ${spec.progressDeadlineSeconds}s` });
    if (spec.progressDeadlineAbort && facts.inCanary) {
      status.abort = true; // the next reconcile carries out the abort
      facts.requeueAt(now);
    }
  }
  const { phase, message, progressReason } = choosePhase(status, facts, { stalled, paused, complete, updatedAvailable, manuallyPaused: spec.paused === true });
  if (phase === 'Progressing') facts.requeueAt(lastProgress + deadlineMs + 1);
  const progressFalse = progressReason === 'RolloutAborted' || progressReason === 'ProgressDeadlineExceeded';
  setCondition(status, now, 'Progressing', { status: progressFalse ? 'False' : 'True', reason: progressReason, message: progressMessage(progressReason, facts) }, moved ? now : lastProgress);
  const available = (status.availableReplicas ?? 0) >= facts.minAvailable;
  setCondition(status, now, 'Available', { status: available ? 'True' : 'False', reason: available ? 'AvailableReason' : 'MinimumReplicasUnavailable', message: available ? 'Rollout has minimum availability' : 'Rollout does not have minimum availability' });
  setCondition(status, now, 'Paused', paused ? { status: 'True', reason: 'RolloutPaused', message: 'Rollout is paused' } : { status: 'False', reason: 'RolloutResumed', message: 'Rollout is resumed' });
  setCondition(status, now, 'Healthy', phase === 'Healthy' ? { status: 'True', reason: 'RolloutHealthy', message: 'Rollout is healthy' } : { status: 'False', reason: 'RolloutHealthy', message: 'Rollout is not healthy' });
  setCondition(
    status,
    now,
    'Completed',
    !facts.inCanary && complete ? { status: 'True', reason: 'RolloutCompleted', message: 'Rollout completed update to its stable revision' } : { status: 'False', reason: 'RolloutCompleted', message: 'Rollout not completed' },
  );
  status.phase = phase;
  status.message = message;
}

/** Progress is any change users would call movement; the deadline counts from the last one. */
function progressMoved(prev: StatusView, status: StatusView): boolean {
  return (
    prev.currentPodHash !== status.currentPodHash ||
    prev.currentStepIndex !== status.currentStepIndex ||
    prev.stableRS !== status.stableRS ||
    prev.updatedReplicas !== status.updatedReplicas ||
    prev.availableReplicas !== status.availableReplicas ||
    prev.readyReplicas !== status.readyReplicas ||
    (prev.pauseConditions ?? []).length !== (status.pauseConditions ?? []).length ||
    prev.abort !== status.abort
  );
}

interface PhaseState {
  /** past the progress deadline, or still marked so with no movement since */
  stalled: boolean;
  paused: boolean;
  complete: boolean;
  updatedAvailable: boolean;
  manuallyPaused: boolean;
}

/** The phase, its message and the Progressing condition's reason, in Argo's order: aborted, stalled, paused, progressing, healthy. */
function choosePhase(status: StatusView, facts: PhaseFacts, state: PhaseState): { phase: string; message: string; progressReason: string } {
  if (facts.abort) {
    return { phase: 'Degraded', message: `RolloutAborted: Rollout aborted update to revision ${facts.revision}${analysisAbortMessage(status)}`, progressReason: 'RolloutAborted' };
  }
  if (state.stalled) {
    return { phase: 'Degraded', message: `ProgressDeadlineExceeded: ReplicaSet of revision ${facts.revision} has timed out progressing`, progressReason: 'ProgressDeadlineExceeded' };
  }
  if (state.paused) return { phase: 'Paused', message: state.manuallyPaused ? 'manually paused' : (status.pauseConditions?.[0]?.reason ?? 'paused'), progressReason: 'RolloutPaused' };
  if (!state.complete) {
    const message = facts.inCanary ? 'more replicas need to be updated' : !state.updatedAvailable ? 'updated replicas are still becoming available' : 'old replicas are pending termination';
    return { phase: 'Progressing', message, progressReason: facts.newRS === undefined ? 'NewReplicaSetCreated' : 'ReplicaSetUpdated' };
  }
  return { phase: 'Healthy', message: '', progressReason: 'NewReplicaSetAvailable' };
}

function progressMessage(reason: string, facts: PhaseFacts): string {
  switch (reason) {
    case 'NewReplicaSetAvailable':
      return `ReplicaSet of revision ${facts.revision} is available`;
    case 'RolloutAborted':
      return `Rollout aborted update to revision ${facts.revision}`;
    case 'RolloutPaused':
      return 'Rollout is paused';
    case 'ProgressDeadlineExceeded':
      return `ReplicaSet of revision ${facts.revision} has timed out progressing`;
    default:
      return `ReplicaSet of revision ${facts.revision} is progressing`;
  }
}

/**
 * spec.restartAt: pods created before it are deleted (their ReplicaSet makes new ones), oldest
 * first, never more unavailable at once than maxUnavailable allows.
 */
export function planRestart(input: PlanInput, plan: Plan, maxUnavailable: number, requeueAt: (ms: number) => void): void {
  const { rollout, now } = input;
  const restartAt = rollout.spec.restartAt;
  const at = restartAt ? Date.parse(restartAt) : NaN;
  if (!restartAt || Number.isNaN(at) || plan.status.restartedAt === restartAt) return;
  if (now < at) {
    requeueAt(at);
    return;
  }
  const stale = input.pods.filter((p) => !p.deleting && Date.parse(p.createdAt) < at).sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.name.localeCompare(b.name));
  if (stale.length === 0) {
    if (input.pods.every((p) => p.ready && !p.deleting)) {
      plan.status.restartedAt = restartAt;
      plan.events.push({ type: 'Normal', reason: 'RolloutRestarted', message: `Rollout restarted all pods created before ${restartAt}` });
    }
    return;
  }
  const unavailable = input.pods.filter((p) => !p.ready || p.deleting).length;
  const desired = sum(input.replicaSets.map((rs) => rs.replicas));
  const missing = Math.max(0, desired - input.pods.filter((p) => !p.deleting).length);
  const budget = Math.max(0, Math.max(1, maxUnavailable) - unavailable - missing);
  plan.deletePods = stale.slice(0, budget).map((p) => p.name);
  for (const name of plan.deletePods) plan.events.push({ type: 'Normal', reason: 'RestartingPod', message: `Restarting pod ${name} (created before ${restartAt})` });
}

/**
 * Sets (or with `desired` undefined, removes) a condition. lastTransitionTime moves only when the
 * status flips; lastUpdateTime when anything changes (or when progressAt says so), so a settled
 * rollout writes nothing.
 */
export function setCondition(
  status: StatusView,
  now: number,
  type: string,
  desired: { status: Condition['status']; reason: string; message: string } | undefined,
  progressAt?: number,
): void {
  const conditions = status.conditions ?? [];
  const index = conditions.findIndex((c) => c.type === type);
  if (!desired) {
    if (index >= 0) status.conditions = conditions.filter((_, i) => i !== index);
    return;
  }
  const existing = index >= 0 ? conditions[index] : undefined;
  const stamp = iso(progressAt ?? now);
  if (existing && existing.status === desired.status && existing.reason === desired.reason && existing.message === desired.message && (progressAt === undefined || existing.lastUpdateTime === stamp)) return;
  const next: Condition = {
    type,
    status: desired.status,
    reason: desired.reason,
    message: desired.message,
    lastUpdateTime: existing && progressAt !== undefined ? stamp : iso(now),
    lastTransitionTime: existing && existing.status === desired.status ? existing.lastTransitionTime : iso(now),
  };
  if (progressAt !== undefined) next.lastUpdateTime = stamp;
  status.conditions = index >= 0 ? conditions.map((c, i) => (i === index ? next : c)) : [...conditions, next];
}

export function selectorString(selector: { matchLabels?: Record<string, string>; matchExpressions?: { key: string; operator: string; values?: string[] }[] } | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.join(',');
}

export function sum(values: number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
