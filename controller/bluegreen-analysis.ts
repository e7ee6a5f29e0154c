// Pre- and post-promotion analysis of a blue-green update (strategy.blueGreen.prePromotionAnalysis,
// postPromotionAnalysis), as in Argo Rollouts. Pure: reads the observed AnalysisRuns, writes the
// run records in status.blueGreen and answers the runs to create, stop and clean up.
//
//   one run per revision and kind   `<rollout>-<hash>-pre` / `-post` (`.1`, `.2` ... after a retry)
//   Successful                      the record stays, so the phase it guards is done for good
//   Failed or Error                 the update aborts (the caller flips status.abort)
//   Inconclusive                    pause InconclusiveAnalysisRun; a promote (the pause condition
//                                   removed) counts as success
import { isCompleted } from '../api/analysis.ts';
import { PAUSE_REASON_INCONCLUSIVE, RunBookkeeping, hasInconclusivePause } from '../analysis/rollout-plan.ts';
import type { AnalysisActions, AnalysisRunRecord, ObservedAnalysisRun, RolloutAnalysisView } from './model.ts';

export type PromotionKind = 'prePromotion' | 'postPromotion';
export type PromotionOutcome = 'done' | 'wait' | 'failed';

const RECORD = { prePromotion: 'prePromotionAnalysisRunStatus', postPromotion: 'postPromotionAnalysisRunStatus' } as const;
const SUFFIX = { prePromotion: 'pre', postPromotion: 'post' } as const;
const LABEL = { prePromotion: 'Pre-promotion', postPromotion: 'Post-promotion' } as const;

export class PromotionAnalysis extends RunBookkeeping<PromotionKind> {
  record(kind: PromotionKind): AnalysisRunRecord | undefined {
    return this.input.status.blueGreen?.[RECORD[kind]];
  }

  protected setRecord(kind: PromotionKind, record: AnalysisRunRecord | undefined): void {
    const blueGreen = { ...(this.input.status.blueGreen ?? {}) };
    if (record === undefined) delete blueGreen[RECORD[kind]];
    else blueGreen[RECORD[kind]] = record;
    this.input.status.blueGreen = blueGreen;
  }

  /** A retry or a new revision: the records of the earlier attempt no longer count. */
  forget(): void {
    this.setRecord('prePromotion', undefined);
    this.setRecord('postPromotion', undefined);
  }

  /** A run that ended Failed or Error since the last plan: answers it (the caller aborts). */
  failedRun(): { kind: PromotionKind; run: ObservedAnalysisRun } | undefined {
    for (const kind of ['prePromotion', 'postPromotion'] as const) {
      const record = this.record(kind);
      const run = record ? this.observed(record.name) : undefined;
      if (!record || !run || run.podHash !== this.input.currentHash) continue;
      if (run.phase === 'Failed' || run.phase === 'Error') {
        this.setRecord(kind, { name: run.name, status: run.phase, ...(run.message ? { message: run.message } : {}) });
        this.input.events.push({ type: 'Warning', reason: `AnalysisRun${run.phase}`, message: `${LABEL[kind]} AnalysisRun ${run.name} ${run.phase}${run.message ? `: ${run.message}` : ''}` });
        return { kind, run };
      }
    }
    return undefined;
  }

  /** Runs (or creates) the analysis of `kind` for the current revision and answers where it stands. */
  run(kind: PromotionKind, analysis: RolloutAnalysisView): PromotionOutcome {
    const { rolloutName, currentHash, events, status } = this.input;
    const previous = this.record(kind);
    if (previous?.status === 'Successful') return 'done';
    let run = previous ? this.observed(previous.name) : undefined;
    let name = previous?.name;
    if (!previous || (run && run.podHash !== currentHash)) {
      const adopt = this.input.runs.find((r) => r.type === kind && r.podHash === currentHash && !r.terminated && !isCompleted(r.phase));
      name = adopt?.name ?? this.freshName(`${rolloutName}-${currentHash}-${SUFFIX[kind]}`);
      run = adopt;
      if (!adopt) {
        this.actions.create.push({ name, type: kind, podHash: currentHash, analysis });
        events.push({ type: 'Normal', reason: 'AnalysisRunCreated', message: `Created ${LABEL[kind].toLowerCase()} AnalysisRun ${name}` });
      }
      this.setRecord(kind, { name, status: run?.phase || 'Pending' });
    }
    this.live.add(name as string);
    this.waiting = true;
    if (!run) return 'wait';
    const phase = run.phase || 'Pending';
    if (phase === 'Failed' || phase === 'Error') return 'failed';
    if (phase === 'Inconclusive' && previous?.status === 'Inconclusive' && !hasInconclusivePause(status)) {
      // We paused on it and the condition is gone: promoted past it.
      status.controllerPause = false;
      this.setRecord(kind, { name: run.name, status: 'Successful', message: 'Inconclusive, promoted' });
      events.push({ type: 'Normal', reason: 'RolloutResumed', message: `Rollout resumed (promoted past the inconclusive AnalysisRun ${run.name})` });
      this.waiting = false;
      return 'done';
    }
    this.setRecord(kind, { name: run.name, status: phase, ...(run.message ? { message: run.message } : {}) });
    if (phase === 'Successful') {
      events.push({ type: 'Normal', reason: 'AnalysisRunSuccessful', message: `${LABEL[kind]} AnalysisRun ${run.name} Successful` });
      this.waiting = false;
      return 'done';
    }
    if (phase === 'Inconclusive') {
      this.waiting = false;
      if (!hasInconclusivePause(status)) {
        status.pauseConditions = [...(status.pauseConditions ?? []), { reason: PAUSE_REASON_INCONCLUSIVE, startTime: new Date(this.input.now).toISOString() }];
        status.controllerPause = true;
        events.push({ type: 'Warning', reason: 'AnalysisRunInconclusive', message: `${LABEL[kind]} AnalysisRun ${run.name} is Inconclusive: the rollout is paused until promoted or aborted` });
      }
    }
    return 'wait';
  }

  /** Runs no longer needed are stopped; completed ones beyond the history limits deleted. */
  finish(options: { successfulLimit?: number | undefined; unsuccessfulLimit?: number | undefined }): AnalysisActions | undefined {
    this.terminateUnneeded();
    const kept = new Set([...this.live, this.record('prePromotion')?.name, this.record('postPromotion')?.name]);
    return this.deleteOldAndAnswer(kept, options);
  }
}
