// The user actions on a Rollout, one implementation each, shared by the CLI and the dashboard.
// Each touches only the fields users expect it to (design brief §3): spec.paused, spec.restartAt,
// spec.template, and in status: abort, pauseConditions, controllerPause, currentStepIndex, promoteFull.
import { ROLLOUT_GROUP, ROLLOUT_PLURAL, ROLLOUT_VERSION } from '../api/rollout.ts';
import { KubeApiError, type KubeClient, type ResourceRef } from '../kube/client.ts';
import type { RolloutObject } from '../controller/controller.ts';

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
    if (err instanceof KubeApiError && err.isNotFound) throw new ActionError(`rollout "${name}" not found in namespace "${namespace}"`);
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
  } else if (!ro.spec.paused) {
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

export async function restart(client: KubeClient, namespace: string, name: string, at: Date = new Date()): Promise<string> {
  await getRollout(client, namespace, name);
  await client.patch(rolloutRef(namespace, name), 'merge', { spec: { restartAt: at.toISOString().replace(/\.\d+Z$/, 'Z') } });
  return `rollout '${name}' restarts at ${at.toISOString()}`;
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
