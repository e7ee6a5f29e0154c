import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { writeStatusFirst } from './status-first.ts';

const paused = { currentStepIndex: 1, controllerPause: true, pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-11-30T20:00:00.000Z' }] };
const resumed = { currentStepIndex: 2, controllerPause: false, pauseConditions: [] };

void describe('the status that ends a pause goes out first', () => {
  void it('when the pause ends and only scaling is left to do', () => {
    assert.equal(writeStatusFirst({ prev: paused, next: resumed, createsObjects: false, trafficMoves: false }), true);
  });

  void it('not while the pause holds, nor for other changes', () => {
    assert.equal(writeStatusFirst({ prev: paused, next: { ...paused, message: 'x' }, createsObjects: false, trafficMoves: false }), false);
    assert.equal(writeStatusFirst({ prev: { currentStepIndex: 0 }, next: { currentStepIndex: 1 }, createsObjects: false, trafficMoves: false }), false);
  });

  void it('not when the status would name an object not made yet, or a weight not written yet', () => {
    assert.equal(writeStatusFirst({ prev: paused, next: resumed, createsObjects: true, trafficMoves: false }), false);
    assert.equal(writeStatusFirst({ prev: paused, next: resumed, createsObjects: false, trafficMoves: true }), false);
  });
});
