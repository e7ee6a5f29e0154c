// The Prometheus provider: one instant query (GET /api/v1/query) per measurement. A vector gives
// `result` as a list of numbers (result[0] is the first sample), a scalar a number, a string a
// string. An empty vector is "no data", assessed as the template says (noData), never an
// accident of `result[0]` on an empty list.
import { DEFAULT_PROMETHEUS_TIMEOUT_SECONDS, type PrometheusProvider } from '../../api/analysis.ts';
import type { ProviderOutcome } from '../assess.ts';
import { HttpError, describeBody, excerpt, httpRequest, type AnswerInfo, type MeasureOptions } from './http.ts';

/** characters of a Prometheus error message kept in a measurement message */
const PROMETHEUS_ERROR_CHARS = 500;

/** A sample value as Prometheus writes it ("0.5", "NaN", "+Inf") as a number. */
export function sampleValue(text: unknown): number {
  if (typeof text === 'number') return text;
  const s = String(text).trim();
  if (/^\+?inf$/i.test(s)) return Infinity;
  if (/^-inf$/i.test(s)) return -Infinity;
  return Number(s);
}

/** Numbers as status shows them: 0.02, NaN, +Inf. */
export function formatNumber(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

/** Turns the body of a /api/v1/query answer into a measurement outcome (pure). */
export function prometheusOutcome(status: number, body: string, info: AnswerInfo = {}): ProviderOutcome {
  const redact = info.redact ?? ((text: string): string => text);
  const quoted = (): string => describeBody(redact(body), { contentEncoding: info.contentEncoding, bytes: info.bytes ?? Buffer.byteLength(body) });
  let parsed: { status?: string; errorType?: unknown; error?: unknown; data?: { resultType?: string; result?: unknown } };
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    return { kind: 'error', message: `Prometheus answered HTTP ${status} with a body that is not JSON: ${quoted()}` };
  }
  if (status < 200 || status >= 300 || parsed?.status !== 'success') {
    // Prometheus quotes the query in its errors: redacted before the excerpt can cut a secret.
    const why = [parsed?.errorType, parsed?.error].filter((p) => typeof p === 'string' && p !== '').join(': ');
    return { kind: 'error', message: `Prometheus answered HTTP ${status}: ${why ? excerpt(redact(why), PROMETHEUS_ERROR_CHARS) : quoted()}` };
  }
  const data = parsed.data ?? {};
  switch (data.resultType) {
    case 'vector': {
      const samples = Array.isArray(data.result) ? (data.result as { value?: [number, string] }[]) : [];
      if (samples.length === 0) return { kind: 'noData', message: 'the query returned an empty vector' };
      const values = samples.map((s) => sampleValue(s.value?.[1]));
      return { kind: 'value', value: values, display: `[${values.map(formatNumber).join(',')}]` };
    }
    case 'scalar': {
      const value = sampleValue((data.result as [number, string] | undefined)?.[1]);
      return { kind: 'value', value, display: formatNumber(value) };
    }
    case 'string': {
      const value = String((data.result as [number, string] | undefined)?.[1] ?? '');
      return { kind: 'value', value, display: excerpt(value) };
    }
    case 'matrix':
      return { kind: 'error', message: 'the query returned a range vector (matrix); write an instant query, e.g. sum(rate(x[5m]))' };
    default:
      return { kind: 'error', message: `Prometheus answered an unknown result type ${JSON.stringify(data.resultType)}` };
  }
}

/** Runs the provider's query (args already substituted). */
export async function measurePrometheus(provider: PrometheusProvider, options: MeasureOptions = {}): Promise<ProviderOutcome> {
  if (!provider.address) return { kind: 'error', message: 'prometheus.address is empty: set the base URL of the Prometheus server' };
  if (!provider.query) return { kind: 'error', message: 'prometheus.query is empty' };
  const timeoutSeconds = provider.timeout && provider.timeout > 0 ? provider.timeout : DEFAULT_PROMETHEUS_TIMEOUT_SECONDS;
  let url: URL;
  try {
    url = new URL(`${provider.address.replace(/\/+$/, '')}/api/v1/query`);
  } catch {
    return { kind: 'error', message: `prometheus.address ${JSON.stringify(provider.address)} is not a URL, e.g. http://prometheus.monitoring:9090` };
  }
  url.searchParams.set('query', provider.query);
  url.searchParams.set('timeout', `${timeoutSeconds}s`);
  const headers = Object.fromEntries((provider.headers ?? []).map((h) => [h.key, h.value]));
  try {
    const answer = await httpRequest(url.toString(), { headers: { Accept: 'application/json', ...headers }, timeoutMs: timeoutSeconds * 1000, insecure: provider.insecure, budget: options.budget });
    return prometheusOutcome(answer.status, answer.body, { contentEncoding: answer.contentEncoding, bytes: answer.bytes, redact: options.redact });
  } catch (err) {
    if (err instanceof HttpError) return { kind: 'error', message: `Prometheus query failed: ${err.message}` };
    throw err;
  }
}
