// Errors, bounds and the tokenizer of analysis conditions (see expression.ts for the language).

/** A condition longer than this is refused before it is read. */
export const MAX_CONDITION_LENGTH = 4096;
/** Parentheses, brackets, calls, predicates, unary operators and ?: nested in each other. */
export const MAX_NESTING = 100;

/** The expression, or an excerpt around the column when it is too long to repeat in a message. */
function quoted(expression: string, column: number): string {
  if (expression.length <= 200) return JSON.stringify(expression);
  const from = Math.max(0, column - 60);
  const excerpt = expression.slice(from, from + 120);
  return `${JSON.stringify(`${from > 0 ? '…' : ''}${excerpt}${from + 120 < expression.length ? '…' : ''}`)} (${expression.length} characters)`;
}

export class ExpressionError extends Error {
  readonly expression: string;
  /** 1-based column of the mistake */
  readonly column: number;
  readonly expected: string;
  readonly found: string;
  constructor(expression: string, column: number, expected: string, found: string, message?: string) {
    super(message ?? `malformed expression ${quoted(expression, column)} at column ${column}: expected ${expected}, found ${found}`);
    this.name = 'ExpressionError';
    this.expression = expression;
    this.column = column;
    this.expected = expected;
    this.found = found;
  }
}

export function tooLong(expression: string): ExpressionError {
  const message = `condition is longer than ${MAX_CONDITION_LENGTH} characters (it has ${expression.length}); compute more in the metric's query, or split it into several metrics`;
  return new ExpressionError(expression, MAX_CONDITION_LENGTH + 1, `at most ${MAX_CONDITION_LENGTH} characters`, `${expression.length}`, message);
}

export function tooDeep(expression: string, at: number): ExpressionError {
  const message = `condition nests deeper than ${MAX_NESTING} levels (at column ${at + 1}); remove redundant parentheses or split it into several metrics`;
  return new ExpressionError(expression, at + 1, `at most ${MAX_NESTING} levels of nesting`, 'more', message);
}

export class EvaluationError extends Error {
  readonly column: number;
  constructor(message: string, column: number) {
    super(`${message} (at column ${column})`);
    this.name = 'EvaluationError';
    this.column = column;
  }
}

/** A value that is not there: an index out of range, a field of nil. `default()` and `??` catch it. */
export class MissingValueError extends EvaluationError {
  constructor(message: string, column: number) {
    super(message, column);
    this.name = 'MissingValueError';
  }
}

export type TokenKind = 'number' | 'string' | 'name' | 'pointer' | 'op' | 'end';
export interface Token {
  kind: TokenKind;
  text: string;
  /** 0-based offset in the source */
  at: number;
  value?: number | string;
}

// Longest first, so "**" is not read as two "*".
const OPERATORS = ['**', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '<', '>', '+', '-', '*', '/', '%', '^', '!', '(', ')', '[', ']', '{', '}', ',', '.', '?', ':'];
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0', '\\': '\\', '"': '"', "'": "'", '`': '`' };
const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_$][A-Za-z0-9_$]*/y;

export function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'the end of the expression';
    case 'string':
      return `the string ${token.text.length > 40 ? `${token.text.slice(0, 40)}…` : token.text}`;
    case 'number':
      return `the number ${token.text}`;
    default:
      return `"${token.text}"`;
  }
}

/** Reads a quoted string starting at `start`; returns its value and the offset after it. */
function readString(source: string, start: number): { value: string; end: number } {
  const quote = source[start] as string;
  let value = '';
  let i = start + 1;
  for (;;) {
    const ch = source[i];
    if (ch === undefined) throw new ExpressionError(source, start + 1, `a closing ${quote} for the string started here`, 'the end of the expression');
    if (ch === quote) return { value, end: i + 1 };
    if (ch === '\\' && quote !== '`') {
      const next = source[i + 1];
      const hex = next === 'u' ? 4 : next === 'x' ? 2 : 0;
      const digits = source.slice(i + 2, i + 2 + hex);
      if (hex > 0 && digits.length === hex && /^[0-9A-Fa-f]+$/.test(digits)) {
        value += String.fromCharCode(parseInt(digits, 16));
        i += 2 + hex;
        continue;
      }
      if (next === undefined || ESCAPES[next] === undefined) {
        // A regular expression in a string needs its backslashes doubled: "\\d+" (or `\d+`).
        const found = next === undefined ? 'the end of the expression' : `"\\${next}"`;
        throw new ExpressionError(source, i + 1, 'an escape such as \\n, \\t, \\\\ or \\" (write a regular expression as "\\\\d+" or `\\d+`)', found);
      }
      value += ESCAPES[next];
      i += 2;
      continue;
    }
    value += ch;
    i++;
  }
}

export function tokenize(source: string): Token[] {
  if (source.length > MAX_CONDITION_LENGTH) throw tooLong(source);
  const tokens: Token[] = [];
  let i = 0;
  const fail = (at: number, expected: string, found: string): never => {
    throw new ExpressionError(source, at + 1, expected, found);
  };
  const sticky = (re: RegExp): string => {
    re.lastIndex = i;
    return re.exec(source)?.[0] ?? (source[i] as string);
  };
  while (i < source.length) {
    const c = source[i] as string;
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (/[0-9]/.test(c) || (c === '.' && /[0-9]/.test(source[i + 1] ?? ''))) {
      const text = sticky(NUMBER);
      i += text.length;
      if (/[A-Za-z_]/.test(source[i] ?? '')) fail(i, 'an operator or the end of the number', `"${source[i]}"`);
      tokens.push({ kind: 'number', text, at: start, value: Number(text) });
    } else if (c === '"' || c === "'" || c === '`') {
      const { value, end } = readString(source, start);
      i = end;
      tokens.push({ kind: 'string', text: source.slice(start, end), at: start, value });
    } else if (/[A-Za-z_$]/.test(c)) {
      const text = sticky(NAME);
      i += text.length;
      tokens.push({ kind: 'name', text, at: start });
    } else if (c === '#') {
      // `#` is the item inside a predicate, `#index` its position
      i++;
      const name = /[A-Za-z_]/.test(source[i] ?? '') ? sticky(NAME) : '';
      i += name.length;
      tokens.push({ kind: 'pointer', text: `#${name}`, at: start });
    } else {
      let op = OPERATORS.find((o) => source.startsWith(o, i));
      if (op === '?.' && /[0-9]/.test(source[i + 2] ?? '')) op = '?'; // `a ? .5 : 1`
      if (op === undefined) {
        const hint = c === '=' ? '"==" to compare' : c === '&' ? '"&&"' : c === '|' ? '"||"' : 'a value or an operator';
        fail(i, hint, `"${c}"`);
      }
      i += (op as string).length;
      tokens.push({ kind: 'op', text: op as string, at: start });
    }
  }
  tokens.push({ kind: 'end', text: '', at: source.length });
  return tokens;
}
