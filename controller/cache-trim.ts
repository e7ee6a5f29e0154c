// What the informer caches keep of an object, applied as each one enters the cache: memory grows
// with the number of objects, not with their size. Fields a reconcile never reads go; what it
// does read stays exactly as the API server sent it. Routing objects are not trimmed here (the
// routers read them whole).
import type { KubeObject } from '../kube/client.ts';

/** kubectl's client-side apply copy of the whole object: as large as the object itself, never read. */
export const LAST_APPLIED_ANNOTATION = 'kubectl.kubernetes.io/last-applied-configuration';

type Metadata = KubeObject['metadata'];

/** metadata without managedFields and the last-applied annotation (the object is not changed). */
export function trimMetadata(metadata: Metadata): Metadata {
  const { managedFields: _managed, ...rest } = metadata;
  const annotations = metadata.annotations;
  if (annotations === undefined || !(LAST_APPLIED_ANNOTATION in annotations)) return rest;
  const { [LAST_APPLIED_ANNOTATION]: _copy, ...kept } = annotations;
  return { ...rest, annotations: kept };
}

/** A Rollout: all of spec and status (the planner and the status comparison read them), lean metadata. */
export function trimRollout(object: KubeObject): KubeObject {
  return { ...object, metadata: trimMetadata(object.metadata) };
}

/** A Service: its selector is all a reconcile reads besides metadata. */
export function trimService(object: KubeObject): KubeObject {
  const spec = (object as { spec?: { selector?: Record<string, string> } }).spec;
  return { apiVersion: object.apiVersion, kind: object.kind, metadata: trimMetadata(object.metadata), spec: { selector: spec?.selector } } as KubeObject;
}

interface PodLike extends KubeObject {
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * A pod of one of our ReplicaSets: who owns it, its labels and annotations (pod metadata is moved
 * onto running pods), whether it is going away, and its Ready condition, which bounds the traffic
 * its ReplicaSet may get. Its spec, container statuses and other conditions are not kept.
 */
export function trimPod(object: KubeObject): KubeObject {
  const { name, namespace, uid, resourceVersion, labels, annotations, ownerReferences, creationTimestamp, deletionTimestamp } = trimMetadata(object.metadata);
  const ready = (object as PodLike).status?.conditions?.find((c) => c.type === 'Ready');
  const metadata = { name, namespace, uid, resourceVersion, labels, annotations, ownerReferences, creationTimestamp, deletionTimestamp };
  return { metadata, status: { conditions: ready ? [{ type: ready.type, status: ready.status }] : [] } } as KubeObject;
}
