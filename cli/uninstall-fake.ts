// A small in-memory API server for the uninstall / doctor / routing-mark tests: get, list (one
// namespace or all), create, JSON and merge patches (a stale resourceVersion is a 409), delete,
// discovery of the served groups, and an object with a deletionTimestamp going once its last
// finalizer is removed, as the API server does. Counts writes, so a dry run can be checked.
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { applyJsonPatch, type JsonPatchOp } from '../routers/json-patch.ts';

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

const notFound = (ref: ResourceRef): KubeApiError => new KubeApiError(404, 'NotFound', `${ref.plural} "${ref.name ?? ''}" not found`, {});

export class FakeCluster {
  readonly objects = new Map<string, KubeObject>();
  writes = 0;
  /** runs after each patch: a test's stand-in for what else reacts (a controller leaving, say) */
  afterPatch: (ref: ResourceRef) => void = () => {};
  private revision = 1;
  private readonly served: Record<string, string[]>;

  constructor(served: Record<string, string[]> = { 'networking.istio.io': ['v1'], 'gateway.networking.k8s.io': ['v1'], 'rollway.dev': ['v1alpha1'], 'coordination.k8s.io': ['v1'] }) {
    this.served = served;
  }

  /** This fake as the client type the code under test takes. */
  get client(): KubeClient {
    return this as unknown as KubeClient;
  }

  private key(ref: ResourceRef, name = ref.name): string {
    return `${ref.group}/${ref.plural}/${ref.namespace ?? ''}/${name ?? ''}`;
  }

  /** Stores an object as given (no write counted): the state a test starts from. */
  seed(ref: ResourceRef, object: KubeObject): void {
    const stored = structuredClone(object);
    stored.metadata = { uid: `uid-${object.metadata.name}`, ...stored.metadata, namespace: ref.namespace, resourceVersion: String(this.revision++) };
    this.objects.set(this.key(ref, object.metadata.name), stored);
  }

  servedVersions(group: string): Promise<string[]> {
    return Promise.resolve(group === '' || group === 'networking.k8s.io' ? ['v1'] : (this.served[group] ?? []));
  }

  async request<T>(method: string, path: string): Promise<T> {
    const group = /^\/apis\/([^/]+)$/.exec(path)?.[1];
    if (method !== 'GET' || group === undefined) throw new Error(`unexpected request ${method} ${path}`);
    const versions = await this.servedVersions(group);
    if (versions.length === 0) throw new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    return { versions: versions.map((version) => ({ version })), preferredVersion: { version: versions[0] } } as T;
  }

  get<T extends KubeObject>(ref: ResourceRef): Promise<T> {
    const found = this.objects.get(this.key(ref));
    return found ? Promise.resolve(structuredClone(found) as T) : Promise.reject(notFound(ref));
  }

  async getOptional<T extends KubeObject>(ref: ResourceRef): Promise<T | undefined> {
    return this.objects.has(this.key(ref)) ? this.get<T>(ref) : undefined;
  }

  /** `group/plural` listing is forbidden (403), as RBAC answers */
  readonly forbidden = new Set<string>();

  /** Label selectors of one term: `key=value` or `!key`. */
  list<T extends KubeObject>(ref: ResourceRef, query: { labelSelector?: string } = {}): Promise<{ items: T[] }> {
    if (this.forbidden.has(`${ref.group}/${ref.plural}`)) return Promise.reject(new KubeApiError(403, 'Forbidden', `${ref.plural} is forbidden`, {}));
    const prefix = `${ref.group}/${ref.plural}/${ref.namespace === undefined ? '' : `${ref.namespace}/`}`;
    const selector = query.labelSelector;
    const selected = (o: KubeObject): boolean => {
      if (!selector) return true;
      if (selector.startsWith('!')) return o.metadata.labels?.[selector.slice(1)] === undefined;
      const [key = '', value] = selector.split('=');
      return o.metadata.labels?.[key] === value;
    };
    const items = [...this.objects.entries()].filter(([k, o]) => k.startsWith(prefix) && selected(o)).map(([, o]) => structuredClone(o) as T);
    return Promise.resolve({ items });
  }

  create<T extends KubeObject>(ref: ResourceRef, body: KubeObject): Promise<T> {
    const name = body.metadata.name;
    if (this.objects.has(this.key(ref, name))) return Promise.reject(new KubeApiError(409, 'AlreadyExists', `${name} exists`, {}));
    this.writes++;
    this.seed(ref, body);
    return this.get<T>({ ...ref, name });
  }

  async patch<T extends KubeObject>(ref: ResourceRef, type: string, body: unknown): Promise<T> {
    const current = await this.get(ref);
    let next: KubeObject;
    if (type === 'json') next = applyJsonPatch(current, body as JsonPatchOp[]);
    else {
      const wanted = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (wanted !== undefined && wanted !== current.metadata.resourceVersion) throw new KubeApiError(409, 'Conflict', 'the object has been modified', {});
      next = mergePatch(current, body) as KubeObject;
    }
    this.writes++;
    next.metadata.resourceVersion = String(this.revision++);
    if (next.metadata.annotations && Object.keys(next.metadata.annotations).length === 0) delete next.metadata.annotations;
    if (next.metadata.deletionTimestamp && (next.metadata.finalizers ?? []).length === 0) {
      this.objects.delete(this.key(ref));
      return next as T;
    }
    this.objects.set(this.key(ref), next);
    this.afterPatch(ref);
    return structuredClone(next) as T;
  }

  delete(ref: ResourceRef): Promise<void> {
    if (!this.objects.delete(this.key(ref))) return Promise.reject(notFound(ref));
    this.writes++;
    return Promise.resolve();
  }
}
