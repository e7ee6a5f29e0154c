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

// Argo Rollouts searches for a rule's metricName in each metric name (Go's regexp.MatchString) and
// ends a run in Error when a dryRun / measurementRetention rule names no metric of it.
void describe('rollway lint: a dryRun / measurementRetention rule must name a metric', () => {
  const metricsOf = (names: string[]): string =>
    names.map((n) => `  - name: ${n}\n    provider: {prometheus: {address: "http://prometheus:9090", query: up}}`).join('\n');
  const template = (name: string, rules: string, names: string[], extra = ''): string => `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: ${name}}
spec:
${rules}${extra}
  metrics:
${metricsOf(names)}
`;
  const ruleFindings = (text: string) => lintText(text).filter((f) => f.path.includes('metricName')).map((f) => [f.severity, f.object, f.path, f.message, f.fix]);

  void it('a rule naming no metric of the template is an error at its field; one found in a part of a name is fine', () => {
    const findings = ruleFindings(template('rates', '  dryRun: [{metricName: error}, {metricName: "^error$"}, {metricName: ".*"}]\n  measurementRetention: [{metricName: latncy, limit: 5}]', ['error-rate', 'latency']));
    assert.deepEqual(findings, [
      ['error', 'AnalysisTemplate/rates', 'spec.dryRun[1].metricName', '"^error$" matches no metric of this template (metrics: error-rate, latency)', 'metricName is an RE2 regular expression searched for in each metric name: name a metric of this template, e.g. "error-rate", or remove the rule'],
      ['error', 'AnalysisTemplate/rates', 'spec.measurementRetention[0].metricName', '"latncy" matches no metric of this template (metrics: error-rate, latency)', 'metricName is an RE2 regular expression searched for in each metric name: name a metric of this template, e.g. "error-rate", or remove the rule'],
    ]);
  });

  void it('an AnalysisRun too; a template counts the metrics of the templates it includes when the file has them', () => {
    const runText = `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisRun
metadata: {name: once}
spec:
  dryRun: [{metricName: saturation}]
  metrics:
${metricsOf(['error-rate'])}
`;
    assert.deepEqual(ruleFindings(runText).map((f) => [f[1], f[2], f[3]]), [['AnalysisRun/once', 'spec.dryRun[0].metricName', '"saturation" matches no metric of this run (metrics: error-rate)']]);
    const including = template('all', '  dryRun: [{metricName: "^latency$"}, {metricName: p99}]', ['error-rate'], '\n  templates: [{templateName: timing}]');
    const findings = ruleFindings(`${including}---${template('timing', '', ['latency'])}`);
    assert.deepEqual(findings.map((f) => [f[1], f[2], f[3]]), [['AnalysisTemplate/all', 'spec.dryRun[1].metricName', '"p99" matches no metric of this template or the templates it includes (metrics: error-rate, latency)']]);
    assert.deepEqual(ruleFindings(including), [], 'an included template not in the file: its metrics are unknown, nothing is said');
  });
});
