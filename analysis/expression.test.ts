import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EvaluationError, ExpressionError, MissingValueError, checkCondition, evaluate, evaluateCondition, parseExpression } from './expression.ts';

const run = (source: string, result: unknown): unknown => evaluate(parseExpression(source), { result });

void describe('conditions Argo users write', () => {
  void it('compares the first sample of a Prometheus vector', () => {
    assert.equal(evaluateCondition('result[0] >= 0.95', [0.97]), true);
    assert.equal(evaluateCondition('result[0] >= 0.95', [0.9]), false);
    assert.equal(evaluateCondition('result[0] < 0.05', [0.01, 0.5]), true);
  });

  void it('combines len, && and ||', () => {
    assert.equal(evaluateCondition('len(result) > 0 && result[0] < 5', [3]), true);
    assert.equal(evaluateCondition('len(result) > 0 && result[0] < 5', []), false, '&& stops before result[0] of an empty list');
    assert.equal(evaluateCondition('len(result) == 0 || result[0] < 5', []), true);
    assert.equal(evaluateCondition('result[0] > 1 and result[0] < 3 or result[0] == 10', [10]), true);
  });

  void it('isNaN, isInf and default on scalars', () => {
    assert.equal(evaluateCondition('isNaN(result)', Number.NaN), true);
    assert.equal(evaluateCondition('!isNaN(result) && result > 2', 3), true);
    assert.equal(evaluateCondition('isInf(result)', Infinity), true);
    assert.equal(evaluateCondition('default(result, 0) >= 0.95', null), false);
    assert.equal(evaluateCondition('default(result, 1) >= 0.95', Number.NaN), true, 'NaN counts as missing');
    assert.equal(evaluateCondition('default(result[0], 0) < 0.05', []), true, 'an index out of range counts as missing inside default');
    assert.equal(evaluateCondition('default(result, 0) >= 0.95', 0.99), true);
  });

  void it('reads fields of a JSON answer', () => {
    const body = { data: { ok: true, rate: '0.02', items: [1, 2, 3] }, 'with-dash': 1 };
    assert.equal(evaluateCondition('result.data.ok', body), true);
    assert.equal(evaluateCondition('result.data.ok == true', body), true);
    assert.equal(evaluateCondition('asFloat(result.data.rate) < 0.05', body), true);
    assert.equal(evaluateCondition('len(result.data.items) == 3 && result.data.items[-1] == 3', body), true);
    assert.equal(evaluateCondition('result["with-dash"] == 1', body), true);
    assert.equal(evaluateCondition('result.data.missing == nil', body), true, 'an absent field is nil');
    assert.equal(evaluateCondition('"ok" in result.data', body), true);
  });

  void it('strings, numbers, asInt and arithmetic', () => {
    assert.equal(evaluateCondition('result == "healthy"', 'healthy'), true);
    assert.equal(evaluateCondition("result != 'down'", 'healthy'), true);
    assert.equal(evaluateCondition('asInt(result) + 1 == 42', '41'), true);
    assert.equal(evaluateCondition('asInt(result) == 4', 4.7), true);
    assert.equal(run('(1 + 2) * 3 - 4 / 2', null), 7);
    assert.equal(run('2 ** 3 % 5', null), 3);
    assert.equal(run('-result[0]', [2]), -2);
    assert.equal(run('result > 1 ? "high" : "low"', 2), 'high');
    assert.equal(run('1e-3 + .5', null), 0.501);
    assert.equal(run('"a\\"b" + \'c\'', null), 'a"bc');
    assert.deepEqual(run('[1, 2] == [1, 2]', null), true);
    assert.equal(run('max(result)', [1, 5, 3]), 5);
    assert.equal(run('min(1, result)', 0.5), 0.5);
    assert.equal(run('sum(result) / len(result)', [1, 2, 3]), 2);
    assert.equal(run('abs(result)', -3), 3);
    assert.equal(run('not (result in [1, 2])', 3), true);
  });
});

void describe('malformed expressions are rejected with the column and what was expected', () => {
  const rejects = (source: string, column: number, expected: RegExp, found?: RegExp): ExpressionError => {
    const err = checkCondition(source);
    assert.ok(err instanceof ExpressionError, `${source} should be rejected`);
    assert.equal(err.column, column, `${source}: ${err.message}`);
    assert.match(err.expected, expected, err.message);
    if (found) assert.match(err.found, found, err.message);
    assert.match(err.message, new RegExp(`column ${column}`));
    return err;
  };

  void it('a missing operand', () => {
    rejects('result[0] >=', 13, /a value/, /end of the expression/);
    rejects('&& result', 1, /a value/, /"&&"/);
  });

  void it('unbalanced brackets and parentheses', () => {
    rejects('result[0 >= 1', 14, /"\]" to close the "\[" at column 7/);
    rejects('(result > 1', 12, /"\)" to close the "\(" at column 1/);
    rejects('result > 1)', 11, /closes nothing/);
    rejects('len(result', 11, /close the call of len/);
  });

  void it('single = and & are not operators', () => {
    rejects('result = 1', 8, /"==" to compare/, /"="/);
    rejects('result[0] > 1 & true', 15, /"&&"/);
  });

  void it('unknown functions and names, wrong argument counts', () => {
    rejects('avg(result) > 1', 1, /one of the functions/, /unknown function "avg"/);
    rejects('results[0] > 1', 1, /"result"/, /unknown name "results"/);
    rejects('default(result) > 1', 1, /2 arguments for default/, /1/);
    rejects('result(1)', 1, /one of the functions/, /unknown function "result"/);
    rejects('result[0](1)', 10, /only the functions/);
  });

  void it('bad literals', () => {
    rejects('result == "open', 11, /closing "/);
    rejects('result > 1x', 11, /operator or the end of the number/);
    rejects('result == "\\q"', 12, /escape/);
    rejects('result >= 0.95 0.9', 16, /operator or the end/, /number 0.9/);
    rejects('', 1, /an expression/);
    rejects('result.', 8, /field name/);
    rejects('result[]', 8, /an index/);
  });
});

void describe('evaluation errors name the problem and the column', () => {
  void it('an index out of range is a missing value', () => {
    assert.throws(() => evaluateCondition('result[0] >= 0.95', []), (err: unknown) => err instanceof MissingValueError && /index 0 is out of range: the list has 0 items/.test(err.message) && err.column === 7);
  });

  void it('type mismatches', () => {
    assert.throws(() => evaluateCondition('result >= 0.95', [0.9]), (err: unknown) => err instanceof EvaluationError && /cannot compare a list with a number/.test(err.message));
    assert.throws(() => evaluateCondition('result && true', 1), /"&&" expects true or false on its left, got a number/);
    assert.throws(() => evaluateCondition('isNaN(result)', [1]), /isNaN expects a number, got a list/);
    assert.throws(() => evaluateCondition('asInt(result) > 1', '1.5'), /asInt cannot read "1.5" as an integer/);
    assert.throws(() => evaluateCondition('result.a.b', { a: null }), (err: unknown) => err instanceof MissingValueError && /field "b" of nil/.test(err.message));
  });

  void it('a condition must give a boolean', () => {
    assert.throws(() => evaluateCondition('result[0]', [0.5]), /must give true or false, it gave a number 0.5/);
  });

  void it('never runs JavaScript', () => {
    for (const source of ['constructor.constructor("return process")()', 'this.x', 'result.__proto__.polluted = 1', 'process.exit(1)']) {
      assert.throws(() => run(source, {}), (err: unknown) => err instanceof ExpressionError || err instanceof EvaluationError, source);
    }
    assert.equal(run('result.constructor == nil', {}), true, 'only own fields are visible');
  });
});
