// The blue-green planner (strategy.blueGreen), with Argo Rollouts' semantics. Pure like the canary
// planner (planner.ts calls it once the spec is valid): spec + observed ReplicaSets, Services and
// AnalysisRuns in, a Plan out; all progress lives in status, so a restart resumes where it was.
//
// An update: the new ReplicaSet is created at 0, the preview Service is pointed at it, it grows to
// previewReplicaCount (or spec.replicas); once all those pods are available prePromotionAnalysis
// runs, then the rollout pauses (BlueGreenPause) when autoPromotionEnabled is false or
// autoPromotionSeconds is set; after the promote it grows to spec.replicas, the active Service is
// switched, postPromotionAnalysis runs, and the new ReplicaSet becomes stable. The old one is
// scaled down scaleDownDelaySeconds later. The active Service is never pointed at a ReplicaSet
// with fewer available pods than spec.replicas.
import { PAUSE_REASON_INCONCLUSIVE, hasInconclusivePause } from '../analysis/rollout-plan.ts';
import { PromotionAnalysis } from './bluegreen-analysis.ts';
import { currentPodHash } from './adopt.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import type { SpecIssue } from '../api/issues.ts';
import { REVISION_ANNOTATION, SCALE_DOWN_DEADLINE_ANNOTATION, type BlueGreenView, type ObservedReplicaSet, type Plan, type PlanInput, type PlannedEvent, type ReplicaSetScale, type StatusView } from './model.ts';
import { planPodTemplates } from './pod-metadata.ts';
import { limitDelayedScaleDowns } from './scale-down-limit.ts';
import { surgeLimits } from './replicas.ts';
import { derivePhase, planRestart, selectorString, sum } from './plan-common.ts';
import type { PlanBlueGreen, PlannedInput } from './plan-spec.ts';

export const PAUSE_REASON_BLUE_GREEN = 'BlueGreenPause';

const iso = (ms: number): string => new Date(ms).toISOString();

/** The state one blue-green plan works on. */
interface Ctx {
  input: PlannedInput;
  plan: Plan;
  bg: PlanBlueGreen;
  prev: StatusView;
  status: StatusView;
  events: PlannedEvent[];
  now: number;
  replicas: number;
  currentHash: string;
  stableHash: string;
  revision: number;
  byHash: Map<string, ObservedReplicaSet>;
  newRS: ObservedReplicaSet | undefined;
  /** the hash the active / preview Service selects now (observed) */
  activeHash: string | undefined;
  previewHash: string | undefined;
  abort: boolean;
  inUpdate: boolean;
  /** the active Service is switched to the current revision in this plan */
  switchActive: boolean;
  /** the ReplicaSet that stopped being stable in this plan */
  promotedFrom: string | undefined;
  requeueAfterMs: number | undefined;
  analysis: PromotionAnalysis;
}

function requeueAt(ctx: Ctx, ms: number): void {
  const delay = Math.max(0, ms - ctx.now);
  ctx.requeueAfterMs = ctx.requeueAfterMs === undefined ? delay : Math.min(ctx.requeueAfterMs, delay);
}

const selected = (input: PlanInput, service: string | undefined): string | undefined => (service ? input.services[service]?.selector[POD_TEMPLATE_HASH_LABEL] : undefined);

/** All pods of the ReplicaSet available at the full size: the only kind the active Service may select. */
function fullyAvailable(rs: ObservedReplicaSet | undefined, replicas: number): boolean {
  return rs !== undefined && rs.available >= replicas && rs.replicas >= replicas;
}

export function planBlueGreen(input: PlannedInput, plan: Plan): Plan {
  const ctx = startRevision(input, plan);
  handleAbortAndRetry(ctx);
  if (!ctx.abort && ctx.inUpdate && input.rollout.spec.paused !== true) progress(ctx);
  const scale = planSizes(ctx);
  planServices(ctx);
  planTemplates(ctx, scale);
  ctx.plan.analysis = ctx.analysis.finish({ successfulLimit: input.rollout.spec.analysis?.successfulRunHistoryLimit, unsuccessfulLimit: input.rollout.spec.analysis?.unsuccessfulRunHistoryLimit });
  finishStatus(ctx);
  return ctx.plan;
}

/** Which revision we roll to and from where; a new template starts the update over. */
function startRevision(input: PlannedInput, plan: Plan): Ctx {
  const { rollout, now } = input;
  const spec = rollout.spec;
  const bg = spec.strategy?.blueGreen as PlanBlueGreen;
  const prev: StatusView = rollout.status ?? {};
  const { status, events } = plan;
  const currentHash = currentPodHash(input.replicaSets, spec.template, prev.collisionCount ?? 0, prev.currentPodHash, input.templateHash);
  const byHash = new Map(input.replicaSets.map((rs) => [rs.hash, rs]));
  const maxRevision = Math.max(0, ...input.replicaSets.map((rs) => rs.revision));
  const newRS = byHash.get(currentHash);
  const revision = newRS && newRS.revision === maxRevision && maxRevision > 0 ? newRS.revision : maxRevision + 1;
  const analysis = new PromotionAnalysis({ rolloutName: rollout.name, currentHash, runs: input.analysisRuns ?? [], status, events, now });
  const templateChanged = prev.currentPodHash !== currentHash;
  if (templateChanged) {
    status.currentPodHash = currentHash;
    status.pauseConditions = [];
    status.controllerPause = false;
    status.abort = false;
    delete status.abortedAt;
    status.promoteFull = false;
    status.blueGreen = { ...(status.blueGreen ?? {}), scaleUpPreviewCheckPoint: false };
    analysis.forget();
    if (prev.currentPodHash !== undefined && prev.stableRS) events.push({ type: 'Normal', reason: 'RolloutUpdated', message: `Rollout updated to revision ${revision}` });
  }
  if (!prev.stableRS) status.stableRS = currentHash;
  delete status.currentStepIndex;
  delete status.currentStepHash;
  const stableHash = status.stableRS as string;
  return {
    input,
    plan,
    bg,
    prev,
    status,
    events,
    now,
    replicas: spec.replicas,
    currentHash,
    stableHash,
    revision,
    byHash,
    newRS,
    activeHash: selected(input, bg.activeService),
    previewHash: selected(input, bg.previewService),
    abort: false,
    inUpdate: currentHash !== stableHash,
    switchActive: false,
    promotedFrom: undefined,
    requeueAfterMs: undefined,
    analysis,
  };
}

/** A failed analysis aborts; `promote --full` wins over an abort; `retry` starts the update over. */
function handleAbortAndRetry(ctx: Ctx): void {
  const { status, prev, events } = ctx;
  if (status.promoteFull && status.abort && ctx.inUpdate) {
    status.abort = false;
    delete status.abortedAt;
  }
  // `retry` cleared the abort: the failed run of the aborted attempt must not abort it again.
  const retrying = !status.abort && prev.abortedAt !== undefined && prev.currentPodHash === ctx.currentHash;
  if (retrying) ctx.analysis.forget();
  const failed = ctx.inUpdate && !status.abort && !status.promoteFull ? ctx.analysis.failedRun() : undefined;
  if (failed) status.abort = true;
  ctx.abort = status.abort === true && ctx.inUpdate;
  if (ctx.abort && !prev.abortedAt) {
    status.abortedAt = iso(ctx.now);
    status.pauseConditions = [];
    status.controllerPause = false;
    events.push({ type: 'Warning', reason: 'RolloutAborted', message: `Rollout aborted update to revision ${ctx.revision}` });
  }
  if (!ctx.abort && status.abort) {
    status.abort = false; // nothing to abort: the template is the stable one
    delete status.abortedAt;
  }
  if (!status.abort && prev.abortedAt && prev.currentPodHash === ctx.currentHash && !status.promoteFull) {
    delete status.abortedAt;
    status.blueGreen = { ...(status.blueGreen ?? {}), scaleUpPreviewCheckPoint: false };
    ctx.analysis.forget();
    events.push({ type: 'Normal', reason: 'RolloutRetried', message: `Rollout retried update to revision ${ctx.revision}` });
  }
}

/** The size the new ReplicaSet has before the promote: previewReplicaCount, or spec.replicas. */
function previewSize(ctx: Ctx): number {
  const promoted = ctx.status.blueGreen?.scaleUpPreviewCheckPoint === true || ctx.status.promoteFull === true;
  return ctx.bg.previewReplicaCount !== undefined && !promoted ? ctx.bg.previewReplicaCount : ctx.replicas;
}

/** Walks the update as far as it can go in this plan: pre-analysis, pause, switch, post-analysis. */
function progress(ctx: Ctx): void {
  const { status, bg } = ctx;
  const full = status.promoteFull === true;
  if (full && (status.pauseConditions ?? []).length > 0) {
    status.pauseConditions = []; // promote --full ends every pause
    status.controllerPause = false;
  }
  // Held by an inconclusive run until a promote removes the condition (the run then counts as passed).
  if (hasInconclusivePause(status)) return;
  if (status.blueGreen?.scaleUpPreviewCheckPoint !== true) {
    const size = previewSize(ctx);
    if (!ctx.newRS || ctx.newRS.available < size || ctx.newRS.replicas < size) return;
    if (bg.prePromotionAnalysis && !full && !analysisDone(ctx, 'prePromotion', bg.prePromotionAnalysis)) return;
    // Back to a stack still waiting out its scale-down delay (undo right after a promotion): a
    // fast rollback, no pause, as in Argo (the deadline stays on it until the switch).
    const fastRollback = ctx.newRS.scaleDownDeadline !== undefined;
    if (!full && !fastRollback && ctx.activeHash !== ctx.currentHash && !pauseDone(ctx)) return;
    status.blueGreen = { ...(status.blueGreen ?? {}), scaleUpPreviewCheckPoint: true };
  }
  // Promoted: the new ReplicaSet grows to spec.replicas; the active Service follows once all are available.
  if (ctx.activeHash !== ctx.currentHash) {
    if (!fullyAvailable(ctx.newRS, ctx.replicas)) return;
    ctx.switchActive = true;
  }
  if (bg.postPromotionAnalysis && !full && !analysisDone(ctx, 'postPromotion', bg.postPromotionAnalysis)) return;
  ctx.promotedFrom = ctx.stableHash;
  status.stableRS = ctx.currentHash;
  ctx.stableHash = ctx.currentHash;
  ctx.inUpdate = false;
  status.promoteFull = false;
  status.pauseConditions = [];
  status.controllerPause = false;
  ctx.events.push({ type: 'Normal', reason: 'RolloutCompleted', message: `Rollout completed update to revision ${ctx.revision} (${ctx.currentHash}): active service switched` });
}

function analysisDone(ctx: Ctx, kind: 'prePromotion' | 'postPromotion', analysis: NonNullable<BlueGreenView['prePromotionAnalysis']>): boolean {
  const outcome = ctx.analysis.run(kind, analysis);
  if (outcome === 'failed') {
    ctx.status.abort = true; // seen for the first time as it was adopted: the next plan aborts
    requeueAt(ctx, ctx.now);
  }
  return outcome === 'done';
}

/**
 * BlueGreenPause: with autoPromotionEnabled false the rollout waits for a promote; with
 * autoPromotionSeconds it promotes itself that long after the pause began (Argo ignores
 * autoPromotionSeconds when autoPromotionEnabled is false). True when the pause is over.
 */
function pauseDone(ctx: Ctx): boolean {
  const { status, bg, events, now } = ctx;
  const seconds = bg.autoPromotionEnabled === false ? undefined : bg.autoPromotionSeconds;
  if (bg.autoPromotionEnabled !== false && !(seconds !== undefined && seconds > 0)) return true;
  const condition = (status.pauseConditions ?? []).find((c) => c.reason === PAUSE_REASON_BLUE_GREEN);
  if (!condition && status.controllerPause) {
    // We paused and someone removed our condition: that is a promote.
    status.controllerPause = false;
    events.push({ type: 'Normal', reason: 'RolloutResumed', message: 'Rollout resumed (promoted)' });
    return true;
  }
  const startTime = condition?.startTime ?? iso(now);
  if (!condition) {
    status.pauseConditions = [...(status.pauseConditions ?? []), { reason: PAUSE_REASON_BLUE_GREEN, startTime }];
    status.controllerPause = true;
    events.push({ type: 'Normal', reason: 'RolloutPaused', message: `Rollout is paused (${PAUSE_REASON_BLUE_GREEN}): the preview of revision ${ctx.revision} is ready` });
  }
  if (seconds === undefined) return false;
  const endsAt = Date.parse(startTime) + seconds * 1000;
  if (now < endsAt) {
    requeueAt(ctx, endsAt);
    return false;
  }
  status.pauseConditions = (status.pauseConditions ?? []).filter((c) => c.reason !== PAUSE_REASON_BLUE_GREEN);
  status.controllerPause = false;
  events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed: autoPromotionSeconds (${seconds}s) elapsed` });
  return true;
}

/** The active Service's hash after this plan (pinned only to a fully available ReplicaSet). */
function activeTarget(ctx: Ctx): string | undefined {
  const want = ctx.switchActive ? ctx.currentHash : ctx.abort || !ctx.inUpdate ? ctx.stableHash : (ctx.activeHash ?? ctx.stableHash);
  if (want === ctx.activeHash) return want;
  return fullyAvailable(ctx.byHash.get(want), ctx.replicas) ? want : ctx.activeHash;
}

/** Desired sizes and the scale changes, with scale-down deadlines for ReplicaSets that served. */
function planSizes(ctx: Ctx): ReplicaSetScale[] {
  const { bg, now, replicas, input, plan, events } = ctx;
  const sizes = new Map<string, number>([[ctx.stableHash, replicas]]);
  if (ctx.inUpdate && !ctx.abort) sizes.set(ctx.currentHash, ctx.status.blueGreen?.scaleUpPreviewCheckPoint ? replicas : previewSize(ctx));
  // The ReplicaSet the active Service selects keeps its pods until the Service has left it.
  const active = activeTarget(ctx);
  if (active !== undefined && !sizes.has(active) && ctx.byHash.has(active)) sizes.set(active, replicas);

  if (!ctx.newRS) {
    // Created at 0 during an update (the preview Service goes to it first), at full size on the first deploy.
    const initial = ctx.inUpdate ? 0 : (sizes.get(ctx.currentHash) ?? replicas);
    plan.create = { name: `${input.rollout.name}-${ctx.currentHash}`, hash: ctx.currentHash, revision: ctx.revision, replicas: initial };
    events.push({ type: 'Normal', reason: 'NewReplicaSetCreated', message: `Created ReplicaSet ${plan.create.name} (revision ${ctx.revision}) with size ${initial}` });
  }
  const scaleDownDelayMs = bg.scaleDownDelaySeconds * 1000;
  // An aborted preview keeps its pods this long (0: until the next update).
  const abortDelaySeconds = bg.abortScaleDownDelaySeconds;
  const scale: ReplicaSetScale[] = [];
  for (const rs of input.replicaSets) {
    let want = sizes.get(rs.hash);
    const annotations: Record<string, string | null> = {};
    if (rs.hash === ctx.currentHash && rs.revision !== ctx.revision) annotations[REVISION_ANNOTATION] = String(ctx.revision);
    if (want === undefined) {
      want = 0;
      const deadline = rs.scaleDownDeadline ? Date.parse(rs.scaleDownDeadline) : NaN;
      const served = rs.hash === ctx.promotedFrom || rs.hash === ctx.prev.stableRS || rs.hash === ctx.activeHash;
      const delayMs = rs.hash === ctx.currentHash ? (abortDelaySeconds === 0 ? Infinity : abortDelaySeconds * 1000) : served ? scaleDownDelayMs : 0;
      if (rs.replicas > 0 && delayMs === Infinity) want = rs.replicas;
      else if (rs.replicas > 0 && !Number.isNaN(deadline)) {
        if (now < deadline) {
          want = rs.replicas;
          requeueAt(ctx, deadline);
        }
      } else if (rs.replicas > 0 && delayMs > 0) {
        annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = iso(now + delayMs);
        want = rs.replicas;
        requeueAt(ctx, now + delayMs);
      }
      if (want === 0 && rs.scaleDownDeadline) annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = null;
    } else if (rs.scaleDownDeadline && !(rs.hash === ctx.currentHash && activeTarget(ctx) !== ctx.currentHash)) {
      annotations[SCALE_DOWN_DEADLINE_ANNOTATION] = null; // back in use (serving): its scale-down is cancelled
    }
    if (want !== rs.replicas || Object.keys(annotations).length > 0) scale.push({ name: rs.name, from: rs.replicas, to: want, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) });
  }
  // scaleDownDelayRevisionLimit: only the newest old ReplicaSets wait out their delay.
  const delayed = input.replicaSets.filter((rs) => !sizes.has(rs.hash) && rs.hash !== ctx.currentHash && rs.replicas > 0 && (scale.find((s) => s.name === rs.name)?.to ?? rs.replicas) > 0);
  limitDelayedScaleDowns(scale, delayed, bg.scaleDownDelayRevisionLimit);
  for (const s of scale) {
    if (s.to === s.from) continue;
    const rs = input.replicaSets.find((r) => r.name === s.name);
    events.push({ type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ${s.to > s.from ? 'up' : 'down'} ReplicaSet ${s.name} (revision ${rs?.revision ?? ctx.revision}) from ${s.from} to ${s.to}` });
  }
  plan.scale = scale;
  planHistory(ctx, sizes, scale);
  return scale;
}

/** Old, empty ReplicaSets beyond revisionHistoryLimit go, oldest first. */
function planHistory(ctx: Ctx, sizes: Map<string, number>, scale: ReplicaSetScale[]): void {
  const limit = ctx.input.rollout.spec.revisionHistoryLimit;
  const history = ctx.input.replicaSets
    .filter((rs) => !sizes.has(rs.hash) && rs.hash !== ctx.currentHash && rs.replicas === 0 && rs.current === 0 && !scale.some((s) => s.name === rs.name && s.to > 0))
    .sort((a, b) => b.revision - a.revision);
  ctx.plan.deleteReplicaSets = history.slice(limit).map((rs) => rs.name);
}

/** The preview Service follows the newest revision; the active one only a fully available one. */
function planServices(ctx: Ctx): void {
  const { bg, plan, events, status } = ctx;
  const pin = (service: string | undefined, current: string | undefined, target: string | undefined): void => {
    if (!service || target === undefined || current === target || !ctx.input.services[service]) return;
    plan.services.push({ service, from: current, to: target });
    events.push({ type: 'Normal', reason: 'SwitchService', message: `Switched selector for service '${service}' from '${current ?? ''}' to '${target}'` });
  };
  const active = activeTarget(ctx);
  const preview = ctx.inUpdate && !ctx.abort ? ctx.currentHash : ctx.stableHash;
  pin(bg.activeService, ctx.activeHash, active);
  pin(bg.previewService, ctx.previewHash, preview);
  const blueGreen = { ...(status.blueGreen ?? {}) };
  if (active !== undefined) blueGreen.activeSelector = active;
  if (bg.previewService && ctx.input.services[bg.previewService]) blueGreen.previewSelector = preview;
  else delete blueGreen.previewSelector;
  status.blueGreen = blueGreen;
}

/** activeMetadata / previewMetadata and antiAffinity, through the canary's pod-metadata module. */
function planTemplates(ctx: Ctx, scale: ReplicaSetScale[]): void {
  const { bg, input, plan } = ctx;
  const active = activeTarget(ctx) ?? ctx.stableHash;
  const templates = planPodTemplates({
    namespace: input.rollout.namespace,
    template: input.rollout.spec.template,
    // The preview plays the canary's part, the active stack the stable's.
    canary: { canaryMetadata: bg.previewMetadata, stableMetadata: bg.activeMetadata, antiAffinity: bg.antiAffinity },
    replicaSets: input.replicaSets,
    pods: input.pods,
    currentHash: ctx.currentHash,
    stableHash: active,
    inCanary: active !== ctx.currentHash,
    sizeAfter: (rs) => scale.find((s) => s.name === rs.name)?.to ?? rs.replicas,
  });
  if (plan.create && (templates.create.annotations !== undefined || 'affinity' in templates.create)) Object.assign(plan.create, templates.create);
  if (templates.templatePatches.length > 0) plan.templatePatches = templates.templatePatches;
  if (templates.podPatches.length > 0) plan.podPatches = templates.podPatches;
}

/** Counts, phase and conditions (plan-common.ts's derivePhase, as for canary), restart, requeue. */
function finishStatus(ctx: Ctx): void {
  const { input, status, prev, plan } = ctx;
  const all = input.replicaSets;
  status.replicas = sum(all.map((rs) => rs.current));
  status.updatedReplicas = ctx.newRS?.current ?? 0;
  status.readyReplicas = sum(all.map((rs) => rs.ready));
  status.availableReplicas = ctx.byHash.get(activeTarget(ctx) ?? '')?.available ?? 0;
  status.HPAReplicas = status.replicas;
  status.selector = selectorString(input.rollout.spec.selector);
  if (!ctx.inUpdate && !status.abort) status.promoteFull = false;
  const limits = surgeLimits(ctx.replicas, undefined, ctx.bg.maxUnavailable);
  const requeue = (ms: number): void => requeueAt(ctx, ms);
  derivePhase(input, status, prev, {
    abort: ctx.abort,
    inCanary: ctx.inUpdate,
    currentHash: ctx.currentHash,
    revision: ctx.revision,
    replicas: ctx.replicas,
    newRS: ctx.newRS,
    oldPodsLeft: 0,
    minAvailable: Math.max(0, ctx.replicas - limits.maxUnavailable),
    events: ctx.events,
    requeueAt: requeue,
    waitingOnAnalysis: ctx.analysis.waiting,
  });
  if (status.phase === 'Paused' && hasInconclusivePause(status)) status.message = PAUSE_REASON_INCONCLUSIVE;
  planRestart(input, plan, Math.max(1, limits.maxUnavailable), requeue);
  plan.requeueAfterMs = ctx.requeueAfterMs;
}

/** activeMetadata / previewMetadata / antiAffinity in the shape pod-metadata.ts reads. */
export function blueGreenPodExtras(bg: BlueGreenView | undefined): { canaryMetadata?: BlueGreenView['previewMetadata']; stableMetadata?: BlueGreenView['activeMetadata']; antiAffinity?: BlueGreenView['antiAffinity'] } | undefined {
  return bg ? { canaryMetadata: bg.previewMetadata, stableMetadata: bg.activeMetadata, antiAffinity: bg.antiAffinity } : undefined;
}

/**
 * The active and preview Services as the planner sees them, and what is wrong with them: a Service
 * that does not exist, or whose selector (our hash key aside) the pod template's labels do not match.
 */
export function blueGreenServices(
  bg: BlueGreenView,
  templateLabels: Record<string, string> | undefined,
  lookup: (name: string) => { selector: Record<string, string> } | undefined,
  namespace: string,
): { services: PlanInput['services']; issues: SpecIssue[] } {
  const services: PlanInput['services'] = {};
  const issues: SpecIssue[] = [];
  for (const field of ['activeService', 'previewService'] as const) {
    const name = bg[field];
    if (!name) continue;
    const path = `spec.strategy.blueGreen.${field}`;
    const found = lookup(name);
    if (!found) {
      issues.push({ path, message: `Service "${name}" not found in namespace ${namespace}`, fix: 'create the Service or correct the name' });
      continue;
    }
    const mismatched = Object.entries(found.selector).filter(([key, value]) => key !== POD_TEMPLATE_HASH_LABEL && templateLabels?.[key] !== value);
    if (mismatched.length > 0) {
      const wanted = mismatched.map(([key, value]) => `${key}=${value}`).join(',');
      issues.push({ path, message: `Service "${name}" selects ${wanted}, which the pod template's labels do not match`, fix: `add ${wanted} to spec.template.metadata.labels or change the Service's selector` });
      continue;
    }
    services[name] = { name, selector: found.selector };
  }
  return { services, issues };
}
