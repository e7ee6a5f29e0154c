// Values read from Secrets never leave the analysis controller: every AnalysisRun status it
// writes, every Event and log line it makes and every error it throws passes through a Redactor
// built from the run's secret values, which turns each occurrence into ***. A status can only be
// written as a `Redacted` one, which only Redactor.status makes, so no path can skip it.
//
// A value is also found when it is spelled differently on the way: percent-encoded (a URL path or
// query, once or twice), JSON-escaped (a quoted condition in a message, at any depth of quoting),
// as a \uXXXX escape, with + for a space, or in another letter case (URL hosts are lowercased).
import type { AnalysisRunStatus, Measurement, MetricResult } from '../api/analysis.ts';

export const MASK = '***';

declare const REDACTED: unique symbol;
/** A value that went through a Redactor. */
export type Redacted<T> = T & { readonly [REDACTED]: true };

// The escapes JSON writes with a letter; the others (\" \\ \/) are a backslash and the character.
const LETTER_ESCAPES: Record<string, string> = { '\b': 'b', '\f': 'f', '\n': 'n', '\r': 'r', '\t': 't' };

const escapeRegExp = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
const hex = (n: number): string => n.toString(16).padStart(2, '0');

/** Every spelling of one character (a code point) the redactor recognises, as a regular expression. */
function characterPattern(char: string): string {
  const forms = [escapeRegExp(char)];
  // percent-encoded byte by byte, also twice over (%2541 for %41)
  forms.push([...Buffer.from(char, 'utf8')].map((b) => `%(?:25)*${hex(b)}`).join(''));
  // \u0041, or a surrogate pair \ud83d\ude00
  forms.push(Array.from({ length: char.length }, (_, i) => `\\\\u${char.charCodeAt(i).toString(16).padStart(4, '0')}`).join(''));
  const letter = LETTER_ESCAPES[char];
  if (letter !== undefined) forms.push(`\\\\${letter}`);
  if (char === ' ') forms.push('\\+');
  // Each level of JSON quoting adds backslashes before a quote, a backslash or an escape.
  return `\\\\{0,15}(?:${forms.join('|')})`;
}

/** Longer values (certificates, key bundles) are matched as written, URL-encoded and JSON-escaped only. */
const PER_CHARACTER_LIMIT = 1024;

function valuePattern(value: string): string {
  if (value.length > PER_CHARACTER_LIMIT) return [value, encodeURIComponent(value), JSON.stringify(value).slice(1, -1)].map(escapeRegExp).join('|');
  return [...value].map(characterPattern).join('');
}

/** Replaces secret values in text (and errors, and statuses) with ***. */
export class Redactor {
  /** A redactor that knows no secret: for runs that have none, or before they are read. */
  static readonly none = new Redactor([]);
  private readonly pattern: RegExp | undefined;
  readonly size: number;

  constructor(secrets: Iterable<string>) {
    // A value made only of * would match its own mask and grow with every pass; an empty one
    // matches everywhere. Neither can tell anyone anything.
    // A value with a trailing newline (as `echo token | base64` makes) is often used trimmed.
    const candidates = [...secrets].flatMap((s) => [s, s.trim()]);
    const values = [...new Set(candidates)].filter((s) => s !== '' && !/^\*+$/.test(s)).sort((a, b) => b.length - a.length);
    this.size = values.length;
    this.pattern = values.length > 0 ? new RegExp(values.map(valuePattern).join('|'), 'gi') : undefined;
  }

  text(text: string): string {
    return this.pattern ? text.replace(this.pattern, MASK) : text;
  }

  /** The same status with every free text (messages and displayed values) redacted. */
  status(status: AnalysisRunStatus): Redacted<AnalysisRunStatus> {
    const out: AnalysisRunStatus = { ...status };
    if (out.message !== undefined) out.message = this.text(out.message);
    if (out.metricResults) out.metricResults = out.metricResults.map((r) => this.metricResult(r));
    return out as Redacted<AnalysisRunStatus>;
  }

  private metricResult(result: MetricResult): MetricResult {
    const out: MetricResult = { ...result };
    if (out.message !== undefined) out.message = this.text(out.message);
    if (out.measurements) out.measurements = out.measurements.map((m) => this.measurement(m));
    return out;
  }

  private measurement(measurement: Measurement): Measurement {
    const out: Measurement = { ...measurement };
    if (out.message !== undefined) out.message = this.text(out.message);
    if (out.value !== undefined) out.value = this.text(out.value);
    return out;
  }

  /** The error with its message and stack redacted (same object, so its class still tells what it was). */
  error(err: unknown): unknown {
    if (!(err instanceof Error)) return new Error(this.text(String(err)));
    err.message = this.text(err.message);
    if (err.stack !== undefined) err.stack = this.text(err.stack);
    return err;
  }
}
