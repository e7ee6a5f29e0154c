// The interpreter of parsed analysis conditions over plain values. Its recursion follows the
// syntax tree, which the parser keeps shallow; its work is bounded by MAX_STEPS (a predicate over
// a long list inside another one) and by MAX_MATCH_WORK for all `matches` together.
import { compileRegex, MAX_MATCH_WORK, RegexError } from '../lib/safe-regex.ts';
import type { Expr } from './expression-parser.ts';
import { EvaluationError, MissingValueError } from './expression-tokens.ts';
import { callFunction, deepEqual, toNumber, toText, typeName, type Context, type Env } from './expression-functions.ts';

/** Values looked at in one evaluation; about a tenth of a second. */
export const MAX_STEPS = 1_000_000;

/** Evaluates a parsed expression; throws EvaluationError (MissingValueError for absent values). */
export function evaluate(expr: Expr, env: Env): unknown {
  return run(expr, { env, scope: undefined, budget: { steps: 0, regexWork: 0 } });
}

function run(expr: Expr, ctx: Context): unknown {
  const col = expr.at + 1;
  if (++ctx.budget.steps > MAX_STEPS) {
    throw new EvaluationError(`the condition takes more than ${MAX_STEPS} steps on this result; avoid predicates inside predicates over long lists`, col);
  }
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'name':
      if (!Object.hasOwn(ctx.env, expr.name)) throw new EvaluationError(`unknown name "${expr.name}"`, col);
      return ctx.env[expr.name];
    case 'pointer':
      if (ctx.scope === undefined) throw new EvaluationError(`${expr.name} is only defined inside a predicate`, col);
      return expr.name === '#index' ? ctx.scope.index : ctx.scope.item;
    case 'closure':
      throw new EvaluationError('a predicate can only be an argument of all, any, none, one, filter, map, count, sum or find', col);
    case 'list':
      return expr.items.map((item) => run(item, ctx));
    case 'member':
      return member(run(expr.object, ctx), expr.name, expr.optional, col);
    case 'index': {
      const object = run(expr.object, ctx);
      if (expr.optional && (object === null || object === undefined)) return undefined;
      return index(object, run(expr.index, ctx), col);
    }
    case 'unary': {
      const value = run(expr.operand, ctx);
      if (expr.op === '!') {
        if (typeof value !== 'boolean') throw new EvaluationError(`"!" expects true or false, got ${typeName(value)}`, col);
        return !value;
      }
      const n = toNumber(value, `"${expr.op}"`, expr.at);
      return expr.op === '-' ? -n : n;
    }
    case 'conditional': {
      const test = run(expr.test, ctx);
      if (typeof test !== 'boolean') throw new EvaluationError(`"?" expects a condition that is true or false, got ${typeName(test)}`, col);
      return test ? run(expr.then, ctx) : run(expr.otherwise, ctx);
    }
    case 'binary':
      return binary(expr.op, expr.left, expr.right, ctx, expr.at);
    case 'call':
      return callFunction(expr.name, expr.args, ctx, run, expr.at);
  }
}

function member(object: unknown, name: string, optional: boolean, col: number): unknown {
  if (object === null || object === undefined) {
    if (optional) return undefined;
    throw new MissingValueError(`cannot read field "${name}" of nil (write ?.${name} to get nil instead)`, col);
  }
  if (typeof object !== 'object' || Array.isArray(object)) throw new EvaluationError(`cannot read field "${name}" of ${typeName(object)}`, col);
  // Only own fields: `constructor` or `__proto__` of a result is nil, never JavaScript's.
  return Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
}

function index(object: unknown, key: unknown, col: number): unknown {
  if (Array.isArray(object) || typeof object === 'string') {
    if (typeof key !== 'number' || !Number.isInteger(key)) throw new EvaluationError(`a list index must be a whole number, got ${typeName(key)}`, col);
    const i = key < 0 ? object.length + key : key;
    const what = typeof object === 'string' ? 'the string has' : 'the list has';
    if (i < 0 || i >= object.length) throw new MissingValueError(`index ${key} is out of range: ${what} ${object.length} item${object.length === 1 ? '' : 's'}`, col);
    return object[i];
  }
  if (object !== null && typeof object === 'object') {
    if (typeof key !== 'string') throw new EvaluationError(`an object key must be a string, got ${typeName(key)}`, col);
    return Object.hasOwn(object, key) ? (object as Record<string, unknown>)[key] : undefined;
  }
  if (object === null || object === undefined) throw new MissingValueError('cannot index nil', col);
  throw new EvaluationError(`cannot index ${typeName(object)}`, col);
}

function binary(op: string, leftExpr: Expr, rightExpr: Expr, ctx: Context, at: number): unknown {
  const col = at + 1;
  if (op === '&&' || op === '||') {
    const left = run(leftExpr, ctx);
    if (typeof left !== 'boolean') throw new EvaluationError(`"${op}" expects true or false on its left, got ${typeName(left)}`, col);
    if (op === '&&' && !left) return false;
    if (op === '||' && left) return true;
    const right = run(rightExpr, ctx);
    if (typeof right !== 'boolean') throw new EvaluationError(`"${op}" expects true or false on its right, got ${typeName(right)}`, col);
    return right;
  }
  if (op === '??') {
    let left: unknown;
    try {
      left = run(leftExpr, ctx);
    } catch (err) {
      if (!(err instanceof MissingValueError)) throw err;
    }
    return left === null || left === undefined ? run(rightExpr, ctx) : left;
  }
  const left = run(leftExpr, ctx);
  const right = run(rightExpr, ctx);
  if (op.startsWith('not ')) return !wordOperator(op.slice(4), left, right, ctx, at);
  switch (op) {
    case '==':
      return deepEqual(left, right, at);
    case '!=':
      return !deepEqual(left, right, at);
    case '<':
    case '<=':
    case '>':
    case '>=':
      return compare(op, left, right, col);
    case '+':
      if (typeof left === 'string' && typeof right === 'string') return left + right;
      if (Array.isArray(left) && Array.isArray(right)) return [...left, ...right];
      return toNumber(left, '"+"', at) + toNumber(right, '"+"', at);
    case '-':
      return toNumber(left, '"-"', at) - toNumber(right, '"-"', at);
    case '*':
      return toNumber(left, '"*"', at) * toNumber(right, '"*"', at);
    case '/':
      return toNumber(left, '"/"', at) / toNumber(right, '"/"', at);
    case '%':
      return toNumber(left, '"%"', at) % toNumber(right, '"%"', at);
    case '**':
      return toNumber(left, '"**"', at) ** toNumber(right, '"**"', at);
    default:
      return wordOperator(op, left, right, ctx, at);
  }
}

function compare(op: string, left: unknown, right: unknown, col: number): boolean {
  const bothNumbers = typeof left === 'number' && typeof right === 'number';
  const bothStrings = typeof left === 'string' && typeof right === 'string';
  if (!bothNumbers && !bothStrings) throw new EvaluationError(`cannot compare ${typeName(left)} with ${typeName(right)} using "${op}"`, col);
  const a = left as number | string;
  const b = right as number | string;
  return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
}

/** in, contains, startsWith, endsWith, matches (each also written with `not` before it). */
function wordOperator(op: string, left: unknown, right: unknown, ctx: Context, at: number): boolean {
  const col = at + 1;
  switch (op) {
    case 'in':
      if (Array.isArray(right)) return right.some((item) => deepEqual(item, left, at));
      if (right !== null && typeof right === 'object') return typeof left === 'string' && Object.hasOwn(right, left);
      throw new EvaluationError(`"in" expects a list or an object on its right, got ${typeName(right)}`, col);
    case 'contains':
      return toText(left, '"contains"', at).includes(toText(right, '"contains"', at));
    case 'startsWith':
      return toText(left, '"startsWith"', at).startsWith(toText(right, '"startsWith"', at));
    case 'endsWith':
      return toText(left, '"endsWith"', at).endsWith(toText(right, '"endsWith"', at));
    case 'matches':
      return matches(toText(left, '"matches"', at), toText(right, '"matches"', at), ctx, at);
    default:
      throw new EvaluationError(`unknown operator ${op}`, col);
  }
}

/** Unanchored, as Go's regexp.MatchString: anchor with ^ and $ to match the whole text. */
function matches(text: string, pattern: string, ctx: Context, at: number): boolean {
  try {
    const re = compileRegex(pattern, `the pattern of "matches"`);
    ctx.budget.regexWork += text.length * re.size;
    if (ctx.budget.regexWork > MAX_MATCH_WORK) {
      throw new EvaluationError(`"matches" in this condition has more text to search than it may (${MAX_MATCH_WORK} steps for all matches together); match fewer or shorter values`, at + 1);
    }
    return re.test(text);
  } catch (err) {
    if (err instanceof RegexError) throw new EvaluationError(err.message, at + 1);
    throw err;
  }
}
