// `get rollout` and `list rollouts` rendering, compared with committed snapshots in
// cli/__snapshots__/. A changed rendering fails; after checking it by eye, refresh with
// UPDATE_SNAPSHOTS=1 tools/run-tests.sh unit cli/render.test.ts
/* eslint-disable no-control-regex -- terminal escape codes are what these tests look at */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { aborted, analysisRunning, blueGreen, experimentStep, NOW, pausedCanary } from './fixtures.ts';
import { renderAnalysisRun, renderList, renderRollout } from './render.ts';
import { analysisRunView, buildView } from '../client/view.ts';
import { assembleSnapshot } from '../client/observe.ts';

const dir = path.join(import.meta.dirname, '__snapshots__');

function matchSnapshot(name: string, actual: string): void {
  const file = path.join(dir, `${name}.txt`);
  if (process.env.UPDATE_SNAPSHOTS === '1') {
    mkdirSync(dir, { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.ok(existsSync(file), `snapshot ${file} is missing: run with UPDATE_SNAPSHOTS=1 and review it`);
  assert.equal(actual, readFileSync(file, 'utf8'), `rendering differs from ${file}`);
}

const plain = { now: NOW, color: false };

void test('a canary paused for promotion: step 1/8, 20% set and actual, stable and canary images, 4+1 pods', () => {
  const out = renderRollout(buildView(pausedCanary()), plain);
  matchSnapshot('paused-canary', out);
  assert.match(out, /Status: +‖ Paused/);
  assert.match(out, /Message: +CanaryPauseStep · waiting for promotion: rollway promote web/);
  assert.match(out, /Step: +1\/8/);
  assert.match(out, /Actual weight: 20% \(from pod counts\)/);
  assert.match(out, /shop\/web:1\.0 \(stable\)\n +shop\/web:2\.0 \(canary\)/);
});

void test('an aborted update: Degraded, weight 0 read from the VirtualService, the bad ReplicaSet scaling down in 10s, a crashing pod', () => {
  const out = renderRollout(buildView(aborted()), plain);
  matchSnapshot('aborted', out);
  assert.match(out, /Status: +✖ Degraded/);
  assert.match(out, /Actual weight: 0% \(from VirtualService\/web-vsvc\)/);
  assert.match(out, /scale-down in 10s/);
  assert.match(out, /✖ CrashLoopBackOff .* restarts 4/);
  // Revisions newest first.
  assert.ok(out.indexOf('revision 3') < out.indexOf('revision 2') && out.indexOf('revision 2') < out.indexOf('revision 1'));
});

void test('an analysis step running: exact 0.5% from the routing object, the run under its revision with its counts', () => {
  const view = buildView(analysisRunning());
  const out = renderRollout(view, plain);
  matchSnapshot('analysis-running', out);
  assert.match(out, /Set weight: +0\.5%/);
  assert.match(out, /Actual weight: 0\.5% \(from VirtualService\/web-vsvc\)/);
  assert.match(out, /Routing: +VirtualService\/web-vsvc {2}canary 0\.5% \(1\/200\)/);
  assert.match(out, /web-b7k2x9-2-2 +AnalysisRun +◌ Running +30s +successful 5 · failed 1 · inconclusive 1 · error 1/);
  const step = view.steps.find((s) => s.state === 'current');
  assert.deepEqual(step?.analysis, { name: 'web-b7k2x9-2-2', status: 'Running', message: undefined });
});

void test('blue/green: active and preview ReplicaSets, no steps or weights', () => {
  const out = renderRollout(buildView(blueGreen()), plain);
  matchSnapshot('blue-green', out);
  assert.match(out, /Strategy: +BlueGreen/);
  assert.doesNotMatch(out, /Set weight|Step:/);
  assert.match(out, /shop\/web:blue \(stable, active\)\n +shop\/web:green \(preview\)/);
});

void test('blue/green: the header names the active and preview revisions and what ends the pause', () => {
  const out = renderRollout(buildView(blueGreen()), plain);
  assert.match(out, /Active: +revision 4 \(f2d7w4\)/);
  assert.match(out, /Preview: +revision 5 \(g5n8r2\)/);
  assert.match(out, /BlueGreenPause · waiting for promotion: rollway promote web/);
  const auto = blueGreen();
  auto.rollout.spec.strategy!.blueGreen = { activeService: 'web-active', previewService: 'web-preview', autoPromotionSeconds: 60 };
  auto.rollout.status!.pauseConditions = [{ reason: 'BlueGreenPause', startTime: new Date(NOW - 15_000).toISOString() }];
  const view = buildView(auto);
  assert.equal(view.blueGreen?.autoPromoteAt, NOW + 45_000);
  assert.match(renderRollout(view, plain), /auto-promotion in 45s/);
});

void test('a timed pause shows the time left, counted from the pause start', () => {
  const snap = pausedCanary();
  snap.rollout.status!.currentStepIndex = 3; // pause: {duration: 10}
  snap.rollout.status!.pauseConditions = [{ reason: 'CanaryPauseStep', startTime: new Date(NOW - 3000).toISOString() }];
  const out = renderRollout(buildView(snap), plain);
  assert.match(out, /timed pause, 7s left/);
});

void test('colour only when asked: the same text, with ANSI codes around statuses and tags', () => {
  const view = buildView(pausedCanary());
  const coloured = renderRollout(view, { now: NOW, color: true });
  assert.match(coloured, /\x1b\[33m‖ Paused\x1b\[0m/);
  assert.equal(coloured.replace(/\x1b\[[0-9;]*m/g, ''), renderRollout(view, plain));
});

void test('list rollouts: one row per rollout, namespace column with -A', () => {
  const views = [buildView(pausedCanary()), buildView(aborted()), buildView(blueGreen())].map((v, i) => ({ ...v, name: `${v.name}-${i}` }));
  const out = renderList(views, { ...plain, allNamespaces: true });
  matchSnapshot('list', out);
  assert.match(out, /^NAMESPACE +NAME +STRATEGY/);
});

void test('get analysisrun: phase, totals and one row per metric', () => {
  const run = analysisRunning().analysisRuns[0]!;
  const out = renderAnalysisRun(analysisRunView(run), 'shop', plain);
  matchSnapshot('analysisrun', out);
  assert.match(out, /latency-p99 +◌ Running +2 +1 +0 +1/);
});

void test('an experiment step: its Experiment under revision 2 with the templates\' ReplicaSets, pods and analysis; the routing line gives the templates\' shares', () => {
  const view = buildView(experimentStep());
  const out = renderRollout(view, plain);
  matchSnapshot('experiment-step', out);
  assert.match(out, /Routing: +VirtualService\/web-vsvc {2}canary 0% \(0\/100\) · web-b7k2x9-2-1-baseline 5% · web-b7k2x9-2-1-canary 5%/);
  const tree = out.slice(out.indexOf('revision 2'), out.indexOf('revision 1'));
  assert.match(tree, /└─ web-b7k2x9-2-1 +Experiment +◌ Running/);
  assert.match(tree, /├─ web-b7k2x9-2-1-baseline +ReplicaSet +✔ Healthy .* baseline · available 1\/1/);
  assert.match(tree, /web-b7k2x9-2-1-canary-4kq2x +Pod +✔ Running/);
  assert.match(tree, /└─ web-b7k2x9-2-1-compare +AnalysisRun +◌ Running .* successful 2/);
  // The experiment's objects are not the rollout's: no template ReplicaSet at the top of a revision.
  assert.deepEqual(view.revisions.map((r) => [r.revision, r.replicaSets.map((rs) => rs.name)]), [[2, ['web-b7k2x9']], [1, ['web-a4f8q2']]]);
});

void test("assembleSnapshot keeps a Rollout's Experiments with their ReplicaSets, pods and runs, and nobody else's", () => {
  const snap = experimentStep();
  const foreign = { ...snap.experiments![0]!, metadata: { ...snap.experiments![0]!.metadata, name: 'other', uid: 'uid-other', ownerReferences: [] } };
  const picked = assembleSnapshot(snap.rollout, snap.replicaSets, snap.pods, snap.analysisRuns, snap.routing, [foreign, ...snap.experiments!]);
  assert.deepEqual(picked.experiments?.map((e) => e.metadata.name), ['web-b7k2x9-2-1']);
  assert.equal(picked.replicaSets.length, 4);
  assert.equal(picked.pods.length, 7);
  assert.deepEqual(picked.analysisRuns.map((r) => r.metadata.name), ['web-b7k2x9-2-1-compare']);
  assert.equal(assembleSnapshot(snap.rollout, snap.replicaSets, snap.pods, snap.analysisRuns, snap.routing, [foreign]).replicaSets.length, 2, 'without its Experiment, only the Rollout\'s own');
});
