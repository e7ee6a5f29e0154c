// The functions an analysis condition can call (listed with their arguments in FUNCTIONS), and the
// value helpers the evaluator shares with them.
import type { Expr } from './expression-parser.ts';
import { EvaluationError, MissingValueError } from './expression-tokens.ts';

export type Env = Readonly<Record<string, unknown>>;
/** The item a predicate is looking at (`#`) and its position (`#index`). */
export interface Scope {
  item: unknown;
  index: number;
}
export interface Context {
  env: Env;
  scope: Scope | undefined;
  /** steps taken and regular-expression work done so far, shared by the whole evaluation */
  budget: { steps: number; regexWork: number };
}
export type Run = (expr: Expr, ctx: Context) => unknown;

export function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : 'a number';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Structural equality; nil and absent are equal. Deeply nested values are refused, not recursed into forever. */
export function deepEqual(a: unknown, b: unknown, at: number, depth = 0): boolean {
  if (depth > 1000) throw new EvaluationError('cannot compare values nested more than 1000 levels deep', at + 1);
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i], at, depth + 1));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k], at, depth + 1));
  }
  return a === b;
}

export function toNumber(value: unknown, what: string, at: number): number {
  if (typeof value === 'number') return value;
  if (value === null || value === undefined) throw new MissingValueError(`${what} expects a number, got nil`, at + 1);
  throw new EvaluationError(`${what} expects a number, got ${typeName(value)}`, at + 1);
}

export function toList(value: unknown, what: string, at: number): unknown[] {
  if (Array.isArray(value)) return value;
  if (value === null || value === undefined) throw new MissingValueError(`${what} expects a list, got nil`, at + 1);
  throw new EvaluationError(`${what} expects a list, got ${typeName(value)}`, at + 1);
}

export function toText(value: unknown, what: string, at: number): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) throw new MissingValueError(`${what} expects a string, got nil`, at + 1);
  throw new EvaluationError(`${what} expects a string, got ${typeName(value)}`, at + 1);
}

function parseNumberText(text: string, integer: boolean, what: string, at: number): number {
  const trimmed = text.trim();
  const ok = integer ? /^[+-]?\d+$/.test(trimmed) : /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) || /^[+-]?(Inf|NaN)$/i.test(trimmed);
  if (!ok) throw new EvaluationError(`${what} cannot read ${JSON.stringify(text)} as ${integer ? 'an integer' : 'a number'}`, at + 1);
  if (/inf$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity;
  return Number(trimmed);
}

function isMissing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

/** `default(a, b)`: b when a is nil, NaN, an empty list or not there at all (an index out of range). */
function defaultOf(args: Expr[], ctx: Context, run: Run): unknown {
  let value: unknown;
  try {
    value = run(args[0] as Expr, ctx);
  } catch (err) {
    if (!(err instanceof MissingValueError)) throw err;
    value = undefined;
  }
  if (Array.isArray(value) && value.length === 0) value = undefined;
  return isMissing(value) ? run(args[1] as Expr, ctx) : value;
}

/** all, any, none, one, filter, map, count, sum, find...: the list, then a predicate run on each item. */
function withPredicate(name: string, args: Expr[], ctx: Context, run: Run, at: number): unknown {
  const list = toList(run(args[0] as Expr, ctx), name, at);
  const body = args[1]?.type === 'closure' ? args[1].body : undefined;
  const apply = (item: unknown, index: number): unknown => (body === undefined ? item : run(body, { ...ctx, scope: { item, index } }));
  const test = (item: unknown, index: number): boolean => {
    const value = apply(item, index);
    if (typeof value !== 'boolean') throw new EvaluationError(`the predicate of ${name} must give true or false, it gave ${typeName(value)}`, at + 1);
    return value;
  };
  switch (name) {
    case 'all':
      return list.every(test);
    case 'any':
      return list.some(test);
    case 'none':
      return !list.some(test);
    case 'one':
      return list.filter(test).length === 1;
    case 'count':
      return list.filter(test).length;
    case 'filter':
      return list.filter(test);
    case 'map':
      return list.map(apply);
    case 'sum':
      return list.reduce((total: number, item, i) => total + toNumber(apply(item, i), 'sum', at), 0);
    case 'find':
      return list.find(test);
    case 'findIndex':
      return list.findIndex(test);
    case 'findLast':
      return list.findLast(test);
    default:
      return list.findLastIndex(test);
  }
}

/** min, max, mean, median: of a list, or of the arguments. */
function statistic(name: string, args: unknown[], at: number): number {
  const first = args[0];
  const values = args.length === 1 && Array.isArray(first) ? first : args;
  if (values.length === 0) throw new MissingValueError(`${name} of an empty list`, at + 1);
  const numbers = values.map((v) => toNumber(v, name, at));
  switch (name) {
    case 'min':
      return numbers.reduce((a, b) => Math.min(a, b));
    case 'max':
      return numbers.reduce((a, b) => Math.max(a, b));
    case 'mean':
      return numbers.reduce((a, b) => a + b, 0) / numbers.length;
    default: {
      const sorted = numbers.toSorted((a, b) => a - b);
      const mid = Math.floor(sorted.length / 2);
      return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
    }
  }
}

const PREDICATE_FUNCTIONS = new Set(['all', 'any', 'none', 'one', 'filter', 'map', 'count', 'sum', 'find', 'findIndex', 'findLast', 'findLastIndex']);

export function callFunction(name: string, argExprs: Expr[], ctx: Context, run: Run, at: number): unknown {
  if (name === 'default') return defaultOf(argExprs, ctx, run);
  if (PREDICATE_FUNCTIONS.has(name)) return withPredicate(name, argExprs, ctx, run, at);
  const args = argExprs.map((a) => run(a, ctx));
  const first = args[0];
  switch (name) {
    case 'min':
    case 'max':
    case 'mean':
    case 'median':
      return statistic(name, args, at);
    case 'first':
      return toList(first, name, at)[0];
    case 'last':
      return toList(first, name, at).at(-1);
    case 'lower':
      return toText(first, name, at).toLowerCase();
    case 'upper':
      return toText(first, name, at).toUpperCase();
    case 'trim':
      return toText(first, name, at).trim();
    case 'hasPrefix':
      return toText(first, name, at).startsWith(toText(args[1], name, at));
    case 'hasSuffix':
      return toText(first, name, at).endsWith(toText(args[1], name, at));
    default:
      return scalarFunction(name, args, at);
  }
}

function scalarFunction(name: string, args: unknown[], at: number): unknown {
  const first = args[0];
  const col = at + 1;
  switch (name) {
    case 'len':
      if (Array.isArray(first) || typeof first === 'string') return first.length;
      if (isObject(first)) return Object.keys(first).length;
      throw new EvaluationError(`len expects a list, a string or an object, got ${typeName(first)}`, col);
    case 'isNaN':
      return Number.isNaN(toNumber(first, 'isNaN', at));
    case 'isInf': {
      const n = toNumber(first, 'isInf', at);
      const sign = args.length > 1 ? toNumber(args[1], 'isInf', at) : 0;
      return sign > 0 ? n === Infinity : sign < 0 ? n === -Infinity : n === Infinity || n === -Infinity;
    }
    case 'isNil':
      return first === null || first === undefined;
    case 'asInt':
    case 'int':
      if (typeof first === 'number') return Math.trunc(first);
      if (typeof first === 'string') return parseNumberText(first, true, name, at);
      throw new EvaluationError(`${name} expects a number or a string, got ${typeName(first)}`, col);
    case 'asFloat':
    case 'float':
      if (typeof first === 'number') return first;
      if (typeof first === 'string') return parseNumberText(first, false, name, at);
      throw new EvaluationError(`${name} expects a number or a string, got ${typeName(first)}`, col);
    case 'string':
      if (first === null || first === undefined) return 'nil';
      return typeof first === 'object' ? JSON.stringify(first) : String(first);
    case 'abs':
    case 'ceil':
    case 'floor':
      return Math[name](toNumber(first, name, at));
    case 'round': {
      const n = toNumber(first, name, at);
      return Math.sign(n) * Math.round(Math.abs(n)); // half away from zero, as in Go
    }
    case 'keys':
    case 'values':
      if (!isObject(first)) throw new EvaluationError(`${name} expects an object, got ${typeName(first)}`, col);
      return name === 'keys' ? Object.keys(first) : Object.values(first);
    default:
      throw new EvaluationError(`unknown function ${name}`, col);
  }
}
