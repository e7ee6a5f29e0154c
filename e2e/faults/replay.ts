// Replays recorded watch events of Rollouts and their VirtualServices in resourceVersion order and
// checks each update ("round") of each Rollout: every setWeight value reached the VirtualService,
// in order, once (no weight went back, except to 0 when the new version became stable), each
// pause between two weights lasted at least its duration, and the step index never went back.
import type { RecordedEvent } from './support.ts';

export interface RolloutSnapshot {
  name: string;
  image: string;
  generation: number;
  observedGeneration: string | undefined;
  stepIndex: number | undefined;
}

export interface RoutingSnapshot {
  /** the Rollout whose canary weight this object carries */
  rollout: string;
  canaryWeight: number | undefined;
}

export interface Round {
  image: string;
  generation: number;
  /** distinct canary weights in the order written (a repeat of the same value is one write) */
  weights: number[];
  /** when each weight was seen by the recorder (ms) */
  weightTimes: number[];
  /** step indexes of the status for this round's generation, consecutive repeats dropped */
  stepIndexes: number[];
}

type Tagged = { rv: bigint; at: number } & ({ kind: 'rollout'; snap: RolloutSnapshot } | { kind: 'routing'; snap: RoutingSnapshot });

/** The rounds of each Rollout (the state it had when recording began is not a round). */
export function replay(rollouts: RecordedEvent[], routing: RecordedEvent[], rolloutOf: (e: RecordedEvent) => RolloutSnapshot, routingOf: (e: RecordedEvent) => RoutingSnapshot): Map<string, Round[]> {
  const merged: Tagged[] = [
    ...rollouts.filter((e) => e.type !== 'DELETED').map((e): Tagged => ({ rv: e.rv, at: e.at, kind: 'rollout', snap: rolloutOf(e) })),
    ...routing.filter((e) => e.type !== 'DELETED').map((e): Tagged => ({ rv: e.rv, at: e.at, kind: 'routing', snap: routingOf(e) })),
  ].sort((a, b) => (a.rv < b.rv ? -1 : a.rv > b.rv ? 1 : 0));
  const rounds = new Map<string, Round[]>();
  const image = new Map<string, string>();
  const weight = new Map<string, number | undefined>();
  for (const e of merged) {
    const name = e.kind === 'rollout' ? e.snap.name : e.snap.rollout;
    const list = rounds.get(name) ?? [];
    rounds.set(name, list);
    const current = list[list.length - 1];
    if (e.kind === 'rollout') {
      const known = image.get(name);
      image.set(name, e.snap.image);
      if (known !== undefined && known !== e.snap.image) list.push({ image: e.snap.image, generation: e.snap.generation, weights: [], weightTimes: [], stepIndexes: [] });
      const round = list[list.length - 1];
      if (round && e.snap.observedGeneration === String(round.generation) && e.snap.stepIndex !== undefined && round.stepIndexes.at(-1) !== e.snap.stepIndex) round.stepIndexes.push(e.snap.stepIndex);
    } else {
      const before = weight.get(name);
      weight.set(name, e.snap.canaryWeight);
      if (current && e.snap.canaryWeight !== undefined && e.snap.canaryWeight !== before) {
        current.weights.push(e.snap.canaryWeight);
        current.weightTimes.push(e.at);
      }
    }
  }
  return rounds;
}

/**
 * What is wrong with one round, in words (empty: nothing). `stepWeights` are the setWeight values
 * in step order; a pause of `pauseMs` follows each of them; `stepCount` steps in all.
 */
export function roundProblems(round: Round, stepWeights: number[], pauseMs: number, stepCount: number, toleranceMs = 250): string[] {
  const problems: string[] = [];
  const w = round.weights;
  const complete = [...stepWeights, 0];
  const viaFull = [...stepWeights, 100, 0];
  const same = (a: number[], b: number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);
  if (!same(w, complete) && !same(w, viaFull)) {
    const missing = stepWeights.filter((x) => !w.includes(x));
    const backwards = w.findIndex((x, i) => i > 0 && x < w[i - 1]! && !(x === 0 && i === w.length - 1));
    const what = [
      missing.length > 0 ? `skipped ${missing.join(', ')}` : '',
      backwards >= 0 ? `went back from ${w[backwards - 1]} to ${w[backwards]}` : '',
      w.at(-1) !== 0 ? 'did not end at 0 (new version stable)' : '',
    ].filter(Boolean);
    problems.push(`weights written ${JSON.stringify(w)}, expected ${JSON.stringify(complete)}${what.length ? `: ${what.join('; ')}` : ''}`);
  }
  for (let i = 0; i < stepWeights.length && i + 1 < round.weightTimes.length; i++) {
    const gap = round.weightTimes[i + 1]! - round.weightTimes[i]!;
    if (gap < pauseMs - toleranceMs) problems.push(`the pause after weight ${w[i]} lasted ${gap} ms, less than ${pauseMs} ms`);
  }
  const s = round.stepIndexes;
  const back = s.findIndex((x, i) => i > 0 && x < s[i - 1]!);
  if (back >= 0) problems.push(`step index went back from ${s[back - 1]} to ${s[back]} (steps ${JSON.stringify(s)})`);
  if (s.at(-1) !== stepCount) problems.push(`step index ended at ${s.at(-1)}, expected ${stepCount} (steps ${JSON.stringify(s)})`);
  return problems;
}
