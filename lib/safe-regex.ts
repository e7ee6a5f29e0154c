// The one place a regular expression written by a user is compiled and matched: dryRun and
// measurementRetention metric names, header and mirror route regexes, the `matches` operator of
// analysis conditions. JavaScript's RegExp backtracks, so a pattern such as (a+)+ can take
// exponential time on a short text and stall the controller's only thread; RE2 (through the
// pure-JS re2js) matches in time linear in the text. RE2 is also the syntax Argo Rollouts (Go's
// regexp), Istio and Envoy read, so a pattern means the same thing here as there.
//
// Bounds on top of RE2's own (a repeat count is at most 1000): the pattern's length, the size of
// its compiled program, and the work of one match (text length × program size), so even the
// worst pattern on the longest text finishes in well under a second.
import { RE2JS } from 're2js';

export const MAX_PATTERN_LENGTH = 1000;
/** Instructions in the compiled program; (.*a){200} needs about 1000. */
export const MAX_PROGRAM_SIZE = 2000;
/** text length × program size for one match: about 0.15 s in the slowest case measured. */
export const MAX_MATCH_WORK = 5_000_000;

/** A pattern RE2 refuses or that is too large, or a text too long for its pattern. */
export class RegexError extends Error {
  /** where the pattern came from, e.g. spec.dryRun[0].metricName */
  readonly field: string;
  /** the message without the field */
  readonly reason: string;
  constructor(field: string, reason: string) {
    super(`${field}: ${reason}`);
    this.name = 'RegexError';
    this.field = field;
    this.reason = reason;
  }
}

export interface SafeRegex {
  readonly source: string;
  /** instructions in the compiled program: one match costs up to text length × size */
  readonly size: number;
  /** whether the pattern matches somewhere in text (like RegExp.prototype.test) */
  test(text: string): boolean;
  /** whether the pattern matches all of text */
  testWhole(text: string): boolean;
}

const shown = (pattern: string): string => JSON.stringify(pattern.length > 80 ? `${pattern.slice(0, 80)}…` : pattern);

/** The reason RE2 refuses a pattern, or the compiled pattern. */
function compile(pattern: string): RE2JS | string {
  if (pattern.length > MAX_PATTERN_LENGTH) return `is ${pattern.length} characters long; a pattern may have at most ${MAX_PATTERN_LENGTH}`;
  let re: RE2JS;
  try {
    re = RE2JS.compile(pattern);
  } catch (err) {
    const reason = (err as Error).message.replace(/^error parsing regexp: /, '');
    const hint = /Perl syntax|escape sequence/.test(reason) ? ' (RE2 syntax: no lookahead, lookbehind or backreferences)' : '';
    return `is not a regular expression RE2 accepts: ${reason}${hint}`;
  }
  if (re.programSize() > MAX_PROGRAM_SIZE) {
    return `is too large once compiled (${re.programSize()} steps, at most ${MAX_PROGRAM_SIZE}); use smaller repeat counts such as {1,50}`;
  }
  return re;
}

// Compiled patterns by source: the same few dryRun names are matched on every reconcile.
const cache = new Map<string, RE2JS | string>();
const CACHE_SIZE = 500;

function cached(pattern: string): RE2JS | string {
  let entry = cache.get(pattern);
  if (entry === undefined) {
    entry = compile(pattern);
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
    cache.set(pattern, entry);
  }
  return entry;
}

/** Compiles a user's pattern; throws RegexError naming `field` when it cannot be used. */
export function compileRegex(pattern: string, field: string): SafeRegex {
  const re = cached(pattern);
  if (typeof re === 'string') throw new RegexError(field, `${shown(pattern)} ${re}`);
  const budget = (text: string): void => {
    if (text.length * re.programSize() > MAX_MATCH_WORK) {
      const most = Math.floor(MAX_MATCH_WORK / re.programSize());
      throw new RegexError(field, `the text to match is ${text.length} characters long; ${shown(pattern)} can match at most ${most} (a shorter pattern allows a longer text)`);
    }
  };
  return {
    source: pattern,
    size: re.programSize(),
    test(text) {
      budget(text);
      return re.test(text);
    },
    testWhole(text) {
      budget(text);
      return re.testExact(text);
    },
  };
}

/** What is wrong with a user's pattern (naming `field`), or undefined when it can be used. */
export function regexProblem(pattern: string, field: string): RegexError | undefined {
  try {
    compileRegex(pattern, field);
    return undefined;
  } catch (err) {
    if (err instanceof RegexError) return err;
    throw err;
  }
}
