// Watches the routing objects routers write (VirtualServices, DestinationRules, Ingresses,
// TrafficSplits, HTTPRoutes) so that a change by someone else, such as a GitOps tool putting a
// weight back, reaches the owning Rollout at once, even while it sits in a pause. The caches
// keep metadata only: the routers read the objects themselves when they reconcile.
import type { SpecIssue } from '../api/issues.ts';
import { missingVerbs } from '../kube/access.ts';
import { isNotFound, type KubeClient, type KubeObject } from '../kube/client.ts';
import { servedVersions } from '../routers/discovery.ts';
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
  private readonly client: KubeClient;
  private readonly namespace: string | undefined;
  private readonly log: Logger;
  private readonly onChange: (object: KubeObject) => void;
  /** served routing kinds RBAC does not let us use: router → kinds and the verbs missing */
  private readonly forbidden = new Map<string, string[]>();

  constructor(client: KubeClient, namespace: string | undefined, log: Logger, onChange: (object: KubeObject) => void) {
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
          transform: (o) => {
            const { name, namespace, uid, resourceVersion, ownerReferences, generation } = o.metadata;
            return { metadata: { name, namespace, uid, resourceVersion, ownerReferences, generation } } as KubeObject;
          },
        },
      );
      informer.on((event) => {
        if (event.type !== 'added' || informer.hasSynced()) this.onChange(event.object);
      });
      informer.start();
      this.informers.push(informer);
    }
    await Promise.all(this.informers.map((i) => i.waitForSync()));
  }

  stop(): void {
    for (const informer of this.informers) informer.stop();
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
