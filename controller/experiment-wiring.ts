// The Rollout controller's side of experiment steps (its I/O; the decisions are in
// experiment-step.ts): a cache of the Experiments Rollouts own, the observed Experiments for the
// planner, and carrying out the planned creations, terminations and deletions. The Experiment's
// own controller runs them. A cluster without the Experiment CRD costs nothing: the cache is not
// started, and a Rollout with an experiment step is told to install it.
import type { SpecIssue } from '../api/issues.ts';
import { ROLLOUT_GROUP, ROLLOUT_KIND, ROLLOUT_VERSION } from '../api/rollout.ts';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';
import { Informer, type Logger } from '../kube/informer.ts';
import { OwnerIndex } from '../kube/owner-index.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/hash.ts';
import { buildExperiment, EXPERIMENT_PLURAL, type TemplateSource } from './experiment-manifest.ts';
import { EXPERIMENT_ROLLOUT_LABEL, EXPERIMENT_STEP_INDEX_LABEL, type ExperimentActions, type ObservedExperiment } from './experiment-step.ts';

interface ExperimentObject extends KubeObject {
  spec?: { terminate?: boolean };
  status?: { phase?: string; message?: string; templateStatuses?: { name: string; serviceName?: string; podTemplateHash?: string }[] };
}

interface ReplicaSetObject extends KubeObject {
  spec?: { minReadySeconds?: number; selector?: TemplateSource['selector']; template?: TemplateSource['template'] };
}

/** What the Rollout side needs of a Rollout to create its Experiments. */
export interface ExperimentOwner extends KubeObject {
  spec: { progressDeadlineSeconds?: number | undefined };
  status?: { stableRS?: string | undefined } | undefined;
}

const experimentRef = (namespace: string | undefined, name?: string): ResourceRef => ({ group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: EXPERIMENT_PLURAL, namespace, name });

export class RolloutExperiments {
  readonly experiments: Informer<ExperimentObject>;
  private readonly client: KubeClient;
  private served = false;
  /** namespace/name → an Experiment this process created, until the cache shows it */
  private readonly createdNotYetSeen = new Map<string, { object: ExperimentObject; at: number }>();
  /** the cached Experiments by their Rollout's uid: a reconcile reads its own, not its namespace's */
  private readonly experimentsByRollout = new OwnerIndex<ExperimentObject>();

  constructor(client: KubeClient, namespace: string | undefined, log: Logger) {
    this.client = client;
    this.experiments = new Informer<ExperimentObject>(client, experimentRef(namespace), { labelSelector: EXPERIMENT_ROLLOUT_LABEL, log });
    this.experiments.on((event) => this.experimentsByRollout.update(event));
  }

  private async source(namespace: string, name: string | undefined): Promise<TemplateSource | undefined> {
    if (!name) return undefined;
    const rs = await this.client.getOptional<ReplicaSetObject>({ group: 'apps', version: 'v1', plural: 'replicasets', namespace, name });
    if (!rs?.spec?.template) return undefined;
    return { template: rs.spec.template, selector: rs.spec.selector ?? {}, minReadySeconds: rs.spec.minReadySeconds };
  }

  /** Enqueues the owning Rollout when one of its Experiments changes. */
  connect(enqueue: (key: string) => void): void {
    this.experiments.on((event) => {
      const owner = event.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === ROLLOUT_KIND);
      if (owner) enqueue(`${event.object.metadata.namespace}/${owner.name}`);
    });
  }

  async start(): Promise<void> {
    try {
      const doc = await this.client.request<{ resources?: { name: string }[] }>('GET', `/apis/${ROLLOUT_GROUP}/${ROLLOUT_VERSION}`);
      this.served = (doc.resources ?? []).some((r) => r.name === EXPERIMENT_PLURAL);
    } catch {
      this.served = false;
    }
    if (!this.served) return;
    this.experiments.start();
    await this.experiments.waitForSync();
  }

  stop(): void {
    this.experiments.stop();
  }

  synced(): boolean {
    return !this.served || this.experiments.hasSynced();
  }

  /** InvalidSpec issues: an experiment step where the cluster has no Experiment kind. */
  missingKind(steps: readonly Record<string, unknown>[]): SpecIssue[] {
    if (this.served) return [];
    const index = steps.findIndex((s) => s.experiment !== undefined);
    if (index < 0) return [];
    return [{ path: `spec.strategy.canary.steps[${index}].experiment`, message: `the cluster does not serve ${EXPERIMENT_PLURAL}.${ROLLOUT_GROUP} (the Experiment CRD is not installed)`, fix: "install Rollway's CRDs (kubectl apply --server-side -k crds), then the controller picks it up on restart" }];
  }

  /** The Experiments a Rollout owns, as the planner sees them. */
  observe(rollout: KubeObject): ObservedExperiment[] {
    if (!this.served) return [];
    const uid = rollout.metadata.uid;
    const owned = (e: ExperimentObject): boolean => e.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller) === true;
    const pending: ExperimentObject[] = [];
    for (const [key, { object, at }] of this.createdNotYetSeen) {
      if (this.experiments.get(object.metadata.namespace, object.metadata.name ?? '') !== undefined || Date.now() - at > 60_000) this.createdNotYetSeen.delete(key);
      else if (owned(object)) pending.push(object);
    }
    return [...this.experimentsByRollout.ownedBy(uid), ...pending]
      .map((e) => {
        const labels = e.metadata.labels ?? {};
        const step = labels[EXPERIMENT_STEP_INDEX_LABEL];
        return {
          name: e.metadata.name ?? '',
          podHash: labels[POD_TEMPLATE_HASH_LABEL] ?? '',
          stepIndex: step !== undefined ? Number(step) : undefined,
          phase: e.status?.phase ?? '',
          message: e.status?.message,
          terminated: e.spec?.terminate === true,
          createdAt: e.metadata.creationTimestamp ?? '',
          templates: (e.status?.templateStatuses ?? []).map((t) => ({ name: t.name, serviceName: t.serviceName, podTemplateHash: t.podTemplateHash })),
        };
      });
  }

  /**
   * Creates, terminates and deletes Experiments as planned. A creation reads the stable and canary
   * ReplicaSets whose pod templates it copies (the cache keeps no pod specs), and waits for them.
   */
  async apply(rollout: ExperimentOwner, actions: ExperimentActions | undefined, replicaSets: { stable?: string | undefined; canary?: string | undefined }): Promise<void> {
    if (!actions || !this.served) return;
    const namespace = rollout.metadata.namespace ?? '';
    for (const create of actions.create) {
      const [stable, canary] = await Promise.all([this.source(namespace, replicaSets.stable), this.source(namespace, replicaSets.canary)]);
      const owner = { name: rollout.metadata.name ?? '', uid: rollout.metadata.uid ?? '', namespace, labels: rollout.metadata.labels, object: rollout };
      const object = buildExperiment(create, { rollout: owner, stableHash: rollout.status?.stableRS ?? '', stable, canary, progressDeadlineSeconds: rollout.spec.progressDeadlineSeconds });
      if ('missing' in object) continue; // planned again once that ReplicaSet exists
      try {
        const created = await this.client.create<ExperimentObject>(experimentRef(namespace), object as unknown as ExperimentObject);
        this.createdNotYetSeen.set(`${namespace}/${created.metadata.name}`, { object: created, at: Date.now() });
      } catch (err) {
        // Created by an earlier reconcile whose status write was lost: it is ours, go on.
        if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err;
      }
    }
    for (const name of actions.terminate) {
      await this.client.patch(experimentRef(namespace, name), 'merge', { spec: { terminate: true } }).catch(ignoreNotFound);
    }
    for (const name of actions.delete) {
      await this.client.delete(experimentRef(namespace, name), { propagationPolicy: 'Background' }).catch(ignoreNotFound);
    }
  }
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
}
