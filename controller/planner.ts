// The planner: from a Rollout, its ReplicaSets and Services as last observed, decide what the
// cluster should look like next and what the status says. Pure and deterministic (time comes in
// as `now`), so every rule of a rollout is a unit test and a restarted controller resumes from
// status alone.
import { formatIssue, type SpecIssue } from '../api/issues.ts';
import { DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS, parseDurationMs } from '../api/rollout.ts';
import { FULL_STABLE, percentOf, ratioFromPercent, type DesiredTraffic, type HeaderRoute, type MirrorRoute, type StringMatch } from '../routers/types.ts';
import { currentPodHash } from './adopt.ts';
import { stepsHash, POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import {
  REVISION_ANNOTATION,
  SCALE_DOWN_DEADLINE_ANNOTATION,
  type ObservedReplicaSet,
  type Plan,
  type PlanInput,
  type PlannedEvent,
  type ReplicaSetCreate,
  type ReplicaSetScale,
  type ServiceSelectorChange,
  type StatusView,
  type StepView,
} from './model.ts';
import { basicCanaryReplicas, dynamicAbortWeight, routedCanaryReplicas, surgeLimits, weightedSplit, type SurgeLimits } from './replicas.ts';
import { planPodTemplates } from './pod-metadata.ts';
import { progressThresholdPods } from './progress-threshold.ts';
import { rollbackWithinWindow } from './rollback-window.ts';
import { limitDelayedScaleDowns } from './scale-down-limit.ts';
import { workloadScaleDown } from './workload-ref.ts';
import { AnalysisPlanner, hasInconclusivePause } from '../analysis/rollout-plan.ts';
import { ExperimentStepPlanner, type ExperimentStepView } from './experiment-step.ts';
import { planBlueGreen } from './bluegreen.ts';
import { planRestart, derivePhase, selectorString, setCondition, sum } from './plan-common.ts';
import { parsePlanSpec, type PlanSpec, type PlannedInput } from './plan-spec.ts';

export const PAUSE_REASON_STEP = 'CanaryPauseStep';

/** A pause duration in ms (the API's own parser: integer seconds, or "30s", "5m", "1h30m"). */
export function durationMs(value: number | string | undefined): number | undefined {
  return value === undefined ? undefined : parseDurationMs(value);
}

/** The last setWeight at or before `index` (0 before any; 100 once past the last step). */
export function effectiveWeight(steps: readonly StepView[], index: number): number {
  if (index >= steps.length) return 100;
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    const w = steps[i]?.setWeight;
    if (typeof w === 'number') return w;
  }
  return 0;
}

/** The setCanaryScale in force at `index`, if any (matchTrafficWeight ends an override). */
export function canaryScaleAt(steps: readonly StepView[], index: number): StepView['setCanaryScale'] | undefined {
  for (let i = Math.min(index, steps.length - 1); i >= 0; i--) {
    const s = steps[i]?.setCanaryScale;
    if (s) return s.matchTrafficWeight ? undefined : s;
  }
  return undefined;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** The plan being built: the status it writes and its Events, which the phases add to in order. */
export interface Draft {
  status: StatusView;
  events: PlannedEvent[];
  /** plan again at `ms` (epoch ms); the earliest request wins */
  requeueAt: (ms: number) => void;
  /** the deadline (epoch ms) of the timed pause this plan ends */
  timedPauseEnded?: number;
  /** this plan begins a timed pause */
  timedPauseBegins?: boolean;
}

type CanarySpec = NonNullable<NonNullable<PlanSpec['strategy']>['canary']>;
/** A spec without a strategy rolls out like a canary without steps (validation asks for one). */
const NO_STEPS = parsePlanSpec({ strategy: { canary: {} } }).strategy?.canary as CanarySpec;

/** Facts every canary phase reads: the input, the previous status, and the first two phases' results. */
interface Ctx {
  input: PlannedInput;
  prev: StatusView;
  canary: CanarySpec;
  draft: Draft;
  rev: Revision;
  targets: Targets;
  /** the experiment step's Experiments (controller/experiment-step.ts) */
  experiments: ExperimentStepPlanner;
}

export function planRollout(input: PlannedInput): Plan {
  const { rollout, now } = input;
  const status: StatusView = structuredClone(rollout.status ?? {});
  status.observedGeneration = String(rollout.generation);
  const plan: Plan = { scale: [], deleteReplicaSets: [], deletePods: [], services: [], status, events: [] };

  const invalid = invalidSpecPlan(input, plan);
  if (invalid) return invalid;
  setCondition(status, now, 'InvalidSpec', undefined);
  setCondition(status, now, 'NotImplemented', notImplementedCondition(input));
  if (rollout.spec.strategy?.blueGreen && !rollout.spec.strategy.canary) return planBlueGreen(input, plan);
  return planCanary(input, plan);
}

function notImplementedCondition(input: PlanInput): Parameters<typeof setCondition>[3] {
  if (input.notImplemented.length === 0) return undefined;
  return { status: 'True', reason: 'FieldsNotImplemented', message: `accepted but not implemented yet, ignored: ${input.notImplemented.map((i) => i.path).join(', ')}` };
}

/**
 * The canary strategy as a sequence of phases, each returning what the later ones need:
 * revision → step position → pod targets → step walk → traffic weight → promotion → analysis →
 * ReplicaSet sizes and scaling → pod templates and history → Services → router traffic → status.
 */
function planCanary(input: PlannedInput, plan: Plan): Plan {
  const prev: StatusView = input.rollout.status ?? {};
  const canary = input.rollout.spec.strategy?.canary ?? NO_STEPS;
  const clock = requeueClock(input.now);
  const draft: Draft = { status: plan.status, events: plan.events, requeueAt: clock.at };
  const rev = resolveRevision(input, prev, draft);
  const experiments = new ExperimentStepPlanner({ rolloutName: input.rollout.name, currentHash: rev.currentHash, revision: rev.revision, experiments: input.experiments ?? [], status: draft.status, events: draft.events, now: input.now });
  const c: Ctx = { input, prev, canary, draft, rev, targets: podTargets(input, prev, canary, rev), experiments };
  const analysis = new AnalysisPlanner({ rolloutName: input.rollout.name, currentHash: rev.currentHash, runs: input.analysisRuns ?? [], status: draft.status, events: draft.events, now: input.now });

  const pos = resolvePosition(c, analysis);
  const walk = walkSteps(c, pos, analysis);
  const weight = canaryTrafficWeight(c, pos, walk);
  const out = promote(c, pos, walk);
  const trafficWeight = out.promotedFrom !== undefined ? 0 : weight;
  plan.analysis = planAnalysis(c, pos, walk, out, analysis);
  plan.experiments = planExperiments(c, pos, walk, out);

  const sizes = replicaSetSizes(c, pos, walk, out, trafficWeight);
  const current = currentReplicaSet(c, sizes);
  if (current.create) plan.create = current.create;
  plan.scale = scaleReplicaSets(c, sizes, out, current.scale);
  applyPodTemplates(c, plan, out);
  plan.deleteReplicaSets = beyondHistory(c, out, plan.scale);
  plan.services = pinServices(c, pos, out, trafficWeight, current.newRS.available);
  const traffic = routerTraffic(c, pos, walk, out, trafficWeight, sizes);
  if (traffic) plan.traffic = traffic;

  finishStatus(c, pos, walk, out, analysis.waiting || experiments.waiting);
  if (pos.abort && plan.status.message?.startsWith('RolloutAborted')) plan.status.message += experiments.abortMessage();
  plan.workloadScale = scaleWorkload(c);
  planRestart(input, plan, c.targets.limits.maxUnavailable, clock.at);
  plan.requeueAfterMs = clock.afterMs();
  if (draft.timedPauseEnded !== undefined) plan.timedPauseDeadline = draft.timedPauseEnded;
  if (draft.timedPauseBegins) plan.timedPauseBegins = true;
  return plan;
}

/** The earliest time any phase asked to plan again, as a delay from `now`. */
function requeueClock(now: number): { at: (ms: number) => void; afterMs: () => number | undefined } {
  let after: number | undefined;
  return {
    at: (ms) => {
      const delay = Math.max(0, ms - now);
      after = after === undefined ? delay : Math.min(after, delay);
    },
    afterMs: () => after,
  };
}

const clearPause = (status: StatusView): void => {
  status.pauseConditions = [];
  status.controllerPause = false;
};

// --- Phase 1: which revision we are rolling to, and from where -----------------------------------

/** The revision being rolled out and the step it resumes from (before abort, retry and promote). */
export interface Revision {
  /** spec steps, setWeight in percent of traffic (maxTrafficWeight applied) */
  steps: StepView[];
  maxTrafficWeight: number | undefined;
  replicas: number;
  /** a traffic router sets the weight (not the pod ratio) */
  routed: boolean;
  currentHash: string;
  stableHash: string;
  byHash: Map<string, ObservedReplicaSet>;
  /** the ReplicaSet of the current template, if it exists yet */
  newRS: ObservedReplicaSet | undefined;
  revision: number;
  templateChanged: boolean;
  stepIndex: number;
}

/** setWeight counts out of trafficRouting.maxTrafficWeight when set: the planner works in percent. */
function percentSteps(steps: readonly StepView[], maxTrafficWeight: number | undefined): StepView[] {
  if (!maxTrafficWeight || maxTrafficWeight === 100) return [...steps];
  return steps.map((s) => (typeof s.setWeight === 'number' ? { ...s, setWeight: (s.setWeight * 100) / maxTrafficWeight } : s));
}

export function resolveRevision(input: PlannedInput, prev: StatusView, draft: Draft): Revision {
  const { spec } = input.rollout;
  const { status } = draft;
  const canary = spec.strategy?.canary;
  const maxTrafficWeight = (canary?.trafficRouting as { maxTrafficWeight?: number } | undefined)?.maxTrafficWeight;
  const steps = percentSteps(canary?.steps ?? [], maxTrafficWeight);
  const currentHash = currentPodHash(input.replicaSets, spec.template, prev.collisionCount ?? 0, prev.currentPodHash, input.templateHash);
  const digest = stepsHash(steps);
  const templateChanged = prev.currentPodHash !== currentHash;
  // Edited steps mid-rollout run from the start of the new list.
  const stepsEdited = !templateChanged && prev.currentStepHash !== undefined && prev.currentStepHash !== digest;
  if (templateChanged) {
    status.currentPodHash = currentHash;
    clearPause(status);
    status.abort = false;
    delete status.abortedAt;
    status.promoteFull = false;
  } else if (stepsEdited) clearPause(status);
  status.currentStepHash = digest;

  const firstDeploy = !prev.stableRS;
  if (firstDeploy) status.stableRS = currentHash;
  const byHash = new Map(input.replicaSets.map((rs) => [rs.hash, rs]));
  const maxRevision = Math.max(0, ...input.replicaSets.map((rs) => rs.revision));
  const newRS = byHash.get(currentHash);
  const revision = newRS && newRS.revision === maxRevision && maxRevision > 0 ? newRS.revision : maxRevision + 1;
  if (templateChanged && !firstDeploy && prev.currentPodHash !== undefined) {
    draft.events.push({ type: 'Normal', reason: 'RolloutUpdated', message: `Rollout updated to revision ${revision}` });
  }
  const stepIndex = templateChanged || stepsEdited ? 0 : (prev.currentStepIndex ?? 0);
  const routed = !input.router.capabilities.replicaBased;
  const stableHash = status.stableRS as string;
  return { steps, maxTrafficWeight, replicas: spec.replicas, routed, currentHash, stableHash, byHash, newRS, revision, templateChanged, stepIndex };
}

// --- Phase 2: the step position after abort, retry, promote --full and rollbackWindow ------------

export interface Position {
  stepIndex: number;
  /** an abort in force (the template is not the stable one) */
  abort: boolean;
  inCanary: boolean;
  /** back to a recent revision within rollbackWindow: steps and analysis skipped */
  fastRollback: boolean;
}

function resolvePosition(c: Ctx, analysis: AnalysisPlanner): Position {
  const { prev, rev } = c;
  const { status } = c.draft;
  const inCanary = rev.currentHash !== rev.stableHash;
  // `promote --full` wins over an abort, as in Argo: the abort is cleared and the update completes
  // (its failed analysis no longer counts: analysis is skipped on a full promotion).
  const promoteOverAbort = status.promoteFull === true && status.abort === true && inCanary;
  if (promoteOverAbort) {
    status.abort = false;
    delete status.abortedAt;
  }
  // A run that ended Failed or Error aborts (analysis/rollout-plan.ts).
  const retrying = !status.abort && prev.abortedAt !== undefined && !rev.templateChanged;
  analysis.beforeAbort({ inCanary: inCanary && !status.promoteFull, retrying });
  c.experiments.beforeAbort({ inCanary: inCanary && !status.promoteFull, retrying });
  const { abort, stepIndex } = abortOrRetry(c, promoteOverAbort);
  if (!inCanary) return { stepIndex: rev.steps.length, abort, inCanary, fastRollback: false };
  return { ...skipSteps(c, abort, stepIndex), abort, inCanary };
}

/** The abort and retry flags the CLI sets in status: an abort starts, or `retry` runs the steps again. */
function abortOrRetry(c: Ctx, promoteOverAbort: boolean): { abort: boolean; stepIndex: number } {
  const { prev, rev } = c;
  const { status, events } = c.draft;
  const abort = status.abort === true && rev.currentHash !== rev.stableHash;
  if (abort && !prev.abortedAt) {
    status.abortedAt = iso(c.input.now);
    clearPause(status);
    events.push({ type: 'Warning', reason: 'RolloutAborted', message: `Rollout aborted update to revision ${rev.revision}` });
    return { abort, stepIndex: 0 };
  }
  if (!abort && status.abort) {
    status.abort = false; // nothing to abort: the template is the stable one
    delete status.abortedAt;
  }
  if (!status.abort && prev.abortedAt && !rev.templateChanged && !promoteOverAbort) {
    // `retry` cleared the abort flag: run the steps again from the first.
    delete status.abortedAt;
    events.push({ type: 'Normal', reason: 'RolloutRetried', message: `Rollout retried update to revision ${rev.revision}` });
    return { abort, stepIndex: 0 };
  }
  return { abort, stepIndex: rev.stepIndex };
}

/** `promote --full` and a rollback within spec.rollbackWindow skip the remaining steps. */
function skipSteps(c: Ctx, abort: boolean, stepIndex: number): { stepIndex: number; fastRollback: boolean } {
  const { input, rev } = c;
  const { status, events } = c.draft;
  const end = rev.steps.length;
  const promoted = status.promoteFull === true && stepIndex < end;
  if (promoted) {
    clearPause(status);
    events.push({ type: 'Normal', reason: 'RolloutResumed', message: 'Rollout fully promoted: remaining steps skipped' });
  }
  const window = input.rollout.spec.rollbackWindow;
  const fastRollback = !abort && rollbackWithinWindow(window, rev.newRS, rev.byHash.get(rev.stableHash), input.replicaSets);
  if (fastRollback && !promoted && stepIndex < end) {
    clearPause(status);
    events.push({ type: 'Normal', reason: 'SkipSteps', message: `Rollback to revision ${rev.newRS?.revision ?? rev.revision} within rollbackWindow (${window?.revisions ?? 0}): steps skipped` });
  }
  return { stepIndex: (promoted || fastRollback) && stepIndex < end ? end : stepIndex, fastRollback };
}

// --- Phase 3: the pods each step wants (replicas.ts does Argo's arithmetic) ----------------------

export interface Targets {
  limits: SurgeLimits;
  canaryAvailable: number;
  /** dynamicStableScale with a router: the stable follows traffic */
  dynamicStable: boolean;
  stableRS: ObservedReplicaSet | undefined;
  /** available canary pods that count as `needed` ones (replicaProgressThreshold) */
  reached: (needed: number) => number;
  /** canary and stable pods the step at `index` wants */
  podsAt: (index: number) => { canary: number; stable: number };
  /** canary pods at `index`, at least one when a header or mirror route needs somewhere to go */
  desiredCanaryAt: (index: number) => number;
  /** the stable has settled at what the step at `index` wants (Argo's check before it completes) */
  stableSettledAt: (index: number) => boolean;
}

export function podTargets(input: PlannedInput, prev: StatusView, canary: CanarySpec, rev: Revision): Targets {
  const { replicas, routed, steps } = rev;
  const limits = surgeLimits(replicas, canary.maxSurge, canary.maxUnavailable);
  const dynamicStable = routed && canary.dynamicStableScale === true;
  const prevWeights = prev.canary?.weights;
  const current = prevWeights ? { canary: prevWeights.canary.weight, stable: prevWeights.stable.weight } : undefined;
  // Without a router setCanaryScale does not apply and the pair also depends on maxSurge.
  const podsAt = (index: number): { canary: number; stable: number } => {
    const scale = routed && index < steps.length ? canaryScaleAt(steps, index) : undefined;
    const weight = scale?.weight ?? effectiveWeight(steps, index);
    if (!routed) return weightedSplit(replicas, weight, limits.maxSurge);
    return routedCanaryReplicas({ replicas, weight, canaryReplicas: scale?.replicas, minPodsPerReplicaSet: canary.minPodsPerReplicaSet, dynamicStableScale: dynamicStable, current });
  };
  const desiredCanaryAt = (index: number): number => {
    const count = podsAt(index).canary;
    // A header or mirror route needs a canary pod to send its requests to, even at weight 0.
    if (routed && count === 0 && index < steps.length) {
      const routes = managedRoutesAt(steps, index, true);
      if (routes.headerRoutes.length > 0 || routes.mirrorRoutes.length > 0) return Math.max(1, canary.minPodsPerReplicaSet ?? 0);
    }
    return count;
  };
  const stableRS = rev.byHash.get(rev.stableHash);
  // The stable has exactly its pods (with dynamicStableScale it follows traffic instead) and,
  // without a router, no earlier canary still has available pods serving traffic.
  const stableSettledAt = (index: number): boolean => {
    if (dynamicStable) return true;
    const want = podsAt(index).stable;
    if (stableRS && (stableRS.replicas !== want || stableRS.current !== want)) return false;
    return routed || input.replicaSets.every((rs) => rs.hash === rev.currentHash || rs.hash === rev.stableHash || rs.available === 0);
  };
  const reached = (needed: number): number => progressThresholdPods(needed, canary.replicaProgressThreshold);
  return { limits, canaryAvailable: rev.newRS?.available ?? 0, dynamicStable, stableRS, reached, podsAt, desiredCanaryAt, stableSettledAt };
}

// --- Phase 4: walk the steps as far as they are complete ----------------------------------------

export interface Walk {
  stepIndex: number;
  atEnd: boolean;
  /** a setWeight step completed in this plan counts as applied by it */
  lastCompletedWeight: number | undefined;
}

function walkSteps(c: Ctx, pos: Position, analysis: AnalysisPlanner): Walk {
  const { input, draft } = c;
  const { steps } = c.rev;
  const moving = pos.inCanary && !pos.abort && !input.rollout.spec.paused;
  let stepIndex = pos.stepIndex;
  let lastCompletedWeight: number | undefined;
  if (moving && hasInconclusivePause(draft.status)) stepIndex = endExpiredPause(steps, stepIndex, draft, input.now);
  while (moving && !hasInconclusivePause(draft.status) && stepIndex < steps.length) {
    const step = steps[stepIndex] as StepView;
    if (!podsAndRoutesReady(c, step, stepIndex)) break;
    if (runStep(c, step, stepIndex, analysis) === 'wait') break;
    if (typeof step.setWeight === 'number') lastCompletedWeight = step.setWeight;
    stepIndex++;
  }
  return { stepIndex, atEnd: stepIndex >= steps.length, lastCompletedWeight };
}

/**
 * The parts of a step that wait for pods and the router. A step may combine setCanaryScale and
 * header/mirror routes with one of setWeight, pause, analysis or experiment (as in Argo); these
 * parts come first, then a pause starts or an analysis runs.
 */
function podsAndRoutesReady(c: Ctx, step: StepView, index: number): boolean {
  const { input, targets: t } = c;
  const needed = t.desiredCanaryAt(index);
  const newReplicas = c.rev.newRS?.replicas ?? 0;
  const scales = typeof step.setWeight === 'number' || step.setCanaryScale !== undefined;
  if (scales && (t.canaryAvailable < t.reached(needed) || newReplicas < needed || !t.stableSettledAt(index))) return false;
  if (typeof step.setWeight === 'number' && !input.trafficVerified) return false;
  // A route is done once the router has it in place (verified where it can tell), and never
  // before a canary pod can serve what it sends.
  const routes = step.setHeaderRoute !== undefined || step.setMirrorRoute !== undefined;
  return !routes || (input.trafficVerified && t.canaryAvailable >= 1 && newReplicas >= needed);
}

/** Carries out the step at `index` (its pods and routes are in place); 'wait' holds the rollout there. */
function runStep(c: Ctx, step: StepView, index: number, analysis: AnalysisPlanner): 'done' | 'wait' {
  const label = `${index + 1}/${c.rev.steps.length}`;
  if (step.pause) return pauseStep(c, step.pause, label);
  if (step.analysis) return analysis.step(index, step.analysis, label);
  if (step.experiment) return c.experiments.step(index, step.experiment as ExperimentStepView, label);
  const { events } = c.draft;
  for (const kind of Object.keys(step).filter((k) => !PLANNED_STEP_KINDS.has(k))) {
    events.push({ type: 'Warning', reason: 'StepNotImplemented', message: `Rollout step ${label} (${kind}) is not implemented yet and was skipped` });
  }
  const done = stepSummary(step);
  if (done) events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (${done})` });
  return 'done';
}

/** A pause step completes once promoted (our pause condition removed) or its duration has passed. */
function pauseStep(c: Ctx, pause: NonNullable<StepView['pause']>, label: string): 'done' | 'wait' {
  const { status, events } = c.draft;
  const condition = (status.pauseConditions ?? []).find((p) => p.reason === PAUSE_REASON_STEP);
  if (!condition && status.controllerPause) {
    // We paused here and someone removed our pause condition: that is a promote.
    status.controllerPause = false;
    events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed (promoted at step ${label})` });
  } else if (pauseRunning(c, pause, label, condition)) return 'wait';
  events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (pause)` });
  return 'done';
}

/** Starts the pause condition if needed; true while the pause holds (untimed, or time left). */
function pauseRunning(c: Ctx, pause: NonNullable<StepView['pause']>, label: string, condition: { startTime: string } | undefined): boolean {
  const { status, events, requeueAt } = c.draft;
  const { now } = c.input;
  const startTime = condition?.startTime ?? iso(now);
  if (!condition) {
    status.pauseConditions = [...(status.pauseConditions ?? []), { reason: PAUSE_REASON_STEP, startTime }];
    status.controllerPause = true;
    events.push({ type: 'Normal', reason: 'RolloutPaused', message: `Rollout is paused (${PAUSE_REASON_STEP}) at step ${label}` });
  }
  const duration = durationMs(pause.duration);
  if (duration === undefined) return true; // wait for a human
  const endsAt = Date.parse(startTime) + duration;
  if (now < endsAt) {
    requeueAt(endsAt);
    if (!condition) c.draft.timedPauseBegins = true;
    return true;
  }
  status.pauseConditions = (status.pauseConditions ?? []).filter((p) => p.reason !== PAUSE_REASON_STEP);
  status.controllerPause = false;
  c.draft.timedPauseEnded = endsAt;
  events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed: pause of ${pause.duration} at step ${label} ended` });
  return false;
}

// --- Phase 5: traffic, never above what available canary pods can serve -------------------------

export function canaryTrafficWeight(c: Ctx, pos: Position, walk: Walk): number {
  const { rev, targets: t } = c;
  const prevWeight = c.prev.canary?.weights?.canary.weight ?? 0;
  if (pos.inCanary && !pos.abort) {
    if (t.canaryAvailable === 0) return 0;
    const needed = walk.atEnd ? rev.replicas : t.desiredCanaryAt(walk.stepIndex);
    const ready = t.canaryAvailable >= (walk.atEnd ? needed : t.reached(needed)) && (rev.newRS?.replicas ?? 0) >= needed;
    if (ready) return effectiveWeight(rev.steps, walk.stepIndex);
    return Math.min(Math.max(prevWeight, walk.lastCompletedWeight ?? 0), servableWeight(rev.replicas, t.canaryAvailable, rev.routed));
  }
  // dynamicStableScale: traffic goes back only as fast as stable pods become available for it.
  if (pos.abort && t.dynamicStable) return dynamicAbortWeight(rev.replicas, t.stableRS?.available ?? 0, prevWeight);
  return 0;
}

// --- Phase 6: promotion, weight 100 first, then the new ReplicaSet becomes stable ---------------

export interface Outcome {
  inCanary: boolean;
  /** the stable hash once this plan is carried out */
  stableHash: string;
  /** the stable this plan replaced, when it promoted */
  promotedFrom: string | undefined;
}

function promote(c: Ctx, pos: Position, walk: Walk): Outcome {
  const { prev, rev, targets: t } = c;
  const { status, events } = c.draft;
  const stays: Outcome = { inCanary: pos.inCanary, stableHash: rev.stableHash, promotedFrom: undefined };
  const { newRS, replicas } = rev;
  if (!pos.inCanary || pos.abort || !walk.atEnd || hasInconclusivePause(status) || !newRS || t.canaryAvailable < replicas || newRS.replicas < replicas) return stays;
  const trafficAtFull = rev.routed ? (prev.canary?.weights?.canary.weight ?? 0) >= 100 && prev.canary?.weights?.verified !== false : (t.stableRS?.replicas ?? 0) === 0;
  if (!trafficAtFull) return stays;
  status.stableRS = rev.currentHash;
  status.promoteFull = false;
  clearPause(status);
  const done = rev.steps.length > 0 ? `completed all ${rev.steps.length} canary steps` : 'no steps';
  events.push({ type: 'Normal', reason: 'RolloutCompleted', message: `Rollout completed update to revision ${rev.revision} (${rev.currentHash}): ${done}` });
  return { inCanary: false, stableHash: rev.currentHash, promotedFrom: rev.stableHash };
}

/** Experiments not needed any more are terminated, old ones deleted (controller/experiment-step.ts). */
function planExperiments(c: Ctx, pos: Position, walk: Walk, out: Outcome): Plan['experiments'] {
  const { spec } = c.input.rollout;
  const promoteFull = c.draft.status.promoteFull === true;
  return c.experiments.finish({ abort: pos.abort, inCanary: out.inCanary, promoteFull, stepIndex: walk.stepIndex, successfulLimit: spec.analysis?.successfulRunHistoryLimit, unsuccessfulLimit: spec.analysis?.unsuccessfulRunHistoryLimit });
}

// --- Phase 7: analysis (runs for steps, background runs, history: analysis/rollout-plan.ts) -----

function planAnalysis(c: Ctx, pos: Position, walk: Walk, out: Outcome, analysis: AnalysisPlanner): Plan['analysis'] {
  const { spec } = c.input.rollout;
  const background = c.canary.analysis;
  const active = out.inCanary && !pos.abort && !c.draft.status.promoteFull && !pos.fastRollback && walk.stepIndex >= (background?.startingStep ?? 0);
  analysis.background(active, background);
  return analysis.finish({ abort: pos.abort, inCanary: out.inCanary, stepIndex: walk.stepIndex, successfulLimit: spec.analysis?.successfulRunHistoryLimit, unsuccessfulLimit: spec.analysis?.unsuccessfulRunHistoryLimit });
}

// --- Phase 8: ReplicaSet sizes and the scaling that gets there ----------------------------------

/** Desired spec.replicas by hash; a ReplicaSet left out is an old one (scaled down, maybe after a delay). */
export function replicaSetSizes(c: Ctx, pos: Position, walk: Walk, out: Outcome, trafficWeight: number): Map<string, number> {
  const { rev, targets: t } = c;
  if (!rev.routed) return replicaRatioSizes(c, pos, walk, out);
  if (!out.inCanary) return new Map([[out.stableHash, rev.replicas]]);
  if (!pos.abort) {
    return new Map([
      [rev.currentHash, walk.atEnd ? rev.replicas : t.desiredCanaryAt(walk.stepIndex)],
      [out.stableHash, t.podsAt(walk.stepIndex).stable],
    ]);
  }
  const aborted = abortedRoutedSizes(rev.replicas, c.canary, trafficWeight, rev.newRS, t.stableRS);
  const sizes = new Map([[out.stableHash, aborted.stable]]);
  if (aborted.canary !== undefined) sizes.set(rev.currentHash, aborted.canary);
  return sizes;
}

/**
 * Without a router: one move of Argo's arithmetic (replicas.ts); after promotion or on a rollback
 * the stable is the current one. ReplicaSets outside the pair (an earlier canary) shrink only as
 * far as replicas − maxUnavailable available pods allow, newest first, as Argo scales them.
 */
function replicaRatioSizes(c: Ctx, pos: Position, walk: Walk, out: Outcome): Map<string, number> {
  const { input, rev, targets: t } = c;
  const sizes = new Map<string, number>();
  const separate = out.inCanary && t.stableRS !== undefined;
  const older = input.replicaSets.filter((rs) => rs.hash !== rev.currentHash && rs.hash !== out.stableHash);
  const weight = pos.abort ? 0 : effectiveWeight(rev.steps, walk.stepIndex);
  const next = basicCanaryReplicas({ replicas: rev.replicas, weight, limits: t.limits, canary: counts(rev.newRS), stable: separate ? counts(t.stableRS) : undefined, olderReplicas: sum(older.map((rs) => rs.replicas)) });
  sizes.set(rev.currentHash, next.canary);
  if (separate) sizes.set(out.stableHash, next.stable);

  const availableOf = (rs: ObservedReplicaSet): number => Math.min(rs.available, rs.replicas);
  const all = input.replicaSets;
  const loss = sum(all.filter((rs) => sizes.has(rs.hash)).map((rs) => Math.max(0, availableOf(rs) - (sizes.get(rs.hash) ?? 0))));
  let budget = sum(all.map(availableOf)) - loss - Math.max(0, rev.replicas - t.limits.maxUnavailable);
  for (const rs of all.filter((r) => !sizes.has(r.hash) && r.replicas > 0).sort((a, b) => b.revision - a.revision)) {
    const unavailable = Math.max(0, rs.replicas - availableOf(rs));
    const drop = unavailable + Math.max(0, Math.min(availableOf(rs), budget));
    budget -= drop - unavailable;
    sizes.set(rs.hash, rs.replicas - drop);
  }
  return sizes;
}

/** The ReplicaSet of the current template: created at its first size, or its revision brought up to date. */
function currentReplicaSet(c: Ctx, sizes: Map<string, number>): { newRS: ObservedReplicaSet; create?: ReplicaSetCreate; scale: ReplicaSetScale[] } {
  const { rev } = c;
  if (rev.newRS) {
    const { name, replicas, revision } = rev.newRS;
    const scale = revision === rev.revision ? [] : [{ name, from: replicas, to: replicas, annotations: { [REVISION_ANNOTATION]: String(rev.revision) } }];
    return { newRS: rev.newRS, scale };
  }
  const initial = sizes.get(rev.currentHash) ?? 0;
  const create: ReplicaSetCreate = { name: `${c.input.rollout.name}-${rev.currentHash}`, hash: rev.currentHash, revision: rev.revision, replicas: initial };
  c.draft.events.push({ type: 'Normal', reason: 'NewReplicaSetCreated', message: `Created ReplicaSet ${create.name} (revision ${rev.revision}) with size ${initial}` });
  return { newRS: { name: create.name, hash: rev.currentHash, revision: rev.revision, replicas: initial, current: 0, ready: 0, available: 0, settled: true }, create, scale: [] };
}

/** Scale changes of the existing ReplicaSets toward `sizes`, then the scaleDownDelayRevisionLimit, with their Events. */
function scaleReplicaSets(c: Ctx, sizes: Map<string, number>, out: Outcome, initial: ReplicaSetScale[]): ReplicaSetScale[] {
  const { input, rev } = c;
  const scale = [...initial];
  for (const rs of input.replicaSets) {
    const size = sizes.get(rs.hash);
    // Back in use, a ReplicaSet's scale-down is cancelled.
    const { want, annotations } = size === undefined ? oldReplicaSetTarget(c, rs, out) : { want: size, annotations: cancelDeadline(rs) };
    if (want === rs.replicas && Object.keys(annotations).length === 0) continue;
    const existing = scale.find((s) => s.name === rs.name);
    if (existing) {
      existing.to = want;
      existing.annotations = { ...existing.annotations, ...annotations };
    } else scale.push({ name: rs.name, from: rs.replicas, to: want, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) });
  }
  // scaleDownDelayRevisionLimit: only the newest old ReplicaSets keep running through their delay
  // (the aborted canary drains by abortScaleDownDelaySeconds alone, as in Argo).
  const delayed = input.replicaSets.filter((rs) => !sizes.has(rs.hash) && rs.hash !== rev.currentHash && rs.replicas > 0 && (scale.find((s) => s.name === rs.name)?.to ?? rs.replicas) > 0);
  limitDelayedScaleDowns(scale, delayed, c.canary.scaleDownDelayRevisionLimit);
  announceScaling(c, scale);
  return scale;
}

const cancelDeadline = (rs: ObservedReplicaSet): Record<string, string | null> => (rs.scaleDownDeadline ? { [SCALE_DOWN_DEADLINE_ANNOTATION]: null } : {});

/**
 * An old ReplicaSet: with a router it keeps serving until its delay is over, so traffic can drain
 * (and an abort can be instant); without one it goes at once.
 */
function oldReplicaSetTarget(c: Ctx, rs: ObservedReplicaSet, out: Outcome): { want: number; annotations: Record<string, string | null> } {
  const { now } = c.input;
  const { requeueAt } = c.draft;
  const deadline = rs.scaleDownDeadline ? Date.parse(rs.scaleDownDeadline) : NaN;
  const delay = scaleDownDelayMs(c, rs, out);
  if (c.rev.routed && rs.replicas > 0 && !Number.isNaN(deadline)) {
    if (now < deadline) {
      requeueAt(deadline);
      return { want: rs.replicas, annotations: {} };
    }
  } else if (c.rev.routed && rs.replicas > 0 && delay === Infinity) {
    return { want: rs.replicas, annotations: {} };
  } else if (c.rev.routed && rs.replicas > 0 && delay > 0) {
    requeueAt(now + delay);
    return { want: rs.replicas, annotations: { [SCALE_DOWN_DEADLINE_ANNOTATION]: iso(now + delay) } };
  }
  // Scaled down (now or earlier): the deadline is spent, so it leaves the ReplicaSet, as Argo's does.
  return { want: 0, annotations: cancelDeadline(rs) };
}

/**
 * The aborted canary drains by abortScaleDownDelaySeconds (0: never), the stable just replaced by
 * scaleDownDelaySeconds (at once with dynamicStableScale: it has already shrunk as traffic left
 * it). Fully promoted, any old ReplicaSet still running waits scaleDownDelaySeconds too, as in
 * Argo: after a fast rollback the abandoned canary had traffic a moment ago, and the proxy may
 * not have applied the weight change yet. Mid-update, a canary replaced by a newer template goes
 * at once, as in Argo: its weight is already 0 (the new canary has none yet).
 */
function scaleDownDelayMs(c: Ctx, rs: ObservedReplicaSet, out: Outcome): number {
  const { canary } = c;
  // Not a schema default: absent, it means something of its own with dynamicStableScale (abortedRoutedSizes).
  // 0 leaves the aborted canary running until the next update, as Argo documents for a router.
  if (rs.hash === c.rev.currentHash) return canary.abortScaleDownDelaySeconds === 0 ? Infinity : (canary.abortScaleDownDelaySeconds ?? DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS) * 1000;
  if (out.inCanary && rs.hash !== out.promotedFrom && rs.hash !== c.prev.stableRS) return 0;
  return c.targets.dynamicStable ? 0 : canary.scaleDownDelaySeconds * 1000;
}

function announceScaling(c: Ctx, scale: readonly ReplicaSetScale[]): void {
  for (const s of scale) {
    if (s.to === s.from) continue;
    const rs = c.input.replicaSets.find((r) => r.name === s.name);
    c.draft.events.push({
      type: 'Normal',
      reason: 'ScalingReplicaSet',
      message: `Scaled ${s.to > s.from ? 'up' : 'down'} ReplicaSet ${s.name} (revision ${rs?.revision ?? c.rev.revision}) from ${s.from} to ${s.to}`,
    });
  }
}

// --- Phase 9: pod templates (canaryMetadata, stableMetadata, anti-affinity) and history ---------

function applyPodTemplates(c: Ctx, plan: Plan, out: Outcome): void {
  const { input } = c;
  const templates = planPodTemplates({
    namespace: input.rollout.namespace,
    template: input.rollout.spec.template,
    canary: c.canary,
    replicaSets: input.replicaSets,
    pods: input.pods,
    currentHash: c.rev.currentHash,
    stableHash: out.stableHash,
    inCanary: out.inCanary,
    sizeAfter: (rs) => plan.scale.find((s) => s.name === rs.name)?.to ?? rs.replicas,
  });
  if (plan.create && (templates.create.annotations !== undefined || 'affinity' in templates.create)) Object.assign(plan.create, templates.create);
  if (templates.templatePatches.length > 0) plan.templatePatches = templates.templatePatches;
  if (templates.podPatches.length > 0) plan.podPatches = templates.podPatches;
}

/** Old, empty ReplicaSets beyond revisionHistoryLimit, oldest first. */
function beyondHistory(c: Ctx, out: Outcome, scale: readonly ReplicaSetScale[]): string[] {
  const historyLimit = c.input.rollout.spec.revisionHistoryLimit;
  const history = c.input.replicaSets
    .filter((rs) => rs.hash !== c.rev.currentHash && rs.hash !== out.stableHash && rs.replicas === 0 && rs.current === 0 && !scale.some((s) => s.name === rs.name && s.to > 0))
    .sort((a, b) => b.revision - a.revision);
  return history.slice(historyLimit).map((rs) => rs.name);
}

// --- Phase 10: Services, pinned to a hash only once that ReplicaSet has available pods ----------

function pinServices(c: Ctx, pos: Position, out: Outcome, trafficWeight: number, newAvailable: number): ServiceSelectorChange[] {
  const { input, canary } = c;
  const changes: ServiceSelectorChange[] = [];
  const stableAvailable = c.rev.byHash.get(out.stableHash)?.available ?? 0;
  const pin = (serviceName: string | undefined, wantHash: string, wantHasPods: boolean): void => {
    const svc = serviceName ? input.services[serviceName] : undefined;
    if (!serviceName || !svc) return;
    const current = svc.selector[POD_TEMPLATE_HASH_LABEL];
    const target = wantHasPods ? wantHash : (current ?? (out.stableHash === wantHash ? undefined : out.stableHash));
    if (target === undefined || current === target) return;
    changes.push({ service: serviceName, from: current, to: target });
    c.draft.events.push({ type: 'Normal', reason: 'SwitchService', message: `Switched selector for service '${serviceName}' from '${current ?? ''}' to '${target}'` });
  };
  pin(canary.stableService, out.stableHash, stableAvailable > 0);
  // An abort with dynamicStableScale keeps the canary Service on the canary while it still has traffic.
  const canaryServed = out.inCanary && (!pos.abort || trafficWeight > 0);
  pin(canary.canaryService, canaryServed ? c.rev.currentHash : out.stableHash, canaryServed ? newAvailable > 0 : stableAvailable > 0);
  return changes;
}

// --- Phase 11: traffic to the router, and the weights status shows -----------------------------

/** The router's desired state; also records the weights in status (and the Event when they change). */
function routerTraffic(c: Ctx, pos: Position, walk: Walk, out: Outcome, trafficWeight: number, sizes: Map<string, number>): DesiredTraffic | undefined {
  const { canary, rev, prev } = c;
  const ratio = trafficRatio(c, pos, walk, out, trafficWeight);
  const appliedPercent = percentOf(ratio);
  const prevWeight = prev.canary?.weights?.canary.weight ?? 0;
  if (rev.routed && appliedPercent !== prevWeight) {
    c.draft.events.push({ type: 'Normal', reason: 'TrafficWeightUpdated', message: `Traffic weight updated from ${prevWeight} to ${appliedPercent}` });
  }
  const shown = rev.routed ? appliedPercent : out.inCanary && !pos.abort ? ratioWeight(sizes.get(rev.currentHash) ?? 0, sizes.get(out.stableHash) ?? 0) : 0;
  recordWeights(c, out, shown);
  // Routed without the two Services is Istio subset-level splitting (validation allows no other).
  if (!rev.routed && !(canary.stableService && canary.canaryService)) return undefined;
  const routes = out.inCanary && !pos.abort && c.targets.canaryAvailable > 0 ? managedRoutesAt(rev.steps, walk.stepIndex, true) : { headerRoutes: [], mirrorRoutes: [] };
  // Weighted experiment templates while their Experiment runs; gone in the write of the next step's weight.
  const extra = c.experiments.extraDestinations(rev.steps, walk.stepIndex, out.inCanary, pos.abort);
  return { weight: ratio, stableService: canary.stableService ?? '', canaryService: canary.canaryService ?? '', stableHash: out.stableHash, canaryHash: routerCanaryHash(c, out), ...routes, ...(extra.length > 0 ? { extraDestinations: extra } : {}) };
}

/** The weight as an exact ratio: out of maxTrafficWeight when the step's weight is reached. */
function trafficRatio(c: Ctx, pos: Position, walk: Walk, out: Outcome, trafficWeight: number): { canary: number; total: number } {
  const max = c.rev.maxTrafficWeight;
  if (!out.inCanary || (pos.abort && trafficWeight === 0)) return FULL_STABLE;
  const exactTarget = max && max !== 100 && trafficWeight === effectiveWeight(c.rev.steps, walk.stepIndex) && trafficWeight > 0 && trafficWeight < 100;
  return exactTarget && !pos.abort ? ratioOutOf((trafficWeight * max) / 100, max) : ratioFromPercent(trafficWeight);
}

/**
 * Subsets/backends follow the new canary only once it has pods: until then the router keeps the
 * hash it had (which the weight, already 0 for an unavailable canary, leaves unused).
 */
function routerCanaryHash(c: Ctx, out: Outcome): string {
  if (!out.inCanary) return out.stableHash;
  const previous = c.prev.canary?.weights?.canary.podTemplateHash;
  const newAvailable = c.rev.newRS?.available ?? 0;
  return newAvailable > 0 || !previous || !c.rev.byHash.get(previous)?.available ? c.rev.currentHash : previous;
}

function recordWeights(c: Ctx, out: Outcome, shown: number): void {
  const { status } = c.draft;
  const { canaryService, stableService } = c.canary;
  status.canary = {
    ...(status.canary ?? {}),
    weights: {
      canary: { weight: shown, podTemplateHash: out.inCanary ? c.rev.currentHash : out.stableHash, ...(canaryService ? { serviceName: canaryService } : {}) },
      stable: { weight: Math.round((100 - shown) * 100) / 100, podTemplateHash: out.stableHash, ...(stableService ? { serviceName: stableService } : {}) },
      verified: c.rev.routed ? c.input.trafficVerified : true,
    },
  };
}

// --- Phase 12: counts, step index, phase and conditions, the workloadRef Deployment -------------

function finishStatus(c: Ctx, pos: Position, walk: Walk, out: Outcome, waitingOnAnalysis: boolean): void {
  const { input, prev, rev, draft } = c;
  const { status } = draft;
  const all = input.replicaSets;
  status.replicas = sum(all.map((rs) => rs.current));
  status.updatedReplicas = all.find((rs) => rs.hash === rev.currentHash)?.current ?? 0;
  status.readyReplicas = sum(all.map((rs) => rs.ready));
  status.availableReplicas = sum(all.map((rs) => rs.available));
  status.HPAReplicas = status.replicas;
  status.selector = selectorString(input.rollout.spec.selector);
  if (rev.steps.length > 0) status.currentStepIndex = Math.min(walk.stepIndex, rev.steps.length);
  else delete status.currentStepIndex;
  if (!out.inCanary && !status.abort) status.promoteFull = false;

  derivePhase(input, status, prev, {
    abort: pos.abort,
    inCanary: out.inCanary,
    currentHash: rev.currentHash,
    revision: rev.revision,
    replicas: rev.replicas,
    newRS: all.find((rs) => rs.hash === rev.currentHash),
    oldPodsLeft: rev.routed ? 0 : sum(all.filter((rs) => rs.hash !== out.stableHash).map((rs) => rs.current)),
    minAvailable: Math.max(0, rev.replicas - c.targets.limits.maxUnavailable),
    events: draft.events,
    requeueAt: draft.requeueAt,
    waitingOnAnalysis,
  });
}

/** spec.workloadRef: the referenced Deployment steps aside as its scaleDown says (workload-ref.ts). */
function scaleWorkload(c: Ctx): Plan['workloadScale'] {
  const { input } = c;
  const { spec } = input.rollout;
  if (input.workload !== undefined) c.draft.status.workloadObservedGeneration = String(input.workload.generation);
  const scale = workloadScaleDown(spec, input.workload, c.draft.status);
  if (scale) {
    const { name, from, to } = scale;
    c.draft.events.push({ type: 'Normal', reason: 'ScalingDeployment', message: `Scaled ${to < from ? 'down' : 'up'} Deployment ${name} from ${from} to ${to} (workloadRef scaleDown: ${spec.workloadRef?.scaleDown ?? 'never'})` });
  }
  return scale;
}

/** The step kinds the planner carries out; others (experiment, plugin) are skipped with a warning. */
const PLANNED_STEP_KINDS = new Set(['setWeight', 'pause', 'setCanaryScale', 'analysis', 'experiment', 'setHeaderRoute', 'setMirrorRoute']);

/** What a completed step did, for its Event: `setWeight: 20`, `setCanaryScale, setHeaderRoute: canary-header`. */
function stepSummary(step: StepView): string {
  const parts: string[] = [];
  if (typeof step.setWeight === 'number') parts.push(`setWeight: ${step.setWeight}`);
  if (step.setCanaryScale) parts.push('setCanaryScale');
  if (step.setHeaderRoute) parts.push(`setHeaderRoute: ${step.setHeaderRoute.name}`);
  if (step.setMirrorRoute) parts.push(`setMirrorRoute: ${step.setMirrorRoute.name}`);
  return parts.join(', ');
}

/**
 * Header and mirror routes in force: each setHeaderRoute/setMirrorRoute step up to the current
 * one (the current one too, so the router puts it in place before the step completes) sets its
 * named route, or with no match removes it. All go on completion and abort.
 */
export function managedRoutesAt(steps: readonly StepView[], index: number, includeCurrent: boolean): { headerRoutes: HeaderRoute[]; mirrorRoutes: MirrorRoute[] } {
  const headers = new Map<string, HeaderRoute>();
  const mirrors = new Map<string, MirrorRoute>();
  const last = Math.min(steps.length - 1, includeCurrent ? index : index - 1);
  for (let i = 0; i <= last; i++) {
    const step = steps[i] as StepView;
    if (step.setHeaderRoute) {
      const { name, match } = step.setHeaderRoute;
      if (match && match.length > 0) headers.set(name, { name, match: match.map((m) => ({ headerName: m.headerName, headerValue: m.headerValue as StringMatch })) });
      else headers.delete(name);
    }
    if (step.setMirrorRoute) {
      const { name, match, percentage } = step.setMirrorRoute;
      if (match && match.length > 0) {
        mirrors.set(name, {
          name,
          percentage: percentage ?? 100,
          match: match.map((m) => ({
            ...(m.method ? { method: m.method as StringMatch } : {}),
            ...(m.path ? { path: m.path as StringMatch } : {}),
            ...(m.headers ? { headers: m.headers as Record<string, StringMatch> } : {}),
          })),
        });
      } else mirrors.delete(name);
    }
  }
  return { headerRoutes: [...headers.values()], mirrorRoutes: [...mirrors.values()] };
}

function invalidSpecPlan(input: PlanInput, plan: Plan): Plan | undefined {
  const issues: SpecIssue[] = [...input.specIssues];
  if (issues.length === 0) return undefined;
  const { status, events } = plan;
  const message = issues.map(formatIssue).join('; ');
  const previous = status.conditions?.find((c) => c.type === 'InvalidSpec');
  setCondition(status, input.now, 'InvalidSpec', { status: 'True', reason: 'InvalidSpec', message });
  status.phase = 'Degraded';
  status.message = `InvalidSpec: ${message}`;
  if (previous?.message !== message || previous.status !== 'True') {
    events.push({ type: 'Warning', reason: 'InvalidSpec', message: `The Rollout "${input.rollout.name}" is invalid: ${message}` });
  }
  return plan;
}


/** `weight` out of `total` (both with up to two decimals) as an exact integer ratio. */
function ratioOutOf(weight: number, total: number): { canary: number; total: number } {
  const canary = Math.round(weight * 100);
  const all = Math.round(total * 100);
  const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));
  const d = gcd(canary, all) || 1;
  return { canary: canary / d, total: all / d };
}

/**
 * An aborted canary with a router: the stable goes back to full size, the canary is left to
 * abortScaleDownDelaySeconds. With dynamicStableScale the canary keeps the pods its remaining
 * traffic needs (Argo: when abortScaleDownDelaySeconds is not set), or all its pods until the
 * stable is whole again, and only then starts its delay.
 */
function abortedRoutedSizes(
  replicas: number,
  canary: CanarySpec,
  canaryWeight: number,
  newRS: ObservedReplicaSet | undefined,
  stableRS: ObservedReplicaSet | undefined,
): { canary?: number; stable: number } {
  if (!canary.dynamicStableScale) return { stable: replicas };
  const pods = routedCanaryReplicas({
    replicas,
    weight: 0,
    abort: true,
    dynamicStableScale: true,
    minPodsPerReplicaSet: canary.minPodsPerReplicaSet,
    current: { canary: canaryWeight, stable: 100 - canaryWeight },
  });
  if (canary.abortScaleDownDelaySeconds === undefined) return pods;
  return (stableRS?.available ?? 0) < replicas ? { canary: newRS?.replicas ?? 0, stable: pods.stable } : { stable: pods.stable };
}

function counts(rs: ObservedReplicaSet | undefined): { spec: number; available: number } {
  return { spec: rs?.replicas ?? 0, available: rs?.available ?? 0 };
}

/** The largest percentage (0.01 steps) the available canary pods can serve. */
function servableWeight(replicas: number, available: number, routed: boolean): number {
  if (replicas <= 0 || available <= 0) return 0;
  if (available >= replicas) return 100;
  const share = (available / replicas) * 100;
  return routed ? Math.floor(share * 100) / 100 : share;
}

function ratioWeight(canary: number, stable: number): number {
  const total = canary + stable;
  return total === 0 ? 0 : Math.round((canary / total) * 10000) / 100;
}

/**
 * A timed pause that runs out while an inconclusive analysis holds the rollout is over all the
 * same, as in Argo: its condition goes and the step counts as done, so the message names what
 * still holds the rollout (InconclusiveAnalysisRun). The steps after it wait for a promote.
 */
function endExpiredPause(steps: readonly StepView[], stepIndex: number, draft: Draft, now: number): number {
  const { status, events, requeueAt } = draft;
  const step = steps[stepIndex];
  const condition = (status.pauseConditions ?? []).find((c) => c.reason === PAUSE_REASON_STEP);
  const duration = durationMs(step?.pause?.duration);
  if (!step?.pause || !condition || duration === undefined) return stepIndex;
  const endsAt = Date.parse(condition.startTime) + duration;
  if (now < endsAt) {
    requeueAt(endsAt);
    return stepIndex;
  }
  status.pauseConditions = (status.pauseConditions ?? []).filter((c) => c !== condition);
  draft.timedPauseEnded = endsAt;
  events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${stepIndex + 1}/${steps.length} completed (pause)` });
  return stepIndex + 1;
}

/**
 * A pause that begins with this plan counts from when its weight was in place, not from when it
 * was planned: the router write (and its verification) can take a while under load, and the new
 * weight must be served for the whole pause. Moves the start of the pauses this plan began.
 */
export function startPausesAt(plan: Plan, prev: StatusView | undefined, plannedAt: number, writtenAt: number): Plan {
  const shift = writtenAt - plannedAt;
  const began = (plan.status.pauseConditions ?? []).filter((c) => c.reason === PAUSE_REASON_STEP && !(prev?.pauseConditions ?? []).some((p) => p.reason === c.reason));
  if (shift <= 0 || began.length === 0) return plan;
  const status = structuredClone(plan.status);
  status.pauseConditions = (status.pauseConditions ?? []).map((c) => (began.some((b) => b.reason === c.reason) ? { ...c, startTime: iso(writtenAt) } : c));
  return { ...plan, status, ...(plan.requeueAfterMs !== undefined ? { requeueAfterMs: plan.requeueAfterMs + shift } : {}) };
}
