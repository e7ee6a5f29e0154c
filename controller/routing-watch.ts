// Watches the routing objects routers write (VirtualServices, DestinationRules, Ingresses,
// TrafficSplits, HTTPRoutes) so that a change by someone else, such as a GitOps tool putting a
// weight back, reaches the owning Rollout at once, even while it sits in a pause. The caches
// keep whole objects (less managedFields and kubectl's last-applied copy): the routers read them
// from here (cached()), so a weight step costs no API read.
import type { SpecIssue } from '../api/issues.ts';
import { missingVerbs } from '../kube/access.ts';
import { isNotFound, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { servedVersions } from '../routers/discovery.ts';
import type { KubeApi } from '../routers/kube-api.ts';
import { routerPlugins } from '../routers/registry.ts';
import { Informer, type Logger } from '../kube/informer.ts';

interface RoutingKind {
  group: string;
  plural: string;
  /** the versions its router speaks, preferred first */
  versions: readonly string[];
  /** the key under spec.strategy.canary.trafficRouting of the router that writes this kind */
  router: string;
}

/** The kinds the registered routers write or read (third-party plugins included, so asked at start). */
const routingKinds = (): RoutingKind[] => routerPlugins().flatMap((p) => p.kinds.map(({ group, plural, versions }) => ({ group, plural, versions, router: p.key })));

/** What a router needs of its routing kind; without these its informer would retry 403s forever. */
const ROUTER_VERBS = ['get', 'list', 'watch', 'patch'];

export class RoutingWatch {
  private readonly informers: Informer<KubeObject>[] = [];
  /** set by stop(): a start() still discovering kinds then starts no more informers */
  private stopped = false;
  /** `group/plural` → the version watched and its informer */
  private readonly byKind = new Map<string, { version: string; informer: Informer<KubeObject> }>();
  private readonly client: KubeClient;
  private readonly namespace: string | undefined;
  private readonly log: Logger;
  private readonly onChange: (object: KubeObject, kind: { group: string; plural: string }) => void;
  /** served routing kinds RBAC does not let us use: router → kinds and the verbs missing */
  private readonly forbidden = new Map<string, string[]>();
  /** `group/plural/namespace/name` → callers waiting for a resourceVersion of it (seen()) */
  private readonly waiting = new Map<string, Set<{ resourceVersion: string; done: (seen: boolean) => void }>>();

  constructor(client: KubeClient, namespace: string | undefined, log: Logger, onChange: (object: KubeObject, kind: { group: string; plural: string }) => void) {
    this.client = client;
    this.namespace = namespace;
    this.log = log;
    this.onChange = onChange;
  }

  /** Starts an informer for each routing kind the cluster serves (skipping the rest). */
  async start(): Promise<void> {
    for (const kind of routingKinds()) {
      const version = await this.servedVersion(kind);
      if (!version) continue;
      const missing = await missingVerbs(this.client, { group: kind.group, resource: kind.plural, namespace: this.namespace }, ROUTER_VERBS);
      if (this.stopped) return; // a SIGTERM during start: no watch may outlive stop()
      if (missing.length > 0) {
        const what = `${kind.plural}.${kind.group} (${missing.join(', ')})`;
        this.forbidden.set(kind.router, [...(this.forbidden.get(kind.router) ?? []), what]);
        this.log('warn', `router ${kind.router} disabled: RBAC forbids ${what}`, { router: kind.router });
        continue;
      }
      const informer = new Informer<KubeObject>(
        this.client,
        { group: kind.group, version, plural: kind.plural, namespace: this.namespace },
        {
          log: this.log,
          transform: trimRoutingObject,
        },
      );
      informer.on((event) => {
        this.release(objectKey(kind, event.object.metadata.namespace, event.object.metadata.name), event.object.metadata.resourceVersion);
        if (event.type !== 'added' || informer.hasSynced()) this.onChange(event.object, kind);
      });
      informer.start();
      this.informers.push(informer);
      this.byKind.set(`${kind.group}/${kind.plural}`, { version, informer });
    }
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  /**
   * The cached copy of a routing object (routers/kube-api.ts cachedKubeApi): undefined when its
   * kind is not watched in that version, the cache is not synced, or the object is not in it.
   */
  cached(ref: ResourceRef): KubeObject | undefined {
    if (!this.watches(ref) || ref.name === undefined) return undefined;
    return this.byKind.get(`${ref.group}/${ref.plural}`)?.informer.get(ref.namespace, ref.name);
  }

  /**
   * Resolves true once this watch has received `resourceVersion` of the object (our own write
   * reaching the watchers, a mesh's among them), false after `timeoutMs` or when the kind is not
   * watched. Versions are only compared for equality: a later write by someone else that
   * arrived first shows as a timeout, which errs on the late side.
   */
  seen(ref: ResourceRef, resourceVersion: string, timeoutMs: number): Promise<boolean> {
    if (!this.watches(ref) || ref.name === undefined) return Promise.resolve(false);
    if (this.cached(ref)?.metadata.resourceVersion === resourceVersion) return Promise.resolve(true);
    const key = objectKey(ref, ref.namespace, ref.name);
    return new Promise((resolve) => {
      const waiter = {
        resourceVersion,
        done: (seen: boolean) => {
          clearTimeout(timer);
          this.waiting.get(key)?.delete(waiter);
          if (this.waiting.get(key)?.size === 0) this.waiting.delete(key);
          resolve(seen);
        },
      };
      const timer = setTimeout(() => waiter.done(false), timeoutMs);
      this.waiting.set(key, (this.waiting.get(key) ?? new Set()).add(waiter));
    });
  }

  stop(): void {
    this.stopped = true;
    for (const informer of this.informers) informer.stop();
    for (const waiters of this.waiting.values()) for (const w of waiters) w.done(false);
  }

  /** True when `ref`'s kind is watched in its version and the cache is synced. */
  private watches(ref: ResourceRef): boolean {
    const watched = this.byKind.get(`${ref.group}/${ref.plural}`);
    return watched !== undefined && watched.version === ref.version && watched.informer.hasSynced();
  }

  private release(key: string, resourceVersion: string | undefined): void {
    for (const w of this.waiting.get(key) ?? []) if (w.resourceVersion === resourceVersion) w.done(true);
  }

  /** Routing kinds the cluster serves but RBAC does not let this process use (known after start). */
  forbiddenKinds(): { group: string; plural: string }[] {
    return routingKinds().filter((k) => (this.forbidden.get(k.router) ?? []).some((what) => what.startsWith(`${k.plural}.${k.group} `))).map(({ group, plural }) => ({ group, plural }));
  }

  /** Issues for a Rollout whose trafficRouting names a router this process may not use. */
  forbiddenIssues(trafficRouting: unknown): SpecIssue[] {
    const issues: SpecIssue[] = [];
    if (typeof trafficRouting !== 'object' || trafficRouting === null) return issues;
    for (const router of Object.keys(trafficRouting)) {
      const kinds = this.forbidden.get(router);
      if (!kinds) continue;
      issues.push({
        path: `spec.strategy.canary.trafficRouting.${router}`,
        message: `the ${router} router is disabled: the controller's ServiceAccount may not use ${kinds.join(', ')}`,
        fix: `grant those verbs in the controller's ClusterRole (or Role in namespaced mode, see manifests/) and restart the controller`,
      });
    }
    return issues;
  }

  /**
   * The version to watch: the first its router speaks that the cluster serves. Undefined only when
   * the kind is not installed (discovery answers 404, or lists no such resource); any other
   * failure (403, 5xx, no connection) is thrown, not mistaken for "not installed".
   */
  private async servedVersion(kind: RoutingKind): Promise<string | undefined> {
    const served = await servedVersions(this.client, kind.group);
    const version = kind.versions.find((v) => served.includes(v));
    if (!version) return undefined;
    try {
      const resources = await this.client.request<{ resources?: { name: string }[] }>('GET', `/apis/${kind.group}/${version}`);
      return resources.resources?.some((r) => r.name === kind.plural) ? version : undefined;
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}

/** A routing object as a router's write left it. */
export interface WrittenVersion {
  ref: ResourceRef;
  resourceVersion: string;
}

/** `api` that also notes, in `written`, the object and resourceVersion each create and patch answered. */
export function noteWrites(api: KubeApi, written: WrittenVersion[]): KubeApi {
  const note = <T extends KubeObject>(ref: ResourceRef, object: T): T => {
    const { resourceVersion, name } = object.metadata ?? {};
    if (resourceVersion) written.push({ ref: { ...ref, name: name ?? ref.name, subresource: undefined }, resourceVersion });
    return object;
  };
  return {
    ...api,
    create: async (ref, body, options) => note(ref, await api.create(ref, body, options)),
    patch: async (ref, type, body, options) => note(ref, await api.patch(ref, type, body, options)),
  };
}

const objectKey = (kind: { group: string; plural: string }, namespace: string | undefined, name: string | undefined): string => `${kind.group}/${kind.plural}/${namespace ?? ''}/${name ?? ''}`;

/** What routers read of a routing object: all of it but the server's field bookkeeping and kubectl's copy. */
function trimRoutingObject(o: KubeObject): KubeObject {
  const { managedFields: _managed, ...metadata } = o.metadata;
  const annotations = metadata.annotations;
  if (annotations && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _applied, ...rest } = annotations;
    metadata.annotations = rest;
  }
  return { ...o, metadata } as KubeObject;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
