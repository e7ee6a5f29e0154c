// A small, safe evaluator for the condition expressions of analysis metrics
// (`successCondition: result[0] >= 0.95`). It reads what Argo Rollouts users write — the part of
// the expr language its documentation and examples use — with a tokenizer
// (expression-tokens.ts), a recursive-descent parser (expression-parser.ts) and an interpreter over
// plain values (expression-eval.ts, expression-functions.ts). Nothing is ever handed to
// JavaScript's eval or Function: an expression can only read `result` and call the functions
// listed in FUNCTIONS.
//
//   literals     1  0.95  1e-3  "text"  'text'  `raw \d text`  true  false  nil  [1, 2]
//   access       result  result[0]  result[-1]  result.data.ok  result["data"]  result?.data
//   operators    ! not  - +  ??  **  * / %  + -  < <= > >=  in  contains  startsWith  endsWith
//                matches (each of the last five also after not: `not in`)  == !=  && and  || or
//                a ? b : c
//   predicates   all any none one filter map count sum find findIndex findLast findLastIndex,
//                e.g. all(result, # < 1000), filter(result, {# > 0.5}), any(result, .ok)
//   functions    len isNaN isInf isNil default asInt asFloat int float string abs ceil floor
//                round min max mean median first last keys values lower upper trim hasPrefix
//                hasSuffix
//
// `matches` uses RE2 (safe-regex.ts), so no pattern can make it slow. A condition is at most
// MAX_CONDITION_LENGTH characters and MAX_NESTING levels deep, and an evaluation at most MAX_STEPS
// steps: beyond those it is an error like any malformed condition, never a stack overflow.
//
// A malformed expression throws ExpressionError with the column of the mistake and what was
// expected there; a well-formed one that cannot be evaluated on a value (`result[0]` of an empty
// list, `"a" < 1`) throws EvaluationError, also with the column.
import { evaluate } from './expression-eval.ts';
import { typeName } from './expression-functions.ts';
import { parseExpression } from './expression-parser.ts';
import { EvaluationError, ExpressionError } from './expression-tokens.ts';

export { evaluate, MAX_STEPS } from './expression-eval.ts';
export { FUNCTIONS, parseExpression, type Expr, type ParseOptions } from './expression-parser.ts';
export { EvaluationError, ExpressionError, MAX_CONDITION_LENGTH, MAX_NESTING, MissingValueError, tokenize } from './expression-tokens.ts';

/** Parses (checking that it reads only `result`) and evaluates a condition; it must give true or false. */
export function evaluateCondition(source: string, result: unknown): boolean {
  const expr = parseExpression(source, { variables: ['result'] });
  let value: unknown;
  try {
    value = evaluate(expr, { result });
  } catch (err) {
    // A result nested deeper than the stack (a JSON answer of 100000 brackets) is the result's
    // problem, not the controller's: report it like any other evaluation error.
    if (err instanceof RangeError) throw new EvaluationError(`the condition cannot be evaluated on this result: ${err.message}`, 1);
    throw err;
  }
  if (typeof value !== 'boolean') {
    throw new EvaluationError(`the condition must give true or false, it gave ${typeName(value)}${typeof value === 'number' || typeof value === 'string' ? ` ${JSON.stringify(value)}` : ''}`, 1);
  }
  return value;
}

/** The problem with a condition's syntax, or undefined when it parses. */
export function checkCondition(source: string): ExpressionError | undefined {
  try {
    parseExpression(source, { variables: ['result'] });
    return undefined;
  } catch (err) {
    if (err instanceof ExpressionError) return err;
    throw err;
  }
}
