import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { lintText } from './lint.ts';

const experiment = (templates: string, analyses = ''): string => `
apiVersion: rollway.dev/v1alpha1
kind: Experiment
metadata: {name: demo}
spec:
  templates:
${templates}
${analyses}
`;
const template = (name: string): string => `  - name: ${name}
    selector: {matchLabels: {app: demo}}
    template:
      metadata: {labels: {app: demo}}
      spec: {containers: [{name: web, image: web:1}]}`;

void describe('lint: Experiments', () => {
  void it('names two templates with one name as an error with its field path', () => {
    const findings = lintText(experiment(`${template('a')}\n${template('a')}`));
    assert.deepEqual(findings.map((f) => [f.severity, f.path]), [['error', 'spec.templates[1].name']]);
  });

  void it('warns about an analysis template that is not in the file, and is quiet when it is', () => {
    const analyses = '  analyses: [{name: check, templateName: http-ok}]';
    const alone = lintText(experiment(template('a'), analyses));
    assert.deepEqual(alone.map((f) => [f.severity, f.path]), [['warning', 'spec.analyses[0].templateName']]);
    const withTemplate = `${experiment(template('a'), analyses)}---\napiVersion: rollway.dev/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: http-ok}\nspec:\n  metrics: [{name: m, provider: {web: {url: "http://x", jsonPath: "$.ok"}}}]\n`;
    assert.deepEqual(lintText(withTemplate), []);
  });

  void it('reports a field the CRD does not declare', () => {
    const findings = lintText(experiment(template('a')).replace('spec:\n', 'spec:\n  durations: 5m\n'));
    assert.deepEqual(findings.map((f) => f.path), ['spec.durations']);
  });
});
