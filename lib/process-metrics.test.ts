import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import v8 from 'node:v8';
import vm from 'node:vm';
import { processMetrics } from './process-metrics.ts';
import { exposition } from './prometheus.ts';

const value = (text: string, name: string): number => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);

void test('event-loop delay statistics cover the window since the last scrape', async () => {
  const families = processMetrics();
  await sleep(30);
  const busyUntil = performance.now() + 80; // hold the loop, as a long synchronous reconcile would
  while (performance.now() < busyUntil);
  await sleep(30);
  const first = await exposition(families);
  assert.ok(value(first, 'nodejs_eventloop_lag_max_seconds') >= 0.06, first);
  await sleep(50);
  const second = await exposition(families);
  assert.ok(value(second, 'nodejs_eventloop_lag_max_seconds') < 0.06, `the blocked window was not reset:\n${second}`);
});

void test('resident memory, CPU and open files describe this process', async () => {
  const text = await exposition(processMetrics());
  const rss = value(text, 'process_resident_memory_bytes');
  assert.ok(Math.abs(rss - process.memoryUsage.rss()) < 64 * 1024 * 1024, `rss ${rss}`);
  assert.ok(value(text, 'process_cpu_seconds_total') >= value(text, 'process_cpu_user_seconds_total'));
  assert.ok(value(text, 'process_open_fds') >= 3, 'stdin, stdout and stderr at least');
  assert.match(text, /^nodejs_heap_space_size_used_bytes\{space="old"\} \d+$/m);
  assert.match(text, new RegExp(`^nodejs_version_info\\{version="${process.version}",`, 'm'));
});

void test('garbage collection pauses land in the GC histogram by kind', async () => {
  const families = processMetrics();
  for (let i = 0; i < 50; i++) new Array(200_000).fill(i); // enough garbage for a few young-generation collections
  await sleep(20); // GC entries are delivered to the observer asynchronously
  const text = await exposition(families);
  assert.match(text, /^nodejs_gc_duration_seconds_count\{kind="minor"\} [1-9]\d*$/m, text);
});

void test('a full collection is counted as major', async () => {
  const families = processMetrics();
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  gc();
  await sleep(20);
  assert.match(await exposition(families), /^nodejs_gc_duration_seconds_count\{kind="major"\} [1-9]\d*$/m);
});
