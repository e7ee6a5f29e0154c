// Every place a user's regular expression is read goes through safe-regex.ts: dryRun and
// measurementRetention metric names (Rollout validation, the run's policy; `rollway lint` in
// cli/lint-patterns.test.ts) and header / mirror route regexes. A pattern RE2 refuses is an issue
// at its field path, and the catastrophic ones are matched at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import type { Metric } from '../api/analysis.ts';
import { validateRollout } from '../api/rollout.ts';
import { metricPolicy } from './assess.ts';
import { metricNamePatternIssues, rolloutMetricNameIssues } from './metric-name-patterns.ts';

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
    const result = policy({ dryRun: [{ metricName: '(a+)+' }], measurementRetention: [{ metricName: '(a|aa)+', limit: 3 }] });
    assert.ok(performance.now() - started < 500, `took ${Math.round(performance.now() - started)} ms`);
    assert.ok(result.ok);
    assert.equal(result.policy.dryRun, false, 'the whole name must match, and "!" does not');
    assert.equal(result.policy.retention, 10);
  });

  void it('a pattern RE2 refuses is a problem naming the field, not a silent "no match"', () => {
    const result = policy({ dryRun: [{ metricName: '(?=a)' }] });
    assert.equal(result.ok, false);
    assert.match(result.ok ? '' : result.message, /^metric "a+!": dryRun\[0\]\.metricName: "\(\?=a\)" is not a regular expression RE2 accepts/);
  });
});
