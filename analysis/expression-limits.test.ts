// Conditions too long, too deep or too costly are errors with a clear message — an AnalysisRun
// that ends in Error like for any malformed condition — never a stack overflow or a stalled thread.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { evaluateConditions } from './assess.ts';
import { checkCondition, evaluateCondition, ExpressionError, EvaluationError, MAX_CONDITION_LENGTH, MAX_NESTING, MAX_STEPS } from './expression.ts';

const parens = (n: number, inner = 'true'): string => `${'('.repeat(n)}${inner}${')'.repeat(n)}`;

function fast<T>(ms: number, work: () => T): T {
  const started = performance.now();
  const value = work();
  assert.ok(performance.now() - started < ms, `took ${Math.round(performance.now() - started)} ms`);
  return value;
}

void describe('the length of a condition is bounded', () => {
  void it('10000 parentheses: refused for its length, as an error, quickly', () => {
    const source = parens(10_000);
    const err = fast(500, () => checkCondition(source));
    assert.ok(err instanceof ExpressionError);
    assert.match(err.message, new RegExp(`^condition is longer than ${MAX_CONDITION_LENGTH} characters \\(it has 20004\\)`));
    assert.ok(err.message.length < 300, 'the message does not repeat the condition');
  });

  void it('the measurement is Error with that message, like any malformed condition', () => {
    const outcome = evaluateConditions({ successCondition: parens(10_000), failureCondition: undefined }, true);
    assert.equal(outcome.phase, 'Error');
    assert.match(outcome.message ?? '', /condition is longer than 4096 characters/);
  });

  void it('a condition of exactly the limit still works, even a long flat chain', () => {
    const padded = `result == 1${' '.repeat(MAX_CONDITION_LENGTH - 11)}`;
    assert.equal(padded.length, MAX_CONDITION_LENGTH);
    assert.equal(evaluateCondition(padded, 1), true);
    assert.match(checkCondition(`${padded} `)?.message ?? '', /longer than/);
    const chain = `result${' + 1'.repeat(1000)} == 1000`;
    assert.ok(chain.length <= MAX_CONDITION_LENGTH);
    assert.equal(evaluateCondition(chain, 0), true);
  });
});

void describe('the nesting of a condition is bounded', () => {
  const tooDeep = (source: string): void => {
    const err = fast(500, () => checkCondition(source));
    assert.ok(err instanceof ExpressionError, `${source.slice(0, 30)}… should be refused`);
    assert.match(err.message, new RegExp(`^condition nests deeper than ${MAX_NESTING} levels \\(at column \\d+\\); remove redundant parentheses`));
    const outcome = evaluateConditions({ successCondition: source, failureCondition: undefined }, [1]);
    assert.equal(outcome.phase, 'Error');
    assert.equal(outcome.message, err.message);
  };

  void it('parentheses one level past the limit are refused; at the limit they work', () => {
    tooDeep(parens(MAX_NESTING + 1));
    assert.equal(evaluateCondition(parens(MAX_NESTING), null), true);
    assert.equal(evaluateCondition(parens(MAX_NESTING, 'result > 0'), 1), true);
  });

  void it('every way of nesting counts: lists, calls, indexes, predicates, unary operators, ?:', () => {
    const n = MAX_NESTING + 1;
    tooDeep(`${'['.repeat(n)}1${']'.repeat(n)} != nil`);
    tooDeep(`${'abs('.repeat(n)}1${')'.repeat(n)} > 0`);
    tooDeep(`result${'[0'.repeat(n)}${']'.repeat(n)} > 0`);
    tooDeep(`${'all(result, '.repeat(n)}true${')'.repeat(n)}`);
    tooDeep(`${'!'.repeat(n)}true`);
    tooDeep(`${'-'.repeat(n)}1 < 0`);
    tooDeep(`${'true ? '.repeat(n)}true${' : false'.repeat(n)}`);
    tooDeep(`2 ${'** 2 '.repeat(n)}> 0`);
    assert.equal(evaluateCondition(`${'!'.repeat(MAX_NESTING)}true`, null), true, 'an even number of ! at the limit');
  });
});

void describe('the work of an evaluation is bounded', () => {
  void it('predicates inside predicates over a long list stop with an error', () => {
    const result = Array.from({ length: 300 }, (_, i) => i);
    const err = fast(3000, () => {
      try {
        evaluateCondition('all(result, all(result, all(result, # >= 0)))', result);
      } catch (e) {
        return e;
      }
      return undefined;
    });
    assert.ok(err instanceof EvaluationError);
    assert.match(err.message, new RegExp(`takes more than ${MAX_STEPS} steps on this result`));
  });

  void it('"matches" with a catastrophic pattern answers at once', () => {
    const text = `${'a'.repeat(20_000)}!`;
    for (const pattern of ['^(a+)+$', '^(a|aa)+$', '^(a|a?)+$', '^(.*a){20}$']) {
      assert.equal(fast(1000, () => evaluateCondition(`result matches "${pattern}"`, text)), false, pattern);
    }
  });

  void it('"matches" over many long texts is refused past its budget, not run for minutes', () => {
    const texts = Array.from({ length: 200 }, () => 'b'.repeat(2000));
    assert.throws(
      () => fast(3000, () => evaluateCondition('any(result, # matches "(.*a){300}")', texts)),
      /"matches" in this condition has more text to search than it may/,
    );
  });

  void it('comparing a result nested 200000 levels deep is an evaluation error, not a stack overflow', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 200_000; i++) deep = [deep];
    assert.throws(() => evaluateCondition('result == result', deep), (err: unknown) => err instanceof EvaluationError && /nested more than 1000 levels/.test(err.message));
    assert.throws(() => evaluateCondition('result in [result]', deep), (err: unknown) => err instanceof EvaluationError && /nested more than 1000 levels/.test(err.message));
  });
});
