import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mergeBenchTable, TABLE_BEGIN, TABLE_END } from './readme-table.ts';

const readme = (rows: string[]): string => ['# Benchmarks', 'intro', TABLE_BEGIN, '| what | figure | measured |', '|---|---|---|', ...rows, TABLE_END, 'after'].join('\n');

void test('a measured row replaces its namesake, a new one is added, a skipped section keeps its figure and date', () => {
  const before = readme(['| start-up | 640 ms (target ≤ 500 ms: not met) | 2026-11-30 |', '| memory | 132 MiB | 2026-11-30 |']);
  const after = mergeBenchTable(before, [
    { what: 'start-up', figure: '430 ms (target ≤ 500 ms: met)', measured: '2026-12-01' },
    { what: '10,000 rollouts', figure: '198 MiB', measured: '2026-12-01' },
  ]);
  assert.equal(
    after,
    readme(['| start-up | 430 ms (target ≤ 500 ms: met) | 2026-12-01 |', '| memory | 132 MiB | 2026-11-30 |', '| 10,000 rollouts | 198 MiB | 2026-12-01 |']),
  );
});

void test('a pipe inside a figure survives a second regeneration', () => {
  const once = mergeBenchTable(readme([]), [{ what: 'a | b', figure: 'x | y', measured: 'today' }]);
  assert.match(once, /^\| a \\\| b \| x \\\| y \| today \|$/m);
  assert.equal(mergeBenchTable(once, []), once);
});

void test('a README without the markers is refused with the lines to add', () => {
  assert.throws(() => mergeBenchTable('# no table here', []), /add the lines\n<!-- make bench: begin/);
});
