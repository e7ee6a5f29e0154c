// The planner: from a Rollout, its ReplicaSets and Services as last observed, decide what the
// cluster should look like next and what the status says. Pure and deterministic (time comes in
// as `now`), so every rule of a rollout is a unit test and a restarted controller resumes from
// status alone.
import { formatIssue, type SpecIssue } from '../api/issues.ts';
import { DEFAULT_REVISION_HISTORY_LIMIT, DEFAULT_SCALE_DOWN_DELAY_SECONDS, parseDurationMs } from '../api/rollout.ts';
import { FULL_STABLE, percentOf, ratioFromPercent, type DesiredTraffic, type HeaderRoute, type MirrorRoute, type StringMatch } from '../routers/types.ts';
import { currentPodHash } from './adopt.ts';
import { stepsHash, POD_TEMPLATE_HASH_LABEL } from './hash.ts';
import {
  REVISION_ANNOTATION,
  SCALE_DOWN_DEADLINE_ANNOTATION,
  type ObservedReplicaSet,
  type Plan,
  type PlanInput,
  type PlannedEvent,
  type ReplicaSetScale,
  type StatusView,
  type StepView,
} from './model.ts';
import { basicCanaryReplicas, dynamicAbortWeight, routedCanaryReplicas, surgeLimits, weightedSplit } from './replicas.ts';
import { planPodTemplates } from './pod-metadata.ts';
import { progressThresholdPods } from './progress-threshold.ts';
import { rollbackWithinWindow } from './rollback-window.ts';
import { limitDelayedScaleDowns } from './scale-down-limit.ts';
import { workloadScaleDown } from './workload-ref.ts';
import { AnalysisPlanner, hasInconclusivePause } from '../analysis/rollout-plan.ts';
import { planBlueGreen } from './bluegreen.ts';
import { planRestart, derivePhase, selectorString, setCondition, sum } from './plan-common.ts';

export const DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30;
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

export function planRollout(input: PlanInput): Plan {
  const { rollout, now } = input;
  const prev: StatusView = rollout.status ?? {};
  const status: StatusView = structuredClone(prev);
  status.observedGeneration = String(rollout.generation);
  const events: PlannedEvent[] = [];
  const plan: Plan = { scale: [], deleteReplicaSets: [], deletePods: [], services: [], status, events };

  const invalid = invalidSpecPlan(input, plan);
  if (invalid) return invalid;
  setCondition(status, now, 'InvalidSpec', undefined);
  setCondition(
    status,
    now,
    'NotImplemented',
    input.notImplemented.length > 0
      ? { status: 'True', reason: 'FieldsNotImplemented', message: `accepted but not implemented yet, ignored: ${input.notImplemented.map((i) => i.path).join(', ')}` }
      : undefined,
  );

  const spec = rollout.spec;
  if (spec.strategy?.blueGreen && !spec.strategy.canary) return planBlueGreen(input, plan);
  const canary = spec.strategy?.canary ?? {};
  // setWeight counts out of trafficRouting.maxTrafficWeight when set: plan in percent throughout
  // and turn the weight back into an exact ratio over maxTrafficWeight for the router.
  const maxTrafficWeight = (canary.trafficRouting as { maxTrafficWeight?: number } | undefined)?.maxTrafficWeight;
  const steps = maxTrafficWeight && maxTrafficWeight !== 100 ? (canary.steps ?? []).map((s) => (typeof s.setWeight === 'number' ? { ...s, setWeight: (s.setWeight * 100) / maxTrafficWeight } : s)) : (canary.steps ?? []);
  const replicas = spec.replicas ?? 1;
  const routed = !input.router.capabilities.replicaBased;
  const currentHash = currentPodHash(input.replicaSets, spec.template, prev.collisionCount ?? 0, prev.currentPodHash);
  const digest = stepsHash(steps);
  const byHash = new Map(input.replicaSets.map((rs) => [rs.hash, rs]));
  const maxRevision = Math.max(0, ...input.replicaSets.map((rs) => rs.revision));

  // --- Which revision are we rolling to, and from where? ---------------------------------
  let stepIndex = prev.currentStepIndex ?? 0;
  const templateChanged = prev.currentPodHash !== currentHash;
  if (templateChanged) {
    stepIndex = 0;
    status.currentPodHash = currentHash;
    status.pauseConditions = [];
    status.controllerPause = false;
    status.abort = false;
    delete status.abortedAt;
    status.promoteFull = false;
  } else if (prev.currentStepHash !== undefined && prev.currentStepHash !== digest) {
    stepIndex = 0; // the steps were edited mid-rollout: run the new list from its start
    status.pauseConditions = [];
    status.controllerPause = false;
  }
  status.currentStepHash = digest;

  const firstDeploy = !prev.stableRS;
  if (firstDeploy) status.stableRS = currentHash;
  const stableHash = status.stableRS as string;
  let newRS = byHash.get(currentHash);
  const revision = newRS && newRS.revision === maxRevision && maxRevision > 0 ? newRS.revision : maxRevision + 1;
  if (templateChanged && !firstDeploy && prev.currentPodHash !== undefined) {
    events.push({ type: 'Normal', reason: 'RolloutUpdated', message: `Rollout updated to revision ${revision}` });
  }

  // `promote --full` wins over an abort, as in Argo: the abort is cleared and the update completes
  // (its failed analysis no longer counts: analysis is skipped on a full promotion).
  const promoteOverAbort = status.promoteFull === true && status.abort === true && currentHash !== stableHash;
  if (promoteOverAbort) {
    status.abort = false;
    delete status.abortedAt;
  }

  // --- Analysis: a run that ended Failed or Error aborts (see analysis/rollout-plan.ts) --------
  const analysis = new AnalysisPlanner({ rolloutName: rollout.name, currentHash, runs: input.analysisRuns ?? [], status, events, now });
  analysis.beforeAbort({ inCanary: currentHash !== stableHash && !status.promoteFull, retrying: !status.abort && prev.abortedAt !== undefined && !templateChanged });

  // --- Abort, retry, promote-full: flags the CLI sets in status ------------------------------
  const abort = status.abort === true && currentHash !== stableHash;
  if (abort && !prev.abortedAt) {
    status.abortedAt = iso(now);
    stepIndex = 0;
    status.pauseConditions = [];
    status.controllerPause = false;
    events.push({ type: 'Warning', reason: 'RolloutAborted', message: `Rollout aborted update to revision ${revision}` });
  }
  if (!abort && status.abort) {
    status.abort = false; // nothing to abort: the template is the stable one
    delete status.abortedAt;
  }
  if (!status.abort && prev.abortedAt && !templateChanged && !promoteOverAbort) {
    // `retry` cleared the abort flag: run the steps again from the first.
    delete status.abortedAt;
    stepIndex = 0;
    events.push({ type: 'Normal', reason: 'RolloutRetried', message: `Rollout retried update to revision ${revision}` });
  }

  let inCanary = currentHash !== stableHash;
  if (!inCanary) stepIndex = steps.length;
  if (inCanary && status.promoteFull && stepIndex < steps.length) {
    stepIndex = steps.length;
    status.pauseConditions = [];
    status.controllerPause = false;
    events.push({ type: 'Normal', reason: 'RolloutResumed', message: 'Rollout fully promoted: remaining steps skipped' });
  }
  // spec.rollbackWindow: back to one of the last revisions, like back to the stable one.
  const fastRollback = inCanary && !abort && rollbackWithinWindow(spec.rollbackWindow, newRS, byHash.get(stableHash), input.replicaSets);
  if (fastRollback && stepIndex < steps.length) {
    stepIndex = steps.length;
    status.pauseConditions = [];
    status.controllerPause = false;
    events.push({ type: 'Normal', reason: 'SkipSteps', message: `Rollback to revision ${newRS?.revision ?? revision} within rollbackWindow (${spec.rollbackWindow?.revisions ?? 0}): steps skipped` });
  }

  const limits = surgeLimits(replicas, canary.maxSurge, canary.maxUnavailable);
  const canaryAvailable = newRS?.available ?? 0;
  // Available canary pods that count as a step's `needed` ones (replicaProgressThreshold).
  const reached = (needed: number): number => progressThresholdPods(needed, canary.replicaProgressThreshold);
  const dynamicStable = routed && canary.dynamicStableScale === true;
  const prevWeights = prev.canary?.weights;
  const currentWeights = prevWeights ? { canary: prevWeights.canary.weight, stable: prevWeights.stable.weight } : undefined;
  // Canary and stable pods the step at `index` wants (replicas.ts: Argo's arithmetic); without a
  // router setCanaryScale does not apply and the pair also depends on maxSurge.
  const podsAt = (index: number): { canary: number; stable: number } => {
    const scale = routed && index < steps.length ? canaryScaleAt(steps, index) : undefined;
    const weight = scale?.weight ?? effectiveWeight(steps, index);
    if (!routed) return weightedSplit(replicas, weight, limits.maxSurge);
    const { minPodsPerReplicaSet } = canary;
    return routedCanaryReplicas({ replicas, weight, canaryReplicas: scale?.replicas, minPodsPerReplicaSet, dynamicStableScale: dynamicStable, current: currentWeights });
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
  const stableRSObserved = byHash.get(stableHash);
  // Argo's check before a weight or scale step completes: the stable has exactly its pods (with
  // dynamicStableScale it follows traffic instead) and, without a router, no earlier canary still
  // has available pods serving traffic.
  const stableSettledAt = (index: number): boolean => {
    if (dynamicStable) return true;
    const want = podsAt(index).stable;
    if (stableRSObserved && (stableRSObserved.replicas !== want || stableRSObserved.current !== want)) return false;
    return routed || input.replicaSets.every((rs) => rs.hash === currentHash || rs.hash === stableHash || rs.available === 0);
  };

  // --- Walk the steps as far as they are complete --------------------------------------------
  let requeueAfterMs: number | undefined;
  let lastCompletedWeight: number | undefined; // a weight step completed in this plan counts as applied by it
  const requeueAt = (ms: number): void => {
    const delay = Math.max(0, ms - now);
    requeueAfterMs = requeueAfterMs === undefined ? delay : Math.min(requeueAfterMs, delay);
  };
  // The parts of a step that wait for pods and the router. A step may combine setCanaryScale and
  // header/mirror routes with one of setWeight, pause, analysis or experiment (as in Argo); these
  // parts come first, then a pause starts or an analysis runs.
  const podsAndRoutesReady = (step: StepView, index: number): boolean => {
    const needed = desiredCanaryAt(index);
    const scales = typeof step.setWeight === 'number' || step.setCanaryScale !== undefined;
    if (scales && (canaryAvailable < reached(needed) || (newRS?.replicas ?? 0) < needed || !stableSettledAt(index))) return false;
    if (typeof step.setWeight === 'number' && !input.trafficVerified) return false;
    // A route is done once the router has it in place (verified where it can tell), and never
    // before a canary pod can serve what it sends.
    const routes = step.setHeaderRoute !== undefined || step.setMirrorRoute !== undefined;
    return !routes || (input.trafficVerified && canaryAvailable >= 1 && (newRS?.replicas ?? 0) >= needed);
  };
  if (inCanary && !abort && !spec.paused && hasInconclusivePause(status)) stepIndex = endExpiredPause(steps, stepIndex, status, now, events, requeueAt);
  while (inCanary && !abort && !spec.paused && !hasInconclusivePause(status) && stepIndex < steps.length) {
    const step = steps[stepIndex] as StepView;
    const label = `${stepIndex + 1}/${steps.length}`;
    if (!podsAndRoutesReady(step, stepIndex)) break;
    if (step.pause) {
      const condition = (status.pauseConditions ?? []).find((c) => c.reason === PAUSE_REASON_STEP);
      if (!condition && status.controllerPause) {
        // We paused here and someone removed our pause condition: that is a promote.
        status.controllerPause = false;
        events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed (promoted at step ${label})` });
      } else {
        const startTime = condition?.startTime ?? iso(now);
        if (!condition) {
          status.pauseConditions = [...(status.pauseConditions ?? []), { reason: PAUSE_REASON_STEP, startTime }];
          status.controllerPause = true;
          events.push({ type: 'Normal', reason: 'RolloutPaused', message: `Rollout is paused (${PAUSE_REASON_STEP}) at step ${label}` });
        }
        const duration = durationMs(step.pause.duration);
        if (duration === undefined) break; // wait for a human
        const endsAt = Date.parse(startTime) + duration;
        if (now < endsAt) {
          requeueAt(endsAt);
          break;
        }
        status.pauseConditions = (status.pauseConditions ?? []).filter((c) => c.reason !== PAUSE_REASON_STEP);
        status.controllerPause = false;
        events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed: pause of ${step.pause.duration} at step ${label} ended` });
      }
      events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (pause)` });
    } else if (step.analysis) {
      if (analysis.step(stepIndex, step.analysis, label) === 'wait') break;
    } else {
      for (const kind of Object.keys(step).filter((k) => !PLANNED_STEP_KINDS.has(k))) {
        events.push({ type: 'Warning', reason: 'StepNotImplemented', message: `Rollout step ${label} (${kind}) is not implemented yet and was skipped` });
      }
      const done = stepSummary(step);
      if (done) events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (${done})` });
      if (typeof step.setWeight === 'number') lastCompletedWeight = step.setWeight;
    }
    stepIndex++;
  }
  const atEnd = stepIndex >= steps.length;

  // --- Traffic: never above what available canary pods can serve ------------------------------
  const prevWeight = prev.canary?.weights?.canary.weight ?? 0;
  let trafficWeight = 0;
  if (inCanary && !abort) {
    const target = effectiveWeight(steps, stepIndex);
    const needed = atEnd ? replicas : desiredCanaryAt(stepIndex);
    if (canaryAvailable >= (atEnd ? needed : reached(needed)) && (newRS?.replicas ?? 0) >= needed) trafficWeight = target;
    else trafficWeight = Math.min(Math.max(prevWeight, lastCompletedWeight ?? 0), servableWeight(replicas, canaryAvailable, routed));
    if (canaryAvailable === 0) trafficWeight = 0;
  } else if (abort && dynamicStable) {
    // dynamicStableScale: traffic goes back only as fast as stable pods become available for it.
    trafficWeight = dynamicAbortWeight(replicas, stableRSObserved?.available ?? 0, prevWeight);
  }

  // --- Promotion: weight 100 first, then the new ReplicaSet becomes stable --------------------
  let promotedFrom: string | undefined;
  if (inCanary && !abort && atEnd && !hasInconclusivePause(status) && newRS && canaryAvailable >= replicas && newRS.replicas >= replicas) {
    const trafficAtFull = routed ? prevWeight >= 100 && prev.canary?.weights?.verified !== false : (stableRSObserved?.replicas ?? 0) === 0;
    if (trafficAtFull) {
      promotedFrom = stableHash;
      status.stableRS = currentHash;
      inCanary = false;
      trafficWeight = 0;
      status.promoteFull = false;
      status.pauseConditions = [];
      status.controllerPause = false;
      events.push({
        type: 'Normal',
        reason: 'RolloutCompleted',
        message: `Rollout completed update to revision ${revision} (${currentHash}): ${steps.length > 0 ? `completed all ${steps.length} canary steps` : 'no steps'}`,
      });
    }
  }
  const finalStableHash = status.stableRS as string;
  const backgroundAnalysis = canary.analysis;
  analysis.background(inCanary && !abort && !status.promoteFull && !fastRollback && stepIndex >= (backgroundAnalysis?.startingStep ?? 0), backgroundAnalysis);
  plan.analysis = analysis.finish({ abort, inCanary, stepIndex, successfulLimit: spec.analysis?.successfulRunHistoryLimit, unsuccessfulLimit: spec.analysis?.unsuccessfulRunHistoryLimit });

  // --- ReplicaSet sizes ---------------------------------------------------------------------
  const scale: ReplicaSetScale[] = [];
  const sizes = new Map<string, number>(); // hash -> desired spec.replicas
  if (!routed) {
    // One move of Argo's arithmetic (replicas.ts); after promotion or on a rollback the stable is the current one.
    const separate = inCanary && stableRSObserved !== undefined;
    const older = input.replicaSets.filter((rs) => rs.hash !== currentHash && rs.hash !== finalStableHash);
    const weight = abort ? 0 : effectiveWeight(steps, stepIndex);
    const next = basicCanaryReplicas({ replicas, weight, limits, canary: counts(newRS), stable: separate ? counts(stableRSObserved) : undefined, olderReplicas: sum(older.map((rs) => rs.replicas)) });
    sizes.set(currentHash, next.canary);
    if (separate) sizes.set(finalStableHash, next.stable);
  } else if (!inCanary) {
    sizes.set(finalStableHash, replicas);
  } else if (!abort) {
    sizes.set(currentHash, atEnd ? replicas : desiredCanaryAt(stepIndex));
    sizes.set(finalStableHash, podsAt(stepIndex).stable);
  } else {
    const aborted = abortedRoutedSizes(replicas, canary, trafficWeight, newRS, stableRSObserved);
    sizes.set(finalStableHash, aborted.stable);
    if (aborted.canary !== undefined) sizes.set(currentHash, aborted.canary);
  }

  if (!newRS) {
    const initial = sizes.get(currentHash) ?? 0;
    plan.create = { name: `${rollout.name}-${currentHash}`, hash: currentHash, revision, replicas: initial };
    newRS = { name: plan.create.name, hash: currentHash, revision, replicas: initial, current: 0, ready: 0, available: 0, settled: true };
    events.push({ type: 'Normal', reason: 'NewReplicaSetCreated', message: `Created ReplicaSet ${plan.create.name} (revision ${revision}) with size ${initial}` });
  } else if (newRS.revision !== revision) {
    scale.push({ name: newRS.name, from: newRS.replicas, to: newRS.replicas, annotations: { [REVISION_ANNOTATION]: String(revision) } });
  }

  // Without a router, ReplicaSets outside the canary/stable pair (an earlier canary) shrink only
  // as far as replicas − maxUnavailable available pods allow, like the pair itself.
  if (!routed) {
    const availableOf = (rs: ObservedReplicaSet): number => Math.min(rs.available, rs.replicas);
    const all = input.replicaSets;
    const loss = sum(all.filter((rs) => sizes.has(rs.hash)).map((rs) => Math.max(0, availableOf(rs) - (sizes.get(rs.hash) ?? 0))));
    let budget = sum(all.map(availableOf)) - loss - Math.max(0, replicas - limits.maxUnavailable);
    // Newest first, as Argo scales down older ReplicaSets.
    for (const rs of [...all].filter((r) => !sizes.has(r.hash) && r.replicas > 0).sort((a, b) => b.revision - a.revision)) {
      const unavailable = Math.max(0, rs.replicas - availableOf(rs));
      const drop = unavailable + Math.max(0, Math.min(availableOf(rs), budget));
      budget -= drop - unavailable;
      sizes.set(rs.hash, rs.replicas - drop);
    }
  }

  // With dynamicStableScale the old stable has already shrunk as traffic left it: it goes at once.
  const scaleDownDelayMs = dynamicStable ? 0 : (canary.scaleDownDelaySeconds ?? DEFAULT_SCALE_DOWN_DELAY_SECONDS) * 1000;
  const abortDelayMs = (canary.abortScaleDownDelaySeconds ?? DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS) * 1000;
  for (const rs of [...input.replicaSets, ...(plan.create ? [newRS] : [])]) {
    if (plan.create && rs === newRS) continue;
    let want = sizes.get(rs.hash);
    const annotations: Record<string, string | null> = {};
    if (want === undefined) {
      // An old ReplicaSet: with a router it keeps serving until its delay is over, so traffic
      // can drain (and an abort can be instant); without one it goes at once.
      want = 0;
      const deadline = rs.scaleDownDeadline ? Date.parse(rs.scaleDownDeadline) : NaN;
      // The aborted canary drains by abortScaleDownDelaySeconds, the stable just replaced by
      // scaleDownDelaySeconds. A canary replaced by a newer template goes at once, as in Argo:
      // its weight is already 0 (the new canary has none yet) and nothing else routes to it.
      const delay = rs.hash === currentHash ? abortDelayMs : rs.hash === promotedFrom || rs.hash === prev.stableRS ? scaleDownDelayMs : 0;
      if (routed && rs.replicas > 0 && !Number.isNaN(deadline)) {
        if (now < deadline) {
          want = rs.replicas;
          requeueAt(deadline);
        }
      } else if (routed && rs.replicas > 0 && delay > 0) {
        annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = iso(now + delay);
        want = rs.replicas;
        requeueAt(now + delay);
      }
      // Scaled down (now or earlier): the deadline is spent, so it leaves the ReplicaSet, as Argo's does.
      if (want === 0 && rs.scaleDownDeadline) annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = null;
    } else if (rs.scaleDownDeadline) {
      annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = null; // back in use: cancel its scale-down
    }
    if (want !== rs.replicas || Object.keys(annotations).length > 0) {
      const existing = scale.find((s) => s.name === rs.name);
      if (existing) {
        existing.to = want;
        existing.annotations = { ...existing.annotations, ...annotations };
      } else {
        scale.push({ name: rs.name, from: rs.replicas, to: want, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) });
      }
    }
  }
  // scaleDownDelayRevisionLimit: only the newest old ReplicaSets keep running through their delay
  // (the aborted canary drains by abortScaleDownDelaySeconds alone, as in Argo).
  const delayed = input.replicaSets.filter((rs) => !sizes.has(rs.hash) && rs.hash !== currentHash && rs.replicas > 0 && (scale.find((s) => s.name === rs.name)?.to ?? rs.replicas) > 0);
  limitDelayedScaleDowns(scale, delayed, canary.scaleDownDelayRevisionLimit);
  for (const s of scale) {
    if (s.to !== s.from) {
      const rs = input.replicaSets.find((r) => r.name === s.name);
      events.push({
        type: 'Normal',
        reason: 'ScalingReplicaSet',
        message: `Scaled ${s.to > s.from ? 'up' : 'down'} ReplicaSet ${s.name} (revision ${rs?.revision ?? revision}) from ${s.from} to ${s.to}`,
      });
    }
  }
  plan.scale = scale;

  // --- canaryMetadata/stableMetadata and anti-affinity: templates and running pods (pod-metadata.ts)
  const templates = planPodTemplates({
    namespace: rollout.namespace,
    template: spec.template,
    canary,
    replicaSets: input.replicaSets,
    pods: input.pods,
    currentHash,
    stableHash: finalStableHash,
    inCanary,
    sizeAfter: (rs) => scale.find((s) => s.name === rs.name)?.to ?? rs.replicas,
  });
  if (plan.create && (templates.create.annotations !== undefined || 'affinity' in templates.create)) Object.assign(plan.create, templates.create);
  if (templates.templatePatches.length > 0) plan.templatePatches = templates.templatePatches;
  if (templates.podPatches.length > 0) plan.podPatches = templates.podPatches;

  // Old, empty ReplicaSets beyond revisionHistoryLimit go, oldest first.
  const historyLimit = spec.revisionHistoryLimit ?? DEFAULT_REVISION_HISTORY_LIMIT;
  const history = input.replicaSets
    .filter((rs) => rs.hash !== currentHash && rs.hash !== finalStableHash && rs.replicas === 0 && rs.current === 0 && !scale.some((s) => s.name === rs.name && s.to > 0))
    .sort((a, b) => b.revision - a.revision);
  plan.deleteReplicaSets = history.slice(historyLimit).map((rs) => rs.name);

  // --- Services: pinned to a hash only once that ReplicaSet has available pods -----------------
  const newAvailable = newRS.available;
  const stableAvailable = byHash.get(finalStableHash)?.available ?? 0;
  const pin = (serviceName: string | undefined, wantHash: string, wantHasPods: boolean, fallbackHash: string): void => {
    if (!serviceName) return;
    const svc = input.services[serviceName];
    if (!svc) return;
    const current = svc.selector[POD_TEMPLATE_HASH_LABEL];
    const target = wantHasPods ? wantHash : (current ?? (fallbackHash === wantHash ? undefined : fallbackHash));
    if (target !== undefined && current !== target) {
      plan.services.push({ service: serviceName, from: current, to: target });
      events.push({ type: 'Normal', reason: 'SwitchService', message: `Switched selector for service '${serviceName}' from '${current ?? ''}' to '${target}'` });
    }
  };
  pin(canary.stableService, finalStableHash, stableAvailable > 0, finalStableHash);
  // An abort with dynamicStableScale keeps the canary Service on the canary while it still has traffic.
  const canaryServed = inCanary && (!abort || trafficWeight > 0);
  pin(canary.canaryService, canaryServed ? currentHash : finalStableHash, canaryServed ? newAvailable > 0 : stableAvailable > 0, finalStableHash);

  // --- Traffic to the router ------------------------------------------------------------------
  const exactTarget = maxTrafficWeight && maxTrafficWeight !== 100 && trafficWeight === effectiveWeight(steps, stepIndex) && trafficWeight > 0 && trafficWeight < 100;
  // Subsets/backends follow the new canary only once it has pods: until then the router keeps the
  // hash it had (which the weight, already 0 for an unavailable canary, leaves unused).
  const previousCanaryHash = prev.canary?.weights?.canary.podTemplateHash;
  const routerCanaryHash = !inCanary ? finalStableHash : newAvailable > 0 || !previousCanaryHash || !byHash.get(previousCanaryHash)?.available ? currentHash : previousCanaryHash;
  const trafficRatio = !inCanary || (abort && trafficWeight === 0) ? FULL_STABLE : exactTarget && !abort ? ratioOutOf((trafficWeight * maxTrafficWeight) / 100, maxTrafficWeight) : ratioFromPercent(trafficWeight);
  // Routed without the two Services is Istio subset-level splitting (validation allows no other).
  if (routed || (canary.stableService && canary.canaryService)) {
    const traffic: DesiredTraffic = {
      weight: trafficRatio,
      stableService: canary.stableService ?? '',
      canaryService: canary.canaryService ?? '',
      stableHash: finalStableHash,
      canaryHash: routerCanaryHash,
      ...(inCanary && !abort && canaryAvailable > 0 ? managedRoutesAt(steps, stepIndex, true) : { headerRoutes: [], mirrorRoutes: [] }),
    };
    plan.traffic = traffic;
  }
  const appliedPercent = percentOf(trafficRatio);
  if (routed && appliedPercent !== prevWeight) {
    events.push({ type: 'Normal', reason: 'TrafficWeightUpdated', message: `Traffic weight updated from ${prevWeight} to ${appliedPercent}` });
  }
  const shownWeight = routed ? appliedPercent : inCanary && !abort ? ratioWeight(sizes.get(currentHash) ?? 0, sizes.get(finalStableHash) ?? 0) : 0;
  status.canary = {
    ...(status.canary ?? {}),
    weights: {
      canary: { weight: shownWeight, podTemplateHash: inCanary ? currentHash : finalStableHash, ...(canary.canaryService ? { serviceName: canary.canaryService } : {}) },
      stable: { weight: Math.round((100 - shownWeight) * 100) / 100, podTemplateHash: finalStableHash, ...(canary.stableService ? { serviceName: canary.stableService } : {}) },
      verified: routed ? input.trafficVerified : true,
    },
  };

  // --- Counts, step index, phase, conditions ----------------------------------------------------
  const all = input.replicaSets;
  status.replicas = sum(all.map((rs) => rs.current));
  status.updatedReplicas = input.replicaSets.find((rs) => rs.hash === currentHash)?.current ?? 0;
  status.readyReplicas = sum(all.map((rs) => rs.ready));
  status.availableReplicas = sum(all.map((rs) => rs.available));
  status.HPAReplicas = status.replicas;
  status.selector = selectorString(spec.selector);
  if (steps.length > 0) status.currentStepIndex = Math.min(stepIndex, steps.length);
  else delete status.currentStepIndex;
  if (inCanary === false && !status.abort) status.promoteFull = false;

  derivePhase(input, status, prev, {
    abort,
    inCanary,
    currentHash,
    revision,
    replicas,
    newRS: input.replicaSets.find((rs) => rs.hash === currentHash),
    oldPodsLeft: routed ? 0 : sum(all.filter((rs) => rs.hash !== finalStableHash).map((rs) => rs.current)),
    minAvailable: Math.max(0, replicas - limits.maxUnavailable),
    events,
    requeueAt,
    waitingOnAnalysis: analysis.waiting,
  });

  // spec.workloadRef: the referenced Deployment steps aside as its scaleDown says (workload-ref.ts).
  if (input.workload !== undefined) status.workloadObservedGeneration = String(input.workload.generation);
  plan.workloadScale = workloadScaleDown(spec, input.workload, status);
  if (plan.workloadScale) {
    const { name, from, to } = plan.workloadScale;
    events.push({ type: 'Normal', reason: 'ScalingDeployment', message: `Scaled ${to < from ? 'down' : 'up'} Deployment ${name} from ${from} to ${to} (workloadRef scaleDown: ${spec.workloadRef?.scaleDown ?? 'never'})` });
  }

  planRestart(input, plan, limits.maxUnavailable, requeueAt);
  plan.requeueAfterMs = requeueAfterMs;
  return plan;
}

/** The step kinds the planner carries out; others (experiment, plugin) are skipped with a warning. */
const PLANNED_STEP_KINDS = new Set(['setWeight', 'pause', 'setCanaryScale', 'analysis', 'setHeaderRoute', 'setMirrorRoute']);

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
  canary: NonNullable<NonNullable<PlanInput['rollout']['spec']['strategy']>['canary']>,
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
function endExpiredPause(steps: readonly StepView[], stepIndex: number, status: StatusView, now: number, events: PlannedEvent[], requeueAt: (ms: number) => void): number {
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
