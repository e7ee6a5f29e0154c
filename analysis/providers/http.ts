// One HTTP request for the measurement providers (Prometheus, web): a timeout for the whole
// exchange, optional insecure TLS, a cap on the answer's size, and errors that say what happened
// in words a person reading an AnalysisRun understands.
import http from 'node:http';
import https from 'node:https';

export interface HttpRequest {
  method?: string | undefined;
  headers?: Record<string, string> | undefined;
  body?: string | undefined;
  timeoutMs: number;
  /** skip TLS certificate verification */
  insecure?: boolean | undefined;
  /** answers larger than this fail (default 10 MiB) */
  maxBytes?: number | undefined;
}

export interface HttpAnswer {
  status: number;
  body: string;
  contentType: string;
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
  const maxBytes = request.maxBytes ?? 10 * 1024 * 1024;
  const method = (request.method ?? 'GET').toUpperCase();
  const headers: Record<string, string | number> = { 'User-Agent': 'rollway-analysis', ...(request.headers ?? {}) };
  if (request.body !== undefined) headers['Content-Length'] = Buffer.byteLength(request.body);
  return new Promise<HttpAnswer>((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | undefined, answer?: HttpAnswer): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (err) reject(err);
      else resolve(answer as HttpAnswer);
    };
    const options: https.RequestOptions = { method, headers, agent: false };
    if (target.protocol === 'https:' && request.insecure) options.rejectUnauthorized = false;
    const req = (target.protocol === 'https:' ? https : http).request(target, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy();
          finish(new HttpError(`the answer of ${target.origin} is larger than ${maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), contentType: String(res.headers['content-type'] ?? '') }));
      res.on('error', (err) => finish(new HttpError(`reading the answer of ${target.origin}: ${err.message}`)));
    });
    const timer = setTimeout(() => {
      req.destroy();
      finish(new HttpError(`no answer from ${target.origin} within ${seconds(request.timeoutMs)} (timeout)`));
    }, request.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ECONNREFUSED'
          ? 'connection refused'
          : err.code === 'ENOTFOUND'
            ? 'host not found'
            : err.code === 'ECONNRESET'
              ? 'connection reset'
              : /certificate|self[- ]signed/i.test(err.message)
                ? `TLS certificate not trusted (${err.message}; set insecure: true to skip verification)`
                : err.message;
      finish(new HttpError(`${method} ${target.origin}${target.pathname}: ${why}`));
    });
    if (request.body !== undefined) req.write(request.body);
    req.end();
  });
}
