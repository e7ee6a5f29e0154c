// The canary `experiment` step inside the Rollout planner. Pure: it reads the Experiments the
// Rollout owns (as observed) and writes status, events and planned actions; the controller
// creates, terminates and deletes the Experiments (controller/experiment-wiring.ts), and the
// Experiment's own controller runs its ReplicaSets, Services and analyses.
//
//   at the step       the Rollout creates an Experiment `<rollout>-<hash>-<revision>-<step>` (as
//                     Argo Rollouts names it) from the stable or canary pod template of each
//                     template (specRef); status.canary.currentExperiment names it
//   Successful        the step completes
//   Failed, Error     the Rollout aborts, its message is the Experiment's
//   Inconclusive      pause (InconclusiveExperiment) until promoted or aborted
//   leaving the step  (it completed, promote --full, abort, a new revision) terminates it
//   weights           templates with a weight get that share of traffic while it runs
//                     (DesiredTraffic.extraDestinations); they go in the next weight write
import type { ExtraDestination } from '../routers/types.ts';
import type { PlannedEvent, StatusView, StepView } from './model.ts';

export const EXPERIMENT_ROLLOUT_LABEL = 'rollway.dev/rollout';
export const EXPERIMENT_STEP_INDEX_LABEL = 'rollway.dev/step-index';
export const PAUSE_REASON_INCONCLUSIVE_EXPERIMENT = 'InconclusiveExperiment';
const DEFAULT_HISTORY_LIMIT = 5;
const COMPLETED = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);

/** A canary `experiment` step as the spec has it (api/rollout.ts ExperimentStepSchema). */
export interface ExperimentStepView {
  duration?: string | number;
  templates: {
    name: string;
    specRef: string;
    replicas?: number;
    weight?: number;
    metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
    selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
    service?: { name?: string };
  }[];
  analyses?: {
    name: string;
    templateName?: string;
    clusterScope?: boolean;
    args?: { name: string; value?: string; valueFrom?: { podTemplateHashValue?: string; fieldRef?: { fieldPath: string } } }[];
    requiredForCompletion?: boolean;
  }[];
}

/** An Experiment the Rollout owns, as the planner sees it. */
export interface ObservedExperiment {
  name: string;
  /** rollouts-pod-template-hash label: the canary revision it belongs to */
  podHash: string;
  stepIndex?: number | undefined;
  /** status.phase; '' before the Experiment's controller has seen it */
  phase: string;
  message?: string | undefined;
  /** spec.terminate */
  terminated: boolean;
  createdAt: string;
  /** status.templateStatuses: each template's Service and pod-template hash, once it has them */
  templates: { name: string; serviceName?: string | undefined; podTemplateHash?: string | undefined }[];
}

export interface ExperimentCreate {
  name: string;
  podHash: string;
  revision: number;
  stepIndex: number;
  step: ExperimentStepView;
}

export interface ExperimentActions {
  create: ExperimentCreate[];
  terminate: string[];
  delete: string[];
}

export interface ExperimentPlanInput {
  rolloutName: string;
  currentHash: string;
  revision: number;
  experiments: readonly ObservedExperiment[];
  /** the status being planned (changed in place) */
  status: StatusView & { canary?: { currentExperiment?: string } };
  events: PlannedEvent[];
  now: number;
}

export const experimentName = (rollout: string, hash: string, revision: number, stepIndex: number): string => `${rollout}-${hash}-${revision}-${stepIndex}`;

export function hasInconclusiveExperimentPause(status: StatusView): boolean {
  return (status.pauseConditions ?? []).some((c) => c.reason === PAUSE_REASON_INCONCLUSIVE_EXPERIMENT);
}

export class ExperimentStepPlanner {
  private readonly input: ExperimentPlanInput;
  private readonly live = new Set<string>();
  private readonly actions: ExperimentActions = { create: [], terminate: [], delete: [] };
  /** the Experiment whose failure aborted the Rollout in this plan or before (for the message) */
  private failed: ObservedExperiment | undefined;
  /** an Experiment is running and the rollout waits on it (no progress deadline meanwhile, as for analysis) */
  waiting = false;

  constructor(input: ExperimentPlanInput) {
    this.input = input;
  }

  private get current(): string | undefined {
    return this.input.status.canary?.currentExperiment;
  }

  private set current(name: string | undefined) {
    const status = this.input.status;
    if (name === undefined) {
      if (status.canary?.currentExperiment === undefined) return;
      const canary = { ...status.canary };
      delete canary.currentExperiment;
      status.canary = canary;
    } else status.canary = { ...(status.canary ?? {}), currentExperiment: name };
  }

  private observed(name: string | undefined): ObservedExperiment | undefined {
    return name === undefined ? undefined : this.input.experiments.find((e) => e.name === name);
  }

  /**
   * Before the abort flag is read: the current Experiment that ended Failed or Error aborts the
   * update; a retry forgets the aborted attempt's; a record of another revision is dropped.
   */
  beforeAbort(options: { inCanary: boolean; retrying: boolean }): void {
    const { status, events, currentHash } = this.input;
    if (options.retrying) {
      this.current = undefined;
      return;
    }
    const experiment = this.observed(this.current);
    if (experiment && experiment.podHash !== currentHash) this.current = undefined;
    if (!options.inCanary || status.abort || !experiment || experiment.podHash !== currentHash) return;
    if (experiment.phase !== 'Failed' && experiment.phase !== 'Error') return;
    this.failed = experiment;
    status.abort = true;
    events.push({ type: 'Warning', reason: `Experiment${experiment.phase}`, message: `Experiment ${experiment.name} ${experiment.phase}${experiment.message ? `: ${experiment.message}` : ''}` });
  }

  /** `: Experiment <name> Failed: <its message>` for the Degraded message of an abort it caused, else ''. */
  abortMessage(): string {
    const experiment = this.failed ?? this.observed(this.current);
    if (!experiment || (experiment.phase !== 'Failed' && experiment.phase !== 'Error')) return '';
    return `: Experiment ${experiment.name} ${experiment.phase}${experiment.message ? `: ${experiment.message}` : ''}`;
  }

  /** The Experiment of this step: recorded, adopted, or planned for creation. */
  private ensure(stepIndex: number, step: ExperimentStepView, label: string): { name: string; experiment: ObservedExperiment | undefined } {
    const { rolloutName, currentHash, revision } = this.input;
    const base = experimentName(rolloutName, currentHash, revision, stepIndex);
    const ofStep = (e: ObservedExperiment): boolean => e.podHash === currentHash && e.stepIndex === stepIndex;
    const recorded = this.current;
    if (recorded) {
      const experiment = this.observed(recorded);
      // Not observed yet (just created): trust the record if it has this step's name.
      if (experiment ? ofStep(experiment) : recorded === base || recorded.startsWith(`${base}.`)) return { name: recorded, experiment };
    }
    const adopt = this.input.experiments.find((e) => ofStep(e) && !e.terminated && !COMPLETED.has(e.phase));
    if (adopt) {
      this.current = adopt.name;
      return { name: adopt.name, experiment: adopt };
    }
    let name = base;
    for (let n = 1; this.observed(name); n++) name = `${base}.${n}`; // a retry of the step
    this.actions.create.push({ name, podHash: currentHash, revision, stepIndex, step });
    this.current = name;
    this.input.events.push({ type: 'Normal', reason: 'ExperimentCreated', message: `Created Experiment ${name} for step ${label}` });
    return { name, experiment: undefined };
  }

  /** An `experiment` step: 'done' when its Experiment succeeded (or an inconclusive one was promoted). */
  step(stepIndex: number, step: ExperimentStepView, label: string): 'done' | 'wait' {
    const { status, events, now } = this.input;
    const { name, experiment } = this.ensure(stepIndex, step, label);
    this.live.add(name);
    const phase = experiment?.phase ?? '';
    this.waiting = !COMPLETED.has(phase);
    if (phase === 'Successful') {
      this.current = undefined;
      events.push({ type: 'Normal', reason: 'ExperimentSuccessful', message: `Experiment ${name} Successful${experiment?.message ? `: ${experiment.message}` : ''}` });
      events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (experiment: ${name})` });
      return 'done';
    }
    if (phase !== 'Inconclusive') return 'wait';
    if (hasInconclusiveExperimentPause(status)) return 'wait';
    if (status.controllerPause) {
      // We paused on it and the pause condition is gone: promoted.
      status.controllerPause = false;
      this.current = undefined;
      events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed (promoted past the inconclusive Experiment ${name} at step ${label})` });
      events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (experiment: ${name} inconclusive, promoted)` });
      return 'done';
    }
    status.pauseConditions = [...(status.pauseConditions ?? []), { reason: PAUSE_REASON_INCONCLUSIVE_EXPERIMENT, startTime: new Date(now).toISOString() }];
    status.controllerPause = true;
    events.push({ type: 'Warning', reason: 'ExperimentInconclusive', message: `Experiment ${name} is Inconclusive: the rollout is paused until promoted or aborted` });
    events.push({ type: 'Normal', reason: 'RolloutPaused', message: `Rollout is paused (${PAUSE_REASON_INCONCLUSIVE_EXPERIMENT})` });
    return 'wait';
  }

  /**
   * The weighted templates of the step the rollout is at, while its Experiment runs and reports
   * their Services (the routers send each its share; none before, none after).
   */
  extraDestinations(steps: readonly StepView[], stepIndex: number, inCanary: boolean, abort: boolean): ExtraDestination[] {
    const step = steps[stepIndex]?.experiment as ExperimentStepView | undefined;
    if (!inCanary || abort || !step) return [];
    const experiment = this.observed(this.current);
    if (!experiment || experiment.stepIndex !== stepIndex || experiment.phase !== 'Running' || experiment.terminated) return [];
    return step.templates.flatMap((template) => {
      const running = experiment.templates.find((t) => t.name === template.name);
      if (!template.weight || !running?.serviceName || !running.podTemplateHash) return [];
      return [{ service: running.serviceName, podTemplateHash: running.podTemplateHash, weight: template.weight }];
    });
  }

  /**
   * Experiments not needed any more are terminated (kept: the one of the step the rollout waits
   * at); completed ones beyond the history limits are deleted. Answers the actions, if any.
   */
  finish(options: { abort: boolean; inCanary: boolean; promoteFull: boolean; stepIndex: number; successfulLimit?: number | undefined; unsuccessfulLimit?: number | undefined }): ExperimentActions | undefined {
    const { currentHash } = this.input;
    const current = this.observed(this.current);
    const waiting = options.inCanary && !options.abort && !options.promoteFull;
    if (current && waiting && current.podHash === currentHash && current.stepIndex === options.stepIndex) this.live.add(current.name);
    if (this.current && !waiting && !options.abort) this.current = undefined;
    if (this.current && !this.live.has(this.current) && !options.abort && current) this.current = undefined;
    for (const e of this.input.experiments) {
      if (!this.live.has(e.name) && !e.terminated && !COMPLETED.has(e.phase)) this.actions.terminate.push(e.name);
    }
    const kept = new Set([...this.live, this.current]);
    const done = this.input.experiments.filter((e) => COMPLETED.has(e.phase) && !kept.has(e.name)).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name));
    const successful = done.filter((e) => e.phase === 'Successful');
    const unsuccessful = done.filter((e) => e.phase !== 'Successful');
    this.actions.delete.push(
      ...successful.slice(options.successfulLimit ?? DEFAULT_HISTORY_LIMIT).map((e) => e.name),
      ...unsuccessful.slice(options.unsuccessfulLimit ?? DEFAULT_HISTORY_LIMIT).map((e) => e.name),
    );
    const { create, terminate, delete: remove } = this.actions;
    return create.length + terminate.length + remove.length > 0 ? this.actions : undefined;
  }
}
