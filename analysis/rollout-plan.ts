// Analysis inside the Rollout planner (controller/planner.ts): which AnalysisRuns a canary needs,
// what their outcome does to the rollout, and which runs to stop or clean up. Pure: it reads the
// observed runs from the plan input and writes status, events and planned actions; the controller
// creates, terminates and deletes the runs.
//
//   step `analysis`       a run per step (`<rollout>-<hash>-<step>`); the step completes when it
//                         is Successful
//   strategy.canary.analysis
//                         one background run (`<rollout>-<hash>-background`) from startingStep on,
//                         until the rollout is promoted
//   Failed or Error       abort (weight 0, Degraded), the message names the metric and value
//   Inconclusive          pause with the condition InconclusiveAnalysisRun; promote goes on
//   not needed any more   the run is terminated (step moved on, promote-full, abort, new revision)
//   history               completed runs beyond successfulRunHistoryLimit / unsuccessfulRunHistoryLimit
//                         (default 5 each) are deleted
import { isCompleted } from '../api/analysis.ts';
import type { AnalysisActions, AnalysisRunRecord, ObservedAnalysisRun, PlannedEvent, RolloutAnalysisView, StatusView } from '../api/views.ts';

export const ROLLOUT_LABEL = 'rollway.dev/rollout';
export const ANALYSIS_TYPE_LABEL = 'rollway.dev/analysis-type';
export const STEP_INDEX_LABEL = 'rollway.dev/step-index';
export const PAUSE_REASON_INCONCLUSIVE = 'InconclusiveAnalysisRun';
export const DEFAULT_SUCCESSFUL_RUN_HISTORY_LIMIT = 5;
export const DEFAULT_UNSUCCESSFUL_RUN_HISTORY_LIMIT = 5;

export const stepRunName = (rollout: string, hash: string, stepIndex: number): string => `${rollout}-${hash}-${stepIndex}`;
export const backgroundRunName = (rollout: string, hash: string): string => `${rollout}-${hash}-background`;

type RecordKey = 'currentStepAnalysisRunStatus' | 'currentBackgroundAnalysisRunStatus';

/** Whether the rollout is paused on an inconclusive analysis (the step walk must wait). */
export function hasInconclusivePause(status: StatusView): boolean {
  return (status.pauseConditions ?? []).some((c) => c.reason === PAUSE_REASON_INCONCLUSIVE);
}

/** `: <what the failed run said>` for the Degraded message of an abort caused by analysis, else ''. */
export function analysisAbortMessage(status: StatusView): string {
  for (const key of ['currentStepAnalysisRunStatus', 'currentBackgroundAnalysisRunStatus'] as const) {
    const record = status.canary?.[key];
    if (record && (record.status === 'Failed' || record.status === 'Error')) return `: AnalysisRun ${record.name} ${record.status}${record.message ? `: ${record.message}` : ''}`;
  }
  return '';
}

export interface AnalysisPlanInput {
  rolloutName: string;
  currentHash: string;
  runs: readonly ObservedAnalysisRun[];
  /** the status being planned (changed in place) */
  status: StatusView;
  events: PlannedEvent[];
  now: number;
}

/**
 * The run bookkeeping both analysis planners share (canary steps and background here, blue-green
 * pre/post promotion in controller/bluegreen-analysis.ts): records in status under keys K, the
 * runs kept this plan, and the create / terminate / delete actions.
 */
export abstract class RunBookkeeping<K extends string> {
  protected readonly input: AnalysisPlanInput;
  protected readonly live = new Set<string>();
  protected readonly actions: AnalysisActions = { create: [], terminate: [], delete: [] };
  /** a run is measuring and the rollout waits on it (no progress deadline meanwhile) */
  waiting = false;

  constructor(input: AnalysisPlanInput) {
    this.input = input;
  }

  protected abstract record(key: K): AnalysisRunRecord | undefined;
  protected abstract setRecord(key: K, record: AnalysisRunRecord | undefined): void;

  protected observed(name: string): ObservedAnalysisRun | undefined {
    return this.input.runs.find((r) => r.name === name);
  }

  /** `base`, or `base.1`, `base.2`, ... when a run of that name exists (a retry). */
  protected freshName(base: string): string {
    const taken = (name: string): boolean => this.observed(name) !== undefined || this.actions.create.some((c) => c.name === name);
    if (!taken(base)) return base;
    let n = 1;
    while (taken(`${base}.${n}`)) n++;
    return `${base}.${n}`;
  }

  /** Runs not kept this plan are stopped. */
  protected terminateUnneeded(): void {
    for (const run of this.input.runs) {
      if (!this.live.has(run.name) && !run.terminated && !isCompleted(run.phase)) this.actions.terminate.push(run.name);
    }
  }

  /** Completed runs other than `kept` beyond the history limits are deleted; answers the actions, if any. */
  protected deleteOldAndAnswer(kept: ReadonlySet<string | undefined>, options: { successfulLimit?: number | undefined; unsuccessfulLimit?: number | undefined }): AnalysisActions | undefined {
    const done = this.input.runs.filter((r) => isCompleted(r.phase) && !kept.has(r.name)).sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.name.localeCompare(a.name));
    const successful = done.filter((r) => r.phase === 'Successful');
    const unsuccessful = done.filter((r) => r.phase !== 'Successful');
    const successfulLimit = options.successfulLimit ?? DEFAULT_SUCCESSFUL_RUN_HISTORY_LIMIT;
    const unsuccessfulLimit = options.unsuccessfulLimit ?? DEFAULT_UNSUCCESSFUL_RUN_HISTORY_LIMIT;
    this.actions.delete.push(...successful.slice(successfulLimit).map((r) => r.name), ...unsuccessful.slice(unsuccessfulLimit).map((r) => r.name));
    const { create, terminate, delete: remove } = this.actions;
    return create.length + terminate.length + remove.length > 0 ? this.actions : undefined;
  }
}

export class AnalysisPlanner extends RunBookkeeping<RecordKey> {
  protected record(key: RecordKey): AnalysisRunRecord | undefined {
    return this.input.status.canary?.[key];
  }

  protected setRecord(key: RecordKey, record: AnalysisRunRecord | undefined): void {
    const status = this.input.status;
    if (record === undefined) {
      if (status.canary?.[key] !== undefined) {
        const canary = { ...status.canary };
        delete canary[key];
        status.canary = canary;
      }
      return;
    }
    status.canary = { ...(status.canary ?? {}), [key]: record };
  }

  /**
   * Before the abort flag is read: a run that ended Failed or Error aborts the update; a retry
   * forgets the runs of the aborted attempt; a record of another revision is dropped; a promote
   * out of an inconclusive background pause is noticed.
   */
  beforeAbort(options: { inCanary: boolean; retrying: boolean }): void {
    const { status, events, currentHash } = this.input;
    const keys: RecordKey[] = ['currentStepAnalysisRunStatus', 'currentBackgroundAnalysisRunStatus'];
    if (options.retrying) {
      for (const key of keys) this.setRecord(key, undefined);
      return;
    }
    for (const key of keys) {
      const record = this.record(key);
      const run = record ? this.observed(record.name) : undefined;
      if (record && run && run.podHash !== currentHash) this.setRecord(key, undefined);
    }
    const background = this.record('currentBackgroundAnalysisRunStatus');
    if (background?.status === 'Inconclusive' && !hasInconclusivePause(status) && (status.pauseConditions ?? []).length === 0 && status.controllerPause) {
      status.controllerPause = false;
      events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed (promoted past the inconclusive background AnalysisRun ${background.name})` });
    }
    if (!options.inCanary || status.abort) return;
    for (const key of keys) {
      const record = this.record(key);
      const run = record ? this.observed(record.name) : undefined;
      if (!record || !run || (run.phase !== 'Failed' && run.phase !== 'Error')) continue;
      this.setRecord(key, { name: run.name, status: run.phase, ...(run.message ? { message: run.message } : {}) });
      status.abort = true;
      const kind = key === 'currentStepAnalysisRunStatus' ? 'Step' : 'Background';
      events.push({ type: 'Warning', reason: `AnalysisRun${run.phase}`, message: `${kind} AnalysisRun ${run.name} ${run.phase}${run.message ? `: ${run.message}` : ''}` });
      return;
    }
  }

  /**
   * Finds, adopts or plans the run of `key` for a revision; answers its name and observed state.
   * The status record is what names a run: the controller creates a run only after the status
   * write that records it, so a plan from an older copy (which would pick a fresh name, a run of
   * the first name having completed meanwhile) is refused with that write, never run twice.
   */
  private ensureRun(key: RecordKey, matches: (r: ObservedAnalysisRun) => boolean, create: (recorded?: string) => { name: string; announce: string }): { name: string; run: ObservedAnalysisRun | undefined; previous: string | undefined } {
    const record = this.record(key);
    if (record) {
      const run = this.observed(record.name);
      if (run && matches(run)) return { name: record.name, run, previous: record.status };
      if (!run && record.name.startsWith(`${this.input.rolloutName}-${this.input.currentHash}-`)) {
        // Recorded, not seen: its creation follows the status write (or was lost); made under
        // that very name, so an existing one answers AlreadyExists and is the same run.
        create(record.name);
        return { name: record.name, run, previous: record.status };
      }
    }
    const adopt = this.input.runs.find((r) => matches(r) && !r.terminated && !isCompleted(r.phase));
    if (adopt) {
      this.setRecord(key, { name: adopt.name, status: adopt.phase || 'Pending' });
      return { name: adopt.name, run: adopt, previous: undefined };
    }
    const created = create();
    this.setRecord(key, { name: created.name, status: 'Pending' });
    this.input.events.push({ type: 'Normal', reason: 'AnalysisRunCreated', message: created.announce });
    return { name: created.name, run: undefined, previous: undefined };
  }

  private pauseInconclusive(name: string, where: string): void {
    const { status, events, now } = this.input;
    if (!hasInconclusivePause(status)) status.pauseConditions = [...(status.pauseConditions ?? []), { reason: PAUSE_REASON_INCONCLUSIVE, startTime: new Date(now).toISOString() }];
    status.controllerPause = true;
    events.push({ type: 'Warning', reason: 'AnalysisRunInconclusive', message: `${where} AnalysisRun ${name} is Inconclusive: the rollout is paused until promoted or aborted` });
    events.push({ type: 'Normal', reason: 'RolloutPaused', message: `Rollout is paused (${PAUSE_REASON_INCONCLUSIVE})` });
  }

  /** An `analysis` step: 'done' when its run succeeded (or an inconclusive one was promoted). */
  step(stepIndex: number, analysis: RolloutAnalysisView, label: string): 'done' | 'wait' {
    const { rolloutName, currentHash, events } = this.input;
    const key: RecordKey = 'currentStepAnalysisRunStatus';
    const { name, run, previous } = this.ensureRun(
      key,
      (r) => r.type === 'step' && r.podHash === currentHash && r.stepIndex === stepIndex,
      (recorded) => {
        const runName = recorded ?? this.freshName(stepRunName(rolloutName, currentHash, stepIndex));
        this.actions.create.push({ name: runName, type: 'step', podHash: currentHash, stepIndex, analysis });
        return { name: runName, announce: `Created AnalysisRun ${runName} for step ${label}` };
      },
    );
    this.live.add(name);
    this.waiting = true;
    if (!run) return 'wait';
    const phase = run.phase || 'Pending';
    this.setRecord(key, { name, status: phase, ...(run.message ? { message: run.message } : {}) });
    if (phase === 'Successful') {
      this.waiting = false;
      this.setRecord(key, undefined);
      events.push({ type: 'Normal', reason: 'AnalysisRunSuccessful', message: `Step AnalysisRun ${name} Successful${run.message ? `: ${run.message}` : ''}` });
      events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (analysis: ${name})` });
      return 'done';
    }
    if (phase === 'Inconclusive') {
      if (previous === 'Inconclusive') {
        // We paused on it and the pause condition is gone: promoted.
        this.waiting = false;
        this.input.status.controllerPause = false;
        this.setRecord(key, undefined);
        events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed (promoted past the inconclusive AnalysisRun ${name} at step ${label})` });
        events.push({ type: 'Normal', reason: 'RolloutStepCompleted', message: `Rollout step ${label} completed (analysis: ${name} inconclusive, promoted)` });
        return 'done';
      }
      this.waiting = false;
      this.pauseInconclusive(name, 'Step');
    }
    return 'wait';
  }

  /** strategy.canary.analysis while it is `active` (in the canary, at or past startingStep, not promoted). */
  background(active: boolean, analysis: RolloutAnalysisView | undefined): void {
    if (!active || analysis === undefined) return;
    const { rolloutName, currentHash } = this.input;
    const key: RecordKey = 'currentBackgroundAnalysisRunStatus';
    const { name, run, previous } = this.ensureRun(
      key,
      (r) => r.type === 'background' && r.podHash === currentHash,
      (recorded) => {
        const runName = recorded ?? this.freshName(backgroundRunName(rolloutName, currentHash));
        this.actions.create.push({ name: runName, type: 'background', podHash: currentHash, analysis });
        return { name: runName, announce: `Created background AnalysisRun ${runName}` };
      },
    );
    this.live.add(name);
    if (!run) return;
    const phase = run.phase || 'Pending';
    this.setRecord(key, { name, status: phase, ...(run.message ? { message: run.message } : {}) });
    if (phase === 'Inconclusive' && previous !== 'Inconclusive') this.pauseInconclusive(name, 'Background');
  }

  /**
   * Runs not needed any more are terminated, records of them dropped (kept on abort, for the
   * message), old completed runs deleted beyond the history limits. Answers the actions, if any.
   */
  finish(options: { abort: boolean; inCanary: boolean; stepIndex: number; successfulLimit?: number | undefined; unsuccessfulLimit?: number | undefined }): AnalysisActions | undefined {
    const { currentHash } = this.input;
    // Paused (or held) at an analysis step the walk did not reach this time: its run stays.
    const stepRecord = this.record('currentStepAnalysisRunStatus');
    const stepRun = stepRecord ? this.observed(stepRecord.name) : undefined;
    if (stepRun && options.inCanary && !options.abort && stepRun.type === 'step' && stepRun.podHash === currentHash && stepRun.stepIndex === options.stepIndex) this.live.add(stepRun.name);
    this.terminateUnneeded();
    for (const key of ['currentStepAnalysisRunStatus', 'currentBackgroundAnalysisRunStatus'] as const) {
      const record = this.record(key);
      if (record && !this.live.has(record.name) && !options.abort) this.setRecord(key, undefined);
    }
    const kept = new Set([...this.live, this.record('currentStepAnalysisRunStatus')?.name, this.record('currentBackgroundAnalysisRunStatus')?.name]);
    return this.deleteOldAndAnswer(kept, options);
  }
}
