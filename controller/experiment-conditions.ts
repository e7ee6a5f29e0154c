// An Experiment's status.conditions, with Argo Rollouts' types, reasons and messages, so tools that
// read Argo's (Argo CD health checks, dashboards) read ours. Pure: planExperiment calls it with the
// status it planned; the reconciler adds InvalidSpec for a spec that does not validate.
//
//   Progressing False ExperimentCompleted      the phase is final and every template is scaled to 0
//   Progressing True  ReplicaSetUpdated        a template's replica counts changed since last time
//   Progressing True  NewReplicaSetAvailable   all templates available and the duration still runs
//   InvalidSpec True  InvalidSpec              the spec does not validate (removed once it does)
import { isCompleted } from '../api/analysis.ts';
import type { ExperimentStatus, TemplateStatus } from '../api/experiment.ts';

export type ExperimentCondition = NonNullable<ExperimentStatus['conditions']>[number];

export const PROGRESSING = 'Progressing';
export const INVALID_SPEC = 'InvalidSpec';
export const REASON_COMPLETED = 'ExperimentCompleted';
export const REASON_UPDATED = 'ReplicaSetUpdated';
export const REASON_AVAILABLE = 'NewReplicaSetAvailable';

const COUNTS = ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas'] as const;

/** Whether a template gained pods or lost them (Argo's "progress"), or a template appeared. */
function madeProgress(previous: readonly TemplateStatus[], next: readonly TemplateStatus[]): boolean {
  if (previous.length < next.length) return true;
  return previous.some((old) => {
    const now = next.find((t) => t.name === old.name);
    return now !== undefined && COUNTS.some((k) => (old[k] ?? 0) !== (now[k] ?? 0));
  });
}

const scaledDown = (templates: readonly TemplateStatus[]): boolean => templates.every((t) => COUNTS.every((k) => (t[k] ?? 0) === 0));

/**
 * Sets a condition unless one of its type already has that status and reason (then it is kept as
 * it was); lastTransitionTime only moves when the status changes.
 */
export function setCondition(conditions: readonly ExperimentCondition[], next: ExperimentCondition): ExperimentCondition[] {
  const current = conditions.find((c) => c.type === next.type);
  if (current && current.status === next.status && current.reason === next.reason) return [...conditions];
  const transition = current && current.status === next.status ? current.lastTransitionTime : next.lastTransitionTime;
  return [...conditions.filter((c) => c.type !== next.type), { ...next, lastTransitionTime: transition }];
}

const condition = (type: string, status: 'True' | 'False', reason: string, message: string, iso: string): ExperimentCondition => ({
  type,
  status,
  reason,
  message,
  lastUpdateTime: iso,
  lastTransitionTime: iso,
});

/** The conditions of a planned status (`next`), from the status as it was (`previous`). */
export function experimentConditions(name: string, previous: ExperimentStatus, next: ExperimentStatus, passedDuration: boolean, iso: string): ExperimentCondition[] {
  const conditions = (previous.conditions ?? []).filter((c) => c.type !== INVALID_SPEC); // the plan only runs on a valid spec
  const templates = next.templateStatuses ?? [];
  const quoted = JSON.stringify(name);
  if (isCompleted(next.phase) && scaledDown(templates)) {
    return setCondition(conditions, condition(PROGRESSING, 'False', REASON_COMPLETED, `Experiment ${quoted} has successfully ran and completed.`, iso));
  }
  if (madeProgress(previous.templateStatuses ?? [], templates)) {
    // Every bit of progress refreshes lastUpdateTime (the progress deadline's reference in Argo).
    const current = conditions.find((c) => c.type === PROGRESSING);
    const updated = condition(PROGRESSING, 'True', REASON_UPDATED, `Experiment ${quoted} is progressing.`, iso);
    if (current?.status === 'True') updated.lastTransitionTime = current.lastTransitionTime;
    return [...conditions.filter((c) => c.type !== PROGRESSING), updated];
  }
  if (next.availableAt !== undefined && !passedDuration) {
    return setCondition(conditions, condition(PROGRESSING, 'True', REASON_AVAILABLE, `Experiment ${quoted} is running.`, iso));
  }
  return conditions;
}

/** The InvalidSpec condition for a spec that does not validate (the message kept current). */
export function invalidSpecConditions(previous: ExperimentStatus, message: string, iso: string): ExperimentCondition[] {
  const conditions = previous.conditions ?? [];
  const current = conditions.find((c) => c.type === INVALID_SPEC);
  if (current?.message === message) return [...conditions];
  return [...conditions.filter((c) => c.type !== INVALID_SPEC), condition(INVALID_SPEC, 'True', INVALID_SPEC, message, iso)];
}
