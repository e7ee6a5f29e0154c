// The user actions on a Rollout, one implementation each, shared by the CLI and the dashboard.
// Each touches only the fields users expect it to (design brief §3): spec.paused, spec.restartAt,
// spec.template, and in status: abort, pauseConditions, controllerPause, currentStepIndex, promoteFull.
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import { KubeApiError, type KubeClient, type ResourceRef } from '../kube/client.ts';
import { POD_TEMPLATE_HASH_LABEL, REVISION_ANNOTATION } from '../api/labels.ts';
import type { ReplicaSetObject, RolloutObject } from '../api/views.ts';
import { podTemplateHash } from '../api/hash.ts';
import { templateForUndo } from './undo.ts';

export class ActionError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'ActionError';
    this.exitCode = exitCode;
  }
}

export const rolloutRef = (namespace: string, name: string, subresource?: string): ResourceRef => ({
  group: ROLLOUT_GROUP,
  version: ROLLOUT_VERSION,
  plural: ROLLOUT_PLURAL,
  namespace,
  name,
  subresource,
});

export async function getRollout(client: KubeClient, namespace: string, name: string): Promise<RolloutObject> {
  try {
    return await client.get<RolloutObject>(rolloutRef(namespace, name));
  } catch (err) {
    if (err instanceof KubeApiError && err.isNotFound) {
      // A 404 without a Status reason of NotFound for the object means the resource itself is not served.
      const namespaceExists = await client.getOptional({ group: '', version: 'v1', plural: 'namespaces', name: namespace }).then(
        (ns) => ns !== undefined,
        () => true,
      );
      if (!namespaceExists) throw new ActionError(`namespace "${namespace}" not found (looking for rollout "${name}")`);
      throw new ActionError(`rollout "${name}" not found in namespace "${namespace}"`);
    }
    throw err;
  }
}

/** Out of a pause (pause step or spec.paused), or on to the next step; `full` skips all remaining steps. */
export async function promote(client: KubeClient, namespace: string, name: string, options: { full?: boolean } = {}): Promise<string> {
  const ro = await getRollout(client, namespace, name);
  if (options.full) {
    await client.patch(rolloutRef(namespace, name, 'status'), 'merge', { metadata: { resourceVersion: ro.metadata.resourceVersion }, status: { promoteFull: true } });
    if (ro.spec.paused) await client.patch(rolloutRef(namespace, name), 'merge', { spec: { paused: false } });
    return `rollout '${name}' fully promoted`;
  }
  const paused = (ro.status?.pauseConditions ?? []).length > 0;
  if (ro.spec.paused) await client.patch(rolloutRef(namespace, name), 'merge', { spec: { paused: false } });
  if (paused) {
    await client.patch(rolloutRef(namespace, name, 'status'), 'merge', { metadata: { resourceVersion: ro.metadata.resourceVersion }, status: { pauseConditions: null } });
  } else if (!ro.spec.paused && ro.spec.strategy?.blueGreen === undefined) {
    // A blue-green update has no steps: promote only ends its pause.
    const steps = ro.spec.strategy?.canary?.steps ?? [];
    const index = ro.status?.currentStepIndex ?? steps.length;
    if (index >= steps.length) throw new ActionError(`rollout '${name}' has no step left to promote to`);
    await client.patch(rolloutRef(namespace, name, 'status'), 'merge', { metadata: { resourceVersion: ro.metadata.resourceVersion }, status: { currentStepIndex: index + 1 } });
  }
  return `rollout '${name}' promoted`;
}

export async function abort(client: KubeClient, namespace: string, name: string): Promise<string> {
  await getRollout(client, namespace, name);
  await client.patch(rolloutRef(namespace, name, 'status'), 'merge', { status: { abort: true } });
  return `rollout '${name}' aborted`;
}

export async function retry(client: KubeClient, namespace: string, name: string): Promise<string> {
  await getRollout(client, namespace, name);
  await client.patch(rolloutRef(namespace, name, 'status'), 'merge', { status: { abort: false } });
  return `rollout '${name}' retried`;
}

export async function pause(client: KubeClient, namespace: string, name: string): Promise<string> {
  await getRollout(client, namespace, name);
  await client.patch(rolloutRef(namespace, name), 'merge', { spec: { paused: true } });
  return `rollout '${name}' paused`;
}

/** Recreates the pods created before `at` (spec.restartAt; whole seconds, rounded up so no pod is missed). */
export async function restart(client: KubeClient, namespace: string, name: string, at: Date = new Date()): Promise<string> {
  await getRollout(client, namespace, name);
  const stamp = new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
  await client.patch(rolloutRef(namespace, name), 'merge', { spec: { restartAt: stamp } });
  return `rollout '${name}' restarts its pods at ${stamp}`;
}

/** `container=image`, or `*=image` for every container (init containers included). */
export async function setImage(client: KubeClient, namespace: string, name: string, assignment: string): Promise<string> {
  const eq = assignment.indexOf('=');
  if (eq <= 0 || eq === assignment.length - 1) throw new ActionError(`expected CONTAINER=IMAGE, got "${assignment}"`, 2);
  const container = assignment.slice(0, eq);
  const image = assignment.slice(eq + 1);
  const ro = await getRollout(client, namespace, name);
  const podSpec = ((ro.spec.template as { spec?: Record<string, unknown> } | undefined)?.spec ?? {}) as Record<string, { name: string; image?: string }[] | undefined>;
  // JSON patch with a `test` of each container's name: the index we write is the one we read.
  const ops: unknown[] = [];
  for (const list of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    (podSpec[list] ?? []).forEach((c, i) => {
      if (container === '*' || c.name === container) {
        ops.push({ op: 'test', path: `/spec/template/spec/${list}/${i}/name`, value: c.name });
        ops.push({ op: 'replace', path: `/spec/template/spec/${list}/${i}/image`, value: image });
      }
    });
  }
  if (ops.length === 0) {
    const names = (podSpec.containers ?? []).map((c) => c.name).join(', ');
    throw new ActionError(`rollout "${name}" has no container "${container}" (containers: ${names})`);
  }
  await client.patch(rolloutRef(namespace, name), 'json', ops);
  return `rollout '${name}' image updated`;
}

/** The ReplicaSets a Rollout owns, newest revision first. */
export async function rolloutReplicaSets(client: KubeClient, ro: RolloutObject): Promise<ReplicaSetObject[]> {
  const list = await client.list<ReplicaSetObject>({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ro.metadata.namespace }, { labelSelector: POD_TEMPLATE_HASH_LABEL });
  return list.items
    .filter((rs) => rs.metadata.ownerReferences?.some((o) => o.uid === ro.metadata.uid))
    .sort((a, b) => revisionOf(b) - revisionOf(a));
}

export const revisionOf = (rs: ReplicaSetObject): number => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;

/**
 * Rolls back: copies the pod template of a revision's ReplicaSet into spec.template (without the
 * hash label). Default: the revision before the current one. When the template hashes to that
 * ReplicaSet, the controller does a fast rollback (no steps) to it.
 */
export async function undo(client: KubeClient, namespace: string, name: string, options: { toRevision?: number | undefined } = {}): Promise<string> {
  const ro = await getRollout(client, namespace, name);
  const sets = await rolloutReplicaSets(client, ro);
  const collisionCount = ro.status?.collisionCount ?? 0;
  const currentHash = podTemplateHash(ro.spec.template, collisionCount);
  const revisions = sets.map(revisionOf).sort((a, b) => a - b);
  const current = sets.find((rs) => rs.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === currentHash);
  let target: ReplicaSetObject | undefined;
  if (options.toRevision !== undefined && options.toRevision > 0) {
    target = sets.find((rs) => revisionOf(rs) === options.toRevision);
    if (!target) throw new ActionError(`rollout "${name}" has no revision ${options.toRevision} (revisions: ${revisions.join(', ') || 'none'})`);
  } else {
    const below = current ? revisionOf(current) : Infinity;
    target = sets.find((rs) => rs !== current && revisionOf(rs) < below);
    if (!target) throw new ActionError(`rollout "${name}" has no earlier revision to go back to (revisions: ${revisions.join(', ') || 'none'})`);
  }
  const revision = revisionOf(target);
  const targetHash = target.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] ?? '';
  if (targetHash === currentHash) return `rollout '${name}' is already at revision ${revision}; nothing to undo`;
  const { template, exact } = templateForUndo(target.spec.template, ro.spec.template, targetHash, collisionCount);
  await client.patch(rolloutRef(namespace, name), 'json', [
    { op: 'test', path: '/metadata/resourceVersion', value: ro.metadata.resourceVersion },
    { op: 'replace', path: '/spec/template', value: template },
  ]);
  return exact
    ? `rollout '${name}' rolled back to revision ${revision} (${target.metadata.name})`
    : `rollout '${name}' rolled back to the template of revision ${revision}; it differs from the original in fields the API server filled in, so it deploys as a new revision`;
}

/** The actions the dashboard offers, by the name its API uses; each runs the function above. */
export const ACTION_NAMES = ['promote', 'promote-full', 'abort', 'retry', 'pause', 'restart', 'set-image', 'undo'] as const;
export type ActionName = (typeof ACTION_NAMES)[number];

export function runAction(client: KubeClient, namespace: string, name: string, action: ActionName, params: Record<string, unknown> = {}): Promise<string> {
  switch (action) {
    case 'promote':
      return promote(client, namespace, name);
    case 'promote-full':
      return promote(client, namespace, name, { full: true });
    case 'abort':
      return abort(client, namespace, name);
    case 'retry':
      return retry(client, namespace, name);
    case 'pause':
      return pause(client, namespace, name);
    case 'restart':
      return restart(client, namespace, name);
    case 'set-image': {
      const container = typeof params.container === 'string' && params.container !== '' ? params.container : '*';
      const image = typeof params.image === 'string' ? params.image.trim() : '';
      if (image === '') throw new ActionError('set image needs an image', 2);
      return setImage(client, namespace, name, `${container}=${image}`);
    }
    case 'undo': {
      const revision = params.revision === undefined || params.revision === '' ? undefined : Number(params.revision);
      if (revision !== undefined && (!Number.isInteger(revision) || revision < 0)) throw new ActionError(`revision must be a whole number, got ${String(params.revision)}`, 2);
      return undo(client, namespace, name, { toRevision: revision });
    }
  }
}
