// Semantic rules of the canary fields that shape pods and old ReplicaSets: antiAffinity,
// canaryMetadata/stableMetadata, replicaProgressThreshold and scaleDownDelayRevisionLimit.
// Called from semanticIssues (api/rollout.ts); the rules are Argo Rollouts' where it has one, plus
// the one that keeps ephemeral labels from pulling pods out of their own ReplicaSet.
import type { SpecIssue } from './issues.ts';
import type { RolloutSpec } from './rollout.ts';

const CANARY = 'spec.strategy.canary';
/** The label the controller puts on every pod of a revision (controller/hash.ts has the same). */
const HASH_LABEL = 'rollouts-pod-template-hash';
export const PROGRESS_THRESHOLD_TYPES = ['Percent', 'Pod'] as const;

type Canary = NonNullable<NonNullable<RolloutSpec['strategy']>['canary']>;

/** `historyWritten`: spec.revisionHistoryLimit is the user's (not the schema's default). */
export function canaryFieldIssues(spec: RolloutSpec, canary: Canary, historyWritten: boolean): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string, fix: string): void => void issues.push({ path, message, fix });
  checkAntiAffinity(canary, add);
  checkEphemeralLabels(spec, canary, add);
  checkProgressThreshold(canary, add);
  const limit = canary.scaleDownDelayRevisionLimit;
  const history = spec.revisionHistoryLimit;
  if (limit !== undefined && limit > history) {
    add(
      `${CANARY}.scaleDownDelayRevisionLimit`,
      `scaleDownDelayRevisionLimit (${limit}) is larger than revisionHistoryLimit (${history}${historyWritten ? '' : ', the default'}): old ReplicaSets kept running would be deleted`,
      `lower scaleDownDelayRevisionLimit to ${history} or less, or raise spec.revisionHistoryLimit to ${limit}`,
    );
  }
  return issues;
}

type Add = (path: string, message: string, fix: string) => void;

function checkAntiAffinity(canary: Canary, add: Add): void {
  const anti = canary.antiAffinity;
  if (anti === undefined) return;
  const path = `${CANARY}.antiAffinity`;
  const preferred = anti.preferredDuringSchedulingIgnoredDuringExecution;
  const required = anti.requiredDuringSchedulingIgnoredDuringExecution;
  if ((preferred === undefined) === (required === undefined)) {
    add(
      path,
      preferred === undefined ? 'antiAffinity names no strategy' : 'antiAffinity sets both preferredDuringSchedulingIgnoredDuringExecution and requiredDuringSchedulingIgnoredDuringExecution',
      'set exactly one: preferredDuringSchedulingIgnoredDuringExecution: {weight: 100} or requiredDuringSchedulingIgnoredDuringExecution: {}',
    );
  }
  if (preferred !== undefined && (preferred.weight < 1 || preferred.weight > 100)) {
    add(`${path}.preferredDuringSchedulingIgnoredDuringExecution.weight`, `weight must be between 1 and 100, got ${preferred.weight}`, 'use a weight from 1 to 100, e.g. 100');
  }
}

/** Ephemeral labels may not touch the labels that tie pods to their ReplicaSet and Services. */
function checkEphemeralLabels(spec: RolloutSpec, canary: Canary, add: Add): void {
  const selectorKeys = new Set([...Object.keys(spec.selector?.matchLabels ?? {}), ...(spec.selector?.matchExpressions ?? []).map((e) => e.key), HASH_LABEL]);
  for (const field of ['canaryMetadata', 'stableMetadata'] as const) {
    for (const key of Object.keys(canary[field]?.labels ?? {})) {
      if (!selectorKeys.has(key)) continue;
      add(
        `${CANARY}.${field}.labels.${key}`,
        key === HASH_LABEL
          ? `${field} may not set ${HASH_LABEL}: the controller sets it to tell revisions apart`
          : `${field} sets label ${key}, which spec.selector uses: changed on running pods, it would take them out of their ReplicaSet`,
        `remove ${key} from ${field}.labels, or use another label name such as role`,
      );
    }
  }
}

function checkProgressThreshold(canary: Canary, add: Add): void {
  const threshold = canary.replicaProgressThreshold;
  if (threshold === undefined) return;
  const path = `${CANARY}.replicaProgressThreshold`;
  if (!(PROGRESS_THRESHOLD_TYPES as readonly string[]).includes(threshold.type)) {
    add(`${path}.type`, `type must be Percent or Pod, got ${JSON.stringify(threshold.type)}`, 'use type: Percent (of the step\'s canary pods) or type: Pod (a number of pods)');
  }
  if (threshold.value <= 0) {
    add(`${path}.value`, `value must be more than 0, got ${threshold.value}`, threshold.type === 'Pod' ? 'use a number of pods such as 2' : 'use a percentage such as 80');
  } else if (threshold.type === 'Percent' && threshold.value > 100) {
    add(`${path}.value`, `a Percent threshold must be at most 100, got ${threshold.value}`, 'use a percentage from 1 to 100, e.g. 80');
  }
}
