// The Rollout controller's side of analysis (its I/O; the decisions are in rollout-plan.ts):
// caches of the AnalysisRuns Rollouts own and of the templates they name, the observed runs for
// the planner, the InvalidSpec issues of templates that do not exist, and carrying out the planned
// creations, terminations and deletions of runs.
import {
  ANALYSIS_API_VERSION,
  ANALYSIS_RUN_KIND,
  ANALYSIS_TEMPLATE_PLURAL,
  CLUSTER_ANALYSIS_TEMPLATE_PLURAL,
  type AnalysisTemplateSpec,
} from '../api/analysis.ts';
import type { SpecIssue } from '../api/issues.ts';
import { ROLLOUT_API_VERSION, ROLLOUT_GROUP, ROLLOUT_KIND, ROLLOUT_VERSION } from '../api/rollout.ts';
import { missingVerbs } from '../kube/access.ts';
import { KubeApiError, type KubeClient, type KubeObject } from '../kube/client.ts';
import { POD_TEMPLATE_HASH_LABEL } from '../api/labels.ts';
import type { AnalysisActions, AnalysisRunCreate, ObservedAnalysisRun, RolloutAnalysisView, SpecView, StatusView } from '../api/views.ts';
import { Informer, type Logger } from '../kube/informer.ts';
import { OwnerIndex } from '../kube/owner-index.ts';
import { BUILD_ERROR_ANNOTATION, analysisRunRef, type AnalysisRunObject } from './controller.ts';
import { labelValue } from './providers/job.ts';
import { ANALYSIS_TYPE_LABEL, ROLLOUT_LABEL, STEP_INDEX_LABEL } from './rollout-plan.ts';
import { composeTemplates, mergeArgs, resolveRolloutArgs, type TemplateLookup } from './run-spec.ts';

const INSTANCE_ID_LABEL = 'rollway.dev/controller-instance-id';

interface TemplateObject extends KubeObject {
  spec?: AnalysisTemplateSpec;
}

/** What this needs of a Rollout object. */
export interface RolloutLike extends KubeObject {
  spec: SpecView & Record<string, unknown>;
  status?: StatusView | undefined;
}

export class RolloutAnalysis {
  readonly runs: Informer<AnalysisRunObject>;
  readonly templates: Informer<TemplateObject>;
  readonly clusterTemplates: Informer<TemplateObject>;
  private readonly client: KubeClient;
  private readonly namespace: string | undefined;
  /** false in namespaced mode without rights on ClusterAnalysisTemplates: their cache is not started */
  private clusterTemplatesReadable = true;
  /** namespace/name → a run this process created, until the runs cache shows it */
  private readonly createdNotYetSeen = new Map<string, { run: AnalysisRunObject; at: number }>();
  /** the cached runs by their Rollout's uid: a reconcile reads its own, not its namespace's */
  private readonly runsByRollout = new OwnerIndex<AnalysisRunObject>();

  constructor(client: KubeClient, namespace: string | undefined, log: Logger) {
    this.client = client;
    this.namespace = namespace;
    this.runs = new Informer<AnalysisRunObject>(client, analysisRunRef(namespace), { labelSelector: ROLLOUT_LABEL, log });
    this.runs.on((event) => this.runsByRollout.update(event));
    this.templates = new Informer<TemplateObject>(client, { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: ANALYSIS_TEMPLATE_PLURAL, namespace }, { log });
    this.clusterTemplates = new Informer<TemplateObject>(client, { group: ROLLOUT_GROUP, version: ROLLOUT_VERSION, plural: CLUSTER_ANALYSIS_TEMPLATE_PLURAL }, { log });
  }

  /** Enqueues the owning Rollout on run changes, and the Rollouts naming a template on template changes. */
  connect(enqueue: (key: string) => void, rollouts: (namespace?: string) => RolloutLike[]): void {
    this.runs.on((event) => {
      const owner = event.object.metadata.ownerReferences?.find((o) => o.controller && o.kind === ROLLOUT_KIND);
      if (owner) enqueue(`${event.object.metadata.namespace}/${owner.name}`);
    });
    const onTemplate = (cluster: boolean) => (event: { object: TemplateObject }) => {
      const name = event.object.metadata.name ?? '';
      for (const ro of rollouts(cluster ? undefined : event.object.metadata.namespace)) {
        if (analysisBlocks(ro.spec).some(({ analysis }) => (analysis.templates ?? []).some((t) => t.templateName === name && Boolean(t.clusterScope) === cluster))) {
          enqueue(`${ro.metadata.namespace}/${ro.metadata.name}`);
        }
      }
    };
    this.templates.on(onTemplate(false));
    this.clusterTemplates.on(onTemplate(true));
  }

  async start(): Promise<void> {
    // A namespaced install (a Role) cannot read cluster-scoped templates: skip that cache rather
    // than retry 403s forever; Rollouts naming one are told why (missingTemplates).
    if (this.namespace !== undefined) {
      const missing = await missingVerbs(this.client, { group: ROLLOUT_GROUP, resource: CLUSTER_ANALYSIS_TEMPLATE_PLURAL }, ['list', 'watch']);
      this.clusterTemplatesReadable = missing.length === 0;
    }
    this.runs.start();
    this.templates.start();
    if (this.clusterTemplatesReadable) this.clusterTemplates.start();
    await Promise.all([this.runs.waitForSync(), this.templates.waitForSync(), this.clusterTemplatesReadable ? this.clusterTemplates.waitForSync() : undefined]);
  }

  stop(): void {
    this.runs.stop();
    this.templates.stop();
    this.clusterTemplates.stop();
  }

  synced(): boolean {
    return this.runs.hasSynced() && this.templates.hasSynced() && (!this.clusterTemplatesReadable || this.clusterTemplates.hasSynced());
  }

  private lookup(namespace: string): TemplateLookup {
    return {
      namespaced: (name) => {
        const t = this.templates.get(namespace, name);
        return t ? { spec: t.spec ?? {} } : undefined;
      },
      cluster: (name) => {
        const t = this.clusterTemplates.get(undefined, name);
        return t ? { spec: t.spec ?? {} } : undefined;
      },
    };
  }

  /** The runs a Rollout owns, as the planner sees them. */
  observe(rollout: RolloutLike): ObservedAnalysisRun[] {
    const uid = rollout.metadata.uid;
    const owned = (run: AnalysisRunObject): boolean => run.metadata.ownerReferences?.some((o) => o.uid === uid && o.controller) === true;
    // Runs we created that the cache has not shown yet count as existing: a reconcile right
    // after the create must not plan the same run again under a retry name.
    const pending: AnalysisRunObject[] = [];
    for (const [key, { run, at }] of this.createdNotYetSeen) {
      if (this.runs.get(run.metadata.namespace, run.metadata.name ?? '') !== undefined || Date.now() - at > 60_000) this.createdNotYetSeen.delete(key);
      else if (owned(run)) pending.push(run);
    }
    return [...this.runsByRollout.ownedBy(uid), ...pending]
      .map((run) => {
        const labels = run.metadata.labels ?? {};
        const stepIndex = labels[STEP_INDEX_LABEL] !== undefined ? Number(labels[STEP_INDEX_LABEL]) : undefined;
        return {
          name: run.metadata.name ?? '',
          podHash: labels[POD_TEMPLATE_HASH_LABEL] ?? '',
          type: labels[ANALYSIS_TYPE_LABEL] ?? '',
          stepIndex,
          phase: run.status?.phase ?? '',
          message: run.status?.message,
          terminated: (run.spec as { terminate?: boolean } | undefined)?.terminate === true,
          createdAt: run.metadata.creationTimestamp ?? '',
        };
      });
  }

  /** InvalidSpec issues: templates the Rollout names that do not exist. */
  missingTemplates(rollout: RolloutLike): SpecIssue[] {
    const ns = rollout.metadata.namespace ?? '';
    const lookup = this.lookup(ns);
    const issues: SpecIssue[] = [];
    for (const { path, analysis } of analysisBlocks(rollout.spec)) {
      for (const [j, ref] of (analysis.templates ?? []).entries()) {
        const name = ref.templateName ?? '';
        const found = ref.clusterScope ? lookup.cluster(name) : lookup.namespaced(name);
        if (found) continue;
        if (ref.clusterScope && !this.clusterTemplatesReadable) {
          issues.push({
            path: `${path}.templates[${j}].templateName`,
            message: `ClusterAnalysisTemplate "${name}" cannot be read: the controller runs in namespaced mode without rights on ClusterAnalysisTemplates`,
            fix: `use an AnalysisTemplate in namespace ${ns} (clusterScope: false), or grant get, list, watch on clusteranalysistemplates.rollway.dev to the controller`,
          });
          continue;
        }
        issues.push({
          path: `${path}.templates[${j}].templateName`,
          message: ref.clusterScope ? `ClusterAnalysisTemplate "${name}" not found` : `AnalysisTemplate "${name}" not found in namespace ${ns}`,
          fix: ref.clusterScope ? 'create the ClusterAnalysisTemplate or correct templateName' : 'create the AnalysisTemplate, or correct templateName (clusterScope: true for a ClusterAnalysisTemplate)',
        });
      }
    }
    return issues;
  }

  /** The AnalysisRun object for a planned creation. */
  buildRun(rollout: RolloutLike, create: AnalysisRunCreate): AnalysisRunObject {
    const ns = rollout.metadata.namespace ?? '';
    const analysis = create.analysis;
    const composed = composeTemplates(analysis.templates ?? [], this.lookup(ns));
    const labels: Record<string, string> = {
      ...(analysis.analysisRunMetadata?.labels ?? {}),
      [POD_TEMPLATE_HASH_LABEL]: create.podHash,
      [ROLLOUT_LABEL]: labelValue(rollout.metadata.name ?? ''),
      [ANALYSIS_TYPE_LABEL]: create.type,
      ...(create.stepIndex !== undefined ? { [STEP_INDEX_LABEL]: String(create.stepIndex) } : {}),
    };
    const instance = rollout.metadata.labels?.[INSTANCE_ID_LABEL];
    if (instance) labels[INSTANCE_ID_LABEL] = instance;
    const annotations: Record<string, string> = { ...(analysis.analysisRunMetadata?.annotations ?? {}) };
    let spec: Record<string, unknown>;
    if (composed.ok) {
      const rolloutArgs = resolveRolloutArgs(analysis.args ?? [], { object: rollout, stableHash: rollout.status?.stableRS, latestHash: create.podHash });
      const args = mergeArgs(composed.spec.args, rolloutArgs);
      const dryRun = [...composed.spec.dryRun, ...(analysis.dryRun ?? [])];
      const retention = [...composed.spec.measurementRetention, ...(analysis.measurementRetention ?? [])];
      spec = {
        metrics: composed.spec.metrics,
        ...(args.length ? { args } : {}),
        ...(dryRun.length ? { dryRun } : {}),
        ...(retention.length ? { measurementRetention: retention } : {}),
      };
    } else {
      spec = { metrics: [] };
      annotations[BUILD_ERROR_ANNOTATION] = composed.message;
    }
    return {
      apiVersion: ANALYSIS_API_VERSION,
      kind: ANALYSIS_RUN_KIND,
      metadata: {
        name: create.name,
        namespace: ns,
        labels,
        ...(Object.keys(annotations).length ? { annotations } : {}),
        ownerReferences: [{ apiVersion: ROLLOUT_API_VERSION, kind: ROLLOUT_KIND, name: rollout.metadata.name ?? '', uid: rollout.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      },
      spec,
    };
  }

  /** Creates, terminates and deletes runs as planned. */
  async apply(rollout: RolloutLike, actions: AnalysisActions | undefined): Promise<void> {
    if (!actions) return;
    const ns = rollout.metadata.namespace ?? '';
    for (const create of actions.create) {
      try {
        const created = await this.client.create<AnalysisRunObject>(analysisRunRef(ns), this.buildRun(rollout, create));
        this.createdNotYetSeen.set(`${ns}/${created.metadata.name}`, { run: created, at: Date.now() });
      } catch (err) {
        // Created by an earlier reconcile whose status write was lost: it is ours, go on.
        if (!(err instanceof KubeApiError && err.statusCode === 409)) throw err;
      }
    }
    for (const name of actions.terminate) {
      await this.client.patch(analysisRunRef(ns, name), 'merge', { spec: { terminate: true } }).catch(ignoreNotFound);
    }
    for (const name of actions.delete) {
      await this.client.delete(analysisRunRef(ns, name), { propagationPolicy: 'Background' }).catch(ignoreNotFound);
    }
  }
}

function ignoreNotFound(err: unknown): void {
  if (!(err instanceof KubeApiError && err.isNotFound)) throw err;
}

/** Every analysis block of a Rollout spec with its path: analysis steps, background, blue-green pre/post promotion. */
export function analysisBlocks(spec: SpecView): { path: string; analysis: RolloutAnalysisView }[] {
  const canary = spec.strategy?.canary;
  const blocks: { path: string; analysis: RolloutAnalysisView }[] = [];
  for (const [i, step] of (canary?.steps ?? []).entries()) {
    if (step.analysis) blocks.push({ path: `spec.strategy.canary.steps[${i}].analysis`, analysis: step.analysis });
  }
  if (canary?.analysis) blocks.push({ path: 'spec.strategy.canary.analysis', analysis: canary.analysis });
  const blueGreen = spec.strategy?.blueGreen;
  if (blueGreen?.prePromotionAnalysis) blocks.push({ path: 'spec.strategy.blueGreen.prePromotionAnalysis', analysis: blueGreen.prePromotionAnalysis });
  if (blueGreen?.postPromotionAnalysis) blocks.push({ path: 'spec.strategy.blueGreen.postPromotionAnalysis', analysis: blueGreen.postPromotionAnalysis });
  return blocks;
}
