import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exposition, formatValue, Histogram } from './prometheus.ts';

void test('label values are escaped as the exposition format asks: backslash, quote, newline', async () => {
  const text = await exposition([{ name: 'x_info', help: 'a \\ help\nline', type: 'gauge', samples: () => [{ labels: { path: 'C:\\a "b"\nc' }, value: 1 }] }]);
  assert.equal(text, '# HELP x_info a \\\\ help\\nline\n# TYPE x_info gauge\nx_info{path="C:\\\\a \\"b\\"\\nc"} 1\n');
});

void test('special values are spelt as Prometheus parses them', () => {
  assert.deepEqual([NaN, Infinity, -Infinity, 0.001, 12.5, 3].map(formatValue), ['NaN', '+Inf', '-Inf', '0.001', '12.5', '3']);
});

void test('a family without samples keeps its HELP and TYPE lines; families read asynchronously are awaited in order', async () => {
  const text = await exposition([
    { name: 'a_total', help: 'A.', type: 'counter', samples: () => [] },
    { name: 'b', help: 'B.', type: 'gauge', samples: async () => [{ value: 2 }] },
  ]);
  assert.equal(text, '# HELP a_total A.\n# TYPE a_total counter\n# HELP b B.\n# TYPE b gauge\nb 2\n');
});

void test('a histogram counts cumulatively, with +Inf equal to the count, and keeps extra labels', () => {
  const h = new Histogram([0.1, 1]);
  for (const v of [0.05, 0.1, 0.5, 7]) h.observe(v);
  assert.deepEqual(h.samples({ kind: 'major' }), [
    { suffix: '_bucket', labels: { kind: 'major', le: '0.1' }, value: 2 },
    { suffix: '_bucket', labels: { kind: 'major', le: '1' }, value: 3 },
    { suffix: '_bucket', labels: { kind: 'major', le: '+Inf' }, value: 4 },
    { suffix: '_sum', labels: { kind: 'major' }, value: 7.65 },
    { suffix: '_count', labels: { kind: 'major' }, value: 4 },
  ]);
});
