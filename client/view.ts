// What a person sees of a rollout, computed from the objects as observed: the Rollout, its
// ReplicaSets and pods, its AnalysisRuns and the routing objects its router writes. Pure: the
// CLI tree, `list rollouts` and the dashboard all render this one view, so they never disagree.
import { EXPERIMENT_TEMPLATE_ANNOTATION } from '../api/experiment.ts';
import { POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION, SCALE_DOWN_DEADLINE_ANNOTATION } from '../api/labels.ts';
import type { ReplicaSetObject, RolloutObject, StepView } from '../api/views.ts';
import { durationMs, effectiveWeight } from '../controller/index.ts';
import type { KubeObject } from '../kube/client.ts';
import type { ExperimentObject } from './experiments.ts';

export interface PodObject extends KubeObject {
  spec?: { containers?: { name: string; image?: string }[] };
  status?: {
    phase?: string;
    reason?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; ready?: boolean; restartCount?: number; state?: { waiting?: { reason?: string }; terminated?: { reason?: string; exitCode?: number } } }[];
  };
}

export interface MetricResult {
  name: string;
  phase?: string;
  successful?: number;
  failed?: number;
  inconclusive?: number;
  error?: number;
  consecutiveError?: number;
  count?: number;
  message?: string;
}

export interface AnalysisRunObject extends KubeObject {
  spec?: { metrics?: { name: string }[] };
  status?: { phase?: string; message?: string; startedAt?: string; metricResults?: MetricResult[] };
}

/** A routing object as the CLI read it: the canary share it carries now (or why it could not tell). */
export interface RoutingObservation {
  kind: string;
  name: string;
  namespace: string;
  /** canary share as a ratio (extras: experiment destinations, in the units of total); undefined when the object is missing or unreadable */
  weight?: { canary: number; total: number; extras?: { service: string; weight: number }[] | undefined } | undefined;
  error?: string | undefined;
}

export interface RolloutSnapshot {
  rollout: RolloutObject;
  replicaSets: ReplicaSetObject[];
  pods: PodObject[];
  analysisRuns: AnalysisRunObject[];
  routing: RoutingObservation[];
  /** the Experiments of its experiment steps; replicaSets, pods and analysisRuns then include theirs */
  experiments?: ExperimentObject[] | undefined;
  /** kinds (plural) the viewer may not list, so the view leaves them out and says so */
  forbidden?: string[] | undefined;
}

export type Phase = 'Healthy' | 'Progressing' | 'Paused' | 'Degraded' | 'Unknown';

export interface Counts {
  successful: number;
  failed: number;
  inconclusive: number;
  error: number;
}

export interface AnalysisRunView {
  name: string;
  phase: string;
  message: string;
  createdAt: number | undefined;
  counts: Counts;
  metrics: (Counts & { name: string; phase: string; message: string })[];
}

export interface PodView {
  name: string;
  status: string;
  ok: boolean | undefined;
  ready: string;
  restarts: number;
  createdAt: number | undefined;
}

export interface ReplicaSetView {
  name: string;
  hash: string;
  revision: number;
  tags: string[];
  status: 'Healthy' | 'Progressing' | 'ScaledDown';
  desired: number;
  current: number;
  ready: number;
  available: number;
  images: string[];
  /** epoch ms when a delayed scale-down happens */
  scaleDownAt: number | undefined;
  createdAt: number | undefined;
  pods: PodView[];
}

export interface RevisionView {
  revision: number;
  replicaSets: ReplicaSetView[];
  analysisRuns: AnalysisRunView[];
  /** the Experiments its experiment steps made (oldest first) */
  experiments: ExperimentTreeView[];
}

/** An Experiment in the rollout tree: its ReplicaSets (tagged with their template) and AnalysisRuns. */
export interface ExperimentTreeView {
  name: string;
  phase: string;
  message: string;
  createdAt: number | undefined;
  replicaSets: ReplicaSetView[];
  analysisRuns: AnalysisRunView[];
}

export interface StepItem {
  index: number;
  kind: string;
  text: string;
  /** the weight in force while at this step */
  weight: number;
  state: 'done' | 'current' | 'pending';
  /** for the current timed pause: epoch ms when it ends */
  pauseEndsAt?: number | undefined;
  /** for the current manual pause */
  waitingForPromotion?: boolean;
  analysis?: { name: string; status: string; message?: string | undefined } | undefined;
}

export interface RoutingView extends RoutingObservation {
  percent: number | undefined;
  /** the experiment destinations' shares of all traffic (a weighted experiment step) */
  extraPercents: { service: string; percent: number }[];
}

export interface RolloutViewModel {
  name: string;
  namespace: string;
  phase: Phase;
  message: string;
  strategy: 'Canary' | 'BlueGreen' | 'None';
  /** current step (index of the step being worked on; equals total when all are done) */
  step: { index: number; total: number } | undefined;
  setWeight: number | undefined;
  actualWeight: number | undefined;
  /** where the actual weight was read: 'status' or 'VirtualService/web' ... */
  actualWeightFrom: string;
  images: { image: string; tags: string[] }[];
  replicas: { desired: number; current: number; updated: number; ready: number; available: number };
  pausedBySpec: boolean;
  aborted: boolean;
  /** the generation the controller has not seen yet, if any */
  pendingGeneration: number | undefined;
  pause: { reason: string; startedAt: number; endsAt: number | undefined } | undefined;
  createdAt: number | undefined;
  steps: StepItem[];
  revisions: RevisionView[];
  /** AnalysisRuns that belong to no known revision */
  analysisRuns: AnalysisRunView[];
  routing: RoutingView[];
  stableHash: string | undefined;
  currentHash: string | undefined;
  /** container names of the pod template (for set image) */
  containers: string[];
  /** a blue-green rollout: the revisions its Services select, and its promotion analysis runs */
  blueGreen?: BlueGreenViewModel | undefined;
}

export interface BlueGreenViewModel {
  active: { hash: string; revision: number | undefined } | undefined;
  preview: { hash: string; revision: number | undefined } | undefined;
  /** BlueGreenPause with autoPromotionSeconds: when it promotes itself */
  autoPromoteAt: number | undefined;
  prePromotion: { name: string; status: string } | undefined;
  postPromotion: { name: string; status: string } | undefined;
}

const time = (iso: string | undefined): number | undefined => {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
};

export function phaseOf(ro: RolloutObject): Phase {
  const p = ro.status?.phase;
  return p === 'Healthy' || p === 'Progressing' || p === 'Paused' || p === 'Degraded' ? p : 'Unknown';
}

export function strategyOf(ro: RolloutObject): RolloutViewModel['strategy'] {
  if (ro.spec.strategy?.blueGreen) return 'BlueGreen';
  if (ro.spec.strategy?.canary) return 'Canary';
  return 'None';
}

/** A percentage with at most two decimals and no trailing zeros: 20, 0.5, 33.33. */
export function formatPercent(value: number): string {
  const rounded = Math.round(value * 100) / 100;
  return `${Number.isInteger(rounded) ? rounded.toFixed(0) : String(rounded)}%`;
}

export function ratioPercent(weight: { canary: number; total: number } | undefined): number | undefined {
  if (!weight || weight.total <= 0) return undefined;
  return Math.round((weight.canary / weight.total) * 1_000_000) / 10_000;
}

type Container = { name: string; image?: string };
type PodTemplate = { spec?: { containers?: Container[]; initContainers?: Container[] } };

export function templateImages(template: unknown): string[] {
  const spec = (template as PodTemplate | undefined)?.spec;
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])].map((c) => c.image ?? '').filter((i) => i !== '');
}

function emptyCounts(): Counts {
  return { successful: 0, failed: 0, inconclusive: 0, error: 0 };
}

export function analysisRunView(ar: AnalysisRunObject): AnalysisRunView {
  const counts = emptyCounts();
  const metrics = (ar.status?.metricResults ?? []).map((m) => {
    const c = { successful: m.successful ?? 0, failed: m.failed ?? 0, inconclusive: m.inconclusive ?? 0, error: m.error ?? 0 };
    counts.successful += c.successful;
    counts.failed += c.failed;
    counts.inconclusive += c.inconclusive;
    counts.error += c.error;
    return { name: m.name, phase: m.phase ?? 'Pending', message: m.message ?? '', ...c };
  });
  // Metrics that have no result yet still show, so a fresh run lists what it will measure.
  for (const m of ar.spec?.metrics ?? []) {
    if (!metrics.some((r) => r.name === m.name)) metrics.push({ name: m.name, phase: 'Pending', message: '', ...emptyCounts() });
  }
  return {
    name: ar.metadata.name ?? '',
    phase: ar.status?.phase || 'Pending',
    message: ar.status?.message ?? '',
    createdAt: time(ar.metadata.creationTimestamp),
    counts,
    metrics,
  };
}

export function podView(pod: PodObject): PodView {
  const statuses = pod.status?.containerStatuses ?? [];
  const total = Math.max(statuses.length, pod.spec?.containers?.length ?? 0);
  const readyCount = statuses.filter((s) => s.ready).length;
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  const podReady = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  const terminated = statuses.find((s) => s.state?.terminated?.reason)?.state?.terminated?.reason;
  let status: string;
  let ok: boolean | undefined;
  const phase = pod.status?.phase ?? 'Pending';
  if (pod.metadata.deletionTimestamp) {
    status = 'Terminating';
    ok = undefined;
  } else if (phase === 'Succeeded') {
    status = 'Completed';
    ok = true;
  } else if (phase === 'Failed') {
    status = terminated ?? pod.status?.reason ?? 'Failed';
    ok = false;
  } else if (waiting && waiting !== 'ContainerCreating') {
    status = waiting;
    ok = /BackOff|Err|Invalid/.test(waiting) ? false : undefined;
  } else if (phase === 'Running') {
    status = 'Running';
    ok = podReady ? true : undefined;
  } else {
    status = waiting ?? phase;
    ok = undefined;
  }
  return { name: pod.metadata.name ?? '', status, ok, ready: `${readyCount}/${total}`, restarts, createdAt: time(pod.metadata.creationTimestamp) };
}

export function stepText(step: StepView): { kind: string; text: string } {
  if (typeof step.setWeight === 'number') return { kind: 'setWeight', text: `set weight ${formatPercent(step.setWeight)}` };
  if (step.pause) {
    const d = step.pause.duration;
    return { kind: 'pause', text: d === undefined ? 'pause until promoted' : `pause ${typeof d === 'number' ? `${d}s` : d}` };
  }
  if (step.setCanaryScale) {
    const s = step.setCanaryScale;
    const what = s.replicas !== undefined ? `${s.replicas} replicas` : s.weight !== undefined ? `${s.weight}% of replicas` : 'match traffic weight';
    return { kind: 'setCanaryScale', text: `canary scale: ${what}` };
  }
  if (step.setHeaderRoute) return { kind: 'setHeaderRoute', text: `header route ${step.setHeaderRoute.name}${step.setHeaderRoute.match?.length ? '' : ' (remove)'}` };
  if (step.setMirrorRoute) return { kind: 'setMirrorRoute', text: `mirror route ${step.setMirrorRoute.name}${step.setMirrorRoute.match?.length ? ` (${step.setMirrorRoute.percentage ?? 100}%)` : ' (remove)'}` };
  const analysis = step.analysis as { templates?: { templateName?: string }[] } | undefined;
  if (analysis) return { kind: 'analysis', text: `analysis ${(analysis.templates ?? []).map((t) => t.templateName).filter(Boolean).join(', ')}`.trimEnd() };
  if (step.experiment) return { kind: 'experiment', text: 'experiment' };
  const kind = Object.keys(step)[0] ?? 'step';
  return { kind, text: kind };
}

function ownedBy(object: KubeObject, uid: string | undefined): boolean {
  return uid !== undefined && (object.metadata.ownerReferences ?? []).some((o) => o.uid === uid);
}

/** A ReplicaSet with its pods (those it owns, or bare pods of its hash). */
function replicaSetView(rs: ReplicaSetObject, pods: readonly PodObject[], tags: string[]): ReplicaSetView {
  const hash = rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '';
  const desired = rs.spec.replicas ?? 0;
  const current = rs.status?.replicas ?? 0;
  const ready = rs.status?.readyReplicas ?? 0;
  const available = rs.status?.availableReplicas ?? 0;
  const status: ReplicaSetView['status'] = desired === 0 && current === 0 ? 'ScaledDown' : available >= desired && current === desired ? 'Healthy' : 'Progressing';
  const rsPods = pods
    .filter((p) => ownedBy(p, rs.metadata.uid) || (!p.metadata.ownerReferences?.length && p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash))
    .map(podView)
    .sort((a, b) => a.name.localeCompare(b.name));
  return {
    name: rs.metadata.name ?? '',
    hash,
    revision: Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0,
    tags,
    status,
    desired,
    current,
    ready,
    available,
    images: templateImages(rs.spec.template),
    scaleDownAt: time(rs.metadata.annotations?.[SCALE_DOWN_DEADLINE_ANNOTATION]),
    createdAt: time(rs.metadata.creationTimestamp),
    pods: rsPods,
  };
}

const byCreation = (a: KubeObject, b: KubeObject): number =>
  (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');

function experimentsOf(snapshot: RolloutSnapshot, uid: string | undefined): ExperimentObject[] {
  return (snapshot.experiments ?? []).filter((e) => ownedBy(e, uid)).sort(byCreation);
}

/** An Experiment with the ReplicaSets (tagged with their template's name) and AnalysisRuns it owns. */
function experimentTreeView(exp: ExperimentObject, snapshot: RolloutSnapshot): ExperimentTreeView {
  const uid = exp.metadata.uid;
  const template = (rs: KubeObject): string[] => {
    const name = rs.metadata.annotations?.[EXPERIMENT_TEMPLATE_ANNOTATION];
    return name ? [name] : [];
  };
  return {
    name: exp.metadata.name ?? '',
    phase: exp.status?.phase ?? 'Pending',
    message: exp.status?.message ?? '',
    createdAt: time(exp.metadata.creationTimestamp),
    replicaSets: snapshot.replicaSets.filter((rs) => ownedBy(rs, uid)).sort(byCreation).map((rs) => replicaSetView(rs, snapshot.pods, template(rs))),
    analysisRuns: snapshot.analysisRuns.filter((ar) => ownedBy(ar, uid)).sort(byCreation).map(analysisRunView),
  };
}

/** The view of one rollout from its snapshot. Time is not an input: deadlines are absolute. */
export function buildView(snapshot: RolloutSnapshot): RolloutViewModel {
  const ro = snapshot.rollout;
  const st = ro.status ?? {};
  const strategy = strategyOf(ro);
  const steps = (ro.spec.strategy?.canary?.steps ?? []) as StepView[];
  const stableHash = st.stableRS;
  const currentHash = st.currentPodHash;
  const tagsFor = replicaSetTags(strategy, st);
  const rsViews: ReplicaSetView[] = snapshot.replicaSets
    .filter((rs) => ownedBy(rs, ro.metadata.uid))
    .map((rs) => replicaSetView(rs, snapshot.pods, tagsFor(rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '')));
  const { revisions, unattached } = revisionsOf(snapshot, rsViews);
  const pause = pauseInForce(ro, steps);
  const routing = snapshot.routing.map(routingView);
  const measured = routing.find((r) => r.percent !== undefined);
  const statusWeight = st.canary?.weights?.canary.weight;
  const stepIndex = st.currentStepIndex;
  const isCanary = strategy === 'Canary';
  const inUpdate = currentHash !== undefined && currentHash !== stableHash;
  const generation = ro.metadata.generation ?? 0;
  const seen = st.phase !== undefined; // a controller has written status at least once
  const template = ro.spec.template as PodTemplate | undefined;

  return {
    name: ro.metadata.name ?? '',
    namespace: ro.metadata.namespace ?? '',
    phase: phaseOf(ro),
    message: st.message ?? (seen ? '' : 'no status yet: waiting for the controller to pick it up'),
    strategy,
    step: seen && isCanary && steps.length > 0 ? { index: Math.min(stepIndex ?? steps.length, steps.length), total: steps.length } : undefined,
    setWeight: seen && isCanary ? (inUpdate ? (st.abort ? 0 : effectiveWeight(steps, stepIndex ?? steps.length)) : 100) : undefined,
    // Outside an update every request reaches the one current revision, whatever the canary
    // destination of a routing object says (it points at the same pods).
    actualWeight: seen && isCanary ? (inUpdate ? (measured?.percent ?? statusWeight ?? 0) : 100) : undefined,
    actualWeightFrom: measured && inUpdate ? `${measured.kind}/${measured.name}` : 'status',
    images: imagesOf(rsViews, ro),
    replicas: { desired: ro.spec.replicas ?? 1, current: st.replicas ?? 0, updated: st.updatedReplicas ?? 0, ready: st.readyReplicas ?? 0, available: st.availableReplicas ?? 0 },
    pausedBySpec: ro.spec.paused === true,
    aborted: st.abort === true,
    pendingGeneration: st.observedGeneration !== undefined && st.observedGeneration !== String(generation) ? generation : undefined,
    pause,
    createdAt: time(ro.metadata.creationTimestamp),
    steps: stepItemsOf(steps, st, pause),
    revisions,
    analysisRuns: unattached,
    routing,
    stableHash,
    currentHash,
    containers: [...(template?.spec?.containers ?? []), ...(template?.spec?.initContainers ?? [])].map((c) => c.name),
    blueGreen: strategy === 'BlueGreen' ? blueGreenView(ro, rsViews, pause) : undefined,
  };
}

/** A routing object's weights as percentages, the extra destinations' too. */
function routingView(r: RolloutSnapshot['routing'][number]): RoutingView {
  return {
    ...r,
    percent: ratioPercent(r.weight),
    extraPercents: (r.weight?.extras ?? []).map((e) => ({ service: e.service, percent: ratioPercent({ canary: e.weight, total: r.weight!.total }) ?? 0 })),
  };
}

type RolloutStatusView = NonNullable<RolloutSnapshot['rollout']['status']>;
type PauseView = RolloutViewModel['pause'];

/** The tags of a ReplicaSet by its pod-template hash: stable, and canary, or active and preview. */
function replicaSetTags(strategy: RolloutViewModel['strategy'], st: RolloutStatusView): (hash: string) => string[] {
  const blueGreen = (st.blueGreen ?? {}) as { activeSelector?: string; previewSelector?: string };
  return (hash) => {
    const tags: string[] = [];
    if (hash === st.stableRS) tags.push('stable');
    if (strategy === 'BlueGreen') {
      if (hash === blueGreen.activeSelector) tags.push('active');
      if (hash === blueGreen.previewSelector && hash !== blueGreen.activeSelector) tags.push('preview');
    } else if (hash === st.currentPodHash && hash !== st.stableRS) tags.push('canary');
    return tags;
  };
}

/** Revisions, newest first, with their ReplicaSets, Experiments and AnalysisRuns; runs of no known revision apart. */
function revisionsOf(snapshot: RolloutSnapshot, rsViews: ReplicaSetView[]): { revisions: RevisionView[]; unattached: AnalysisRunView[] } {
  const uid = snapshot.rollout.metadata.uid;
  const revisionsByNumber = new Map<number, RevisionView>();
  const revisionOf = (revision: number): RevisionView => {
    let rev = revisionsByNumber.get(revision);
    if (!rev) revisionsByNumber.set(revision, (rev = { revision, replicaSets: [], analysisRuns: [], experiments: [] }));
    return rev;
  };
  for (const rs of rsViews) revisionOf(rs.revision).replicaSets.push(rs);
  for (const exp of experimentsOf(snapshot, uid)) {
    const revision = Number(exp.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || rsViews.find((r) => r.hash === exp.metadata.labels?.[POD_TEMPLATE_HASH_LABEL])?.revision || 0;
    revisionOf(revision).experiments.push(experimentTreeView(exp, snapshot));
  }
  const unattached: AnalysisRunView[] = [];
  const runs = snapshot.analysisRuns
    .filter((ar) => ownedBy(ar, uid))
    .sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  for (const ar of runs) {
    const hash = ar.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
    const rs = rsViews.find((r) => r.hash === hash);
    const view = analysisRunView(ar);
    if (rs) revisionOf(rs.revision).analysisRuns.push(view);
    else unattached.push(view);
  }
  return { revisions: [...revisionsByNumber.values()].sort((a, b) => b.revision - a.revision), unattached };
}

/** Images: the stable one first, then the canary (or preview) one; the template's when no ReplicaSet is tagged. */
function imagesOf(rsViews: ReplicaSetView[], ro: RolloutSnapshot['rollout']): { image: string; tags: string[] }[] {
  const images: { image: string; tags: string[] }[] = [];
  const addImages = (list: string[], tags: string[]): void => {
    for (const image of list) {
      const existing = images.find((i) => i.image === image);
      if (!existing) {
        images.push({ image, tags: [...tags] });
        continue;
      }
      for (const t of tags) if (!existing.tags.includes(t)) existing.tags.push(t);
    }
  };
  for (const rs of [...rsViews].sort((a, b) => a.revision - b.revision)) {
    if (rs.tags.length > 0) addImages(rs.images, rs.tags);
  }
  if (images.length === 0) addImages(templateImages(ro.spec.template), []);
  return images;
}

/** The pause in force: a pause condition (from a step), or spec.paused; its end when it is timed. */
function pauseInForce(ro: RolloutSnapshot['rollout'], steps: StepView[]): PauseView {
  const st = ro.status ?? {};
  const pauseCondition = st.pauseConditions?.[0];
  const stepIndex = st.currentStepIndex;
  const currentStep = stepIndex !== undefined ? steps[stepIndex] : undefined;
  const pauseStart = time(pauseCondition?.startTime);
  if (!pauseCondition || pauseStart === undefined) return undefined;
  const pauseDuration = currentStep?.pause ? durationMs(currentStep.pause.duration) : blueGreenPauseMs(ro, pauseCondition.reason);
  return { reason: pauseCondition.reason, startedAt: pauseStart, endsAt: pauseDuration !== undefined ? pauseStart + pauseDuration : undefined };
}

/** Each canary step: done, current (with its pause or analysis) or pending. */
function stepItemsOf(steps: StepView[], st: RolloutStatusView, pause: PauseView): StepItem[] {
  const stepAnalysis = (st.canary as { currentStepAnalysisRunStatus?: { name: string; status: string; message?: string } } | undefined)?.currentStepAnalysisRunStatus;
  const at = st.currentStepIndex ?? steps.length;
  return steps.map((step, index) => {
    const { kind, text } = stepText(step);
    const state: StepItem['state'] = index < at ? 'done' : index === at ? 'current' : 'pending';
    const item: StepItem = { index, kind, text, weight: effectiveWeight(steps, index), state };
    if (state === 'current' && step.pause && pause) {
      if (pause.endsAt !== undefined) item.pauseEndsAt = pause.endsAt;
      else item.waitingForPromotion = true;
    }
    if (state === 'current' && kind === 'analysis' && stepAnalysis) item.analysis = { name: stepAnalysis.name, status: stepAnalysis.status, message: stepAnalysis.message };
    return item;
  });
}

/** Ages and time left the way kubectl prints them: 45s, 3m20s, 25m, 2h10m, 3d. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 10) return s % 60 === 0 ? `${m}m` : `${m}m${s % 60}s`;
  if (m < 180) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 8) return m % 60 === 0 ? `${h}h` : `${h}h${m % 60}m`;
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

/** BlueGreenPause with autoPromotionSeconds (and auto-promotion not turned off): how long it lasts. */
function blueGreenPauseMs(ro: RolloutObject, reason: string | undefined): number | undefined {
  const bg = ro.spec.strategy?.blueGreen;
  if (reason !== 'BlueGreenPause' || !bg || bg.autoPromotionEnabled === false || !bg.autoPromotionSeconds) return undefined;
  return bg.autoPromotionSeconds * 1000;
}

/** Which revision the active and preview Services select, the auto-promotion time, the promotion runs. */
function blueGreenView(ro: RolloutObject, replicaSets: ReplicaSetView[], pause: RolloutViewModel['pause']): BlueGreenViewModel {
  const st = ro.status?.blueGreen ?? {};
  const at = (hash: string | undefined): BlueGreenViewModel['active'] => (hash ? { hash, revision: replicaSets.find((rs) => rs.hash === hash)?.revision } : undefined);
  const run = (record: { name: string; status: string } | undefined): { name: string; status: string } | undefined => (record ? { name: record.name, status: record.status } : undefined);
  return {
    active: at(st.activeSelector),
    preview: at(st.previewSelector),
    autoPromoteAt: pause?.reason === 'BlueGreenPause' ? pause.endsAt : undefined,
    prePromotion: run(st.prePromotionAnalysisRunStatus),
    postPromotion: run(st.postPromotionAnalysisRunStatus),
  };
}
