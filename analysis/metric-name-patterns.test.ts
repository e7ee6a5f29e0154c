// Every place a user's regular expression is read goes through safe-regex.ts: dryRun and
// measurementRetention metric names (Rollout validation, the run's policy and rule checks;
// `rollway lint` in cli/lint-patterns.test.ts) and header / mirror route regexes. A pattern RE2
// refuses is an issue at its field path, and the catastrophic ones are matched at once. As in Argo
// Rollouts, a metricName is searched for anywhere in a metric's name (Go's regexp.MatchString),
// and a rule that names no metric of its run makes the run Error.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { AnalysisRunSpec, Metric } from '../api/analysis.ts';
import { validateRollout } from '../api/rollout.ts';
import { metricPolicy } from './assess.ts';
import { metricNamePatternIssues, rolloutMetricNameIssues, unmatchedRuleIssues } from '../api/metric-name-patterns.ts';
import { prepareRun } from './run-spec.ts';

const ROLLOUT = `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: registry.example/web:1}]}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      analysis:
        templates: [{templateName: rates}]
        dryRun: [{metricName: "error-.*"}, {metricName: "(?=canary)"}]
      trafficRouting:
        managedRoutes: [{name: beta}]
        istio: {virtualService: {name: web, routes: [primary]}}
      steps:
      - setHeaderRoute:
          name: beta
          match:
          - headerName: x-user
            headerValue: {regex: "^(beta|(a+)+)$"}
      - setHeaderRoute:
          name: beta
          match:
          - headerName: x-user
            headerValue: {regex: "(?<!x)beta"}
      - setWeight: 20
      - analysis:
          templates: [{templateName: rates}]
          measurementRetention: [{metricName: "([a-z]+", limit: 20}]
`;

const issuesOf = (manifest: unknown): { path: string; message: string; fix: string }[] => {
  const result = validateRollout(manifest);
  return result.ok ? [] : result.issues;
};

void describe('a Rollout: regexes RE2 refuses are InvalidSpec issues at their field', () => {
  const issues = issuesOf(parse(ROLLOUT));
  const at = (path: string) => issues.filter((i) => i.path === path);

  void it('header route regexes', () => {
    assert.deepEqual(at('spec.strategy.canary.steps[0].setHeaderRoute.match[0].headerValue.regex'), [], '(a+)+ is fine in RE2');
    const [lookbehind] = at('spec.strategy.canary.steps[1].setHeaderRoute.match[0].headerValue.regex');
    assert.ok(lookbehind, JSON.stringify(issues, null, 2));
    assert.match(lookbehind.message, /^"\(\?<!x\)beta" is not a regular expression RE2 accepts/);
    assert.match(lookbehind.fix, /RE2 regular expression/);
  });

  void it('dryRun and measurementRetention metric names, in the background and step analysis', () => {
    assert.deepEqual(at('spec.strategy.canary.analysis.dryRun[0].metricName'), []);
    assert.match(at('spec.strategy.canary.analysis.dryRun[1].metricName')[0]?.message ?? '', /"\(\?=canary\)" is not a regular expression RE2 accepts: .*no lookahead/);
    assert.match(at('spec.strategy.canary.steps[3].analysis.measurementRetention[0].metricName')[0]?.message ?? '', /missing closing \)/);
  });

  void it('blue-green pre- and post-promotion analysis', () => {
    const spec = { strategy: { blueGreen: { prePromotionAnalysis: { dryRun: [{ metricName: '\\1' }] }, postPromotionAnalysis: { measurementRetention: [{ metricName: 'ok.*' }] } } } };
    assert.deepEqual(
      rolloutMetricNameIssues(spec).map((i) => i.path),
      ['spec.strategy.blueGreen.prePromotionAnalysis.dryRun[0].metricName'],
    );
  });

  void it('values that are not names are left to the schema', () => {
    assert.deepEqual(metricNamePatternIssues({ dryRun: [null, { metricName: 3 }, 'x'], measurementRetention: 'nope' }, 'spec'), []);
    assert.deepEqual(metricNamePatternIssues(undefined, 'spec'), []);
  });
});

void describe("a run's metric policy", () => {
  const policy = (spec: Parameters<typeof metricPolicy>[1]) => metricPolicy({ name: 'aaaaaaaaaaaaaaaaaaaaaaaaaa!', provider: { prometheus: { query: 'up' } } } as Metric, spec);

  void it('dryRun (a+)+ against a name that stalls a backtracking engine: answered at once', () => {
    const started = performance.now();
    const result = policy({ dryRun: [{ metricName: '^(a+)+$' }], measurementRetention: [{ metricName: '(a|aa)+', limit: 3 }] });
    assert.ok(performance.now() - started < 500, `took ${Math.round(performance.now() - started)} ms`);
    assert.ok(result.ok);
    assert.equal(result.policy.dryRun, false, '^...$ pins the whole name, and "!" does not match');
    // Argo searches for the pattern in the name (Go's regexp.MatchString): the a's are enough.
    assert.equal(result.policy.retention, 3);
  });

  void it('of several retention rules naming a metric, the last one counts (as in Argo)', () => {
    const result = policy({ measurementRetention: [{ metricName: '.*', limit: 5 }, { metricName: 'a!', limit: 7 }] });
    assert.equal(result.ok && result.policy.retention, 7);
  });
});

void describe("a run's dryRun / measurementRetention rules: the run's problems, once", () => {
  const prom = { prometheus: { address: 'http://prom', query: 'up' } };
  const run = (rules: Pick<AnalysisRunSpec, 'dryRun' | 'measurementRetention'>, names = ['a', 'b']) => prepareRun({ metrics: names.map((name) => ({ name, provider: prom })), ...rules }, new Map());
  const messageOf = (prepared: ReturnType<typeof run>): string => (prepared.ok ? '' : prepared.message);

  void it('a pattern RE2 refuses is a problem naming the field, not a silent "no match", said once for all metrics', () => {
    const message = messageOf(run({ dryRun: [{ metricName: '(?=a)' }] }));
    assert.match(message, /^dryRun\[0\]\.metricName: "\(\?=a\)" is not a regular expression RE2 accepts/);
    assert.equal(message.split('not a regular expression').length, 2, message);
    assert.doesNotMatch(message, /matches no metric/, 'a refused pattern is not also "unmatched"');
  });

  void it('unmatchedRuleIssues: each rule that names no metric, at its field, with the names there are', () => {
    assert.deepEqual(unmatchedRuleIssues({ dryRun: [{ metricName: 'error' }, { metricName: 'latency' }], measurementRetention: [{ metricName: '^err', limit: 3 }, { metricName: 'err$' }] }, ['error-rate', 'saturation'], 'spec', 'this template'), [
      { path: 'spec.dryRun[1].metricName', message: '"latency" matches no metric of this template (metrics: error-rate, saturation)', fix: 'metricName is an RE2 regular expression searched for in each metric name: name a metric of this template, e.g. "error-rate", or remove the rule' },
      { path: 'spec.measurementRetention[1].metricName', message: '"err$" matches no metric of this template (metrics: error-rate, saturation)', fix: 'metricName is an RE2 regular expression searched for in each metric name: name a metric of this template, e.g. "error-rate", or remove the rule' },
    ]);
  });

  void it('a metric name with regex characters written as it is spelt: the fix says to escape them', () => {
    const [issue] = unmatchedRuleIssues({ dryRun: [{ metricName: 'p99(ms)' }] }, ['p99(ms)'], '', 'this run');
    assert.equal(issue?.path, 'dryRun[0].metricName');
    assert.match(issue?.fix ?? '', /special characters: escape them, e\.g\. metricName: 'p99\\\(ms\\\)'$/);
  });

  void it('a long list of metrics is cut short in the message', () => {
    const names = Array.from({ length: 30 }, (_, i) => `m${i}`);
    const [issue] = unmatchedRuleIssues({ dryRun: [{ metricName: 'x' }] }, names, '', 'this run');
    assert.match(issue?.message ?? '', /\(metrics: m0, m1, .*, m9, …\)$/);
  });
});
