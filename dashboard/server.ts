// `rollway dashboard`: a small web UI served by node:http. The pages are static files (plain
// HTML, CSS and JavaScript); the data is the CLI's own rollout views, kept current by informers
// and pushed to the browser with Server-Sent Events; the actions are the CLI's actions.ts
// functions behind a JSON API. Listens on 127.0.0.1 unless told otherwise; beyond loopback every
// request needs a token (guard.ts says who may talk to it).
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { dns1123Label, dns1123Subdomain } from '../api/k8s-names.ts';
import { canI } from '../kube/access.ts';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import { ACTION_NAMES, ActionError, runAction, type ActionName } from '../client/actions.ts';
import { RolloutWatch, serves } from '../client/observe.ts';
import { listExperiments } from '../client/experiments.ts';
import { EXPERIMENT_PLURAL } from '../api/experiment.ts';
import { ROLLOUT_GROUP, ROLLOUT_VERSION } from '../api/rollout.ts';
import { buildView, type RolloutViewModel } from '../client/view.ts';
import { isLoopbackHost, loopbackHostAllowed, originAllowed, presentedToken, tokenCookie, tokenProblem, tokensEqual } from './guard.ts';

export interface DashboardOptions {
  client: KubeClient;
  /** the namespace shown first */
  namespace: string;
  port: number;
  address: string;
  /** how long a namespace's informers outlive their last viewer (default 30 s) */
  lingerMs?: number;
  /** required on every request when set; a non-loopback address refuses to start without one */
  token?: string | undefined;
}

export interface Dashboard {
  url: string;
  port: number;
  close: () => Promise<void>;
}

const STATIC_DIR = path.join(import.meta.dirname, 'static');
const STATIC_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const CONTENT_TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };
const BODY_LIMIT = 64 * 1024;
// Kubernetes' own rules: a namespace is a DNS-1123 label, a Rollout name a DNS-1123 subdomain.
const validNamespace = (ns: string): boolean => dns1123Label(ns).length === 0;
const validName = (name: string): boolean => dns1123Subdomain(name).length === 0;

interface Shared {
  watch: RolloutWatch;
  ready: Promise<void>;
  users: number;
  linger?: NodeJS.Timeout | undefined;
}

class HttpError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** One RolloutWatch per namespace, shared by every request and stream that looks at it. */
class Watches {
  private readonly client: KubeClient;
  private readonly lingerMs: number;
  private readonly byNamespace = new Map<string, Shared>();

  constructor(client: KubeClient, lingerMs: number) {
    this.client = client;
    this.lingerMs = lingerMs;
  }

  async acquire(namespace: string): Promise<RolloutWatch> {
    let shared = this.byNamespace.get(namespace);
    if (!shared) {
      const watch = new RolloutWatch(this.client, namespace);
      shared = { watch, ready: watch.start(), users: 0 };
      this.byNamespace.set(namespace, shared);
      shared.ready.catch(() => this.drop(namespace));
    }
    shared.users++;
    clearTimeout(shared.linger);
    await shared.ready;
    return shared.watch;
  }

  release(namespace: string): void {
    const shared = this.byNamespace.get(namespace);
    if (!shared) return;
    shared.users = Math.max(0, shared.users - 1);
    if (shared.users === 0) {
      clearTimeout(shared.linger);
      shared.linger = setTimeout(() => this.drop(namespace), this.lingerMs);
    }
  }

  private drop(namespace: string): void {
    const shared = this.byNamespace.get(namespace);
    if (!shared) return;
    clearTimeout(shared.linger);
    shared.watch.stop();
    this.byNamespace.delete(namespace);
  }

  closeAll(): void {
    for (const ns of [...this.byNamespace.keys()]) this.drop(ns);
  }
}

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req: http.IncomingMessage, limit = BODY_LIMIT): Promise<string> {
  return new Promise((resolve, reject) => {
    const tooLarge = (): HttpError => new HttpError(413, `the request body is larger than ${limit} bytes`);
    // Past the limit the rest is read and dropped, up to a cap, so that the client is not cut off
    // before it reads the 413; beyond the cap the connection is closed after the answer.
    const cap = limit * 64;
    if (Number(req.headers['content-length'] ?? 0) > cap) return reject(tooLarge());
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= limit) chunks.push(c);
      else if (size > cap) reject(tooLarge());
    });
    req.on('end', () => (size > limit ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });
}

/** A percent-escaped path segment; a malformed escape (`%zz`) is the client's mistake. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-escape in "${segment}"`);
  }
}

function errorStatus(err: unknown): { status: number; message: string } {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  if (err instanceof ActionError) return { status: /not found/.test(err.message) ? 404 : err.exitCode === 2 ? 400 : 409, message: err.message };
  if (err instanceof KubeApiError) return { status: err.statusCode === 422 ? 409 : err.statusCode, message: err.message };
  return { status: 500, message: err instanceof Error ? err.message : String(err) };
}

export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const { client, token } = options;
  const loopback = isLoopbackHost(options.address);
  if (token !== undefined && tokenProblem(token)) throw new Error(`dashboard token refused: ${tokenProblem(token)}`);
  if (!loopback && token === undefined) throw new Error(`refusing to serve on ${options.address} (not loopback) without a token: anyone who reaches the port could drive rollouts`);
  const api = new DashboardApi(options, loopback);
  const server = http.createServer((req, res) => api.serve(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.address, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  api.port = port;
  // A name that looked like loopback but resolved elsewhere (an odd hosts file) gets no free pass.
  if (loopback && token === undefined && typeof address === 'object' && address && !isLoopbackHost(address.address)) {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    throw new Error(`${options.address} resolved to ${address.address}, which is not loopback: give a token (--token-file) or a loopback address`);
  }
  const hostPart = options.address.includes(':') ? `[${options.address}]` : options.address;
  return {
    url: `http://${hostPart}:${port}/`,
    port,
    close: async () => {
      api.close();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      client.close();
    },
  };
}

/** The dashboard's requests: who may ask, the static page, the JSON API and the event stream. */
class DashboardApi {
  /** the port listened on (known once listening): the token cookie and the Host check name it */
  port: number;
  private readonly options: DashboardOptions;
  /** listening on loopback: the Host header is checked (no DNS rebinding) */
  private readonly loopback: boolean;
  private readonly client: KubeClient;
  private readonly watches: Watches;
  private readonly streams = new Set<http.ServerResponse>();

  constructor(options: DashboardOptions, loopback: boolean) {
    this.options = options;
    this.loopback = loopback;
    this.client = options.client;
    this.port = options.port;
    this.watches = new Watches(options.client, options.lingerMs ?? 30_000);
  }

  /** Answers a request; a failure becomes a JSON error with its status. */
  serve(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.handle(req, res).catch((err: unknown) => {
      const { status, message } = errorStatus(err);
      if (res.headersSent) return void res.end();
      if (status === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="rollway-dashboard"');
      if (status === 413) res.setHeader('Connection', 'close');
      send(res, status, { error: message });
    });
  }

  /** Ends every event stream and stops the informers. */
  close(): void {
    for (const res of this.streams) res.end();
    this.watches.closeAll();
  }

  private namespaceParam(url: URL): string {
    const ns = url.searchParams.get('namespace') || this.options.namespace;
    if (!validNamespace(ns)) throw new HttpError(400, `invalid namespace "${ns}"`);
    return ns;
  }

  private detail(watch: RolloutWatch, ns: string, name: string): RolloutViewModel | undefined {
    const snapshot = watch.snapshot(ns, name);
    return snapshot ? buildView(snapshot) : undefined;
  }

  /**
   * Who may ask: on loopback, requests addressed to a loopback host (no DNS rebinding); with a
   * token, requests that carry it. A page opened with the right `?token=` gets it as a cookie and
   * is sent to the same page without it. Returns false when it has answered already.
   */
  private admit(req: http.IncomingMessage, res: http.ServerResponse, url: URL, method: string): boolean {
    const host = req.headers.host;
    const { token } = this.options;
    if (this.loopback && !loopbackHostAllowed(host, this.port)) throw new HttpError(403, `unexpected Host header "${host ?? ''}"`);
    // A page on another site must not drive this API through the browser (CSRF).
    if (method !== 'GET' && method !== 'HEAD' && !originAllowed(req.headers.origin, host)) throw new HttpError(403, `cross-origin request from ${req.headers.origin ?? ''} refused`);
    if (token === undefined) return true;
    const cookieName = `rollway-dashboard-${this.port}`;
    const given = url.searchParams.get('token');
    if (given !== null && method === 'GET' && STATIC_FILES[url.pathname] && tokensEqual(given, token)) {
      url.searchParams.delete('token');
      res.writeHead(303, { Location: `${url.pathname}${url.search}`, 'Set-Cookie': tokenCookie(cookieName, token), 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' });
      res.end();
      return false;
    }
    const presented = presentedToken(req.headers, cookieName);
    if (presented === undefined || !tokensEqual(presented, token)) {
      throw new HttpError(401, 'this dashboard needs its token: open the URL printed at its start (…/?token=…) or send Authorization: Bearer <token>');
    }
    return true;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard.invalid');
    } catch {
      throw new HttpError(400, 'malformed request target');
    }
    if (!this.admit(req, res, url, method)) return;
    const file = STATIC_FILES[url.pathname];
    if (file && method === 'GET') return sendStatic(res, file);
    if (url.pathname === '/api/config' && method === 'GET') return send(res, 200, { namespace: this.options.namespace, server: this.client.server });
    if (url.pathname === '/api/namespaces' && method === 'GET') return this.namespaces(res);
    if (url.pathname === '/api/rights' && method === 'GET') return this.rights(res, this.namespaceParam(url));
    if (url.pathname === '/api/rollouts' && method === 'GET') return this.rolloutList(res, this.namespaceParam(url));
    const one = /^\/api\/rollouts\/([^/]+)\/([^/]+)(?:\/([a-z-]+))?$/.exec(url.pathname);
    if (one) return this.oneRollout(req, res, method, decodeSegment(one[1]!), decodeSegment(one[2]!), one[3]);
    if (url.pathname === '/api/stream' && method === 'GET') return this.stream(req, res, url);
    throw new HttpError(404, `nothing at ${url.pathname}`);
  }

  /** The namespaces to pick from; a user who may not list them gets the one shown first. */
  private async namespaces(res: http.ServerResponse): Promise<void> {
    try {
      const list = await this.client.list({ group: '', version: 'v1', plural: 'namespaces' });
      send(res, 200, { namespaces: list.items.map((n) => n.metadata.name).sort() });
    } catch (err) {
      if (err instanceof KubeApiError && err.statusCode === 403) send(res, 200, { namespaces: [this.options.namespace] });
      else throw err;
    }
  }

  /**
   * The actions patch a Rollout and its status: a user without those rights (rollway-view)
   * sees the buttons disabled, with the reason, instead of meeting a 403 after a click.
   */
  private async rights(res: http.ServerResponse, ns: string): Promise<void> {
    const query = { group: 'rollway.dev', resource: 'rollouts', namespace: ns };
    const [main, status] = await Promise.all([canI(this.client, { ...query, verb: 'patch' }), canI(this.client, { ...query, verb: 'patch', subresource: 'status' })]);
    const refused = [main === false ? 'patch rollouts' : '', status === false ? 'patch rollouts/status' : ''].filter(Boolean);
    send(res, 200, { namespace: ns, actions: refused.length === 0, ...(refused.length > 0 ? { reason: `your Kubernetes user may not ${refused.join(' or ')} in namespace ${ns}` } : {}) });
  }

  private async rolloutList(res: http.ServerResponse, ns: string): Promise<void> {
    const watch = await this.watches.acquire(ns);
    try {
      send(res, 200, { namespace: ns, now: Date.now(), rollouts: watch.views() });
    } finally {
      this.watches.release(ns);
    }
  }

  /** /api/rollouts/NS/NAME: its detail, its Experiments, or an action on it (POST). */
  private async oneRollout(req: http.IncomingMessage, res: http.ServerResponse, method: string, ns: string, name: string, action: string | undefined): Promise<void> {
    if (!validNamespace(ns) || !validName(name)) throw new HttpError(400, 'invalid namespace or name');
    if (!action && method === 'GET') {
      const watch = await this.watches.acquire(ns);
      try {
        const view = this.detail(watch, ns, name);
        if (!view) throw new HttpError(404, `rollout "${name}" not found in namespace "${ns}"`);
        send(res, 200, { now: Date.now(), rollout: view });
      } finally {
        this.watches.release(ns);
      }
      return;
    }
    if (action === 'experiments' && method === 'GET') {
      // The Experiments of the rollout's experiment steps (none where the CRD is not installed).
      const experiments = (await serves(this.client, ROLLOUT_GROUP, ROLLOUT_VERSION, EXPERIMENT_PLURAL)) ? await listExperiments(this.client, ns, name) : [];
      send(res, 200, { now: Date.now(), experiments });
      return;
    }
    if (action && method === 'POST') {
      if (!(ACTION_NAMES as readonly string[]).includes(action)) throw new HttpError(404, `unknown action "${action}"; actions: ${ACTION_NAMES.join(', ')}`);
      const message = await runAction(this.client, ns, name, action as ActionName, await actionParams(req));
      send(res, 200, { message });
      return;
    }
    throw new HttpError(405, `${method} is not allowed here`);
  }

  /** Server-Sent Events: the namespace's rollouts, and one rollout's detail when asked, on every change. */
  private async stream(req: http.IncomingMessage, res: http.ServerResponse, url: URL): Promise<void> {
    const ns = this.namespaceParam(url);
    const name = url.searchParams.get('rollout') ?? undefined;
    if (name !== undefined && !validName(name)) throw new HttpError(400, 'invalid rollout name');
    const watch = await this.watches.acquire(ns);
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', Connection: 'keep-alive', 'X-Accel-Buffering': 'no' });
    this.streams.add(res);
    let lastList = '';
    let lastDetail = '';
    let timer: NodeJS.Timeout | undefined;
    let lastSent = 0;
    const push = (): void => {
      timer = undefined;
      lastSent = Date.now();
      const list = JSON.stringify(watch.views());
      if (list !== lastList) {
        lastList = list;
        res.write(`event: rollouts\ndata: {"namespace":${JSON.stringify(ns)},"now":${Date.now()},"rollouts":${list}}\n\n`);
      }
      if (name === undefined) return;
      const text = JSON.stringify(this.detail(watch, ns, name) ?? null);
      if (text !== lastDetail) {
        lastDetail = text;
        res.write(`event: rollout\ndata: {"now":${Date.now()},"rollout":${text}}\n\n`);
      }
    };
    // At most 5 pushes a second per stream, the last change always sent.
    const schedule = (): void => {
      if (!timer) timer = setTimeout(push, Math.max(0, lastSent + 200 - Date.now()));
    };
    const unsubscribe = watch.onChange(schedule);
    const heartbeat = setInterval(() => res.write(`: keep-alive ${Date.now()}\n\n`), 15_000);
    res.write('retry: 1000\n\n');
    push();
    req.on('close', () => {
      clearTimeout(timer);
      clearInterval(heartbeat);
      unsubscribe();
      this.streams.delete(res);
      this.watches.release(ns);
    });
  }
}

async function sendStatic(res: http.ServerResponse, file: string): Promise<void> {
  const body = await readFile(path.join(STATIC_DIR, file));
  res.writeHead(200, {
    'Content-Type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
    'Cache-Control': 'no-cache',
    'Content-Security-Policy': "default-src 'self'; style-src 'self'; script-src 'self'; img-src 'self' data:",
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(body);
}

/** An action's parameters: a JSON object in the body (an empty body is none). */
async function actionParams(req: http.IncomingMessage): Promise<Record<string, unknown>> {
  if (!(req.headers['content-type'] ?? '').startsWith('application/json')) throw new HttpError(415, 'send the action as application/json');
  const text = await readBody(req);
  let params: unknown = {};
  if (text.trim() !== '') {
    try {
      params = JSON.parse(text);
    } catch {
      throw new HttpError(400, 'the request body is not JSON');
    }
  }
  if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new HttpError(400, 'the request body must be a JSON object, e.g. {"image": "app:v2"}');
  return params as Record<string, unknown>;
}
