// One HTTP request for the measurement providers (Prometheus, web): a timeout for the whole
// exchange, optional insecure TLS, a cap on the answer's size and a budget for the bytes of all
// answers in flight, and errors that say what happened in words a person reading an AnalysisRun
// understands. Answers quoted in messages go through `excerpt`: short, escaped, valid UTF-8.
import type { ClientRequest, IncomingMessage } from 'node:http';
import type https from 'node:https';
import { formatBytes, measurementBudget, type ByteBudget } from './budget.ts';
import { nodeHttp, nodeHttps } from '../../lib/node-http.ts';

export interface HttpRequest {
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  timeoutMs: number;
  /** skip TLS certificate verification */
  insecure?: boolean | undefined;
  /** answers larger than this fail (default 10 MiB) */
  maxBytes?: number | undefined;
  /** the budget the answer's bytes come from (default: the one every measurement shares) */
  budget?: ByteBudget | undefined;
}

export interface HttpAnswer {
  status: number;
  /** the answer as UTF-8, invalid bytes replaced by U+FFFD */
  body: string;
  contentType: string;
  /** Content-Encoding, '' when the answer is not encoded */
  contentEncoding: string;
  /** the answer's size in bytes */
  bytes: number;
}

/** What a provider is told besides its spec. */
export interface MeasureOptions {
  /**
   * Redacts secret values; applied to an answer before it is cut to an excerpt, so that a cut
   * cannot leave half a secret (the controller redacts every message again on its way out).
   */
  redact?: ((text: string) => string) | undefined;
  /** the budget for answers in flight (default: the one every measurement shares) */
  budget?: ByteBudget | undefined;
}

/** What is known of an answer besides its status and body. */
export interface AnswerInfo {
  contentEncoding?: string | undefined;
  bytes?: number | undefined;
  redact?: ((text: string) => string) | undefined;
}

export class HttpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HttpError';
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export const DEFAULT_MAX_ANSWER_BYTES = 10 * 1024 * 1024;
/** characters of an answer quoted in a message */
export const EXCERPT_CHARS = 200;

const LETTER_ESCAPES: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };

/**
 * Characters a message must not carry as they are: C0 and C1 controls, DEL, line and paragraph
 * separators, bidirectional overrides, the byte order mark (they rewrite what a terminal or a
 * page shows around them), and lone surrogates (not encodable as UTF-8).
 */
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeChar(char: string): string {
  const unit = char.charCodeAt(0);
  if (unit >= 0xd800 && unit <= 0xdfff) return '\ufffd';
  return LETTER_ESCAPES[unit] ?? `\\u${unit.toString(16).padStart(4, '0')}`;
}

/**
 * Text safe to put into a message: unprintable characters as JSON-style escapes (\n, \u0000), a
 * lone surrogate as U+FFFD. With `max`, at most that many UTF-16 units and then …, never cutting
 * an escape or a surrogate pair.
 */
export function excerpt(text: string, max = Infinity): string {
  if (max === Infinity) return text.replace(UNPRINTABLE, escapeChar);
  let out = '';
  for (const char of text) {
    const piece = char.replace(UNPRINTABLE, escapeChar);
    if (out.length + piece.length > max) return `${out}…`;
    out += piece;
  }
  return out;
}

/** What a message says about an answer's body: an excerpt, or that it is encoded or empty. */
export function describeBody(body: string, answer: { contentEncoding?: string | undefined; bytes?: number | undefined } = {}): string {
  const bytes = answer.bytes ?? Buffer.byteLength(body);
  const encoding = answer.contentEncoding && answer.contentEncoding !== 'identity' ? answer.contentEncoding : '';
  if (encoding) return `a ${encoding}-encoded body of ${formatBytes(bytes)} (not asked for: measurements read answers as they are)`;
  if (body === '') return 'an empty body';
  return excerpt(body, EXCERPT_CHARS);
}

export function httpRequest(url: string, request: HttpRequest): Promise<HttpAnswer> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return Promise.reject(new HttpError(`${JSON.stringify(url)} is not a URL`));
  }
  if (target.protocol !== 'http:' && target.protocol !== 'https:') {
    return Promise.reject(new HttpError(`${JSON.stringify(url)}: only http and https URLs can be measured`));
  }
  const method = (request.method ?? 'GET').toUpperCase();
  const headers: Record<string, string | number> = { 'User-Agent': 'rollway-analysis', 'Accept-Encoding': 'identity', ...(request.headers ?? {}) };
  if (request.body !== undefined) headers['Content-Length'] = Buffer.byteLength(request.body);
  const options: https.RequestOptions = { method, headers, agent: false };
  if (target.protocol === 'https:' && request.insecure) options.rejectUnauthorized = false;
  return new Promise<HttpAnswer>((resolve, reject) => {
    const exchange = new Exchange(target, method, request, resolve, reject);
    const req = (target.protocol === 'https:' ? nodeHttps() : nodeHttp()).request(target, options, (res) => exchange.answer(res));
    exchange.start(req);
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}

/** One request in flight: its timer, the bytes it holds of the budget, how it ends. */
class Exchange {
  private readonly target: URL;
  private readonly method: string;
  private readonly request: HttpRequest;
  private readonly resolve: (answer: HttpAnswer) => void;
  private readonly reject: (err: Error) => void;
  private readonly budget: ByteBudget;
  private readonly maxBytes: number;
  private readonly chunks: Buffer[] = [];
  private readonly abort = new AbortController();
  private req: ClientRequest | undefined;
  private timer: NodeJS.Timeout | undefined;
  private settled = false;
  private held = 0;
  private size = 0;
  /** bytes the answer waits for in the budget (for the timeout message) */
  private waitingFor = 0;

  constructor(target: URL, method: string, request: HttpRequest, resolve: (answer: HttpAnswer) => void, reject: (err: Error) => void) {
    this.target = target;
    this.method = method;
    this.request = request;
    this.resolve = resolve;
    this.reject = reject;
    this.budget = request.budget ?? measurementBudget;
    this.maxBytes = request.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES;
  }

  start(req: ClientRequest): void {
    this.req = req;
    this.timer = setTimeout(() => this.fail(this.timeoutMessage()), this.request.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => this.fail(`${this.method} ${this.target.origin}${this.target.pathname}: ${connectionProblem(err)}`));
  }

  answer(res: IncomingMessage): void {
    res.on('error', (err) => this.fail(`reading the answer of ${this.target.origin}: ${err.message}`));
    const declared = Number(res.headers['content-length'] ?? Number.NaN);
    if (declared > this.maxBytes) return this.fail(this.tooLarge(`${formatBytes(declared)} (Content-Length)`));
    const read = (): void => {
      if (this.settled) return;
      res.on('data', (chunk: Buffer) => this.chunk(chunk));
      res.on('end', () => this.done(res));
    };
    if (!(declared > 0)) return read();
    // A declared length is taken from the budget before a byte is read; until then the socket
    // is not read either (the kernel's buffer is all it holds).
    this.waitingFor = declared;
    this.budget.take(declared, this.abort.signal).then(
      () => {
        this.waitingFor = 0;
        if (this.settled) return this.budget.release(declared);
        this.held = declared;
        read();
      },
      (err: unknown) => this.fail(`the answer of ${this.target.origin} (${formatBytes(declared)}) cannot be read: ${(err as Error).message}`),
    );
  }

  private chunk(chunk: Buffer): void {
    if (this.settled) return;
    this.size += chunk.length;
    if (this.size > this.maxBytes) return this.fail(this.tooLarge(`more than ${formatBytes(this.maxBytes)}`));
    if (this.size > this.held) {
      const more = this.size - this.held;
      if (!this.budget.tryTake(more)) {
        return this.fail(
          `the answer of ${this.target.origin} was dropped after ${formatBytes(this.size)}: the answers of measurements in flight fill the ${formatBytes(this.budget.capacity)} they may hold at once (an Error measurement, taken again like any other)`,
        );
      }
      this.held += more;
    }
    this.chunks.push(chunk);
  }

  private done(res: IncomingMessage): void {
    if (this.settled) return;
    const answer: HttpAnswer = {
      status: res.statusCode ?? 0,
      body: Buffer.concat(this.chunks, this.size).toString('utf8'),
      contentType: String(res.headers['content-type'] ?? ''),
      contentEncoding: String(res.headers['content-encoding'] ?? ''),
      bytes: this.size,
    };
    this.end();
    this.resolve(answer);
  }

  private fail(message: string): void {
    if (this.settled) return;
    this.req?.destroy();
    this.end();
    this.reject(new HttpError(message));
  }

  /** Stops the timer and any wait, and gives the budget back. */
  private end(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.abort.abort(new HttpError('the request ended'));
    this.budget.release(this.held);
    this.held = 0;
    this.chunks.length = 0;
  }

  private tooLarge(size: string): string {
    return `the answer of ${this.target.origin} is larger than a measurement may read: ${size}, at most ${formatBytes(this.maxBytes)}`;
  }

  private timeoutMessage(): string {
    const base = `no answer from ${this.target.origin} within ${seconds(this.request.timeoutMs)} (timeout`;
    if (this.waitingFor === 0) return `${base})`;
    return `${base}; its ${formatBytes(this.waitingFor)} answer was waiting for room among the answers of measurements in flight, at most ${formatBytes(this.budget.capacity)} at once)`;
  }
}

function connectionProblem(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  if (err.code === 'ENOTFOUND') return 'host not found';
  if (err.code === 'ECONNRESET') return 'connection reset';
  if (/certificate|self[- ]signed/i.test(err.message)) return `TLS certificate not trusted (${err.message}; set insecure: true to skip verification)`;
  return err.message;
}
