// The e2e harness: scenarios in a given/when/then style against the real local control plane.
//
//   scenario('a ReplicaSet becomes ready', async ({ given, when, then, ns, cluster }) => {
//     await given('a ReplicaSet of 5 replicas', () => cluster.apply(yaml, ns));
//     await then('5 pods become ready', () => cluster.waitFor(rsRef, (rs) => rs.status?.readyReplicas === 5));
//   });
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import { KubeClient, isNotFound, type KubeObject, type PatchType, type ResourceRef } from '../kube/client.ts';
import { ResourceMapper } from '../kube/discovery.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..');
export const fieldManager = 'rollway-e2e';

/** Starts the local control plane unless it already serves; answers the kubeconfig path. */
export function ensureCluster(): string {
  const out = execFileSync(path.join(repoRoot, 'hack/cluster.sh'), ['up'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = out.trim().split('\n');
  return lines[lines.length - 1] ?? '';
}

/** Where hack/cluster.sh keeps the control plane's state and tools (kubectl in bin/). */
export const clusterDir = (): string => process.env.ROLLWAY_CLUSTER_DIR ?? path.join(repoRoot, '.cluster');
export const kubeconfigPath = (): string => process.env.ROLLWAY_E2E_KUBECONFIG ?? path.join(clusterDir(), 'kubeconfig');

export class Cluster {
  readonly client: KubeClient;
  readonly mapper: ResourceMapper;

  constructor(kubeconfig = kubeconfigPath()) {
    this.client = KubeClient.fromKubeconfig({ path: kubeconfig, userAgent: 'rollway-e2e' });
    this.mapper = new ResourceMapper(this.client);
  }

  /** Server-side applies every document of a YAML text (or objects) into a namespace. */
  async apply(manifests: string | KubeObject | KubeObject[], namespace: string): Promise<KubeObject[]> {
    const objects = typeof manifests === 'string' ? parseYamlObjects(manifests) : Array.isArray(manifests) ? manifests : [manifests];
    const applied: KubeObject[] = [];
    for (const object of objects) {
      const ref = await this.mapper.refFor(object, namespace);
      const body = { ...object, metadata: { ...object.metadata, ...(ref.namespace ? { namespace: ref.namespace } : {}) } };
      applied.push(await this.client.apply(ref, body, fieldManager));
    }
    return applied;
  }

  /** Creates (POST) one object; unlike apply, fails if it exists, and keeps the API server's validation error. */
  async create(object: KubeObject, namespace: string): Promise<KubeObject> {
    const ref = await this.mapper.refFor(object, namespace);
    return this.client.create(ref, object);
  }

  async ref(apiVersion: string, kind: string, name: string, namespace?: string): Promise<ResourceRef> {
    return this.mapper.refFor({ apiVersion, kind, metadata: { name, ...(namespace ? { namespace } : {}) } });
  }

  async get<T extends KubeObject = KubeObject>(ref: ResourceRef): Promise<T | undefined> {
    return this.client.getOptional<T>(ref);
  }

  async patch(ref: ResourceRef, body: unknown, type: PatchType = 'merge'): Promise<KubeObject> {
    return this.client.patch(ref, type, body);
  }

  async delete(ref: ResourceRef, propagationPolicy: 'Foreground' | 'Background' | 'Orphan' = 'Background'): Promise<void> {
    try {
      await this.client.delete(ref, { propagationPolicy });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  async list<T extends KubeObject = KubeObject>(ref: ResourceRef, labelSelector?: string): Promise<T[]> {
    const list = await this.client.list<T>(ref, labelSelector ? { labelSelector } : {});
    return list.items;
  }

  /**
   * Polls an object until `until` holds. On timeout the error shows the object's last observed
   * state, so a failing scenario says what the cluster looked like, not only that it waited.
   */
  async waitFor<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    until: (object: T | undefined) => boolean,
    options: { timeoutMs?: number; what?: string; intervalMs?: number } = {},
  ): Promise<T | undefined> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let last: T | undefined;
    let lastError: unknown;
    for (;;) {
      try {
        last = await this.client.getOptional<T>(ref);
        lastError = undefined;
        if (until(last)) return last;
      } catch (err) {
        lastError = err;
      }
      if (Date.now() >= deadline) {
        const what = options.what ?? `${ref.plural}/${ref.name ?? ''}`;
        const shown = last ? stringify(withoutManagedFields(last)) : '(object does not exist)';
        throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}\nlast observed state:\n${shown}${lastError ? `\nlast error: ${String(lastError)}` : ''}`);
      }
      await sleep(options.intervalMs ?? 200);
    }
  }

  /** Polls a list until `until` holds; the timeout error shows the items last seen. */
  async waitForList<T extends KubeObject = KubeObject>(
    ref: ResourceRef,
    until: (items: T[]) => boolean,
    options: { timeoutMs?: number; what?: string; labelSelector?: string } = {},
  ): Promise<T[]> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const deadline = Date.now() + timeoutMs;
    let items: T[];
    for (;;) {
      items = await this.list<T>(ref, options.labelSelector);
      if (until(items)) return items;
      if (Date.now() >= deadline) {
        const what = options.what ?? ref.plural;
        const shown = items.map((i) => `- ${i.metadata.name}: ${JSON.stringify((i as { status?: unknown }).status ?? {})}`).join('\n') || '(none)';
        throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}\nlast observed items:\n${shown}`);
      }
      await sleep(200);
    }
  }

  /** The Events of a namespace, optionally only those about one object, oldest first. */
  async events(namespace: string, involved?: { kind: string; name: string }): Promise<ClusterEvent[]> {
    const fieldSelector = involved ? `involvedObject.kind=${involved.kind},involvedObject.name=${involved.name}` : undefined;
    const list = await this.client.list<ClusterEvent>({ group: '', version: 'v1', plural: 'events', namespace }, fieldSelector ? { fieldSelector } : {});
    return list.items.sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
  }

  /**
   * Waits for an Event about one object that `matches`. The controller writes a reconcile's Events
   * after its status write, so an Event may land a moment after the status that caused it.
   */
  async waitForEvent(namespace: string, involved: { kind: string; name: string } | undefined, matches: (e: ClusterEvent) => boolean, options: { timeoutMs?: number; what?: string } = {}): Promise<ClusterEvent> {
    const deadline = Date.now() + (options.timeoutMs ?? 30_000);
    for (;;) {
      const events = await this.events(namespace, involved);
      const found = events.find(matches);
      if (found) return found;
      if (Date.now() >= deadline) {
        const shown = events.map((e) => `- ${e.type} ${e.reason}: ${e.message}`).join('\n') || '(none)';
        throw new Error(`timed out waiting for ${options.what ?? 'an Event'} in ${namespace}${involved ? ` about ${involved.kind}/${involved.name}` : ''}\nEvents seen:\n${shown}`);
      }
      await sleep(200);
    }
  }

  /** A fresh namespace, deleted again by the returned function. */
  async namespace(prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
    const name = `${prefix}-${randomBytes(3).toString('hex')}`.toLowerCase();
    const ref: ResourceRef = { group: '', version: 'v1', plural: 'namespaces', name };
    await this.client.create(ref, { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'e2e.rollway.dev/scenario': prefix.slice(0, 63) } } });
    // Pods need the namespace's default ServiceAccount, which kube-controller-manager creates.
    await this.waitFor({ group: '', version: 'v1', plural: 'serviceaccounts', namespace: name, name: 'default' }, (sa) => sa !== undefined, { what: `ServiceAccount default in ${name}` });
    return { name, remove: () => this.delete(ref) };
  }

  close(): void {
    this.client.close();
  }
}

export interface ClusterEvent extends KubeObject {
  reason?: string;
  message?: string;
  type?: string;
  involvedObject?: { kind?: string; name?: string; uid?: string };
  firstTimestamp?: string;
  lastTimestamp?: string;
  eventTime?: string;
  count?: number;
}

const eventTime = (e: ClusterEvent): string => e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? '';

export function parseYamlObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message}`);
      return doc.toJS() as KubeObject | null;
    })
    .filter((o): o is KubeObject => o !== null && typeof o === 'object');
}

export function withoutManagedFields<T extends KubeObject>(object: T): T {
  const { managedFields: _managed, ...metadata } = object.metadata;
  return { ...object, metadata };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface ScenarioContext {
  cluster: Cluster;
  /** the scenario's own namespace, removed when it ends */
  ns: string;
  given: (title: string, fn: () => unknown) => Promise<void>;
  when: (title: string, fn: () => unknown) => Promise<void>;
  then: (title: string, fn: () => unknown) => Promise<void>;
  t: TestContext;
}

/** A test with its own namespace, whose given/when/then steps show up as named subtests. */
export function scenario(title: string, body: (ctx: ScenarioContext) => Promise<void>, options: { timeoutMs?: number } = {}): void {
  void test(title, { timeout: options.timeoutMs ?? 180_000 }, async (t) => {
    const cluster = new Cluster();
    const namespace = await cluster.namespace(slug(title));
    const step = (kind: string) => async (stepTitle: string, fn: () => unknown): Promise<void> => {
      await t.test(`${kind} ${stepTitle}`, async () => {
        await fn();
      });
    };
    try {
      await body({ cluster, ns: namespace.name, given: step('given'), when: step('when'), then: step('then'), t });
    } finally {
      if (!process.env.ROLLWAY_E2E_KEEP) await namespace.remove();
      cluster.close();
    }
  });
}

function slug(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40).replace(/-$/, '') || 'e2e';
}

export interface ControllerProcess {
  pid: number;
  /** everything the controller logged so far */
  logs: () => string;
  /** SIGKILL: no chance to clean up, as in a crash or an OOM kill */
  kill: (signal?: NodeJS.Signals) => Promise<void>;
  /** how the process ended (both null while it runs) */
  ended: () => { code: number | null; signal: NodeJS.Signals | null };
}

/**
 * Collects a child's output and reports it if the child dies on its own (a controller that
 * crashes would otherwise only show up as timeouts); kill() sends `defaultSignal` unless told.
 */
export function superviseProcess(child: ChildProcess, label: string, defaultSignal: NodeJS.Signals): ControllerProcess {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  let stopping = false;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      if (!stopping) process.stderr.write(`${label} exited unexpectedly (code ${code}, signal ${signal}); its log:\n${output}\n`);
      resolve();
    }),
  );
  return {
    pid: child.pid ?? -1,
    logs: () => output,
    ended: () => ({ code: child.exitCode, signal: child.signalCode }),
    kill: async (signal: NodeJS.Signals = defaultSignal) => {
      stopping = true;
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

export interface ControllerOptions {
  /** the controller's own kubeconfig (default ROLLWAY_E2E_CONTROLLER_KUBECONFIG, else the admin one) */
  kubeconfig?: string;
  /** watch every namespace instead of `namespace` (give an --instance-id to stay out of others' Rollouts) */
  allNamespaces?: boolean;
  /** Node's arguments before the CLI's (default: cli/rollway.js; the bench starts the program as the image does) */
  launcher?: string[];
  /** environment added to the controller's (the bench: NODE_COMPILE_CACHE, as empty as a new pod's) */
  env?: Record<string, string>;
}

/**
 * Runs `rollway controller` as a child process watching one namespace. A test file that sets
 * ROLLWAY_E2E_CONTROLLER_KUBECONFIG runs every controller it starts under those credentials
 * (e2e/install.test.ts: the ServiceAccount of the install manifests, not cluster admin).
 */
export function startController(namespace: string, extraArgs: string[] = [], options: ControllerOptions = {}): ControllerProcess {
  const node = path.join(repoRoot, 'node_modules/.bin/node');
  const kubeconfig = options.kubeconfig ?? process.env.ROLLWAY_E2E_CONTROLLER_KUBECONFIG ?? kubeconfigPath();
  const scope = options.allNamespaces ? [] : ['--namespace', namespace];
  const child = spawn(
    node,
    [...(options.launcher ?? [path.join(repoRoot, 'cli/rollway.js')]), 'controller', '--kubeconfig', kubeconfig, ...scope, '--metrics-port=0', '--healthz-port=-1', '--log-format', 'text', '--lease-duration=3s', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env } },
  );
  return superviseProcess(child, `controller for ${namespace}`, 'SIGTERM');
}

/** Runs the `rollway` CLI against the e2e cluster and answers its stdout (throws on a non-zero exit). */
export function rollway(...args: string[]): string {
  return execFileSync(path.join(repoRoot, 'node_modules/.bin/node'), [path.join(repoRoot, 'cli/rollway.js'), '--kubeconfig', kubeconfigPath(), ...args], { encoding: 'utf8' });
}
