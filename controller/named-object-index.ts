// Which Rollouts name each object (a routing object such as a VirtualService or HTTPRoute, a
// canary/stable/active/preview Service, a workloadRef Deployment), so an event of that object
// requeues those Rollouts alone. Each event used to scan every Rollout of the namespace (for
// routing objects a JSON text search per Rollout: about 3% of the controller's CPU per weight step
// with 100 Rollouts stepping among 1000, bench/cpu-profile.ts). The objects a Rollout names follow
// from its spec, so they are computed again only when its uid or generation moves.
import type { RolloutObject } from '../api/views.ts';
import { routingObjectsOf } from '../routers/registry.ts';
import { GenerationMemo } from './generation-memo.ts';

/** An object by kind and place: `group/plural/namespace/name`. */
export const namedObjectKey = (kind: { group: string; plural: string }, namespace: string | undefined, name: string | undefined): string =>
  `${kind.group}/${kind.plural}/${namespace ?? ''}/${name ?? ''}`;

export const SERVICE_KIND = { group: '', plural: 'services' };
export const DEPLOYMENT_KIND = { group: 'apps', plural: 'deployments' };

export class NamedObjectIndex {
  private readonly rolloutsByObject = new Map<string, Set<string>>();
  /** the objects each Rollout names, computed once per generation (generation-memo.ts) */
  private readonly named = new GenerationMemo<string[]>();
  /** the objects each Rollout is linked under in rolloutsByObject */
  private readonly linked = new Map<string, string[]>();

  /** Indexes the objects a Rollout names; undefined (a deleted Rollout) removes it. */
  update(key: string, rollout: RolloutObject | undefined): void {
    const objects = rollout ? this.named.get(key, rollout.metadata, () => [...new Set(objectsNamedBy(rollout))]) : [];
    const before = this.linked.get(key);
    if (objects === before) return; // the same generation: the same objects
    for (const object of before ?? []) this.unlink(object, key);
    this.linked.delete(key);
    if (!rollout) {
      this.named.forget(key);
      return;
    }
    for (const object of objects) {
      let keys = this.rolloutsByObject.get(object);
      if (!keys) this.rolloutsByObject.set(object, (keys = new Set()));
      keys.add(key);
    }
    this.linked.set(key, objects);
  }

  /** The keys of the Rollouts that name this object. */
  rolloutsOf(objectKey: string): string[] {
    return [...(this.rolloutsByObject.get(objectKey) ?? [])];
  }

  /** How many objects are indexed (for tests: entries go with their Rollouts). */
  get objectCount(): number {
    return this.rolloutsByObject.size;
  }

  private unlink(object: string, key: string): void {
    const keys = this.rolloutsByObject.get(object);
    keys?.delete(key);
    if (keys?.size === 0) this.rolloutsByObject.delete(object);
  }
}

function objectsNamedBy(rollout: RolloutObject): string[] {
  const namespace = rollout.metadata.namespace ?? '';
  const canary = rollout.spec.strategy?.canary;
  const blueGreen = rollout.spec.strategy?.blueGreen;
  const services = [canary?.canaryService, canary?.stableService, blueGreen?.activeService, blueGreen?.previewService].filter((s): s is string => !!s);
  const named = services.map((name) => namedObjectKey(SERVICE_KIND, namespace, name));
  // The kind is not checked, as before: any workloadRef name requeues on a Deployment of that name.
  const workload = rollout.spec.workloadRef?.name;
  if (workload) named.push(namedObjectKey(DEPLOYMENT_KIND, namespace, workload));
  const trafficRouting = canary?.trafficRouting as Record<string, unknown> | undefined;
  if (!trafficRouting) return named;
  const where = { namespace, rolloutName: rollout.metadata.name ?? '', canaryService: canary?.canaryService ?? '', stableService: canary?.stableService ?? '' };
  return [...named, ...routingObjectsOf(trafficRouting, where).map((o) => namedObjectKey(o, o.namespace, o.name))];
}
