// `make bench` at a small size, to prove it still works (issue 16: a benchmark, not a timed test):
// every section runs against this control plane, prints its rows with a verdict where a target
// applies, and merges them into a README's table. No figure is judged here.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { TABLE_BEGIN, TABLE_END } from '../bench/readme-table.ts';
import { repoRoot } from './harness.ts';

const run = promisify(execFile);

void test('make bench at a small size: every section prints its figures and the README table is regenerated from them', { timeout: 600_000 }, async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollway-bench-'));
  const readme = path.join(dir, 'README.md');
  writeFileSync(readme, `# Benchmarks\n\n${TABLE_BEGIN}\n| what | figure | measured |\n|---|---|---|\n| an older row | 1 ms | 2026-01-01 |\n${TABLE_END}\n`);
  try {
    const env = {
      ...process.env,
      BENCH_SECTIONS: 'pause,scale,step,startup,memory,large',
      BENCH_PAUSES: '2',
      BENCH_STEPPERS: '3',
      BENCH_ROLLOUTS: '4',
      BENCH_LARGE_ROLLOUTS: '4',
      BENCH_STARTS: '1',
      BENCH_IDLE_MS: '500',
      BENCH_README: readme,
    };
    const { stdout } = await run(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'bench/controller.bench.ts')], { env, cwd: repoRoot, maxBuffer: 16 * 1024 * 1024, timeout: 540_000 });
    const rows = stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| what'));
    for (const expected of [
      /^\| timed pause lateness, 2 pauses of 3 s \(/,
      /^\| timed pause lateness, 2 pauses of 3 s while 3 Istio rollouts step /,
      // the controller's /metrics saw both pauses end: a figure, not "none observed"
      /^\| timed pause end written \(deadline → the controller's status write acknowledged, rollway_timed_pause_end_delay_seconds\) \| p50 ≤ \d+ ms, p99 ≤ \d+ ms \|/,
      // the bench's own write at each deadline, seen: the floor any controller has
      /^\| the floor of that lateness here: .* while 3 Istio rollouts step \| p50 -?\d+ ms, p99 -?\d+ ms \(2 of 2 seen\)/,
      /^\| idle cost over 0\.5 s with 4 settled rollouts \| 0 writes, 0 reads/,
      /^\| pure weight step with Istio .*, 3 rollout\(s\) promoted at once/,
      // both watches saw every rollout: the promote, then its VirtualService
      /^\| where that step's time goes, 3 rollout\(s\) promoted at once: .* \| p50 \d+ ms, p99 \d+ ms; p50 -?\d+ ms, p99 -?\d+ ms \(3 of 3 seen by both watches\) \|/,
      /^\| API reads \(GET, LIST\) per rollout for that step \| 0\.00 /,
      /^\| start on an empty namespace → ready, namespaced, /,
      /^\| controller resident memory with 4 rollouts and their pods \(0 or 1 pod each\), cluster-wide \| \d+ MiB/,
      /^\| restart with 4 rollouts \(one pod each\), namespaced: /,
    ]) {
      assert.ok(rows.some((r) => expected.test(r)), `no row like ${expected}:\n${rows.join('\n')}`);
    }
    for (const row of rows.filter((r) => r.includes('target'))) assert.match(row, /: (met|not met)\b/, `a row with a target and no verdict: ${row}`);
    const table = readFileSync(readme, 'utf8');
    assert.match(table, /^\| an older row \| 1 ms \| 2026-01-01 \|$/m, 'a row this run did not measure is kept');
    for (const row of rows) assert.ok(table.includes(`| ${row.slice(2, -2).split(' | ')[0]} | `), `not in the README's table: ${row}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
