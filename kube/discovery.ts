// Maps apiVersion + kind to the resource URL the API server serves it at, from the server's
// own discovery documents (so CRDs installed at runtime are found too).
import type { KubeClient, KubeObject, ResourceRef } from './client.ts';

interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
}

export class ResourceMapper {
  private readonly client: KubeClient;
  private readonly byGroupVersion = new Map<string, Promise<ApiResource[]>>();

  constructor(client: KubeClient) {
    this.client = client;
  }

  /** The ResourceRef of an object (or of its kind, when name is left out). */
  async refFor(object: Pick<KubeObject, 'apiVersion' | 'kind' | 'metadata'>, defaultNamespace = 'default'): Promise<ResourceRef> {
    const { apiVersion, kind } = object;
    if (!apiVersion || !kind) throw new Error(`object ${object.metadata?.name ?? '(unnamed)'} needs apiVersion and kind`);
    const resource = await this.resourceOf(apiVersion, kind);
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
    return {
      group,
      version,
      plural: resource.name,
      namespace: resource.namespaced ? (object.metadata?.namespace ?? defaultNamespace) : undefined,
      name: object.metadata?.name,
    };
  }

  async resourceOf(apiVersion: string, kind: string): Promise<ApiResource> {
    let resources = await this.load(apiVersion);
    let found = resources.find((r) => r.kind === kind && !r.name.includes('/'));
    if (!found) {
      // A CRD may have been installed since we last looked.
      this.byGroupVersion.delete(apiVersion);
      resources = await this.load(apiVersion);
      found = resources.find((r) => r.kind === kind && !r.name.includes('/'));
    }
    if (!found) throw new Error(`the API server does not serve kind ${kind} in ${apiVersion}`);
    return found;
  }

  private load(apiVersion: string): Promise<ApiResource[]> {
    let cached = this.byGroupVersion.get(apiVersion);
    if (!cached) {
      const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
      cached = this.client.request<{ resources: ApiResource[] }>('GET', path).then((doc) => doc.resources);
      cached.catch(() => this.byGroupVersion.delete(apiVersion));
      this.byGroupVersion.set(apiVersion, cached);
    }
    return cached;
  }
}
