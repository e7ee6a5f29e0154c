import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stepEvents } from './step-event.ts';

void describe('one Event per step', () => {
  void it('a pure weight step is one Event whose message says everything the step did', () => {
    const planned = [
      { type: 'Normal' as const, reason: 'RolloutResumed', message: 'Rollout resumed (promoted at step 2/8)' },
      { type: 'Normal' as const, reason: 'RolloutStepCompleted', message: 'Rollout step 2/8 completed (pause)' },
      { type: 'Normal' as const, reason: 'TrafficWeightUpdated', message: 'Traffic weight updated from 10 to 20' },
      { type: 'Normal' as const, reason: 'RolloutStepCompleted', message: 'Rollout step 3/8 completed (setWeight 20)' },
      { type: 'Normal' as const, reason: 'RolloutPaused', message: 'Rollout is paused (CanaryPauseStep) at step 4/8' },
    ];
    assert.deepEqual(stepEvents(planned), [
      {
        type: 'Normal',
        reason: 'RolloutStepCompleted',
        message: 'Rollout resumed (promoted at step 2/8); Rollout step 2/8 completed (pause); Traffic weight updated from 10 to 20; Rollout step 3/8 completed (setWeight 20); Rollout is paused (CanaryPauseStep) at step 4/8',
      },
    ]);
  });

  void it('keeps each Warning on its own, first, and a lone Normal Event as it is', () => {
    const abort = { type: 'Warning' as const, reason: 'RolloutAborted', message: 'Rollout aborted update to revision 3' };
    const scaled = { type: 'Normal' as const, reason: 'ScalingReplicaSet', message: 'Scaled down ReplicaSet web-abc (revision 3) from 1 to 0' };
    assert.deepEqual(stepEvents([scaled, abort]), [abort, scaled]);
    assert.deepEqual(stepEvents([]), []);
  });

  void it('names a new revision by its headline and says a repeated message once', () => {
    const [event] = stepEvents([
      { type: 'Normal', reason: 'ScalingReplicaSet', message: 'Scaled up ReplicaSet web-1 from 0 to 1' },
      { type: 'Normal', reason: 'NewReplicaSetCreated', message: 'Created ReplicaSet web-2 (revision 2) with size 1' },
      { type: 'Normal', reason: 'ScalingReplicaSet', message: 'Scaled up ReplicaSet web-1 from 0 to 1' },
    ]);
    assert.equal(event?.reason, 'NewReplicaSetCreated');
    assert.equal(event?.message, 'Scaled up ReplicaSet web-1 from 0 to 1; Created ReplicaSet web-2 (revision 2) with size 1');
  });

  void it('keeps a very long message within what the API accepts', () => {
    const many = Array.from({ length: 100 }, (_, i) => ({ type: 'Normal' as const, reason: 'RestartingPod', message: `Restarting pod web-${i}-abcdefgh (created before 2026-11-30T20:00:00Z)` }));
    assert.ok(stepEvents(many)[0]!.message.length <= 1024);
  });
});
