// Watches the routing objects routers write (VirtualServices, DestinationRules, Ingresses,
// TrafficSplits, HTTPRoutes) so that a change by someone else, such as a GitOps tool putting a
// weight back, reaches the owning Rollout at once, even while it sits in a pause. The caches
// keep metadata only: the routers read the objects themselves when they reconcile.
import type { KubeClient, KubeObject } from '../kube/client.ts';
import { Informer, type Logger } from './runtime/informer.ts';

interface RoutingKind {
  group: string;
  plural: string;
}

const ROUTING_KINDS: RoutingKind[] = [
  { group: 'networking.istio.io', plural: 'virtualservices' },
  { group: 'networking.istio.io', plural: 'destinationrules' },
  { group: 'networking.k8s.io', plural: 'ingresses' },
  { group: 'split.smi-spec.io', plural: 'trafficsplits' },
  { group: 'gateway.networking.k8s.io', plural: 'httproutes' },
];

export class RoutingWatch {
  private readonly informers: Informer<KubeObject>[] = [];
  private readonly client: KubeClient;
  private readonly namespace: string | undefined;
  private readonly log: Logger;
  private readonly onChange: (object: KubeObject) => void;

  constructor(client: KubeClient, namespace: string | undefined, log: Logger, onChange: (object: KubeObject) => void) {
    this.client = client;
    this.namespace = namespace;
    this.log = log;
    this.onChange = onChange;
  }

  /** Starts an informer for each routing kind the cluster serves (skipping the rest). */
  async start(): Promise<void> {
    for (const kind of ROUTING_KINDS) {
      const version = await this.servedVersion(kind);
      if (!version) continue;
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

  private async servedVersion(kind: RoutingKind): Promise<string | undefined> {
    try {
      const group = await this.client.request<{ preferredVersion?: { version?: string } }>('GET', `/apis/${kind.group}`);
      const version = group.preferredVersion?.version;
      if (!version) return undefined;
      const resources = await this.client.request<{ resources?: { name: string }[] }>('GET', `/apis/${kind.group}/${version}`);
      return resources.resources?.some((r) => r.name === kind.plural) ? version : undefined;
    } catch {
      return undefined; // not installed in this cluster
    }
  }
}
