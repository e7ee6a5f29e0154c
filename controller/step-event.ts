// One Event per reconcile instead of one per thing it did: a pure weight step used to write five
// (resumed, step completed, weight updated, step completed, paused). The planners still say each
// thing on its own (logs keep them); what reaches the API is one Normal Event whose message tells
// the whole step, plus every Warning on its own (an abort or a bad spec must stand out).
import type { EventToRecord } from '../kube/events.ts';

/** The reason a combined Event carries: the most telling of what the reconcile did, first match wins. */
const HEADLINE_REASONS = [
  'RolloutCompleted',
  'RolloutRetried',
  'RolloutUpdated',
  'NewReplicaSetCreated',
  'SkipSteps',
  'RolloutStepCompleted',
  'RolloutResumed',
  'RolloutPaused',
  'AnalysisRunCreated',
  'TrafficWeightUpdated',
  'SwitchService',
];

/** Kept within what the events API accepts for a note (1 kB). */
const MAX_MESSAGE = 1024;

/** The Events to write for one reconcile's planned Events: Warnings as they are, the rest as one. */
export function stepEvents(planned: readonly EventToRecord[]): EventToRecord[] {
  const warnings = planned.filter((e) => e.type === 'Warning');
  const normal = planned.filter((e) => e.type !== 'Warning');
  if (normal.length <= 1) return [...warnings, ...normal];
  const headline = HEADLINE_REASONS.find((reason) => normal.some((e) => e.reason === reason)) ?? normal[0]!.reason;
  // Messages in the order things happened; an exact repeat (two ReplicaSets scaled alike) once.
  const messages = [...new Set(normal.map((e) => e.message))];
  const message = messages.join('; ');
  return [...warnings, { type: 'Normal', reason: headline, message: message.length > MAX_MESSAGE ? `${message.slice(0, MAX_MESSAGE - 1)}…` : message }];
}
