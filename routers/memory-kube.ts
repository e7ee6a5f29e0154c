// An in-memory KubeApi for tests of routers (ours and third-party plugins'): objects keyed by
// group/plural/namespace/name, resourceVersion and generation kept as the API server keeps them,
// JSON patches applied with their `test` ops (a failed test is the server's 422 without an object
// name, a lost race), merge patches with a stale resourceVersion a 409, and write counts.
import { applyJsonPatch, type JsonPatchOp } from './json-patch.ts';
import { KubeApiError, type KubeApi, type KubeObject, type ResourceRef, type WriteOptions } from './kube-api.ts';

const notFound = (ref: ResourceRef): KubeApiError =>
  new KubeApiError(404, 'NotFound', `${ref.plural}.${ref.group || 'core'} "${ref.name ?? ''}" not found`, { details: { name: ref.name, kind: ref.plural } });

const conflict = (message: string): KubeApiError => new KubeApiError(409, 'Conflict', message, {});

function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [key, value] of Object.entries(patch as Record<string, unknown>)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

/** The spec as a server compares it for generation: everything but metadata and status. */
const specOf = (o: KubeObject): string => {
  const { metadata: _m, status: _s, ...rest } = o;
  return JSON.stringify(rest);
};

interface Store {
  objects: Map<string, KubeObject>;
  served: Map<string, string[]>;
  revision: number;
  uids: number;
}

export class InMemoryKubeApi implements KubeApi {
  private readonly state: Store;
  private writeCount = 0;
  private readCount = 0;

  /** `served`: the versions of each API group (the preferred first); core and networking.k8s.io are always there */
  constructor(served: Record<string, readonly string[]> = {}, shared?: Store) {
    this.state = shared ?? { objects: new Map(), served: new Map(Object.entries(served).map(([group, versions]) => [group, [...versions]])), revision: 1, uids: 0 };
  }

  /** Another client of the same objects, with its own write count (a router's own, say). */
  client(): InMemoryKubeApi {
    return new InMemoryKubeApi({}, this.state);
  }

  /** Gets made through this client (what a watch cache saves). */
  reads(): number {
    return this.readCount;
  }

  /** The stored object as it is now, without counting a read (what an up-to-date watch cache holds). */
  peek(ref: ResourceRef): KubeObject | undefined {
    const found = ref.name ? this.objects.get(this.key(ref)) : undefined;
    return found ? structuredClone(found) : undefined;
  }

  /** Creates, patches and deletes made through this client. */
  writes(): number {
    return this.writeCount;
  }

  private key(ref: ResourceRef, name = ref.name): string {
    if (!name) throw new KubeApiError(405, 'MethodNotAllowed', 'a name is needed', {});
    return `${ref.group}/${ref.plural}/${ref.namespace ?? ''}/${name}`;
  }

  private checkServed(ref: ResourceRef): void {
    if (ref.group === '' || ref.group === 'networking.k8s.io') return;
    if (!(this.state.served.get(ref.group) ?? []).includes(ref.version)) throw new KubeApiError(404, 'NotFound', `the server could not find the requested resource (${ref.group}/${ref.version})`, {});
  }

  private get objects(): Map<string, KubeObject> {
    return this.state.objects;
  }

  private store(key: string, object: KubeObject, previous: KubeObject | undefined): KubeObject {
    const generation = previous ? (specOf(previous) === specOf(object) ? previous.metadata.generation : (previous.metadata.generation ?? 1) + 1) : 1;
    const stored: KubeObject = { ...structuredClone(object), metadata: { ...structuredClone(object.metadata), resourceVersion: String(++this.state.revision), generation } };
    if (previous) stored.metadata.uid = previous.metadata.uid;
    this.objects.set(key, stored);
    return structuredClone(stored);
  }

  async get<T extends KubeObject>(ref: ResourceRef): Promise<T> {
    this.checkServed(ref);
    this.readCount++;
    const found = this.objects.get(this.key(ref));
    if (!found) throw notFound(ref);
    return structuredClone(found) as T;
  }

  async getOptional<T extends KubeObject>(ref: ResourceRef): Promise<T | undefined> {
    this.checkServed(ref);
    this.readCount++;
    const found = this.objects.get(this.key(ref));
    return Promise.resolve(found ? (structuredClone(found) as T) : undefined);
  }

  async create<T extends KubeObject>(ref: ResourceRef, body: KubeObject, _options?: WriteOptions): Promise<T> {
    this.checkServed(ref);
    const key = this.key(ref, body.metadata.name);
    if (this.objects.has(key)) throw new KubeApiError(409, 'AlreadyExists', `${ref.plural} "${body.metadata.name}" already exists`, {});
    this.writeCount++;
    const object: KubeObject = { ...body, metadata: { ...body.metadata, namespace: ref.namespace, uid: `uid-${++this.state.uids}`, creationTimestamp: new Date(0).toISOString() } };
    if (ref.namespace === undefined) delete object.metadata.namespace;
    return this.store(key, object, undefined) as T;
  }

  async patch<T extends KubeObject>(ref: ResourceRef, type: 'json' | 'merge', body: unknown, _options?: WriteOptions): Promise<T> {
    this.checkServed(ref);
    const key = this.key(ref);
    const current = this.objects.get(key);
    if (!current) throw notFound(ref);
    let next: KubeObject;
    if (type === 'json') {
      try {
        next = applyJsonPatch(current, body as JsonPatchOp[]);
      } catch (err) {
        // The API server's answer to a failed test: 422 with no object named (cf. rejectedWriteIssue).
        throw new KubeApiError(422, 'Invalid', (err as Error).message, {});
      }
    } else {
      const wanted = (body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      if (wanted !== undefined && wanted !== current.metadata.resourceVersion) throw conflict(`the object has been modified (resourceVersion ${wanted} is not current)`);
      next = mergePatch(current, body) as KubeObject;
    }
    if (next.metadata.resourceVersion !== current.metadata.resourceVersion && type === 'json') {
      throw new KubeApiError(422, 'Invalid', 'metadata.resourceVersion cannot be patched', {});
    }
    this.writeCount++;
    return this.store(key, next, current) as T;
  }

  async delete(ref: ResourceRef, options?: { preconditions?: { uid?: string; resourceVersion?: string } }): Promise<void> {
    this.checkServed(ref);
    const key = this.key(ref);
    const current = this.objects.get(key);
    if (!current) throw notFound(ref);
    const pre = options?.preconditions;
    if (pre?.uid !== undefined && pre.uid !== current.metadata.uid) throw conflict(`precondition failed: uid ${pre.uid}`);
    if (pre?.resourceVersion !== undefined && pre.resourceVersion !== current.metadata.resourceVersion) throw conflict(`precondition failed: resourceVersion ${pre.resourceVersion}`);
    this.writeCount++;
    this.objects.delete(key);
    return ;
  }

  servedVersions(group: string): Promise<string[]> {
    return Promise.resolve([...(this.state.served.get(group) ?? [])]);
  }
}
