import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiWrites, comparisonLines, comparisonRows, type Figures } from './argo-compare-report.ts';

void test('Argo writes are the Create/Update/Patch/Delete requests of its clientset metric, whatever the kind', () => {
  const text = [
    '# HELP controller_clientset_k8s_request_total Number of kubernetes requests executed during application reconciliation.',
    'controller_clientset_k8s_request_total{kind="rollouts",name="s1",namespace="ns",status_code="200",verb="Patch"} 3',
    'controller_clientset_k8s_request_total{kind="virtualservices",name="s1",namespace="ns",status_code="200",verb="Update"} 1',
    'controller_clientset_k8s_request_total{kind="events",name="s1.1",namespace="ns",status_code="201",verb="Create"} 2',
    'controller_clientset_k8s_request_total{kind="rollouts",name="s1",namespace="ns",status_code="200",verb="Get"} 7',
    'rollway_api_calls_total{verb="patch",status="200"} 100',
  ].join('\n');
  assert.equal(apiWrites('argo', text), 6);
});

void test('Rollway writes are its api_calls_total of the write verbs; reads and watches are not writes', () => {
  const text = ['rollway_api_calls_total{verb="patch",status="200"} 200', 'rollway_api_calls_total{verb="create",status="201"} 100', 'rollway_api_calls_total{verb="get",status="200"} 4', 'rollway_api_calls_total{verb="watch",status="200"} 9'].join('\n');
  assert.equal(apiWrites('rollway', text), 300);
});

void test('the comparison shows both columns, the ratio and whether the issue-16 targets are met', () => {
  const ours: Figures = { readyMs: 2000, stepP50: 500, stepP99: 900, stepCpuMs: 800, writesPerRollout: 3, rssMiB: 130 };
  const argo: Figures = { readyMs: 400, stepP50: 6000, stepP99: 9000, stepCpuMs: 1200, writesPerRollout: 6, rssMiB: 150 };
  const lines = comparisonLines(ours, argo, 100, '2.00 1.50 1.00');
  assert.match(lines[0]!, /load average at the end 2\.00 1\.50 1\.00/);
  assert.equal(lines.find((l) => l.includes('p99')), "100 rollouts promoted at once, promote → VirtualService written, p99: Rollway 900 ms, Argo 9000 ms, ratio 0.10× (target ≤ 1/10 of Argo's: met)");
  assert.match(lines.find((l) => l.startsWith('start'))!, /Rollway 2000 ms, Argo 400 ms, ratio 5\.00× \(target: below Argo's: not met\)/);
  assert.match(lines.find((l) => l.includes('RSS'))!, /Rollway 130 MiB, Argo 150 MiB, ratio 0\.87× \(target: below Argo's: met\)/);
  assert.match(lines.find((l) => l.includes('writes'))!, /Rollway 3, Argo 6, ratio 0\.50×$/);
});

void test('a p99 above a tenth of Argo\'s is not met', () => {
  const ours: Figures = { readyMs: 1, stepP50: 1, stepP99: 901, stepCpuMs: 1, writesPerRollout: 1, rssMiB: 1 };
  const argo: Figures = { ...ours, stepP99: 9000 };
  assert.match(comparisonLines(ours, argo, 100, '')[3]!, /not met/);
});

void test('the comparison rows carry the same figures as the printed lines, for the README table', () => {
  const ours: Figures = { readyMs: 266, stepP50: 738, stepP99: 1091, stepCpuMs: 470, writesPerRollout: 3, rssMiB: 92 };
  const argo: Figures = { readyMs: 170, stepP50: 6535, stepP99: 7788, stepCpuMs: 2030, writesPerRollout: 10.48, rssMiB: 103 };
  const rows = comparisonRows(ours, argo, 100);
  assert.equal(rows.length, 6);
  assert.deepEqual(rows[2], { what: '100 rollouts promoted at once, promote → VirtualService written, p99', figure: "Rollway 1091 ms, Argo 7788 ms, ratio 0.14× (target ≤ 1/10 of Argo's: not met)" });
  assert.deepEqual(comparisonLines(ours, argo, 100, '').slice(1), rows.map((r) => `${r.what}: ${r.figure}`));
});
