// The recursive-descent parser of analysis conditions (see expression.ts for the language). Every
// nested construct goes through `nested`, which refuses more than MAX_NESTING levels, so no
// condition can exhaust the stack; flat chains (`a + b + c`) are read in a loop.
import { compileRegex, RegexError } from '../lib/safe-regex.ts';
import { describe, ExpressionError, MAX_NESTING, tokenize, tooDeep, type Token } from './expression-tokens.ts';

export type Expr =
  | { type: 'literal'; value: unknown; at: number }
  | { type: 'name'; name: string; at: number }
  /** `#` (the item) or `#index` inside a predicate */
  | { type: 'pointer'; name: string; at: number }
  | { type: 'list'; items: Expr[]; at: number }
  | { type: 'member'; object: Expr; name: string; optional: boolean; at: number }
  | { type: 'index'; object: Expr; index: Expr; optional: boolean; at: number }
  | { type: 'call'; name: string; args: Expr[]; at: number }
  /** the predicate argument of all, any, filter, map, ... */
  | { type: 'closure'; body: Expr; at: number }
  | { type: 'unary'; op: string; operand: Expr; at: number }
  | { type: 'binary'; op: string; left: Expr; right: Expr; at: number }
  | { type: 'conditional'; test: Expr; then: Expr; otherwise: Expr; at: number };

/** A function's number of arguments, and which argument (if any) is a predicate over `#`. */
export interface Signature {
  min: number;
  max: number;
  closure?: number;
}

const fixed = (n: number): Signature => ({ min: n, max: n });
const predicate: Signature = { min: 2, max: 2, closure: 1 };
const numbers: Signature = { min: 1, max: Infinity };

/** Functions an expression may call. */
export const FUNCTIONS: Record<string, Signature> = {
  len: fixed(1),
  isNaN: fixed(1),
  isInf: { min: 1, max: 2 },
  isNil: fixed(1),
  default: fixed(2),
  asInt: fixed(1),
  asFloat: fixed(1),
  int: fixed(1),
  float: fixed(1),
  string: fixed(1),
  abs: fixed(1),
  ceil: fixed(1),
  floor: fixed(1),
  round: fixed(1),
  min: numbers,
  max: numbers,
  mean: numbers,
  median: numbers,
  sum: { min: 1, max: 2, closure: 1 },
  all: predicate,
  any: predicate,
  none: predicate,
  one: predicate,
  filter: predicate,
  map: predicate,
  find: predicate,
  findIndex: predicate,
  findLast: predicate,
  findLastIndex: predicate,
  count: { min: 1, max: 2, closure: 1 },
  first: fixed(1),
  last: fixed(1),
  keys: fixed(1),
  values: fixed(1),
  lower: fixed(1),
  upper: fixed(1),
  trim: fixed(1),
  hasPrefix: fixed(2),
  hasSuffix: fixed(2),
};

/** Operators written as words, between two values: `a in b`, `a not matches "x"`. */
const WORD_OPERATORS = ['in', 'contains', 'startsWith', 'endsWith', 'matches'];
const KEYWORD_LITERALS: Record<string, unknown> = { true: true, false: false, nil: null, null: null };
const RESERVED = new Set(['and', 'or', 'not', ...WORD_OPERATORS]);
const functionList = (): string => Object.keys(FUNCTIONS).join(', ');

export interface ParseOptions {
  /** names the expression may read; others are a mistake (default: any) */
  variables?: readonly string[];
}

/** Parses an expression; throws ExpressionError (with the column) if it is malformed or too large. */
export function parseExpression(source: string, options: ParseOptions = {}): Expr {
  const tokens = tokenize(source);
  let pos = 0;
  let depth = 0;
  let closures = 0;
  const peek = (ahead = 0): Token => tokens[Math.min(pos + ahead, tokens.length - 1)] as Token;
  const next = (): Token => tokens[pos++] as Token;
  const fail = (token: Token, expected: string): never => {
    throw new ExpressionError(source, token.at + 1, expected, describe(token));
  };
  const isOp = (text: string): boolean => peek().kind === 'op' && peek().text === text;
  const expectOp = (text: string, expected: string): Token => {
    if (!isOp(text)) fail(peek(), expected);
    return next();
  };
  const nested = <T>(at: Token, read: () => T): T => {
    if (++depth > MAX_NESTING) throw tooDeep(source, at.at);
    try {
      return read();
    } finally {
      depth--;
    }
  };
  const separated = (close: string, item: () => Expr): Expr[] => {
    const items: Expr[] = [];
    if (isOp(close)) return items;
    for (;;) {
      items.push(item());
      if (!isOp(',')) return items;
      next();
    }
  };

  const conditional = (): Expr => {
    const test = or();
    if (!isOp('?')) return test;
    const mark = next();
    const then = nested(mark, conditional);
    expectOp(':', '":" and the value when the condition is false');
    const otherwise = nested(mark, conditional);
    return { type: 'conditional', test, then, otherwise, at: mark.at };
  };
  // One level of left-associative binary operators, read in a loop.
  const binaryLevel = (operand: () => Expr, ops: readonly string[], words: Record<string, string> = {}): (() => Expr) => {
    return () => {
      let left = operand();
      for (;;) {
        const token = peek();
        let op: string | undefined;
        if (token.kind === 'op' && ops.includes(token.text)) op = token.text;
        else if (token.kind === 'name' && words[token.text] !== undefined) op = words[token.text];
        else if (token.kind === 'name' && token.text === 'not' && WORD_OPERATORS.includes(peek(1).text) && words[peek(1).text] !== undefined) {
          next();
          op = `not ${words[peek().text]}`;
        }
        if (op === undefined) return left;
        next();
        const right = operand();
        if (op.endsWith('matches')) checkPattern(right);
        left = { type: 'binary', op, left, right, at: token.at };
      }
    };
  };
  // A literal pattern is checked while parsing, so a bad one is reported with the spec.
  const checkPattern = (right: Expr): void => {
    if (right.type !== 'literal' || typeof right.value !== 'string') return;
    try {
      compileRegex(right.value, 'pattern');
    } catch (err) {
      if (!(err instanceof RegexError)) throw err;
      throw new ExpressionError(source, right.at + 1, 'a regular expression RE2 accepts after "matches"', `the pattern ${err.reason}`);
    }
  };
  const isUnary = (token: Token): boolean => (token.kind === 'op' && ['!', '-', '+'].includes(token.text)) || (token.kind === 'name' && token.text === 'not');
  const unary = (): Expr => {
    const token = peek();
    if (!isUnary(token)) return power();
    next();
    const operand = nested(token, unary);
    return { type: 'unary', op: token.text === 'not' ? '!' : token.text, operand, at: token.at };
  };
  const power = (): Expr => {
    const base = coalesce();
    if (!isOp('**') && !isOp('^')) return base;
    const mark = next();
    return { type: 'binary', op: '**', left: base, right: nested(mark, unary), at: mark.at };
  };
  // `??` binds tighter than any other binary operator, as in expr.
  const coalesce = (): Expr => {
    let left = postfix();
    while (isOp('??')) {
      const mark = next();
      const right = isUnary(peek()) ? nested(mark, unary) : postfix();
      left = { type: 'binary', op: '??', left, right, at: mark.at };
    }
    return left;
  };
  const postfix = (): Expr => {
    let expr = primary();
    for (;;) {
      const optional = isOp('?.');
      if (optional && !(peek(1).kind === 'op' && peek(1).text === '[')) {
        const mark = next();
        expr = { type: 'member', object: expr, name: fieldName(), optional, at: mark.at };
      } else if (isOp('.')) {
        const mark = next();
        expr = { type: 'member', object: expr, name: fieldName(), optional, at: mark.at };
      } else if (isOp('[') || optional) {
        if (optional) next();
        const open = next();
        if (isOp(']')) fail(peek(), 'an index inside "[ ]"');
        const index = nested(open, conditional);
        expectOp(']', `"]" to close the "[" at column ${open.at + 1}`);
        expr = { type: 'index', object: expr, index, optional, at: open.at };
      } else if (isOp('(')) {
        fail(peek(), `an operator (only the functions ${functionList()} can be called)`);
      } else {
        return expr;
      }
    }
  };
  const fieldName = (): string => {
    const name = next();
    if (name.kind !== 'name') fail(name, 'a field name after "."');
    return name.text;
  };
  const call = (token: Token): Expr => {
    const signature = FUNCTIONS[token.text];
    if (signature === undefined) {
      throw new ExpressionError(source, token.at + 1, `one of the functions ${functionList()}`, `the unknown function "${token.text}"`);
    }
    const open = next();
    let index = 0;
    const args = separated(')', () => (index++ === signature.closure ? closure(open) : nested(open, conditional)));
    expectOp(')', `"," or ")" to close the call of ${token.text} at column ${open.at + 1}`);
    if (args.length < signature.min || args.length > signature.max) {
      const { min, max } = signature;
      const wanted = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} or ${max}`;
      throw new ExpressionError(source, token.at + 1, `${wanted} argument${wanted === '1' ? '' : 's'} for ${token.text}`, `${args.length}`);
    }
    return { type: 'call', name: token.text, args, at: token.at };
  };
  // A predicate: `# > 1` or `{# > 1}`; `#` is the item, `.field` short for `#.field`.
  const closure = (at: Token): Expr => {
    const start = peek();
    const braced = isOp('{') ? next() : undefined;
    closures++;
    const body = nested(at, conditional);
    closures--;
    if (braced) expectOp('}', `"}" to close the predicate at column ${braced.at + 1}`);
    return { type: 'closure', body, at: start.at };
  };
  const primary = (): Expr => {
    const token = peek();
    if (token.kind === 'number' || token.kind === 'string') {
      next();
      return { type: 'literal', value: token.value, at: token.at };
    }
    if (token.kind === 'pointer') {
      if (closures === 0) fail(token, `a value (${token.text} stands for the item only inside the predicate of all, any, none, one, filter, map, count, sum, find)`);
      if (token.text !== '#' && token.text !== '#index') fail(token, '# (the item) or #index (its position)');
      next();
      return { type: 'pointer', name: token.text, at: token.at };
    }
    if (token.kind === 'name') return name(token);
    if (isOp('.') && closures > 0) {
      next();
      return { type: 'member', object: { type: 'pointer', name: '#', at: token.at }, name: fieldName(), optional: false, at: token.at };
    }
    if (isOp('(')) {
      const open = next();
      const inner = nested(open, conditional);
      expectOp(')', `")" to close the "(" at column ${open.at + 1}`);
      return inner;
    }
    if (isOp('[')) {
      const open = next();
      const items = separated(']', () => nested(open, conditional));
      expectOp(']', `"," or "]" to close the list at column ${open.at + 1}`);
      return { type: 'list', items, at: open.at };
    }
    return fail(token, 'a value (a number, a string, result, a function call or "(")');
  };
  const name = (token: Token): Expr => {
    next();
    if (token.text in KEYWORD_LITERALS) return { type: 'literal', value: KEYWORD_LITERALS[token.text], at: token.at };
    if (RESERVED.has(token.text)) fail(token, 'a value');
    if (isOp('(')) return call(token);
    if (options.variables && !options.variables.includes(token.text)) {
      throw new ExpressionError(source, token.at + 1, options.variables.map((v) => `"${v}"`).join(' or '), `the unknown name "${token.text}"`);
    }
    return { type: 'name', name: token.text, at: token.at };
  };

  const multiplicative = binaryLevel(unary, ['*', '/', '%']);
  const additive = binaryLevel(multiplicative, ['+', '-']);
  const comparison = binaryLevel(additive, ['<', '<=', '>', '>='], Object.fromEntries(WORD_OPERATORS.map((w) => [w, w])));
  const equality = binaryLevel(comparison, ['==', '!=']);
  const and = binaryLevel(equality, ['&&'], { and: '&&' });
  const or = binaryLevel(and, ['||'], { or: '||' });

  if (peek().kind === 'end') fail(peek(), 'an expression');
  const expr = conditional();
  if (peek().kind !== 'end') {
    const token = peek();
    fail(token, token.kind === 'op' && (token.text === ')' || token.text === ']' || token.text === '}') ? `an operator (this "${token.text}" closes nothing)` : 'an operator or the end of the expression');
  }
  return expr;
}
