// A small, safe evaluator for the condition expressions of analysis metrics
// (`successCondition: result[0] >= 0.95`). It reads the syntax Argo Rollouts users write — a subset
// of the expr language — with a tokenizer, a recursive-descent parser and an interpreter over
// plain values. Nothing is ever handed to JavaScript's eval or Function: an expression can only
// read `result` (and whatever else the caller puts in the environment) and call the functions
// listed in FUNCTIONS.
//
//   literals     1  0.95  1e-3  "text"  'text'  true  false  nil  [1, 2]
//   access       result  result[0]  result[-1]  result.data.ok  result["data"]
//   operators    ! not  - +  **  * / %  + -  < <= > >=  in  == !=  && and  || or  a ? b : c
//   functions    len isNaN isInf isNil default asInt asFloat int float string abs min max sum
//
// A malformed expression throws ExpressionError with the column of the mistake and what was
// expected there; a well-formed one that cannot be evaluated on a value (`result[0]` of an empty
// list, `"a" < 1`) throws EvaluationError, also with the column.

export class ExpressionError extends Error {
  readonly expression: string;
  /** 1-based column of the mistake */
  readonly column: number;
  readonly expected: string;
  readonly found: string;
  constructor(expression: string, column: number, expected: string, found: string) {
    super(`malformed expression ${JSON.stringify(expression)} at column ${column}: expected ${expected}, found ${found}`);
    this.name = 'ExpressionError';
    this.expression = expression;
    this.column = column;
    this.expected = expected;
    this.found = found;
  }
}

export class EvaluationError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(`${message} (at column ${column})`);
    this.name = 'EvaluationError';
    this.column = column;
  }
}

/** A value that is not there: an index out of range, a field of nil. `default()` catches it. */
export class MissingValueError extends EvaluationError {
  constructor(message: string, column: number) {
    super(message, column);
    this.name = 'MissingValueError';
  }
}

// ---------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'number' | 'string' | 'name' | 'op' | 'end';
interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based offset in the source */
  at: number;
  value?: number | string;
}

const OPERATORS = ['**', '==', '!=', '<=', '>=', '&&', '||', '<', '>', '+', '-', '*', '/', '%', '!', '(', ')', '[', ']', ',', '.', '?', ':'];

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'string':
      return `the string ${token.text}`;
    case 'number':
      return `the number ${token.text}`;
    case 'name':
      return `"${token.text}"`;
    default:
      return `"${token.text}"`;
  }
}

export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (at: number, expected: string, found: string): never => {
    throw new ExpressionError(source, at + 1, expected, found);
  };
  while (i < source.length) {
    const c = source[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const match = /^(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/.exec(source.slice(i));
      const text = match?.[0] ?? c;
      i += text.length;
      if (/[A-Za-z_]/.test(source[i] ?? '')) fail(i, 'an operator or the end of the number', `"${source[i]}"`);
      tokens.push({ kind: 'number', text, at: start, value: Number(text) });
      continue;
    }
    if (c === '"' || c === "'") {
      let value = '';
      i++;
      for (;;) {
        const ch = source[i];
        if (ch === undefined) fail(start, `a closing ${c} for the string started here`, 'the end of the expression');
        if (ch === c) {
          i++;
          break;
        }
        if (ch === '\\') {
          const next = source[i + 1];
          const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };
          if (next === undefined || escapes[next] === undefined) fail(i, 'an escape such as \\n, \\t, \\\\ or \\"', next === undefined ? 'the end of the expression' : `"\\${next}"`);
          value += escapes[next as string];
          i += 2;
          continue;
        }
        value += ch;
        i++;
      }
      tokens.push({ kind: 'string', text: source.slice(start, i), at: start, value });
      continue;
    }
    if (/[A-Za-z_$]/.test(c)) {
      const text = /^[A-Za-z_$][A-Za-z0-9_$]*/.exec(source.slice(i))?.[0] ?? c;
      i += text.length;
      tokens.push({ kind: 'name', text, at: start });
      continue;
    }
    const op = OPERATORS.find((o) => source.startsWith(o, i));
    if (op === undefined) {
      const hint = c === '=' ? '"==" to compare' : c === '&' ? '"&&"' : c === '|' ? '"||"' : 'a value or an operator';
      fail(i, hint, `"${c}"`);
    }
    i += (op as string).length;
    tokens.push({ kind: 'op', text: op as string, at: start });
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}

// ---------------------------------------------------------------------------------------------
// Syntax tree

export type Expr =
  | { type: 'literal'; value: unknown; at: number }
  | { type: 'name'; name: string; at: number }
  | { type: 'list'; items: Expr[]; at: number }
  | { type: 'member'; object: Expr; name: string; at: number }
  | { type: 'index'; object: Expr; index: Expr; at: number }
  | { type: 'call'; name: string; args: Expr[]; at: number }
  | { type: 'unary'; op: string; operand: Expr; at: number }
  | { type: 'binary'; op: string; left: Expr; right: Expr; at: number }
  | { type: 'conditional'; test: Expr; then: Expr; otherwise: Expr; at: number };

/** Functions an expression may call, with their number of arguments [min, max]. */
export const FUNCTIONS: Record<string, [number, number]> = {
  len: [1, 1],
  isNaN: [1, 1],
  isInf: [1, 2],
  isNil: [1, 1],
  default: [2, 2],
  asInt: [1, 1],
  asFloat: [1, 1],
  int: [1, 1],
  float: [1, 1],
  string: [1, 1],
  abs: [1, 1],
  min: [1, Infinity],
  max: [1, Infinity],
  sum: [1, 1],
};

const KEYWORD_LITERALS: Record<string, unknown> = { true: true, false: false, nil: null, null: null };

export interface ParseOptions {
  /** names the expression may read; others are a mistake (default: any) */
  variables?: readonly string[];
}

/** Parses an expression; throws ExpressionError (with the column) if it is malformed. */
export function parseExpression(source: string, options: ParseOptions = {}): Expr {
  const tokens = tokenize(source);
  let pos = 0;
  const peek = (): Token => tokens[pos] as Token;
  const next = (): Token => tokens[pos++] as Token;
  const fail = (token: Token, expected: string): never => {
    throw new ExpressionError(source, token.at + 1, expected, describe(token));
  };
  const isOp = (text: string): boolean => peek().kind === 'op' && peek().text === text;
  const expectOp = (text: string, expected: string): Token => {
    if (!isOp(text)) fail(peek(), expected);
    return next();
  };

  const conditional = (): Expr => {
    const test = or();
    if (!isOp('?')) return test;
    const at = next().at;
    const then = conditional();
    expectOp(':', '":" and the value when the condition is false');
    const otherwise = conditional();
    return { type: 'conditional', test, then, otherwise, at };
  };
  const binaryLevel = (operand: () => Expr, ops: readonly string[], words: Record<string, string> = {}): (() => Expr) => {
    return () => {
      let left = operand();
      for (;;) {
        const token = peek();
        let op: string | undefined;
        if (token.kind === 'op' && ops.includes(token.text)) op = token.text;
        else if (token.kind === 'name' && words[token.text] !== undefined) op = words[token.text];
        if (op === undefined) return left;
        next();
        const right = operand();
        left = { type: 'binary', op, left, right, at: token.at };
      }
    };
  };
  const unary = (): Expr => {
    const token = peek();
    if ((token.kind === 'op' && (token.text === '!' || token.text === '-' || token.text === '+')) || (token.kind === 'name' && token.text === 'not')) {
      next();
      const operand = unary();
      return { type: 'unary', op: token.text === 'not' ? '!' : token.text, operand, at: token.at };
    }
    return power();
  };
  const power = (): Expr => {
    const base = postfix();
    if (!isOp('**')) return base;
    const at = next().at;
    return { type: 'binary', op: '**', left: base, right: unary(), at };
  };
  const postfix = (): Expr => {
    let expr = primary();
    for (;;) {
      if (isOp('.')) {
        const dot = next();
        const name = next();
        if (name.kind !== 'name') fail(name, 'a field name after "."');
        expr = { type: 'member', object: expr, name: name.text, at: dot.at };
      } else if (isOp('[')) {
        const open = next();
        if (isOp(']')) fail(peek(), 'an index inside "[ ]"');
        const index = conditional();
        expectOp(']', '"]" to close the "[" at column ' + String(open.at + 1));
        expr = { type: 'index', object: expr, index, at: open.at };
      } else if (isOp('(')) {
        fail(peek(), 'an operator (only the functions ' + Object.keys(FUNCTIONS).join(', ') + ' can be called)');
      } else {
        return expr;
      }
    }
  };
  const primary = (): Expr => {
    const token = peek();
    if (token.kind === 'number' || token.kind === 'string') {
      next();
      return { type: 'literal', value: token.value, at: token.at };
    }
    if (token.kind === 'name') {
      next();
      if (token.text in KEYWORD_LITERALS) return { type: 'literal', value: KEYWORD_LITERALS[token.text], at: token.at };
      if (['and', 'or', 'not', 'in'].includes(token.text)) fail(token, 'a value');
      if (isOp('(')) {
        const arity = FUNCTIONS[token.text];
        if (arity === undefined) {
          throw new ExpressionError(source, token.at + 1, `one of the functions ${Object.keys(FUNCTIONS).join(', ')}`, `the unknown function "${token.text}"`);
        }
        const open = next();
        const args: Expr[] = [];
        if (!isOp(')')) {
          for (;;) {
            args.push(conditional());
            if (isOp(',')) {
              next();
              continue;
            }
            break;
          }
        }
        expectOp(')', `"," or ")" to close the call of ${token.text} at column ${open.at + 1}`);
        if (args.length < arity[0] || args.length > arity[1]) {
          const wanted = arity[0] === arity[1] ? `${arity[0]}` : arity[1] === Infinity ? `at least ${arity[0]}` : `${arity[0]} or ${arity[1]}`;
          throw new ExpressionError(source, token.at + 1, `${wanted} argument${wanted === '1' ? '' : 's'} for ${token.text}`, `${args.length}`);
        }
        return { type: 'call', name: token.text, args, at: token.at };
      }
      if (options.variables && !options.variables.includes(token.text)) {
        throw new ExpressionError(source, token.at + 1, options.variables.map((v) => `"${v}"`).join(' or '), `the unknown name "${token.text}"`);
      }
      return { type: 'name', name: token.text, at: token.at };
    }
    if (isOp('(')) {
      const open = next();
      const inner = conditional();
      expectOp(')', `")" to close the "(" at column ${open.at + 1}`);
      return inner;
    }
    if (isOp('[')) {
      const open = next();
      const items: Expr[] = [];
      if (!isOp(']')) {
        for (;;) {
          items.push(conditional());
          if (isOp(',')) {
            next();
            continue;
          }
          break;
        }
      }
      expectOp(']', `"," or "]" to close the list at column ${open.at + 1}`);
      return { type: 'list', items, at: open.at };
    }
    return fail(token, 'a value (a number, a string, result, a function call or "(")');
  };

  const multiplicative = binaryLevel(unary, ['*', '/', '%']);
  const additive = binaryLevel(multiplicative, ['+', '-']);
  const comparison = binaryLevel(additive, ['<', '<=', '>', '>='], { in: 'in' });
  const equality = binaryLevel(comparison, ['==', '!=']);
  const and = binaryLevel(equality, ['&&'], { and: '&&' });
  const or = binaryLevel(and, ['||'], { or: '||' });

  if (peek().kind === 'end') fail(peek(), 'an expression');
  const expr = conditional();
  if (peek().kind !== 'end') {
    const token = peek();
    fail(token, token.kind === 'op' && token.text === ')' ? 'an operator (this ")" closes nothing)' : 'an operator or the end of the expression');
  }
  return expr;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

function typeName(value: unknown): string {
  if (value === null || value === undefined) return 'nil';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : 'a number';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if ((a === null || a === undefined) && (b === null || b === undefined)) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
  }
  return a === b;
}

function toNumber(value: unknown, what: string, at: number): number {
  if (typeof value !== 'number') throw new EvaluationError(`${what} expects a number, got ${typeName(value)}`, at + 1);
  return value;
}

function parseNumberText(text: string, integer: boolean, what: string, at: number): number {
  const trimmed = text.trim();
  const ok = integer ? /^[+-]?\d+$/.test(trimmed) : /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed) || /^[+-]?(Inf|NaN)$/i.test(trimmed);
  if (!ok) throw new EvaluationError(`${what} cannot read ${JSON.stringify(text)} as ${integer ? 'an integer' : 'a number'}`, at + 1);
  if (/inf$/i.test(trimmed)) return trimmed.startsWith('-') ? -Infinity : Infinity;
  return Number(trimmed);
}

type Env = Readonly<Record<string, unknown>>;

/** Evaluates a parsed expression; throws EvaluationError (MissingValueError for absent values). */
export function evaluate(expr: Expr, env: Env): unknown {
  const col = expr.at + 1;
  switch (expr.type) {
    case 'literal':
      return expr.value;
    case 'name':
      if (!Object.hasOwn(env, expr.name)) throw new EvaluationError(`unknown name "${expr.name}"`, col);
      return env[expr.name];
    case 'list':
      return expr.items.map((item) => evaluate(item, env));
    case 'member': {
      const object = evaluate(expr.object, env);
      if (object === null || object === undefined) throw new MissingValueError(`cannot read field "${expr.name}" of nil`, col);
      if (typeof object !== 'object' || Array.isArray(object)) throw new EvaluationError(`cannot read field "${expr.name}" of ${typeName(object)}`, col);
      return Object.hasOwn(object, expr.name) ? (object as Record<string, unknown>)[expr.name] : undefined;
    }
    case 'index': {
      const object = evaluate(expr.object, env);
      const index = evaluate(expr.index, env);
      if (Array.isArray(object)) {
        if (typeof index !== 'number' || !Number.isInteger(index)) throw new EvaluationError(`a list index must be a whole number, got ${typeName(index)}`, col);
        const i = index < 0 ? object.length + index : index;
        if (i < 0 || i >= object.length) throw new MissingValueError(`index ${index} is out of range: the list has ${object.length} item${object.length === 1 ? '' : 's'}`, col);
        return object[i];
      }
      if (object !== null && typeof object === 'object') {
        if (typeof index !== 'string') throw new EvaluationError(`an object key must be a string, got ${typeName(index)}`, col);
        return Object.hasOwn(object, index) ? (object as Record<string, unknown>)[index] : undefined;
      }
      if (object === null || object === undefined) throw new MissingValueError('cannot index nil', col);
      throw new EvaluationError(`cannot index ${typeName(object)}`, col);
    }
    case 'unary': {
      const value = evaluate(expr.operand, env);
      if (expr.op === '!') {
        if (typeof value !== 'boolean') throw new EvaluationError(`"!" expects true or false, got ${typeName(value)}`, col);
        return !value;
      }
      const n = toNumber(value, `"${expr.op}"`, expr.at);
      return expr.op === '-' ? -n : n;
    }
    case 'conditional': {
      const test = evaluate(expr.test, env);
      if (typeof test !== 'boolean') throw new EvaluationError(`"?" expects a condition that is true or false, got ${typeName(test)}`, col);
      return test ? evaluate(expr.then, env) : evaluate(expr.otherwise, env);
    }
    case 'binary':
      return binary(expr.op, expr.left, expr.right, env, expr.at);
    case 'call':
      return call(expr.name, expr.args, env, expr.at);
  }
}

function binary(op: string, leftExpr: Expr, rightExpr: Expr, env: Env, at: number): unknown {
  const col = at + 1;
  if (op === '&&' || op === '||') {
    const left = evaluate(leftExpr, env);
    if (typeof left !== 'boolean') throw new EvaluationError(`"${op}" expects true or false on its left, got ${typeName(left)}`, col);
    if (op === '&&' && !left) return false;
    if (op === '||' && left) return true;
    const right = evaluate(rightExpr, env);
    if (typeof right !== 'boolean') throw new EvaluationError(`"${op}" expects true or false on its right, got ${typeName(right)}`, col);
    return right;
  }
  const left = evaluate(leftExpr, env);
  const right = evaluate(rightExpr, env);
  switch (op) {
    case '==':
      return deepEqual(left, right);
    case '!=':
      return !deepEqual(left, right);
    case 'in':
      if (Array.isArray(right)) return right.some((item) => deepEqual(item, left));
      if (right !== null && typeof right === 'object') return typeof left === 'string' && Object.hasOwn(right, left);
      throw new EvaluationError(`"in" expects a list or an object on its right, got ${typeName(right)}`, col);
    case '<':
    case '<=':
    case '>':
    case '>=': {
      const bothNumbers = typeof left === 'number' && typeof right === 'number';
      const bothStrings = typeof left === 'string' && typeof right === 'string';
      if (!bothNumbers && !bothStrings) throw new EvaluationError(`cannot compare ${typeName(left)} with ${typeName(right)} using "${op}"`, col);
      const a = left as number | string;
      const b = right as number | string;
      return op === '<' ? a < b : op === '<=' ? a <= b : op === '>' ? a > b : a >= b;
    }
    case '+':
      if (typeof left === 'string' && typeof right === 'string') return left + right;
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
      throw new EvaluationError(`unknown operator ${op}`, col);
  }
}

function isMissing(value: unknown): boolean {
  return value === null || value === undefined || (typeof value === 'number' && Number.isNaN(value));
}

function call(name: string, argExprs: Expr[], env: Env, at: number): unknown {
  const col = at + 1;
  if (name === 'default') {
    let value: unknown;
    try {
      value = evaluate(argExprs[0] as Expr, env);
    } catch (err) {
      if (!(err instanceof MissingValueError)) throw err;
      value = undefined;
    }
    if (Array.isArray(value) && value.length === 0) value = undefined;
    return isMissing(value) ? evaluate(argExprs[1] as Expr, env) : value;
  }
  const args = argExprs.map((a) => evaluate(a, env));
  const first = args[0];
  switch (name) {
    case 'len':
      if (Array.isArray(first) || typeof first === 'string') return first.length;
      if (first !== null && typeof first === 'object') return Object.keys(first).length;
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
      return Math.abs(toNumber(first, 'abs', at));
    case 'min':
    case 'max': {
      const values = args.length === 1 && Array.isArray(first) ? (first as unknown[]) : args;
      if (values.length === 0) throw new MissingValueError(`${name} of an empty list`, col);
      const numbers = values.map((v) => toNumber(v, name, at));
      return name === 'min' ? Math.min(...numbers) : Math.max(...numbers);
    }
    case 'sum':
      if (!Array.isArray(first)) throw new EvaluationError(`sum expects a list, got ${typeName(first)}`, col);
      return first.reduce((total: number, v) => total + toNumber(v, 'sum', at), 0);
    default:
      throw new EvaluationError(`unknown function ${name}`, col);
  }
}

/** Parses (checking that it reads only `result`) and evaluates a condition; it must give true or false. */
export function evaluateCondition(source: string, result: unknown): boolean {
  const expr = parseExpression(source, { variables: ['result'] });
  const value = evaluate(expr, { result });
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
