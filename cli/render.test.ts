// `get rollout` and `list rollouts` rendering, compared with committed snapshots in
// cli/__snapshots__/. A changed rendering fails; after checking it by eye, refresh with
// UPDATE_SNAPSHOTS=1 tools/run-tests.sh unit cli/render.test.ts
/* eslint-disable no-control-regex -- terminal escape codes are what these tests look at */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { aborted, analysisRunning, blueGreen, NOW, pausedCanary } from './fixtures.ts';
import { renderAnalysisRun, renderList, renderRollout } from './render.ts';
import { analysisRunView, buildView } from '../client/view.ts';

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
