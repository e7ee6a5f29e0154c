// When a pause ends, a watcher (a person, a pipeline, the bench) should see it at its deadline,
// not after the ReplicaSet scaling the same reconcile also does. The status then goes out first,
// but only when nothing it records is still to be made (a new ReplicaSet, an AnalysisRun or an
// Experiment it would name) and no traffic is to move (the status reports weights as written, and
// a blue-green switch as done: Healthy on the new stack must not go out before the active Service
// selects it).
import type { StatusView } from '../api/views.ts';
import type { Plan } from './model.ts';

export interface StatusFirstFacts {
  /** the status as stored */
  prev: StatusView | undefined;
  /** the status planned */
  next: StatusView;
  /** the plan creates objects the status names */
  createsObjects: boolean;
  /** a router is to write a new weight in this reconcile */
  trafficMoves: boolean;
}

/** True when the planned status ends a pause (a timed one, a promote, the controller's own). */
export function endsPause(prev: StatusView | undefined, next: StatusView): boolean {
  const before = prev?.pauseConditions?.length ?? 0;
  const after = next.pauseConditions?.length ?? 0;
  return after < before || (prev?.controllerPause === true && next.controllerPause !== true);
}

/** True when the planned status ends a pause and may be written before the rest of the plan. */
export function writeStatusFirst(facts: StatusFirstFacts): boolean {
  return endsPause(facts.prev, facts.next) && !facts.createsObjects && !facts.trafficMoves;
}

/** writeStatusFirst with the facts read from the plan: a Service selector switch moves traffic too. */
export function planStatusFirst(prev: StatusView | undefined, plan: Plan, weightMoves: boolean): boolean {
  return writeStatusFirst({
    prev,
    next: plan.status,
    createsObjects: plan.create !== undefined || (plan.analysis?.create.length ?? 0) > 0 || plan.experiments !== undefined,
    trafficMoves: weightMoves || plan.services.length > 0,
  });
}
