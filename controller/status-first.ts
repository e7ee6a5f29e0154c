// When a pause ends, a watcher (a person, a pipeline, the bench) should see it at its deadline,
// not after the ReplicaSet scaling the same reconcile also does. The status then goes out first,
// but only when nothing it records is still to be made (a new ReplicaSet, an AnalysisRun or an
// Experiment it would name) and no traffic is to move (the status reports weights as written).
import type { StatusView } from '../api/views.ts';

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

/** True when the planned status ends a pause and may be written before the rest of the plan. */
export function writeStatusFirst(facts: StatusFirstFacts): boolean {
  const before = facts.prev?.pauseConditions?.length ?? 0;
  const after = facts.next.pauseConditions?.length ?? 0;
  const pauseEnded = after < before || (facts.prev?.controllerPause === true && facts.next.controllerPause !== true);
  return pauseEnded && !facts.createsObjects && !facts.trafficMoves;
}
