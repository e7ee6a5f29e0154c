// What a person sees of an Experiment (CLI `get/list experiments`, the dashboard's rollout page):
// its phase, each template with its ReplicaSet and pods, each analysis, and the time left. The
// view is pure; the fetch and terminate functions are the only I/O here.
import { EXPERIMENT_PLURAL, EXPERIMENT_TEMPLATE_ANNOTATION, type ExperimentSpec, type ExperimentStatus } from '../api/experiment.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/labels.ts';
import { parseDurationMs, ROLLOUT_GROUP, ROLLOUT_VERSION } from '../api/rollout.ts';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { ActionError } from './actions.ts';
import { podView, type PodObject, type PodView } from './view.ts';

export interface ExperimentObject extends KubeObject {
  spec?: Partial<ExperimentSpec>;
  status?: ExperimentStatus;
}

export interface ExperimentView {
  name: string;
  namespace: string;
  phase: string;
  message?: string | undefined;
  createdAt?: number | undefined;
  /** the Rollout whose experiment step made it, if any */
  rollout?: string | undefined;
  duration?: string | undefined;
  /** until the duration ends (only while it runs with a duration) */
  timeLeftMs?: number | undefined;
  terminated: boolean;
  templates: { name: string; status: string; replicas: number; available: number; replicaSet?: string | undefined; service?: string | undefined; pods: PodView[] }[];
  analyses: { name: string; run?: string | undefined; phase: string; message?: string | undefined }[];
  /** status.conditions (Progressing, Available...), as kubectl describe lists them */
  conditions: { type: string; status: string; reason?: string | undefined; message?: string | undefined }[];
}

export const experimentRef = (namespace: string | undefined, name?: string): ResourceRef => ({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: EXPERIMENT_PLURAL, namespace, name });

/** The view of one Experiment; `pods` are those of its ReplicaSets (by ReplicaSet name). */
export function experimentView(exp: ExperimentObject, now: number, replicaSets: readonly KubeObject[] = [], pods: readonly PodObject[] = []): ExperimentView {
  const status = exp.status ?? {};
  const duration = exp.spec?.duration;
  const durationMs = duration !== undefined ? parseDurationMs(duration) : undefined;
  const running = status.phase === 'Running' && status.availableAt !== undefined && durationMs !== undefined;
  const rsOf = (template: string): KubeObject | undefined => replicaSets.find((rs) => rs.metadata.annotations?.[EXPERIMENT_TEMPLATE_ANNOTATION] === template && rs.metadata.ownerReferences?.some((o) => o.uid === exp.metadata.uid));
  return {
    name: exp.metadata.name ?? '',
    namespace: exp.metadata.namespace ?? '',
    phase: status.phase ?? 'Pending',
    message: status.message,
    createdAt: exp.metadata.creationTimestamp ? Date.parse(exp.metadata.creationTimestamp) : undefined,
    rollout: exp.metadata.ownerReferences?.find((o) => o.kind === 'Rollout' && o.controller)?.name,
    duration: duration !== undefined ? String(duration) : undefined,
    timeLeftMs: running ? Math.max(0, Date.parse(status.availableAt!) + durationMs - now) : undefined,
    terminated: exp.spec?.terminate === true,
    templates: (exp.spec?.templates ?? []).map((t) => {
      const s = status.templateStatuses?.find((x) => x.name === t.name);
      const rs = rsOf(t.name);
      const hash = rs?.metadata.labels?.[POD_TEMPLATE_HASH_LABEL];
      const own = pods.filter((p) => p.metadata.ownerReferences?.some((o) => o.name === rs?.metadata.name) || (hash !== undefined && p.metadata.labels?.[POD_TEMPLATE_HASH_LABEL] === hash && rs !== undefined));
      return { name: t.name, status: s?.status ?? 'Pending', replicas: t.replicas ?? 1, available: s?.availableReplicas ?? 0, replicaSet: rs?.metadata.name, service: s?.serviceName, pods: own.map(podView) };
    }),
    analyses: (exp.spec?.analyses ?? []).map((a) => {
      const s = status.analysisRuns?.find((x) => x.name === a.name);
      return { name: a.name, run: s?.analysisRun, phase: s?.phase ?? 'Pending', message: s?.message };
    }),
    conditions: (status.conditions ?? []).map(({ type, status: value, reason, message }) => ({ type, status: value, reason, message })),
  };
}

async function getExperiment(client: KubeClient, namespace: string, name: string): Promise<ExperimentObject> {
  try {
    return await client.get<ExperimentObject>(experimentRef(namespace, name));
  } catch (err) {
    if (err instanceof KubeApiError && err.isNotFound) throw new ActionError(`experiment "${name}" not found in namespace "${namespace}"`);
    throw err;
  }
}

/** One Experiment with its ReplicaSets and pods. */
export async function fetchExperiment(client: KubeClient, namespace: string, name: string): Promise<ExperimentView> {
  const exp = await getExperiment(client, namespace, name);
  const [sets, pods] = await Promise.all([
    client.list<KubeObject>({ group: 'apps', version: 'v1', plural: 'replicasets', namespace }, { labelSelector: `rollway.dev/experiment=${name}` }),
    client.list<PodObject>({ group: '', version: 'v1', plural: 'pods', namespace }, { labelSelector: POD_TEMPLATE_HASH_LABEL }),
  ]);
  return experimentView(exp, Date.now(), sets.items, pods.items);
}

/** The Experiments of a namespace (or all), optionally only those a Rollout owns; oldest first. */
export async function listExperiments(client: KubeClient, namespace: string | undefined, rollout?: string): Promise<ExperimentView[]> {
  const list = await client.list<ExperimentObject>(experimentRef(namespace));
  const now = Date.now();
  return list.items
    .filter((e) => rollout === undefined || e.metadata.ownerReferences?.some((o) => o.kind === 'Rollout' && o.name === rollout))
    .map((e) => experimentView(e, now))
    .sort((a, b) => (a.createdAt ?? 0) - (b.createdAt ?? 0));
}

/** spec.terminate: the controller ends it (Successful unless something failed) and scales it down. */
export async function terminateExperiment(client: KubeClient, namespace: string, name: string): Promise<string> {
  const exp = await getExperiment(client, namespace, name);
  if (exp.spec?.terminate) return `experiment "${name}" is already terminated`;
  await client.patch(experimentRef(namespace, name), 'merge', { spec: { terminate: true } });
  return `experiment "${name}" terminated`;
}
