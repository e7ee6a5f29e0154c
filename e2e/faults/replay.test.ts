// The replay check of the controller-kill scenario, on recorded events made up here: it must catch
// a repeated step, a skipped step and a cut-short pause, or the scenario would pass on anything.
// (No cluster needed; it sits in e2e/faults beside the scenario it serves.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../../kube/client.ts';
import { replay, roundProblems, type Round, type RolloutSnapshot, type RoutingSnapshot } from './replay.ts';
import type { RecordedEvent } from './support.ts';

const STEP_WEIGHTS = [10, 30, 60];
const STEP_COUNT = 6;

/** A Rollout event (image, generation, status) and a VirtualService event (weight) at a resourceVersion. */
const ro = (rv: number, image: string, generation: number, observed?: number, step?: number): RecordedEvent => ({
  type: 'MODIFIED',
  rv: BigInt(rv),
  at: rv * 1000,
  object: { metadata: { name: 'web', generation }, image, observed, step } as unknown as KubeObject,
});
const vs = (rv: number, weight: number, at = rv * 1000): RecordedEvent => ({ type: 'MODIFIED', rv: BigInt(rv), at, object: { metadata: { name: 'web' }, weight } as unknown as KubeObject });
const rolloutOf = (e: RecordedEvent): RolloutSnapshot => {
  const o = e.object as unknown as { image: string; observed?: number; step?: number; metadata: { generation: number } };
  return { name: 'web', image: o.image, generation: o.metadata.generation, observedGeneration: o.observed === undefined ? undefined : String(o.observed), stepIndex: o.step };
};
const routingOf = (e: RecordedEvent): RoutingSnapshot => ({ rollout: 'web', canaryWeight: (e.object as unknown as { weight: number }).weight });

function rounds(rollouts: RecordedEvent[], routing: RecordedEvent[]): Round[] {
  return replay(rollouts, routing, rolloutOf, routingOf).get('web') ?? [];
}

const cleanRollouts = [ro(1, 'v1', 1, 1, 6), ro(2, 'v2', 2, 1, 6), ro(4, 'v2', 2, 2, 0), ro(6, 'v2', 2, 2, 1), ro(9, 'v2', 2, 2, 3), ro(12, 'v2', 2, 2, 5), ro(15, 'v2', 2, 2, 6)];

void test('a clean update: one round, no problem, whatever order the events were recorded in', () => {
  const routing = [vs(14, 0), vs(11, 60), vs(8, 30), vs(5, 10), vs(0, 0)];
  const [round, ...more] = rounds([...cleanRollouts].reverse(), routing);
  assert.equal(more.length, 0);
  assert.deepEqual(round?.weights, [10, 30, 60, 0]);
  assert.deepEqual(round?.stepIndexes, [0, 1, 3, 5, 6]);
  assert.deepEqual(roundProblems(round!, STEP_WEIGHTS, 1000, STEP_COUNT), []);
});

void test('a step repeated after a restart is caught', () => {
  const routing = [vs(0, 0), vs(5, 10), vs(8, 30), vs(10, 10), vs(11, 30), vs(13, 60), vs(14, 0)];
  const problems = roundProblems(rounds(cleanRollouts, routing)[0]!, STEP_WEIGHTS, 0, STEP_COUNT);
  assert.match(problems.join('\n'), /went back from 30 to 10/);
});

void test('a skipped step and a step index going back are caught', () => {
  const routing = [vs(0, 0), vs(5, 10), vs(11, 60), vs(14, 0)];
  const rollouts = [...cleanRollouts, ro(16, 'v2', 2, 2, 3)];
  const problems = roundProblems(rounds(rollouts, routing)[0]!, STEP_WEIGHTS, 1000, STEP_COUNT).join('\n');
  assert.match(problems, /skipped 30/);
  assert.match(problems, /step index went back from 6 to 3/);
});

void test('a pause cut short is caught', () => {
  const routing = [vs(0, 0), vs(5, 10, 5000), vs(8, 30, 5300), vs(11, 60), vs(14, 0)];
  assert.match(roundProblems(rounds(cleanRollouts, routing)[0]!, STEP_WEIGHTS, 1000, STEP_COUNT).join('\n'), /pause after weight 10 lasted 300 ms/);
});

void test('two updates make two rounds; a weight of 100 before the switch to stable is allowed', () => {
  const rollouts = [...cleanRollouts, ro(20, 'v3', 3, 2, 6), ro(21, 'v3', 3, 3, 0), ro(30, 'v3', 3, 3, 6)];
  const routing = [vs(0, 0), vs(5, 10), vs(8, 30), vs(11, 60), vs(14, 0), vs(22, 10), vs(24, 30), vs(26, 60), vs(28, 100), vs(29, 0)];
  const list = rounds(rollouts, routing);
  assert.deepEqual(list.map((r) => r.image), ['v2', 'v3']);
  assert.deepEqual(list[1]?.weights, [10, 30, 60, 100, 0]);
  assert.deepEqual(list.flatMap((r) => roundProblems(r, STEP_WEIGHTS, 1000, STEP_COUNT)), []);
});
