// The one logger of the long-running parts (controller, analysis, notifications, informers, work
// queue): leveled lines on stderr, as JSON (one object a line, for a log pipeline) or as text (for
// a person at a terminal). The CLI's own output to the user is not logging and does not use it.

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = 'json' | 'text';
// fields are required (may be {}) so a Logger can be handed to code that reads them.
export type Logger = (level: LogLevel, msg: string, fields: Record<string, unknown>) => void;

export interface LoggerOptions {
  /** the most detailed level written; default info */
  level?: LogLevel | undefined;
  /** default: text when stderr is a terminal, else JSON */
  format?: LogFormat | undefined;
  /** fields on every line (e.g. the controller instance) */
  base?: Record<string, unknown> | undefined;
  /** where a finished line goes (with its newline); default stderr */
  write?: ((line: string) => void) | undefined;
  now?: (() => Date) | undefined;
}

export class LogOptionError extends Error {}

/** The level named by `--log-level`, or a message naming the flag and the accepted values. */
export function parseLogLevel(value: string, flag = '--log-level'): LogLevel {
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new LogOptionError(`${flag} must be one of ${LOG_LEVELS.join(', ')}, got "${value}"`);
}

/** The format named by `--log-format`; absent: text on a terminal, JSON otherwise (pods, pipes). */
export function parseLogFormat(value: string | undefined, isTTY = process.stderr.isTTY === true, flag = '--log-format'): LogFormat {
  if (value === undefined) return isTTY ? 'text' : 'json';
  if (value === 'json' || value === 'text') return value;
  throw new LogOptionError(`${flag} must be json or text, got "${value}"`);
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const rank = LOG_LEVELS.indexOf(options.level ?? 'info');
  const format = options.format ?? parseLogFormat(undefined);
  const write = options.write ?? sharedStderr();
  const now = options.now ?? (() => new Date());
  const base = options.base ?? {};
  return (level, msg, fields = {}) => {
    if (LOG_LEVELS.indexOf(level) > rank) return;
    const time = now().toISOString();
    const all = { ...base, ...fields };
    if (format === 'json') {
      write(`${JSON.stringify({ time, level, msg, ...all }, jsonSafe)}\n`);
      return;
    }
    const extra = Object.entries(all)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? quoteIfNeeded(v) : JSON.stringify(v, jsonSafe)}`)
      .join(' ');
    write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}\n`);
  };
}

/**
 * A writer that sends the lines of one turn of the event loop to `out` in one write, in order.
 * stderr on a pipe or file is written synchronously, a system call per line: a burst of
 * reconciles spent about twice the CPU on logging that way (100,000 lines: 800-1000 ms vs 425-450
 * ms batched). What is pending goes out synchronously at exit, so a crash loses no line.
 */
export function stderrBatch(out: (text: string) => void = (text) => void process.stderr.write(text), onExit: (flush: () => void) => void = (flush) => process.on('exit', flush)): (line: string) => void {
  let pending: string[] = [];
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (pending.length === 0) return;
    const text = pending.join('');
    pending = [];
    out(text);
  };
  onExit(flush);
  return (line) => {
    pending.push(line);
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
}

// One batch for every logger of the process, so lines stay in order and one exit hook flushes them.
let stderrWriter: ((line: string) => void) | undefined;
const sharedStderr = (): ((line: string) => void) => (stderrWriter ??= stderrBatch());

// An Error in the fields is written as its message (JSON.stringify would give {}); a bigint as text.
function jsonSafe(_key: string, value: unknown): unknown {
  if (value instanceof Error) return value.message;
  if (typeof value === 'bigint') return value.toString();
  return value;
}

const quoteIfNeeded = (v: string): string => (v === '' || /[\s"=]/.test(v) ? JSON.stringify(v) : v);

/**
 * For components started without a logger (tests, tools): JSON at info level, on stderr. Made at
 * its first line, not when this module loads: the stderr batch registers an exit hook, which the
 * startup snapshot (tools/build-snapshot.ts) would otherwise carry from its build.
 */
let fallback: Logger | undefined;
export const fallbackLogger: Logger = (level, msg, fields) => (fallback ??= createLogger({ format: 'json' }))(level, msg, fields);
