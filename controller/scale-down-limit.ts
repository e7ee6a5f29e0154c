// strategy.canary.scaleDownDelayRevisionLimit, as in Argo Rollouts: with a traffic router, old
// ReplicaSets keep their pods for scaleDownDelaySeconds after they stop serving; at most this many
// may do so at once. The newest keep their delay; older ones are scaled down at once.
import { SCALE_DOWN_DEADLINE_ANNOTATION, type ObservedReplicaSet, type ReplicaSetScale } from './model.ts';

/**
 * Applies the limit to a plan's scale changes. `delayed` are the old ReplicaSets the plan keeps
 * running for their delay. Answers the names scaled down because of the limit.
 */
export function limitDelayedScaleDowns(scale: ReplicaSetScale[], delayed: readonly ObservedReplicaSet[], limit: number | undefined): string[] {
  if (limit === undefined) return [];
  const newestFirst = [...delayed].sort((a, b) => b.revision - a.revision);
  const beyond = newestFirst.slice(Math.max(0, limit));
  for (const rs of beyond) {
    const annotations: Record<string, string | null> = rs.scaleDownDeadline ? { [SCALE_DOWN_DEADLINE_ANNOTATION]: null } : {};
    const existing = scale.find((s) => s.name === rs.name);
    if (existing) {
      existing.to = 0;
      const rest = Object.fromEntries(Object.entries(existing.annotations ?? {}).filter(([key]) => key !== SCALE_DOWN_DEADLINE_ANNOTATION));
      const merged = { ...rest, ...annotations };
      if (Object.keys(merged).length > 0) existing.annotations = merged;
      else delete existing.annotations;
    } else {
      scale.push({ name: rs.name, from: rs.replicas, to: 0, ...(Object.keys(annotations).length > 0 ? { annotations } : {}) });
    }
  }
  return beyond.map((rs) => rs.name);
}
