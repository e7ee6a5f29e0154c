import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RolloutObject } from '../api/views.ts';
import { controllerMetrics, type MetricSources } from './metrics.ts';

function rollout(name: string, status: RolloutObject['status']): RolloutObject {
  return { apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', metadata: { name, namespace: 'shop' }, spec: {}, status };
}

function sources(over: Partial<MetricSources> = {}): MetricSources {
  return {
    rollouts: () => [rollout('web', { phase: 'Paused', currentStepIndex: 2, canary: { weights: { canary: { weight: 12.5 }, stable: { weight: 87.5 } } } })],
    reconcileErrors: () => 3,
    apiCalls: () => new Map([['get 200', 40], ['patch 409', 2]]),
    queueDepth: () => 5,
    routerPlugins: () => [{ name: 'example.com/configmap-weights', source: '/plugins/a "b"/index.ts' }],
    notifications: () => ({ sent: new Map([['hook', 2]]), failed: new Map([['slack', 1]]) }),
    ...over,
  };
}

/** `name{labels} value` lines of the exposition text, comments left out. */
const samples = (text: string): string[] => text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));

void test('reconcile duration is a histogram: cumulative buckets, _sum and _count', async () => {
  const m = controllerMetrics(sources(), { processMetrics: false });
  for (const s of [0.002, 0.02, 0.02, 3]) m.observeReconcile(s);
  const text = await m.registry.metrics();
  assert.match(text, /# TYPE rollway_reconcile_duration_seconds histogram/);
  const lines = samples(text);
  assert.ok(lines.includes('rollway_reconcile_duration_seconds_bucket{le="0.001"} 0'));
  assert.ok(lines.includes('rollway_reconcile_duration_seconds_bucket{le="0.005"} 1'));
  assert.ok(lines.includes('rollway_reconcile_duration_seconds_bucket{le="0.025"} 3'));
  assert.ok(lines.includes('rollway_reconcile_duration_seconds_bucket{le="2.5"} 3'));
  assert.ok(lines.includes('rollway_reconcile_duration_seconds_bucket{le="5"} 4'));
  assert.ok(lines.includes('rollway_reconcile_duration_seconds_bucket{le="+Inf"} 4'));
  assert.ok(lines.includes('rollway_reconcile_duration_seconds_count 4'));
  const sum = Number(lines.find((l) => l.startsWith('rollway_reconcile_duration_seconds_sum '))?.split(' ')[1]);
  assert.ok(Math.abs(sum - 3.042) < 1e-9, `sum ${sum}`);
});

void test('how late timed pauses ended is a histogram in seconds', async () => {
  const m = controllerMetrics(sources(), { processMetrics: false });
  for (const late of [0.003, 0.04, 0.3]) m.observePauseEnd(late);
  const lines = samples(await m.registry.metrics());
  assert.ok(lines.includes('rollway_timed_pause_end_delay_seconds_bucket{le="0.005"} 1'));
  assert.ok(lines.includes('rollway_timed_pause_end_delay_seconds_bucket{le="0.05"} 2'));
  assert.ok(lines.includes('rollway_timed_pause_end_delay_seconds_bucket{le="0.25"} 2'));
  assert.ok(lines.includes('rollway_timed_pause_end_delay_seconds_bucket{le="0.5"} 3'));
  assert.ok(lines.includes('rollway_timed_pause_end_delay_seconds_count 3'));
});

void test('the metric names the README, the e2e tests and the benchmark read keep their form', async () => {
  const lines = samples(await controllerMetrics(sources(), { processMetrics: false }).registry.metrics());
  for (const expected of [
    'rollway_rollout_phase{namespace="shop",name="web",phase="Paused"} 1',
    'rollway_rollout_phase{namespace="shop",name="web",phase="Healthy"} 0',
    'rollway_rollout_canary_weight{namespace="shop",name="web"} 12.5',
    'rollway_rollout_step{namespace="shop",name="web"} 2',
    'rollway_reconcile_errors_total 3',
    'rollway_api_calls_total{verb="get",status="200"} 40',
    'rollway_api_calls_total{verb="patch",status="409"} 2',
    'rollway_workqueue_depth 5',
    'rollway_router_plugin_info{name="example.com/configmap-weights",source="/plugins/a \\"b\\"/index.ts"} 1',
    'rollway_notifications_deliveries_total{service="hook",result="success"} 2',
    'rollway_notifications_deliveries_total{service="slack",result="failure"} 1',
  ]) {
    assert.ok(lines.includes(expected), `missing: ${expected}\n${lines.join('\n')}`);
  }
});

void test('values are read at each scrape: a deleted Rollout loses its series, counters follow their source', async () => {
  let list = [rollout('web', { phase: 'Healthy' }), rollout('api', { phase: 'Degraded' })];
  let errors = 1;
  const m = controllerMetrics(sources({ rollouts: () => list, reconcileErrors: () => errors }), { processMetrics: false });
  assert.match(await m.registry.metrics(), /rollway_rollout_phase\{namespace="shop",name="api",phase="Degraded"\} 1/);
  list = [rollout('web', { phase: 'Healthy' })];
  errors = 4;
  const text = await m.registry.metrics();
  assert.doesNotMatch(text, /name="api"/);
  assert.match(text, /^rollway_reconcile_errors_total 4$/m);
});

void test('process and Node.js metrics come with it: memory, open files, event-loop lag', async () => {
  const text = await controllerMetrics(sources()).registry.metrics();
  for (const name of ['process_resident_memory_bytes', 'process_cpu_seconds_total', 'process_open_fds', 'nodejs_eventloop_lag_seconds', 'nodejs_eventloop_lag_p99_seconds', 'nodejs_heap_size_used_bytes']) {
    assert.match(text, new RegExp(`^${name} [0-9.e+-]+$`, 'm'), name);
  }
});
