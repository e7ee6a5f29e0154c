// Objects of an informer grouped by the uid of their controlling owner, kept up to date from the
// informer's events, so a reconcile finds a ReplicaSet's pods without scanning every pod.
import type { KubeObject } from './client.ts';
import type { InformerEvent } from './informer.ts';

export class OwnerIndex<T extends KubeObject> {
  private readonly byOwner = new Map<string, Map<string, T>>();

  /** Feed every event of the informer here (register before it starts). */
  update(event: InformerEvent<T>): void {
    const { object, old } = event;
    if (old) this.remove(old);
    if (event.type === 'deleted') this.remove(object);
    else this.add(object);
  }

  /** The objects whose controlling owner has this uid. */
  ownedBy(uid: string | undefined): T[] {
    const objects = uid === undefined ? undefined : this.byOwner.get(uid);
    return objects ? [...objects.values()] : [];
  }

  private add(object: T): void {
    const owner = controllerUid(object);
    if (owner === undefined) return;
    let objects = this.byOwner.get(owner);
    if (!objects) this.byOwner.set(owner, (objects = new Map()));
    objects.set(nameOf(object), object);
  }

  private remove(object: T): void {
    const owner = controllerUid(object);
    const objects = owner === undefined ? undefined : this.byOwner.get(owner);
    if (!objects || owner === undefined) return;
    objects.delete(nameOf(object));
    if (objects.size === 0) this.byOwner.delete(owner);
  }
}

const controllerUid = (object: KubeObject): string | undefined => object.metadata.ownerReferences?.find((o) => o.controller)?.uid;
const nameOf = (object: KubeObject): string => `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
