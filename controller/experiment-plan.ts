// The Experiment's lifecycle as a pure plan (its I/O: controller/experiment-controller.ts). Argo
// Rollouts' semantics:
//
//   templates   one ReplicaSet each (<experiment>-<template>), sized replicas (default 1), and a
//               Service when the template asks for one; a template is Progressing until all its
//               pods are available, then Running; Failed if that takes longer than
//               progressDeadlineSeconds (counted from its last change).
//   availableAt when every template is Running: the duration counts from here, and the
//               analyses start (an AnalysisRun <experiment>-<analysis> each).
//   completion  the duration passes (templates Successful, the phase is the analyses'), or every
//               requiredForCompletion analysis ended Successful; any analysis that ends Failed,
//               Error or Inconclusive ends the experiment with that phase; a failed template
//               fails it. The message names the template or analysis that decided.
//   terminate   (spec.terminate, or completion) running analyses are terminated, templates end
//               Successful unless failed, ReplicaSets scaled to 0 after scaleDownDelaySeconds.
//   conditions  Progressing with Argo's reasons (controller/experiment-conditions.ts).
//
// Time comes in as `now`; the plan says when to be called again (no polling).
import {
  DEFAULT_EXPERIMENT_PROGRESS_DEADLINE_SECONDS,
  DEFAULT_EXPERIMENT_REPLICAS,
  DEFAULT_EXPERIMENT_SCALE_DOWN_DELAY_SECONDS,
  type ExperimentAnalysis,
  type ExperimentAnalysisRunStatus,
  type ExperimentPhase,
  type ExperimentSpec,
  type ExperimentStatus,
  type ExperimentTemplate,
  type TemplateStatus,
  type TemplateStatusCode,
} from '../api/experiment.ts';
import { isCompleted, type Argument } from '../api/analysis.ts';
import { parseDurationMs } from '../api/rollout.ts';
import type { PlannedEvent } from '../api/views.ts';
import { experimentConditions } from './experiment-conditions.ts';

/** A template's ReplicaSet as observed. */
export interface ObservedTemplateRS {
  name: string;
  /** spec.replicas */
  replicas: number;
  statusReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  podTemplateHash: string;
  /** rollway.dev/scale-down-deadline: when the pods go after the experiment ended */
  scaleDownDeadline?: string | undefined;
}

export interface ObservedRun {
  name: string;
  phase: string;
  message?: string | undefined;
  terminated: boolean;
}

export interface ExperimentPlanInput {
  name: string;
  spec: ExperimentSpec;
  status: ExperimentStatus | undefined;
  /** by template name */
  replicaSets: ReadonlyMap<string, ObservedTemplateRS>;
  /** by template name: the Service's name */
  services: ReadonlyMap<string, string>;
  /** by analysis name */
  runs: ReadonlyMap<string, ObservedRun>;
  /** by analysis name: why its template cannot be used (not found, ...) */
  analysisProblems: ReadonlyMap<string, string>;
  now: number;
}

export interface RunCreate {
  analysis: ExperimentAnalysis;
  name: string;
  args: Argument[];
}

export interface ExperimentPlan {
  status: ExperimentStatus;
  createReplicaSets: { template: ExperimentTemplate; name: string; replicas: number }[];
  /** new spec.replicas, and the scale-down deadline to set (a string) or remove (null) */
  scaleReplicaSets: { name: string; replicas: number; scaleDownDeadline?: string | null }[];
  createServices: { template: ExperimentTemplate; name: string; replicaSet: string; podTemplateHash: string }[];
  deleteServices: string[];
  createRuns: RunCreate[];
  terminateRuns: string[];
  events: PlannedEvent[];
  requeueAfterMs?: number | undefined;
}

export const replicaSetName = (experiment: string, template: string): string => `${experiment}-${template}`;
export const runName = (experiment: string, analysis: string): string => `${experiment}-${analysis}`;

interface Clock {
  now: number;
  iso: string;
  /** the earliest time the plan must be looked at again */
  wake: number | undefined;
}

function wakeAt(clock: Clock, at: number): void {
  if (at > clock.now && (clock.wake === undefined || at < clock.wake)) clock.wake = at;
}

export function planExperiment(input: ExperimentPlanInput): ExperimentPlan {
  const clock: Clock = { now: input.now, iso: new Date(input.now).toISOString(), wake: undefined };
  const previous = input.status ?? {};
  const terminating = input.spec.terminate === true || isCompleted(previous.phase);
  const plan: ExperimentPlan = { status: {}, createReplicaSets: [], scaleReplicaSets: [], createServices: [], deleteServices: [], createRuns: [], terminateRuns: [], events: [] };
  const durationMs = input.spec.duration !== undefined ? parseDurationMs(input.spec.duration) : undefined;
  const passed = previous.availableAt !== undefined && durationMs !== undefined && Date.parse(previous.availableAt) + durationMs <= clock.now;
  if (previous.availableAt !== undefined && durationMs !== undefined && !terminating) wakeAt(clock, Date.parse(previous.availableAt) + durationMs);

  const templateStatuses = input.spec.templates.map((t) => planTemplate(input, t, { terminating, passed }, plan, clock));
  const templates = assessTemplates(templateStatuses);
  let availableAt = previous.availableAt;
  if (!availableAt && templates.phase === 'Running' && !terminating) {
    availableAt = clock.iso;
    if (durationMs !== undefined) wakeAt(clock, clock.now + durationMs);
  }
  const analysisStatuses = (input.spec.analyses ?? []).map((a) => planAnalysis(input, a, { terminating, available: availableAt !== undefined }, plan));
  const status: ExperimentStatus = {
    ...previous,
    templateStatuses,
    ...(analysisStatuses.length > 0 ? { analysisRuns: analysisStatuses } : {}),
    ...(availableAt ? { availableAt } : {}),
  };
  const decided = decidePhase(input.spec, previous, templates, analysisStatuses);
  status.phase = decided.phase;
  if (decided.message) status.message = decided.message;
  else delete status.message;
  if (status.phase !== previous.phase) {
    const bad = status.phase === 'Failed' || status.phase === 'Error' || status.phase === 'Inconclusive';
    plan.events.push({ type: bad ? 'Warning' : 'Normal', reason: `Experiment${status.phase}`, message: `Experiment ${status.phase}${status.message ? `: ${status.message}` : ''}` });
  }
  const conditions = experimentConditions(input.name, previous, status, passed, clock.iso);
  if (conditions.length > 0) status.conditions = conditions;
  else delete status.conditions;
  plan.status = status;
  if (clock.wake !== undefined) plan.requeueAfterMs = Math.max(1, clock.wake - clock.now);
  return plan;
}

/** One template: its ReplicaSet and Service actions, and its status. */
function planTemplate(input: ExperimentPlanInput, template: ExperimentTemplate, state: { terminating: boolean; passed: boolean }, plan: ExperimentPlan, clock: Clock): TemplateStatus {
  const previous = input.status?.templateStatuses?.find((s) => s.name === template.name);
  const status: TemplateStatus = { ...(previous ?? { name: template.name }) };
  const desired = state.terminating ? 0 : (template.replicas ?? DEFAULT_EXPERIMENT_REPLICAS);
  const rs = input.replicaSets.get(template.name);
  if (!rs) {
    if (!state.terminating) {
      plan.createReplicaSets.push({ template, name: replicaSetName(input.name, template.name), replicas: desired });
      status.lastTransitionTime = clock.iso;
    }
  } else {
    scaleTemplate(input.spec, rs, desired, plan, clock);
    const service = input.services.get(template.name);
    if (template.service && desired > 0 && !service) {
      plan.createServices.push({ template, name: template.service.name || rs.name, replicaSet: rs.name, podTemplateHash: rs.podTemplateHash });
    }
    // The Service goes with the last pod; status names it while it exists.
    if (service && desired === 0 && rs.replicas === 0) plan.deleteServices.push(service);
    if (service && !(desired === 0 && rs.replicas === 0)) status.serviceName = service;
    else delete status.serviceName;
    status.podTemplateHash = rs.podTemplateHash;
  }
  const counts = { replicas: rs?.statusReplicas ?? 0, updatedReplicas: rs?.statusReplicas ?? 0, readyReplicas: rs?.readyReplicas ?? 0, availableReplicas: rs?.availableReplicas ?? 0 };
  const changed = (Object.keys(counts) as (keyof typeof counts)[]).some((k) => (previous?.[k] ?? 0) !== counts[k]);
  Object.assign(status, counts);
  if (changed) status.lastTransitionTime = clock.iso;
  if (!isTemplateDone(status.status)) status.status = templateCode(input.spec, template, status, { ...state, desired }, clock);
  if (previous?.status !== status.status) {
    const bad = status.status === 'Failed' || status.status === 'Error';
    const message = `Template '${template.name}' transitioned from ${previous?.status ?? '(none)'} -> ${status.status}${status.message ? `: ${status.message}` : ''}`;
    plan.events.push({ type: bad ? 'Warning' : 'Normal', reason: `Template${status.status ?? ''}`, message });
  }
  return status;
}

const isTemplateDone = (code: TemplateStatusCode | undefined): boolean => code === 'Successful' || code === 'Failed' || code === 'Error';

/** Progressing, Running, Successful or Failed (past its progress deadline). */
function templateCode(spec: ExperimentSpec, template: ExperimentTemplate, status: TemplateStatus, state: { terminating: boolean; passed: boolean; desired: number }, clock: Clock): TemplateStatusCode {
  if (state.terminating) return 'Successful';
  if (status.availableReplicas === state.desired) return state.passed ? 'Successful' : 'Running';
  const seconds = spec.progressDeadlineSeconds ?? DEFAULT_EXPERIMENT_PROGRESS_DEADLINE_SECONDS;
  const deadline = Date.parse(status.lastTransitionTime ?? clock.iso) + seconds * 1000;
  if (clock.now >= deadline) {
    status.message = `Template '${template.name}' exceeded its progressDeadlineSeconds (${seconds}): ${status.availableReplicas ?? 0} of ${state.desired} pods available`;
    return 'Failed';
  }
  wakeAt(clock, deadline);
  return 'Progressing';
}

/** Sizes a ReplicaSet; going to 0 waits scaleDownDelaySeconds (a deadline on the ReplicaSet). */
function scaleTemplate(spec: ExperimentSpec, rs: ObservedTemplateRS, desired: number, plan: ExperimentPlan, clock: Clock): void {
  if (desired > 0) {
    if (rs.replicas !== desired || rs.scaleDownDeadline) plan.scaleReplicaSets.push({ name: rs.name, replicas: desired, ...(rs.scaleDownDeadline ? { scaleDownDeadline: null } : {}) });
    return;
  }
  if (rs.replicas === 0) return;
  const delay = spec.scaleDownDelaySeconds ?? DEFAULT_EXPERIMENT_SCALE_DOWN_DELAY_SECONDS;
  const deadline = rs.scaleDownDeadline ? Date.parse(rs.scaleDownDeadline) : Number.NaN;
  if (delay > 0 && Number.isNaN(deadline)) {
    const at = clock.now + delay * 1000;
    plan.scaleReplicaSets.push({ name: rs.name, replicas: rs.replicas, scaleDownDeadline: new Date(at).toISOString() });
    wakeAt(clock, at);
  } else if (delay > 0 && deadline > clock.now) {
    wakeAt(clock, deadline);
  } else {
    plan.scaleReplicaSets.push({ name: rs.name, replicas: 0 });
  }
}

/** The worst template, as an experiment phase, with its message. */
function assessTemplates(statuses: readonly TemplateStatus[]): { phase: ExperimentPhase; message?: string | undefined } {
  const order: (TemplateStatusCode | undefined)[] = ['Successful', 'Running', 'Progressing', undefined, 'Failed', 'Error'];
  let worst: TemplateStatus | undefined;
  for (const s of statuses) if (!worst || order.indexOf(s.status) > order.indexOf(worst.status)) worst = s;
  const code = worst?.status;
  const phase: ExperimentPhase = code === 'Successful' ? 'Successful' : code === 'Running' ? 'Running' : code === 'Failed' ? 'Failed' : code === 'Error' ? 'Error' : 'Pending';
  return { phase, message: worst?.message };
}

/** One analysis: its run (created once the templates are available), and its status. */
function planAnalysis(input: ExperimentPlanInput, analysis: ExperimentAnalysis, state: { terminating: boolean; available: boolean }, plan: ExperimentPlan): ExperimentAnalysisRunStatus {
  const previous = input.status?.analysisRuns?.find((a) => a.name === analysis.name);
  const status: ExperimentAnalysisRunStatus = { ...(previous ?? { name: analysis.name }) };
  const problem = input.analysisProblems.get(analysis.name);
  const run = status.analysisRun ? input.runs.get(analysis.name) : undefined;
  if (isCompleted(status.phase)) {
    // ended: nothing more to do
  } else if (problem && !status.analysisRun) {
    Object.assign(status, { phase: 'Error', message: problem });
  } else if (!state.available) {
    // the templates are not available yet: no run
  } else if (!status.analysisRun) {
    if (!state.terminating) {
      const resolved = resolveTemplateArgs(analysis.args ?? [], input);
      if ('error' in resolved) Object.assign(status, { phase: 'Error', message: resolved.error });
      else {
        const name = runName(input.name, analysis.name);
        plan.createRuns.push({ analysis, name, args: resolved.args });
        Object.assign(status, { analysisRun: name, phase: 'Pending' });
      }
    }
  } else if (state.terminating) {
    if (run && !isCompleted(run.phase) && !run.terminated) plan.terminateRuns.push(run.name);
  } else if (run) {
    status.phase = (run.phase || 'Pending') as ExperimentAnalysisRunStatus['phase'];
    if (run.message) status.message = run.message;
  }
  if (status.phase && previous?.phase !== status.phase) {
    const bad = status.phase === 'Failed' || status.phase === 'Error' || status.phase === 'Inconclusive';
    const message = `AnalysisRun '${analysis.name}' transitioned from ${previous?.phase ?? '(none)'} -> ${status.phase}${status.message ? `: ${status.message}` : ''}`;
    plan.events.push({ type: bad ? 'Warning' : 'Normal', reason: `AnalysisRun${status.phase}`, message });
  }
  return status;
}

const PHASE_RANK: Record<string, number> = { Successful: 0, Pending: 1, Running: 2, Inconclusive: 3, Error: 4, Failed: 5 };

/** The experiment's phase from its templates and analyses (Argo's precedence). */
function decidePhase(spec: ExperimentSpec, previous: ExperimentStatus, templates: { phase: ExperimentPhase; message?: string | undefined }, analyses: readonly ExperimentAnalysisRunStatus[]): { phase: ExperimentPhase; message?: string | undefined } {
  if (isCompleted(previous.phase)) return { phase: previous.phase as ExperimentPhase, message: previous.message };
  let worst: ExperimentAnalysisRunStatus | undefined;
  for (const a of analyses) if (!worst || (PHASE_RANK[a.phase ?? 'Pending'] ?? 1) > (PHASE_RANK[worst.phase ?? 'Pending'] ?? 1)) worst = a;
  if (worst && isCompleted(worst.phase) && worst.phase !== 'Successful') {
    return { phase: worst.phase as ExperimentPhase, message: `analysis '${worst.name}' ${worst.phase}${worst.message ? `: ${worst.message}` : ''}` };
  }
  if (templates.phase === 'Failed' || templates.phase === 'Error') return templates;
  const required = (spec.analyses ?? []).filter((a) => a.requiredForCompletion).map((a) => a.name);
  const requiredDone = required.length > 0 && required.every((name) => analyses.find((a) => a.name === name)?.phase === 'Successful');
  const requiredMessage = `the required analyses (${required.join(', ')}) completed Successful`;
  if (templates.phase === 'Successful') {
    if (spec.terminate === true) return { phase: 'Successful', message: 'Experiment terminated' };
    if (required.length > 0 && !requiredDone) return { phase: 'Running', message: `waiting for the required analyses (${required.join(', ')})` };
    return { phase: 'Successful', message: requiredDone ? requiredMessage : `ran for its duration (${String(spec.duration)})` };
  }
  if (requiredDone) return { phase: 'Successful', message: requiredMessage };
  return { phase: templates.phase === 'Running' ? 'Running' : 'Pending', message: templates.message };
}

const TEMPLATE_ARG = /\{\{\s*templates\.([A-Za-z0-9_.-]+?)\.(podTemplateHash|replicaset\.name)\s*\}\}/g;

/**
 * Args with {{templates.NAME.podTemplateHash}} and {{templates.NAME.replicaset.name}} replaced
 * from the observed ReplicaSets; a reference to a template that does not exist is an error.
 */
export function resolveTemplateArgs(args: readonly Argument[], input: Pick<ExperimentPlanInput, 'name' | 'spec' | 'replicaSets'>): { args: Argument[] } | { error: string } {
  const out: Argument[] = [];
  for (const arg of args) {
    if (arg.value === undefined) {
      out.push({ ...arg });
      continue;
    }
    let error: string | undefined;
    const value = arg.value.replace(TEMPLATE_ARG, (whole, template: string, field: string) => {
      if (!input.spec.templates.some((t) => t.name === template)) {
        error = `arg "${arg.name}" refers to template "${template}", which the experiment does not have`;
        return whole;
      }
      const rs = input.replicaSets.get(template);
      if (field === 'replicaset.name') return rs?.name ?? replicaSetName(input.name, template);
      if (!rs) error = `arg "${arg.name}": template "${template}" has no ReplicaSet yet`;
      return rs?.podTemplateHash ?? whole;
    });
    if (error) return { error };
    out.push({ ...arg, value });
  }
  return { args: out };
}
