// Marks on the user's routing objects a Rollout edits in place (VirtualServices, DestinationRules,
// HTTPRoutes): which Rollout routes through each and what it applied. A Rollout deleted while no
// controller ran, its finalizer stripped by hand, leaves its weights behind with nothing on the
// Rollout side to find them by; the mark lets the next controller start, `rollway doctor` and
// `rollway uninstall` find that routing and put it back to 100% stable.
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { inPlaceKinds, inPlaceObjects, type AppliedRouting, type InPlaceObject } from '../routers/index.ts';

/** On a routing object: `{"<namespace>/<rollout>": {"uid": ..., "routing": AppliedRouting}}`. */
export const ROUTED_BY_ANNOTATION = 'rollway.dev/traffic-routed-by';

export interface RoutingMark {
  uid: string;
  routing: AppliedRouting;
}

export interface MarkedRollout {
  namespace: string;
  name: string;
  uid: string;
}

const keyOf = (rollout: { namespace: string; name: string }): string => `${rollout.namespace}/${rollout.name}`;

/** The marks on an object by Rollout key; {} when there are none or the text is not ours. */
export function marksOf(object: KubeObject): Record<string, RoutingMark> {
  const text = object.metadata.annotations?.[ROUTED_BY_ANNOTATION];
  if (!text) return {};
  try {
    const parsed = JSON.parse(text) as Record<string, RoutingMark>;
    const out: Record<string, RoutingMark> = {};
    for (const [key, mark] of Object.entries(parsed)) {
      if (typeof mark?.uid === 'string' && mark.routing && typeof mark.routing.trafficRouting === 'object') out[key] = mark;
    }
    return out;
  } catch {
    return {};
  }
}

/** The annotation's text with `key`'s mark set (or, given undefined, removed); null when no mark is left. */
export function withMark(object: KubeObject, key: string, mark: RoutingMark | undefined): string | null {
  const all = marksOf(object);
  if (mark) all[key] = mark;
  else delete all[key];
  return Object.keys(all).length > 0 ? JSON.stringify(all) : null;
}

/** The version of an API group the cluster prefers, or undefined when it serves none (CRDs removed). */
async function preferredVersion(client: KubeClient, group: string): Promise<string | undefined> {
  try {
    const doc = await client.request<{ preferredVersion?: { version: string }; versions?: { version: string }[] }>('GET', `/apis/${group}`);
    return doc.preferredVersion?.version ?? doc.versions?.[0]?.version;
  } catch (err) {
    if (err instanceof KubeApiError && err.isNotFound) return undefined;
    throw err;
  }
}

async function refOf(client: KubeClient, object: InPlaceObject): Promise<ResourceRef | undefined> {
  const version = await preferredVersion(client, object.group);
  return version ? { group: object.group, version, plural: object.plural, namespace: object.namespace, name: object.name } : undefined;
}

/** Sets one Rollout's mark on an object (guarded by the resourceVersion read); false when the object is missing. */
async function setMark(client: KubeClient, object: InPlaceObject, key: string, mark: RoutingMark | undefined): Promise<boolean> {
  const ref = await refOf(client, object);
  if (!ref) return false;
  for (let attempt = 1; ; attempt++) {
    const current = await client.getOptional(ref);
    if (!current) return false;
    const text = withMark(current, key, mark);
    if (text === (current.metadata.annotations?.[ROUTED_BY_ANNOTATION] ?? null)) return true;
    try {
      await client.patch(ref, 'merge', { metadata: { resourceVersion: current.metadata.resourceVersion, annotations: { [ROUTED_BY_ANNOTATION]: text } } });
      return true;
    } catch (err) {
      const lost = err instanceof KubeApiError && err.statusCode === 409;
      if (err instanceof KubeApiError && err.isNotFound) return false;
      if (!lost || attempt >= 3) throw err;
    }
  }
}

/** Marks every object the routing edits in place; true when all of them exist and carry the mark. */
export async function markRoutingObjects(client: KubeClient, rollout: MarkedRollout, routing: AppliedRouting): Promise<boolean> {
  let all = true;
  for (const object of inPlaceObjects(routing, rollout.namespace)) {
    if (!(await setMark(client, object, keyOf(rollout), { uid: rollout.uid, routing }))) all = false;
  }
  return all;
}

/** Removes a Rollout's mark from the given objects (missing ones are fine). */
export async function unmarkObjects(client: KubeClient, rollout: { namespace: string; name: string }, objects: readonly InPlaceObject[]): Promise<void> {
  for (const object of objects) await setMark(client, object, keyOf(rollout), undefined);
}

export const unmarkRoutingObjects = (client: KubeClient, rollout: { namespace: string; name: string }, routing: AppliedRouting): Promise<void> =>
  unmarkObjects(client, rollout, inPlaceObjects(routing, rollout.namespace));

/** Routing a Rollout that no longer exists left applied, and the objects found carrying it. */
export interface OrphanedRouting extends MarkedRollout {
  routing: AppliedRouting;
  objects: (InPlaceObject & { apiVersion: string; uid: string })[];
}

export interface MarkedObject {
  object: InPlaceObject & { apiVersion: string; uid: string };
  marks: Record<string, RoutingMark>;
}

/**
 * The marks whose Rollout is gone: none of that name exists, or one with another uid (deleted and
 * created again). `liveUid` answers the uid of the Rollout of a key, or undefined.
 */
export function orphanedMarks(marked: readonly MarkedObject[], liveUid: ReadonlyMap<string, string | undefined>): OrphanedRouting[] {
  const byRollout = new Map<string, OrphanedRouting>();
  for (const { object, marks } of marked) {
    for (const [key, mark] of Object.entries(marks)) {
      if (liveUid.get(key) === mark.uid) continue;
      const [namespace = '', name = ''] = key.split('/');
      const id = `${key}/${mark.uid}`;
      const found = byRollout.get(id) ?? { namespace, name, uid: mark.uid, routing: mark.routing, objects: [] };
      found.objects.push(object);
      byRollout.set(id, found);
    }
  }
  return [...byRollout.values()];
}

/** Every marked in-place routing object in a namespace (or all), of the kinds the cluster serves. */
async function markedObjects(client: KubeClient, namespace: string | undefined): Promise<MarkedObject[]> {
  const out: MarkedObject[] = [];
  for (const kind of inPlaceKinds()) {
    const version = await preferredVersion(client, kind.group);
    if (!version) continue;
    const list = await client.list<KubeObject>({ group: kind.group, version, plural: kind.plural, namespace }).catch((err: unknown) => {
      // A kind we may not list is one no router of ours could have written (its router is disabled).
      if (err instanceof KubeApiError && err.statusCode === 403) return { items: [] as KubeObject[] };
      throw err;
    });
    for (const item of list.items) {
      const marks = marksOf(item);
      if (Object.keys(marks).length === 0) continue;
      const meta = item.metadata;
      out.push({ object: { ...kind, namespace: meta.namespace ?? '', name: meta.name ?? '', apiVersion: `${kind.group}/${version}`, uid: meta.uid ?? '' }, marks });
    }
  }
  return out;
}

/** Routing left behind by Rollouts that no longer exist, in a namespace (or all). */
export async function findOrphanedRouting(client: KubeClient, namespace: string | undefined): Promise<OrphanedRouting[]> {
  const marked = await markedObjects(client, namespace);
  const liveUid = new Map<string, string | undefined>();
  for (const key of new Set(marked.flatMap((m) => Object.keys(m.marks)))) {
    const [ns, name] = key.split('/');
    // Read directly, not from a cache: a Rollout of another controller instance counts too.
    const rollout = ns && name ? await client.getOptional({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ROLLOUT_PLURAL, namespace: ns, name }) : undefined;
    liveUid.set(key, rollout?.metadata.uid);
  }
  return orphanedMarks(marked, liveUid);
}

/** How an orphan is named in messages: `VirtualService shop/web, HTTPRoute shop/web`. */
export function describeObjects(objects: readonly InPlaceObject[]): string {
  return objects.map((o) => `${o.kind} ${o.namespace}/${o.name}`).join(', ');
}
