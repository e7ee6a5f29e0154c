// The web provider: one HTTP request per measurement; the JSON answer (or the value at jsonPath
// in it) is `result`. A jsonPath that matches nothing is "no data". Answers outside 2xx, bodies
// that are not JSON and timeouts are Error measurements.
import { DEFAULT_WEB_TIMEOUT_SECONDS, type WebProvider } from '../../api/analysis.ts';
import type { ProviderOutcome } from '../assess.ts';
import { HttpError, describeBody, excerpt, httpRequest, type AnswerInfo, type MeasureOptions } from './http.ts';

export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

/**
 * The path segments of a jsonPath: `$`, `$.data.ok`, `$.items[0].value`, `$['a-b']`, optionally in
 * braces as Kubernetes writes them (`{$.data.ok}`). Wildcards, filters and `..` are refused.
 */
export function parseJsonPath(path: string): (string | number)[] {
  let text = path.trim();
  if (text.startsWith('{') && text.endsWith('}')) text = text.slice(1, -1).trim();
  if (!text.startsWith('$')) throw new JsonPathError(`jsonPath ${JSON.stringify(path)} must start with $, e.g. $.data.ok`);
  const segments: (string | number)[] = [];
  let i = 1;
  while (i < text.length) {
    const rest = text.slice(i);
    let m: RegExpExecArray | null;
    if ((m = /^\.([A-Za-z_$][\w$-]*)/.exec(rest))) segments.push(m[1] as string);
    else if ((m = /^\[(-?\d+)\]/.exec(rest))) segments.push(Number(m[1]));
    else if ((m = /^\[\s*'([^']*)'\s*\]/.exec(rest)) || (m = /^\[\s*"([^"]*)"\s*\]/.exec(rest))) segments.push(m[1] as string);
    else {
      throw new JsonPathError(`jsonPath ${JSON.stringify(path)}: cannot read ${JSON.stringify(rest)} at column ${i + 1}; supported: $.field, $.list[0], $['field']`);
    }
    i += m[0].length;
  }
  return segments;
}

/** The value at a path, or found: false when some segment is absent. */
export function selectJsonPath(value: unknown, segments: readonly (string | number)[]): { found: boolean; value?: unknown } {
  let node: unknown = value;
  for (const segment of segments) {
    if (typeof segment === 'number') {
      if (!Array.isArray(node)) return { found: false };
      const i = segment < 0 ? node.length + segment : segment;
      if (i < 0 || i >= node.length) return { found: false };
      node = node[i];
    } else {
      if (node === null || typeof node !== 'object' || Array.isArray(node) || !Object.hasOwn(node, segment)) return { found: false };
      node = (node as Record<string, unknown>)[segment];
    }
  }
  return { found: true, value: node };
}

/** Turns an HTTP answer into a measurement outcome (pure). */
export function webOutcome(provider: Pick<WebProvider, 'url' | 'jsonPath'>, status: number, body: string, info: AnswerInfo = {}): ProviderOutcome {
  const quoted = (): string => describeBody(info.redact ? info.redact(body) : body, { contentEncoding: info.contentEncoding, bytes: info.bytes ?? Buffer.byteLength(body) });
  if (status < 200 || status >= 300) return { kind: 'error', message: `${provider.url} answered HTTP ${status}: ${quoted()}` };
  let json: unknown;
  try {
    json = body.trim() === '' ? null : JSON.parse(body);
  } catch {
    return { kind: 'error', message: `the answer of ${provider.url} is not JSON: ${quoted()}` };
  }
  let value = json;
  if (provider.jsonPath) {
    let segments: (string | number)[];
    try {
      segments = parseJsonPath(provider.jsonPath);
    } catch (err) {
      return { kind: 'error', message: (err as Error).message };
    }
    const selected = selectJsonPath(json, segments);
    if (!selected.found) return { kind: 'noData', message: `jsonPath ${provider.jsonPath} matched nothing in the answer of ${provider.url}` };
    value = selected.value;
  }
  return { kind: 'value', value, display: excerpt(typeof value === 'string' ? value : JSON.stringify(value)) };
}

/** Makes the provider's request (args already substituted). */
export async function measureWeb(provider: WebProvider, options: MeasureOptions = {}): Promise<ProviderOutcome> {
  const timeoutSeconds = provider.timeoutSeconds && provider.timeoutSeconds > 0 ? provider.timeoutSeconds : DEFAULT_WEB_TIMEOUT_SECONDS;
  const headers = Object.fromEntries((provider.headers ?? []).map((h) => [h.key, h.value]));
  let body = provider.body;
  if (body === undefined && provider.jsonBody !== undefined) {
    body = JSON.stringify(provider.jsonBody);
    if (!Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  }
  try {
    const answer = await httpRequest(provider.url, { method: provider.method, headers, body, timeoutMs: timeoutSeconds * 1000, insecure: provider.insecure, budget: options.budget });
    return webOutcome(provider, answer.status, answer.body, { contentEncoding: answer.contentEncoding, bytes: answer.bytes, redact: options.redact });
  } catch (err) {
    if (err instanceof HttpError) return { kind: 'error', message: err.message };
    throw err;
  }
}
