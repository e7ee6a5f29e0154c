// `rollway lint` reads the regular expressions of an AnalysisTemplate as the controller does
// (analysis/metric-name-patterns.ts, analysis/safe-regex.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lintText } from './lint.ts';

void describe('rollway lint reads an AnalysisTemplate the same way', () => {
  void it('a refused dryRun pattern is a finding at its field', () => {
    const findings = lintText(`
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: rates}
spec:
  dryRun: [{metricName: "(a+)+"}, {metricName: "(?!error)"}]
  metrics:
  - name: aaaaaaaaaaaaaaaaaaaaaaaaaa!
    successCondition: result[0] < 0.05
    provider: {prometheus: {address: "http://prometheus:9090", query: up}}
`);
    const patterns = findings.filter((f) => f.path.includes('metricName'));
    assert.deepEqual(patterns.map((f) => [f.severity, f.path]), [['error', 'spec.dryRun[1].metricName']]);
    assert.match(patterns[0]?.message ?? '', /not a regular expression RE2 accepts/);
  });
});
