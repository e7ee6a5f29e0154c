// Loads credentials the way kubectl does: --kubeconfig, else $KUBECONFIG (a list of files,
// first one wins per entry), else ~/.kube/config, else the in-cluster service account.
// Tokens, client certificates and basic auth are handled here; exec and auth-provider plugins
// (EKS, GKE, OIDC) are delegated to @kubernetes/client-node, loaded only when such a user is
// configured: that library costs ~80 MB of memory to import, more than all our caches.
import { existsSync, readFileSync } from 'node:fs';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { importOnDemand, yamlLibrary } from '../lib/on-demand.ts';

// The YAML parser (about 70 modules) is loaded with the first kubeconfig file: a controller in a pod
// (service account, no file) never loads it.
const parse = (text: string): unknown => yamlLibrary().parse(text);

export interface ConnectionConfig {
  server: string;
  namespace: string;
  contextName: string;
  /** adds TLS material and credentials to a request */
  authenticate: (options: https.RequestOptions) => Promise<void>;
}

interface Named<T> {
  name: string;
  [key: string]: unknown;
  value?: T;
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Named<unknown>[];
  users?: Named<unknown>[];
  contexts?: Named<unknown>[];
}

interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
  'tls-server-name'?: string;
}

interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
  username?: string;
  password?: string;
  exec?: unknown;
  'auth-provider'?: unknown;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

export function loadConnection(options: { path?: string | undefined; context?: string | undefined } = {}): ConnectionConfig {
  const files = options.path ? [options.path] : process.env.KUBECONFIG ? process.env.KUBECONFIG.split(path.delimiter).filter(Boolean) : [path.join(os.homedir(), '.kube', 'config')];
  const existing = files.filter((f) => existsSync(f));
  if (options.path && existing.length === 0) throw new KubeconfigError(`kubeconfig ${options.path} does not exist`);
  if (existing.length === 0) {
    if (process.env.KUBERNETES_SERVICE_HOST && existsSync(path.join(SERVICE_ACCOUNT_DIR, 'token'))) return inClusterConnection();
    throw new KubeconfigError(`no kubeconfig found (looked at ${files.join(', ')}); pass --kubeconfig or set KUBECONFIG`);
  }
  const merged = mergeFiles(existing);
  const contextName = options.context ?? merged.currentContext;
  if (!contextName) throw new KubeconfigError(`kubeconfig ${existing.join(', ')} sets no current-context; pass --context`);
  const context = merged.contexts.get(contextName) as { cluster?: string; user?: string; namespace?: string } | undefined;
  if (!context) {
    throw new KubeconfigError(`context "${contextName}" is not in the kubeconfig; contexts there: ${[...merged.contexts.keys()].join(', ') || 'none'}`);
  }
  const cluster = merged.clusters.get(context.cluster ?? '') as ClusterEntry | undefined;
  if (!cluster?.server) throw new KubeconfigError(`context "${contextName}" names cluster "${context.cluster ?? ''}", which has no server in the kubeconfig`);
  const user = (merged.users.get(context.user ?? '') ?? {}) as UserEntry;
  const base = merged.baseDirs;

  const tls: https.RequestOptions = {};
  if (cluster['certificate-authority-data']) tls.ca = Buffer.from(cluster['certificate-authority-data'], 'base64');
  else if (cluster['certificate-authority']) tls.ca = readFileSync(resolveFrom(base.clusters.get(context.cluster ?? ''), cluster['certificate-authority']));
  if (cluster['insecure-skip-tls-verify']) tls.rejectUnauthorized = false;
  if (cluster['tls-server-name']) tls.servername = cluster['tls-server-name'];
  const userDir = base.users.get(context.user ?? '');
  if (user['client-certificate-data']) tls.cert = Buffer.from(user['client-certificate-data'], 'base64');
  else if (user['client-certificate']) tls.cert = readFileSync(resolveFrom(userDir, user['client-certificate']));
  if (user['client-key-data']) tls.key = Buffer.from(user['client-key-data'], 'base64');
  else if (user['client-key']) tls.key = readFileSync(resolveFrom(userDir, user['client-key']));

  let authenticate: ConnectionConfig['authenticate'];
  if (user.exec !== undefined || user['auth-provider'] !== undefined) {
    authenticate = delegateToClientNode(existing, contextName);
  } else {
    const tokenFile = user.tokenFile ? resolveFrom(userDir, user.tokenFile) : undefined;
    const basic = user.username !== undefined ? `Basic ${Buffer.from(`${user.username}:${user.password ?? ''}`).toString('base64')}` : undefined;
    authenticate = (request) => {
      Object.assign(request, tls);
      const token = user.token ?? (tokenFile ? readFileSync(tokenFile, 'utf8').trim() : undefined);
      const authorization = token ? `Bearer ${token}` : basic;
      if (authorization) request.headers = { ...(request.headers as Record<string, string>), Authorization: authorization };
      return Promise.resolve();
    };
  }
  return { server: cluster.server.replace(/\/$/, ''), namespace: context.namespace ?? 'default', contextName, authenticate };
}

/**
 * The controller inside a cluster: the API server from KUBERNETES_SERVICE_HOST/PORT, the CA and
 * the ServiceAccount token the kubelet mounts. The token is a projected, expiring one that the
 * kubelet rotates in place, so it is read again for every request (a small file in tmpfs), never
 * kept; `dir` is there for tests.
 */
export function inClusterConnection(dir = SERVICE_ACCOUNT_DIR, env: NodeJS.ProcessEnv = process.env): ConnectionConfig {
  const host = env.KUBERNETES_SERVICE_HOST ?? '';
  const port = env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new KubeconfigError('in-cluster configuration needs KUBERNETES_SERVICE_HOST (set by the kubelet in every pod)');
  const ca = readFileSync(path.join(dir, 'ca.crt'));
  const namespaceFile = path.join(dir, 'namespace');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    namespace: existsSync(namespaceFile) ? readFileSync(namespaceFile, 'utf8').trim() : 'default',
    contextName: 'in-cluster',
    authenticate: (request) => {
      request.ca = ca;
      const token = readFileSync(path.join(dir, 'token'), 'utf8').trim();
      request.headers = { ...(request.headers as Record<string, string>), Authorization: `Bearer ${token}` };
      return Promise.resolve();
    },
  };
}

function delegateToClientNode(files: string[], contextName: string): ConnectionConfig['authenticate'] {
  let loaded: Promise<{ applyToHTTPSOptions: (o: https.RequestOptions) => Promise<void> }> | undefined;
  return async (request) => {
    loaded ??= importOnDemand<typeof import('@kubernetes/client-node')>('@kubernetes/client-node').then(({ KubeConfig }) => {
      const kc = new KubeConfig();
      if (files.length === 1) kc.loadFromFile(files[0]!);
      else kc.loadFromDefault();
      kc.setCurrentContext(contextName);
      return kc;
    });
    const kc = await loaded;
    await kc.applyToHTTPSOptions(request);
  };
}

interface Merged {
  currentContext: string | undefined;
  clusters: Map<string, unknown>;
  users: Map<string, unknown>;
  contexts: Map<string, unknown>;
  /** relative file paths in an entry resolve against the folder of the file that defined it */
  baseDirs: { clusters: Map<string, string>; users: Map<string, string> };
}

function mergeFiles(files: string[]): Merged {
  const merged: Merged = { currentContext: undefined, clusters: new Map(), users: new Map(), contexts: new Map(), baseDirs: { clusters: new Map(), users: new Map() } };
  for (const file of files) {
    let doc: KubeconfigFile;
    try {
      doc = (parse(readFileSync(file, 'utf8')) ?? {}) as KubeconfigFile;
    } catch (err) {
      throw new KubeconfigError(`kubeconfig ${file} is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new KubeconfigError(`kubeconfig ${file} is not a kubeconfig (expected a mapping with clusters, users and contexts)`);
    merged.currentContext ??= doc['current-context'] || undefined;
    const dir = path.dirname(path.resolve(file));
    for (const [list, key, map] of [
      [doc.clusters, 'cluster', merged.clusters],
      [doc.users, 'user', merged.users],
      [doc.contexts, 'context', merged.contexts],
    ] as const) {
      for (const entry of list ?? []) {
        if (!entry || typeof entry.name !== 'string' || map.has(entry.name)) continue; // first file wins
        map.set(entry.name, (entry as Record<string, unknown>)[key] ?? {});
        if (key === 'cluster') merged.baseDirs.clusters.set(entry.name, dir);
        if (key === 'user') merged.baseDirs.users.set(entry.name, dir);
      }
    }
  }
  return merged;
}

function resolveFrom(dir: string | undefined, file: string): string {
  return path.isAbsolute(file) ? file : path.join(dir ?? process.cwd(), file);
}
