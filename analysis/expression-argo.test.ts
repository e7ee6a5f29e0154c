// The conditions that appear in Argo Rollouts' analysis documentation (the analysis overview and
// the Prometheus, Datadog, New Relic, Wavefront, Web, CloudWatch, SkyWalking, App Insights, GCP,
// InfluxDB and Instana pages), each with a result that makes it true and one that makes it false,
// in the shape that provider hands to the condition.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkCondition, evaluate, evaluateCondition, parseExpression } from './expression.ts';

interface Case {
  where: string;
  condition: string;
  whenTrue: unknown;
  whenFalse: unknown;
}

const CASES: Case[] = [
  // Analysis overview
  { where: 'overview: background analysis', condition: 'result >= 0.95', whenTrue: 0.97, whenFalse: 0.5 },
  { where: 'overview: multiple templates', condition: 'result <= 0.95', whenTrue: 0.2, whenFalse: 0.99 },
  { where: 'overview: failure conditions', condition: 'result[0] >= 10', whenTrue: [12], whenFalse: [3] },
  { where: 'overview: inconclusive (success)', condition: 'result[0] >= 0.90', whenTrue: [0.91], whenFalse: [0.7] },
  { where: 'overview: inconclusive (failure)', condition: 'result[0] < 0.50', whenTrue: [0.4], whenFalse: [0.7] },
  { where: 'overview: web metric as a string', condition: "result == 'true'", whenTrue: 'true', whenFalse: 'false' },
  { where: 'overview: asFloat', condition: 'asFloat(result) >= 0.90', whenTrue: '0.95', whenFalse: '0.5' },
  { where: 'overview: NaN counts as success', condition: 'isNaN(result) || result >= 0.95', whenTrue: Number.NaN, whenFalse: 0.5 },
  { where: 'overview: NaN fails a plain comparison', condition: 'result >= 0.95', whenTrue: Infinity, whenFalse: Number.NaN },
  { where: 'overview: infinity fails', condition: 'isInf(result)', whenTrue: Infinity, whenFalse: 1 },
  { where: 'overview: empty array is success', condition: 'len(result) == 0 || result[0] >= 0.95', whenTrue: [], whenFalse: [0.5] },
  { where: 'overview: empty array is failure', condition: 'len(result) > 0 && result[0] >= 0.95', whenTrue: [0.99], whenFalse: [] },
  // Prometheus
  { where: 'prometheus: instant query', condition: 'result[0] >= 0.95', whenTrue: [0.97], whenFalse: [0.9] },
  { where: 'prometheus: range query, every value', condition: 'all(result, # < 1000)', whenTrue: [120, 450, 999], whenFalse: [120, 1200, 300] },
  // Datadog
  { where: 'datadog: scalar', condition: 'result <= 0.01', whenTrue: 0.005, whenFalse: 0.02 },
  { where: 'datadog: default on no data', condition: 'default(result, 0) < 10', whenTrue: null, whenFalse: 12 },
  { where: 'datadog: restarts (arg substituted)', condition: 'default(result, 0) > 4', whenTrue: 5, whenFalse: null },
  { where: 'datadog: tip', condition: 'default(result, 0) < 0.05', whenTrue: null, whenFalse: 0.3 },
  { where: 'datadog: percentage formula', condition: 'default(result, 0) < 5', whenTrue: 2.5, whenFalse: 7 },
  { where: 'datadog: grouped, worst group', condition: 'max(result) < 0.05', whenTrue: [0.01, 0.04], whenFalse: [0.01, 0.2] },
  { where: 'datadog: grouped, mean', condition: 'mean(result) < 0.05', whenTrue: [0.02, 0.06], whenFalse: [0.02, 0.2] },
  { where: 'datadog: grouped, sum', condition: 'sum(result) < 10', whenTrue: [2, 3], whenFalse: [8, 3] },
  { where: 'datadog: grouped, every group', condition: 'all(result, # < 0.05)', whenTrue: [0.01, 0.02], whenFalse: [0.01, 0.07] },
  { where: 'datadog: grouped, any group', condition: 'any(result, # >= 0.05)', whenTrue: [0.01, 0.07], whenFalse: [0.01, 0.02] },
  // New Relic
  { where: 'newrelic: aliased field', condition: 'result.successRate >= 0.95', whenTrue: { successRate: 0.97 }, whenFalse: { successRate: 0.5 } },
  { where: 'newrelic: dotted field name', condition: "result['average.duration'] < 200", whenTrue: { 'average.duration': 120 }, whenFalse: { 'average.duration': 350 } },
  // Wavefront
  { where: 'wavefront', condition: 'result >= 0.95', whenTrue: 0.96, whenFalse: 0.9 },
  // Web
  { where: 'web: jsonPath to a boolean', condition: 'result == true', whenTrue: true, whenFalse: false },
  { where: 'web: object', condition: 'result.ok && result.successPercent >= 0.90', whenTrue: { ok: true, successPercent: 0.95 }, whenFalse: { ok: true, successPercent: 0.5 } },
  // CloudWatch
  {
    where: 'cloudwatch: braces around the predicate',
    condition: 'all(result[0].Values, {# <= 0.01})',
    whenTrue: [{ Id: 'rate', Values: [0.001, 0.01] }],
    whenFalse: [{ Id: 'rate', Values: [0.001, 0.02] }],
  },
  // SkyWalking
  {
    where: 'skywalking: .field inside the predicate',
    condition: 'all(result.service_apdex.values.values, {asFloat(.value) >= 9900})',
    whenTrue: { service_apdex: { values: { values: [{ value: '9950' }, { value: '10000' }] } } },
    whenFalse: { service_apdex: { values: { values: [{ value: '9950' }, { value: '9000' }] } } },
  },
  // Application Insights
  { where: 'appinsights: column of values', condition: 'result.Percentage[0] >= 0.95', whenTrue: { Percentage: [0.99] }, whenFalse: { Percentage: [0.5] } },
  // Google Cloud Monitoring
  { where: 'gcp: every sample of the first series', condition: 'all(result[0], # >= 0.95)', whenTrue: [[0.96, 0.99]], whenFalse: [[0.96, 0.9]] },
  { where: 'gcp: first sample', condition: 'result[0][0] < 0.8', whenTrue: [[0.5]], whenFalse: [[0.85]] },
  { where: 'gcp: most recent sample', condition: 'result[0][len(result[0])-1] >= 0.95', whenTrue: [[0.5, 0.97]], whenFalse: [[0.97, 0.5]] },
  // InfluxDB
  { where: 'influxdb', condition: 'result[0] <= 0.01', whenTrue: [0.01], whenFalse: [0.02] },
  // Instana
  { where: 'instana: success', condition: 'default(result, 0) < 0.01', whenTrue: 0.001, whenFalse: 0.01 },
  { where: 'instana: failure', condition: 'default(result, 0) >= 0.05', whenTrue: 0.07, whenFalse: null },
];

void describe("conditions from Argo Rollouts' documentation", () => {
  for (const c of CASES) {
    void it(`${c.where}: ${c.condition}`, () => {
      assert.equal(checkCondition(c.condition), undefined, 'parses');
      assert.equal(evaluateCondition(c.condition, c.whenTrue), true, `true for ${JSON.stringify(c.whenTrue)}`);
      assert.equal(evaluateCondition(c.condition, c.whenFalse), false, `false for ${JSON.stringify(c.whenFalse)}`);
    });
  }

  void it('graphite: the page writes results[0]; the mistake is named, with the name to use', () => {
    const err = checkCondition('results[0] >= 90.000000');
    assert.ok(err);
    assert.match(err.message, /at column 1: expected "result", found the unknown name "results"/);
  });
});

const run = (source: string, result: unknown): unknown => evaluate(parseExpression(source), { result });

void describe('the rest of the expr language Argo users reach for', () => {
  void it('predicates: all, any, none, one, filter, map, count, sum, find', () => {
    const r = [0.2, 0.7, 0.9];
    assert.deepEqual(run('filter(result, # > 0.5)', r), [0.7, 0.9]);
    assert.deepEqual(run('map(result, # * 10)', r), [2, 7, 9]);
    assert.equal(run('count(result, # > 0.5)', r), 2);
    assert.equal(run('count([true, false, true])', r), 2, 'count without a predicate counts true items');
    assert.equal(run('none(result, # > 1)', r), true);
    assert.equal(run('one(result, # > 0.8)', r), true);
    assert.equal(run('one(result, # > 0.5)', r), false);
    assert.equal(run('sum(result, # * 10)', r), 18);
    assert.equal(run('find(result, # > 0.5)', r), 0.7);
    assert.equal(run('findIndex(result, # > 0.5)', r), 1);
    assert.equal(run('findLast(result, # > 0.5)', r), 0.9);
    assert.equal(run('find(result, # > 5) ?? -1', r), -1, 'find of nothing is nil');
    assert.deepEqual(run('filter(result, #index > 0)', r), [0.7, 0.9], '#index is the position');
    assert.equal(run('all([], # > 1)', r), true, 'all of nothing');
    assert.equal(run('any(result, {# > 0.8})', r), true, 'braces are optional');
  });

  void it('predicates nest, each # being its own item; .field reads the item', () => {
    const series = [{ name: 'a', values: [1, 2] }, { name: 'b', values: [3, 40] }];
    assert.equal(run('all(result, all(.values, # < 50))', series), true);
    assert.deepEqual(run('map(filter(result, any(#.values, # > 10)), .name)', series), ['b']);
    assert.equal(run('len(filter(result, .name in ["a", "c"]))', series), 1);
  });

  void it('in, not in, contains, startsWith, endsWith, matches (and with not)', () => {
    assert.equal(evaluateCondition('result in ["ok", "degraded"]', 'ok'), true);
    assert.equal(evaluateCondition('result not in ["ok", "degraded"]', 'down'), true);
    assert.equal(evaluateCondition('"ok" in result', { ok: 1 }), true, 'in on an object looks at its keys');
    assert.equal(evaluateCondition('result.status contains "healthy"', { status: 'all healthy' }), true);
    assert.equal(evaluateCondition('result not contains "error"', 'fine'), true);
    assert.equal(evaluateCondition('result startsWith "v2."', 'v2.1.0'), true);
    assert.equal(evaluateCondition('result endsWith "-rc"', 'v2.1.0'), false);
    assert.equal(evaluateCondition('result not startsWith "v1"', 'v2'), true);
    assert.equal(evaluateCondition('result matches "^v[0-9]+\\\\.[0-9]+$"', 'v2.1'), true);
    assert.equal(evaluateCondition('result matches `^v\\d+\\.\\d+$`', 'v2.1.0'), false, 'a raw string keeps its backslashes');
    assert.equal(evaluateCondition('result matches "healthy"', 'all healthy'), true, 'unanchored, as Go regexp.MatchString');
    assert.equal(evaluateCondition('result not matches "(?i)error"', 'ERROR: disk'), false);
    assert.equal(evaluateCondition('all(result, # matches "^2[0-9][0-9]$")', ['200', '204']), true);
  });

  void it('?? and ?. for values that may be missing', () => {
    assert.equal(evaluateCondition('(result ?? 0) < 5', null), true);
    assert.equal(evaluateCondition('result.data?.rate ?? 1 < 0.5', { data: null }), false);
    assert.equal(evaluateCondition('result.data?.rate ?? 1 < 0.5', { data: { rate: 0.1 } }), true);
    assert.equal(evaluateCondition('result[0] ?? 0 < 1', []), true, 'an index out of range counts as missing');
    assert.equal(run('result?.[0]', null), undefined);
    assert.equal(run('result ?? -1', 3), 3);
    assert.equal(run('-result ?? 2', null), -2, '?? binds tighter than unary minus, as in expr');
  });

  void it('numbers, strings and lists', () => {
    assert.equal(run('median(result)', [5, 1, 3, 2]), 2.5);
    assert.equal(run('mean(1, 2, 6)', null), 3);
    assert.equal(run('round(result)', -2.5), -3, 'half away from zero, as in Go');
    assert.equal(run('ceil(1.2) + floor(1.8)', null), 3);
    assert.equal(run('2 ^ 10', null), 1024);
    assert.equal(run('first(result) + last(result)', [1, 2, 3]), 4);
    assert.equal(run('first([])', null), undefined);
    assert.equal(run('upper(trim(" ok ")) + lower("X")', null), 'OKx');
    assert.deepEqual(run('keys(result)', { a: 1, b: 2 }), ['a', 'b']);
    assert.deepEqual(run('[1] + [2, 3]', null), [1, 2, 3]);
    assert.equal(run('"héllo"[1]', null), 'é');
    assert.equal(run('"\\u00e9\\x41"', null), 'éA');
    assert.equal(run('hasPrefix("canary-1", "canary") && hasSuffix("canary-1", "-1")', null), true);
  });

  void it('mistakes in the new syntax are named with their column', () => {
    const problem = (source: string): string => checkCondition(source)?.message ?? 'parsed';
    assert.match(problem('# > 1'), /column 1: expected a value \(# stands for the item only inside the predicate of all, any/);
    assert.match(problem('all(result, {# > 1)'), /column 19: expected "}" to close the predicate at column 13/);
    assert.match(problem('all(result)'), /expected 2 arguments for all, found 1/);
    assert.match(problem('result matches "(?=x)"'), /column 16: expected a regular expression RE2 accepts after "matches", found the pattern "\(\?=x\)" is not a regular expression RE2 accepts: .*no lookahead/);
    assert.match(problem('result not > 1'), /expected an operator or the end of the expression, found "not"/);
    assert.match(problem('result == "\\d"'), /write a regular expression as "\\\\d\+" or `\\d\+`/);
  });

  void it('evaluation errors of the new functions', () => {
    assert.throws(() => evaluateCondition('all(result, # > 1)', 5), /all expects a list, got a number/);
    assert.throws(() => evaluateCondition('all(result, #)', [1]), /the predicate of all must give true or false, it gave a number/);
    assert.throws(() => evaluateCondition('result contains 1', 'x'), /"contains" expects a string, got a number/);
    assert.throws(() => evaluateCondition('result.a matches result.p', { a: 'x', p: '(' }), /the pattern of "matches": "\(" is not a regular expression RE2 accepts/);
  });
});
