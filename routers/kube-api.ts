// The narrow slice of the Kubernetes API a router may use: read, create, patch (a JSON patch with
// `test` ops, or a merge patch carrying a resourceVersion), delete, and which versions of a group
// are served. Routers never see the concrete client, so the same router runs on the real API
// server (kubeApiOf) and on the in-memory API of the unit tests (routers/memory-kube.ts).
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { servedVersions } from './discovery.ts';

export type { KubeObject, ResourceRef } from '../kube/client.ts';
export { KubeApiError, isNotFound } from '../kube/client.ts';

export interface WriteOptions {
  fieldManager?: string;
}

export interface ReadOptions {
  /**
   * Read from the API server even where a watch cache answers (after a write lost a race: the
   * cached copy may be the stale one).
   */
  fresh?: boolean;
}

export interface KubeApi {
  /** throws KubeApiError 404 when the object does not exist */
  get<T extends KubeObject>(ref: ResourceRef, options?: ReadOptions): Promise<T>;
  /** undefined instead of a 404 */
  getOptional<T extends KubeObject>(ref: ResourceRef, options?: ReadOptions): Promise<T | undefined>;
  /** 409 AlreadyExists when the name is taken */
  create<T extends KubeObject>(ref: ResourceRef, body: KubeObject, options?: WriteOptions): Promise<T>;
  /**
   * 'json': RFC 6902 ops, a failed `test` answers 422 naming no object (a lost race);
   * 'merge': RFC 7386, a metadata.resourceVersion in the body that is not current answers 409.
   */
  patch<T extends KubeObject>(ref: ResourceRef, type: 'json' | 'merge', body: unknown, options?: WriteOptions): Promise<T>;
  /** preconditions that no longer hold answer 409 */
  delete(ref: ResourceRef, options?: { preconditions?: { uid?: string; resourceVersion?: string } }): Promise<void>;
  /** the served versions of an API group, the preferred one first; [] when the group is not served */
  servedVersions(group: string): Promise<string[]>;
}

const adapters = new WeakMap<KubeClient, KubeApi>();

/** The KubeApi of a real client (one per client, so discovery answers are shared). */
export function kubeApiOf(client: KubeClient): KubeApi {
  let api = adapters.get(client);
  if (!api) {
    api = {
      get: (ref) => client.get(ref),
      getOptional: (ref) => client.getOptional(ref),
      create: (ref, body, options) => client.create(ref, body, options?.fieldManager ? { fieldManager: options.fieldManager } : {}),
      patch: (ref, type, body, options) => client.patch(ref, type, body, options?.fieldManager ? { fieldManager: options.fieldManager } : {}),
      delete: (ref, options) => client.delete(ref, options ?? {}),
      servedVersions: (group) => servedVersions(client, group),
    };
    adapters.set(client, api);
  }
  return api;
}

/** Answers the watched copy of an object, or undefined when its kind is not watched or it is not cached. */
export type CacheLookup = (ref: ResourceRef) => KubeObject | undefined;

/**
 * A KubeApi whose reads come from the controller's watch caches where they can (no API round trip
 * on the hot path); a cache miss, or a read asked `fresh`, goes to the API server. Writes are the
 * base API's: guarded patches, so a stale cached copy costs a refused write and one fresh retry,
 * never a wrong write. Callers get a copy they may change.
 */
export function cachedKubeApi(base: KubeApi, lookup: CacheLookup): KubeApi {
  const cached = <T extends KubeObject>(ref: ResourceRef, options: ReadOptions | undefined): T | undefined => {
    if (options?.fresh || ref.name === undefined || ref.subresource !== undefined) return undefined;
    const hit = lookup(ref);
    return hit === undefined ? undefined : (structuredClone(hit) as T);
  };
  return {
    create: (ref, body, options) => base.create(ref, body, options),
    patch: (ref, type, body, options) => base.patch(ref, type, body, options),
    delete: (ref, options) => base.delete(ref, options),
    servedVersions: (group) => base.servedVersions(group),
    get: async <T extends KubeObject>(ref: ResourceRef, options?: ReadOptions) => cached<T>(ref, options) ?? base.get<T>(ref),
    getOptional: async <T extends KubeObject>(ref: ResourceRef, options?: ReadOptions) => cached<T>(ref, options) ?? base.getOptional<T>(ref),
  };
}

/** The first of `preference` the cluster serves, or undefined. */
export async function pickVersion(api: KubeApi, group: string, preference: readonly string[]): Promise<string | undefined> {
  const served = await api.servedVersions(group);
  return preference.find((v) => served.includes(v));
}

export const isConflictError = (err: unknown): boolean => err instanceof KubeApiError && err.isConflict;
