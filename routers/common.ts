// What the routers share: how they name things they own, how they write (read, render, patch
// only the difference, re-read on a lost race), and how Kubernetes service hosts are compared.
import type { SpecIssue } from './types.ts';
import type { OwnerReference } from '../kube/client.ts';
import { changes, diffJson, type JsonPatchOp } from './json-patch.ts';
import { KubeApiError, type KubeApi, type KubeObject, type ResourceRef } from './kube-api.ts';
import type { StringMatch } from './types.ts';

export const FIELD_MANAGER = 'rollway-controller';
export const ROUTING_PATH = 'spec.strategy.canary.trafficRouting';
/** The label whose value is a ReplicaSet's pod-template hash (as on the pods themselves). */
export const POD_TEMPLATE_HASH_LABEL = 'rollouts-pod-template-hash';
/**
 * On a user's routing object: the header/mirror routes each Rollout inserted, as JSON
 * `{"<rollout>": ["<route>", ...]}`, so routes that are no longer wanted can be found and
 * removed even after the steps or managedRoutes changed. Absent when no route is inserted.
 */
export const MANAGED_ROUTES_ANNOTATION = 'rollway.dev/managed-routes';

export interface RolloutIdentity {
  name: string;
  uid: string;
  apiVersion: string;
  kind: string;
}

export function controllerReference(rollout: RolloutIdentity): OwnerReference {
  return { apiVersion: rollout.apiVersion, kind: rollout.kind, name: rollout.name, uid: rollout.uid, controller: true, blockOwnerDeletion: true };
}

/** True when `object` is controlled by this Rollout (the same uid). */
export function isOwnedBy(object: KubeObject, rollout: RolloutIdentity): boolean {
  return (object.metadata.ownerReferences ?? []).some((ref) => ref.controller === true && ref.uid === rollout.uid);
}

/** Who controls an object, for messages: `Rollout web` or `nothing`. */
export function controllerOf(object: KubeObject): string {
  const owner = (object.metadata.ownerReferences ?? []).find((ref) => ref.controller);
  return owner ? `${owner.kind} ${owner.name}` : 'no controller (created by a user or another tool)';
}

/**
 * On a user's routing object: the weighted experiment destinations (Service names) each Rollout
 * added to its routes, as `{"<rollout>": ["<service>", ...]}`, so they can be taken out when the
 * experiment step ends. Absent when there are none.
 */
export const MANAGED_DESTINATIONS_ANNOTATION = 'rollway.dev/managed-destinations';

/** Names of the routes this Rollout inserted into an object, from its annotation. */
export function managedRouteNames(object: KubeObject, rolloutName: string, annotation: string = MANAGED_ROUTES_ANNOTATION): string[] {
  const text = object.metadata.annotations?.[annotation];
  if (!text) return [];
  try {
    const parsed = JSON.parse(text) as Record<string, unknown>;
    const names = parsed[rolloutName];
    return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}

/** Sets (or with no names, drops) this Rollout's entry of the managed-routes annotation on a draft. */
export function setManagedRouteNames(draft: KubeObject, rolloutName: string, names: readonly string[], annotation: string = MANAGED_ROUTES_ANNOTATION): void {
  const annotations = draft.metadata.annotations ?? {};
  let all: Record<string, unknown>;
  try {
    all = JSON.parse(annotations[annotation] ?? '{}') as Record<string, unknown>;
  } catch {
    all = {}; // not ours to understand: start over with our own entry
  }
  if (names.length > 0) all[rolloutName] = [...names];
  else delete all[rolloutName];
  const text = Object.keys(all).length > 0 ? JSON.stringify(all) : undefined;
  if (text === annotations[annotation]) return;
  if (text === undefined) delete annotations[annotation];
  else annotations[annotation] = text;
  if (Object.keys(annotations).length > 0) draft.metadata.annotations = annotations;
  else delete draft.metadata.annotations;
}

/**
 * Whether a route host names a Service of a namespace: `web`, `web.shop`, `web.shop.svc` and
 * `web.shop.svc.cluster.local` all name Service web in namespace shop.
 */
export function hostIsService(host: string | undefined, service: string, namespace: string): boolean {
  if (!host) return false;
  const [name, ns, svc] = host.split('.');
  if (name !== service) return false;
  if (ns === undefined) return true;
  if (ns !== namespace) return false;
  return svc === undefined || svc === 'svc'; // any cluster domain after .svc
}

/** A StringMatch as a regular expression (for routers that only have exact and regex). */
export function prefixAsRegex(prefix: string): string {
  return `^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}.*`;
}

export function matchKind(match: StringMatch): 'exact' | 'prefix' | 'regex' {
  return 'exact' in match ? 'exact' : 'prefix' in match ? 'prefix' : 'regex';
}

export function matchValue(match: StringMatch): string {
  return 'exact' in match ? match.exact : 'prefix' in match ? match.prefix : match.regex;
}

/**
 * Which router writes a kind of routing object, for the field path of a rejected write. The
 * registry sets it when it loads (common.ts sits below the registry, so it cannot import it).
 */
let routerOfKind: (kind: string) => string | undefined = () => undefined;
export function setRouterOfKind(lookup: (kind: string) => string | undefined): void {
  routerOfKind = lookup;
}

/** The object a 422 names: validation names it, a failed JSON patch `test` (a lost race) does not. */
function invalidObject(err: KubeApiError): { kind: string; name: string } | undefined {
  const details = (err.body as { details?: { kind?: string; name?: string } } | undefined)?.details;
  return details?.kind && details.name ? { kind: details.kind, name: details.name } : undefined;
}

/**
 * A routing object the API server refused as written (400 BadRequest, 422 Invalid) as a spec
 * issue: the spec produced a value the API does not accept, so the Rollout must say so (Degraded,
 * a condition, a Warning Event) instead of failing silently in a retry loop. Undefined for any
 * other error, a lost race included.
 */
export function rejectedWriteIssue(err: unknown): SpecIssue | undefined {
  if (!(err instanceof KubeApiError)) return undefined;
  const object = invalidObject(err);
  if (err.statusCode !== 400 && !(err.statusCode === 422 && object)) return undefined;
  const router = object ? routerOfKind(object.kind) : undefined;
  return {
    path: router ? `${ROUTING_PATH}.${router}` : ROUTING_PATH,
    message: `the API server rejected the write of ${object ? `${object.kind} "${object.name}"` : 'a routing object'} (${err.statusCode} ${err.reason}): ${err.message}`,
    fix: 'correct the trafficRouting setting (or the routing object) the message points at; the controller retries with backoff until the write is accepted',
  };
}

/** Another writer in between: a conflict, or a JSON patch whose `test` no longer holds (422 naming no object). */
const isRaceLost = (err: unknown): boolean => err instanceof KubeApiError && (err.statusCode === 409 || (err.statusCode === 422 && !invalidObject(err)));

/**
 * Reads an object, renders what it should be, and writes only the difference as a JSON patch
 * whose `test` ops guard what we read. A lost race (another writer in between: 409/422) is
 * retried from a fresh read. Answers the object as it now is and whether a write happened.
 */
export async function patchToRendered<T extends KubeObject, R>(
  client: KubeApi,
  ref: ResourceRef,
  render: (current: T) => { object: T; result: R },
  options: { read?: T; attempts?: number } = {},
): Promise<{ object: T; result: R; wrote: boolean }> {
  const attempts = options.attempts ?? 3;
  for (let attempt = 1; ; attempt++) {
    // The first read may come from a watch cache; after a lost race, from the API server.
    const current = attempt === 1 && options.read ? options.read : await client.get<T>(ref, { fresh: attempt > 1 });
    const { object, result } = render(current);
    const ops: JsonPatchOp[] = diffJson(withoutServerFields(current), withoutServerFields(object));
    if (!changes(ops)) return { object: current, result, wrote: false };
    // The whole copy we read is the precondition: a cached copy that is behind is refused, not merged.
    const version = current.metadata.resourceVersion;
    if (version !== undefined) ops.unshift({ op: 'test', path: '/metadata/resourceVersion', value: version });
    try {
      const written = await client.patch<T>(ref, 'json', ops, { fieldManager: FIELD_MANAGER });
      return { object: written, result, wrote: true };
    } catch (err) {
      if (!isRaceLost(err) || attempt >= attempts) throw err;
    }
  }
}

/** The parts of an object a router renders: metadata the server owns and status are left out. */
function withoutServerFields(object: KubeObject): KubeObject {
  const { managedFields: _m, resourceVersion: _rv, generation: _g, creationTimestamp: _c, uid: _u, ...metadata } = object.metadata;
  const { status: _status, ...rest } = object;
  return { ...rest, metadata };
}

export function clone<T>(value: T): T {
  return structuredClone(value);
}

/**
 * A reference that may name another namespace as `name.namespace` (Istio VirtualService and
 * DestinationRule references, as in Argo Rollouts): the object's name and namespace.
 */
export function namespacedName(reference: string, namespace: string): { name: string; namespace: string } {
  const dot = reference.indexOf('.');
  return dot > 0 ? { name: reference.slice(0, dot), namespace: reference.slice(dot + 1) } : { name: reference, namespace };
}
