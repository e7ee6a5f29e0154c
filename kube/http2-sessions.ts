// HTTP/2 to the API server, as client-go speaks it: requests and watches as streams of one TLS
// connection (kube/client.ts sends its reads and watches this way). Over HTTP/1.1 each watch held a
// connection of its own and each request in flight another, so a start opened ~45 TLS connections,
// whose handshakes were most of the CPU between the first request and "controller started"
// (traced: two waves of 8 and 9 handshakes, 20 and 40 ms). A connection nobody answers is found by
// pings (client-go: 30 s, 15 s), so a dead one cannot hold every watch silent at once.
import type { ClientHttp2Session, ClientHttp2Stream, IncomingHttpHeaders, SecureClientSessionOptions } from 'node:http2';
import type { RequestOptions as HttpsRequestOptions } from 'node:https';
import type { Readable } from 'node:stream';
import { nodeHttp2 } from '../lib/node-http.ts';

/** TLS settings of a request, as kube/kubeconfig.ts puts them on https.RequestOptions. */
export type TlsSettings = Pick<HttpsRequestOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized' | 'servername'>;

export interface StreamRequest {
  method: string;
  /** path and query */
  path: string;
  headers: Record<string, string | number>;
  payload?: string | undefined;
  tls: TlsSettings;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
}

export interface StreamResponse {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: Readable;
}

export interface Http2SessionsOptions {
  /** ping a connection this often; default 30 s */
  pingEveryMs?: number;
  /** close a connection whose ping is not answered within this; default 15 s */
  pingTimeoutMs?: number;
  /** give up on a connection not established (TCP and TLS) within this; default 30 s, as client-go's dialer */
  connectTimeoutMs?: number;
}

/** The server would not speak HTTP/2 (ALPN chose HTTP/1.1): the caller falls back to it. */
export class Http2NotSpokenError extends Error {
  constructor(server: string) {
    super(`${server} does not speak HTTP/2`);
    this.name = 'Http2NotSpokenError';
  }
}

// Flow-control windows: the server may send a LIST page of megabytes without waiting for us to
// acknowledge every 64 KiB (HTTP/2's default), on each stream and on the connection.
const STREAM_WINDOW = 4 * 1024 * 1024;
const CONNECTION_WINDOW = 32 * 1024 * 1024;
/** Streams kept free below the server's limit, so a burst never meets a refused stream. */
const STREAM_HEADROOM = 8;

interface Session {
  readonly session: ClientHttp2Session;
  readonly tlsKey: TlsSettings;
  streams: number;
}

export class Http2Sessions {
  private readonly server: string;
  private readonly pingEveryMs: number;
  private readonly pingTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private sessions: Session[] = [];
  /** The connection being opened: requests that arrive meanwhile wait for it instead of opening their own. */
  private connecting: Promise<Session> | undefined;

  constructor(server: string, options: Http2SessionsOptions = {}) {
    this.server = server;
    this.pingEveryMs = options.pingEveryMs ?? 30_000;
    this.pingTimeoutMs = options.pingTimeoutMs ?? 15_000;
    this.connectTimeoutMs = options.connectTimeoutMs ?? 30_000;
  }

  async request(req: StreamRequest): Promise<StreamResponse> {
    const entry = await this.sessionFor(req.tls);
    return await this.openStream(entry, req);
  }

  close(): void {
    for (const entry of this.sessions) entry.session.close();
    this.sessions = [];
  }

  private async sessionFor(tls: TlsSettings): Promise<Session> {
    for (;;) {
      const fits = this.sessions.find((s) => !s.session.closed && !s.session.destroyed && sameTls(s.tlsKey, tls) && s.streams < maxStreams(s.session));
      if (fits) return fits;
      this.connecting ??= this.connect(tls).finally(() => (this.connecting = undefined));
      await this.connecting;
    }
  }

  private connect(tls: TlsSettings): Promise<Session> {
    return new Promise((resolve, reject) => {
      const options: SecureClientSessionOptions = {
        ...definedOnly(tls),
        settings: { enablePush: false, initialWindowSize: STREAM_WINDOW },
        // Node refuses new streams once a session buffers this many MiB; LIST pages are large.
        maxSessionMemory: 64,
      };
      const session = nodeHttp2().connect(this.server, options);
      const entry: Session = { session, tlsKey: definedOnly(tls), streams: 0 };
      // A server that never answers the handshake would otherwise hold every request forever.
      const deadline = setTimeout(() => session.destroy(new Error(`connecting to ${this.server}: no answer within ${this.connectTimeoutMs}ms`)), this.connectTimeoutMs);
      const fail = (err: Error & { code?: string }): void => {
        clearTimeout(deadline);
        // A server of HTTP/1.1 only: Node's refuses the handshake (no protocol in common), Go's and
        // most proxies' accept it and choose none (below).
        reject(err.code === 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL' ? new Http2NotSpokenError(this.server) : err);
      };
      session.once('error', fail);
      session.once('connect', () => {
        clearTimeout(deadline);
        session.off('error', fail);
        const alpn = (session.socket as { alpnProtocol?: string | false } | undefined)?.alpnProtocol;
        if (this.server.startsWith('https:') && alpn !== 'h2') {
          session.destroy();
          reject(new Http2NotSpokenError(this.server));
          return;
        }
        session.setLocalWindowSize(CONNECTION_WINDOW);
        this.retireOthers(entry.tlsKey);
        this.sessions.push(entry);
        this.monitor(entry);
        resolve(entry);
      });
    });
  }

  /**
   * Credentials changed (a rotated client certificate): connections opened with the old ones get
   * no new streams and close once their streams end, instead of lingering for good.
   */
  private retireOthers(tls: TlsSettings): void {
    for (const old of this.sessions.filter((s) => !sameTls(s.tlsKey, tls))) old.session.close();
    this.sessions = this.sessions.filter((s) => sameTls(s.tlsKey, tls));
  }

  /** Forgets a connection that ends; pings it while it lives. */
  private monitor(entry: Session): void {
    const { session } = entry;
    session.unref();
    const forget = (): void => {
      clearInterval(pinger);
      this.sessions = this.sessions.filter((s) => s !== entry);
    };
    // Errors end the session; its streams see them and their callers retry on a new one.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    const pinger = setInterval(() => this.ping(entry), this.pingEveryMs);
    pinger.unref();
  }

  private ping(entry: Session): void {
    if (entry.session.closed || entry.session.destroyed) return;
    const timer = setTimeout(() => {
      entry.session.destroy(new Error(`the API server did not answer a ping within ${this.pingTimeoutMs}ms`));
    }, this.pingTimeoutMs);
    timer.unref();
    const sent = entry.session.ping((err) => {
      clearTimeout(timer);
      // A ping cancelled by the session closing is no news.
      if (err && !entry.session.destroyed && (err as { code?: string }).code !== 'ERR_HTTP2_PING_CANCEL') entry.session.destroy(err);
    });
    if (!sent) clearTimeout(timer);
  }

  private openStream(entry: Session, req: StreamRequest): Promise<StreamResponse> {
    const headers: Record<string, string | number> = { ':method': req.method, ':path': req.path };
    for (const [name, value] of Object.entries(req.headers)) headers[name.toLowerCase()] = value;
    const stream = entry.session.request(headers, { endStream: req.payload === undefined });
    this.track(entry, stream);
    return new Promise((resolve, reject) => {
      stream.once('error', reject);
      // A stream can end without an error and without an answer (its connection went away).
      stream.once('close', () => reject(new Error(`${req.method} ${req.path}: the connection closed before an answer`)));
      stream.once('response', (responseHeaders) => {
        stream.off('error', reject);
        resolve({ statusCode: Number(responseHeaders[':status'] ?? 0), headers: responseHeaders, body: stream });
      });
      if (req.timeoutMs > 0) {
        stream.setTimeout(req.timeoutMs, () => stream.destroy(new Error(`${req.method} ${req.path}: no answer within ${req.timeoutMs}ms`)));
      }
      if (req.signal) {
        if (req.signal.aborted) stream.destroy(new Error('aborted'));
        req.signal.addEventListener('abort', () => stream.destroy(new Error('aborted')), { once: true });
      }
      if (req.payload !== undefined) stream.end(req.payload);
    });
  }

  /** A session with streams open keeps the process alive; an idle one does not (as idle keep-alive sockets). */
  private track(entry: Session, stream: ClientHttp2Stream): void {
    if (entry.streams++ === 0) entry.session.ref();
    stream.once('close', () => {
      if (--entry.streams === 0 && !entry.session.destroyed) entry.session.unref();
    });
  }
}

function maxStreams(session: ClientHttp2Session): number {
  const limit = session.remoteSettings.maxConcurrentStreams ?? 100;
  return Math.max(1, limit - STREAM_HEADROOM);
}

// Credentials may change (a rotated client certificate): a connection serves the TLS settings it
// was opened with. The same Buffers come back on every request, so identity is compared first.
function sameTls(a: TlsSettings, b: TlsSettings): boolean {
  return a.rejectUnauthorized === b.rejectUnauthorized && a.servername === b.servername && sameBytes(a.ca, b.ca) && sameBytes(a.cert, b.cert) && sameBytes(a.key, b.key);
}

function sameBytes(a: TlsSettings['key'], b: TlsSettings['key']): boolean {
  if (a === b) return true;
  const bytes = (v: unknown): Buffer | undefined => (typeof v === 'string' ? Buffer.from(v) : Buffer.isBuffer(v) ? v : undefined);
  const [x, y] = [bytes(a), bytes(b)];
  return x !== undefined && y !== undefined && x.equals(y);
}

function definedOnly(tls: TlsSettings): TlsSettings {
  const out: TlsSettings = {};
  if (tls.ca !== undefined) out.ca = tls.ca;
  if (tls.cert !== undefined) out.cert = tls.cert;
  if (tls.key !== undefined) out.key = tls.key;
  if (tls.rejectUnauthorized !== undefined) out.rejectUnauthorized = tls.rejectUnauthorized;
  if (tls.servername !== undefined) out.servername = tls.servername;
  return out;
}
