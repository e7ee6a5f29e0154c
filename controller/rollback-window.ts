// spec.rollbackWindow: going back to one of the last N revisions is a fast rollback, like going back
// to the stable one (no steps, no analysis), as in Argo Rollouts. A rollback is a template whose
// ReplicaSet already exists and is older than the stable one; it is within the window when fewer
// than N ReplicaSets were created between the two.
import type { ObservedReplicaSet } from './model.ts';

/** Creation order: creationTimestamp, then revision (for equal seconds, or where it is not known). */
function createdBefore(a: ObservedReplicaSet, b: ObservedReplicaSet): boolean {
  const at = a.createdAt ? Date.parse(a.createdAt) : NaN;
  const bt = b.createdAt ? Date.parse(b.createdAt) : NaN;
  if (!Number.isNaN(at) && !Number.isNaN(bt) && at !== bt) return at < bt;
  return a.revision < b.revision;
}

export function rollbackWithinWindow(
  window: { revisions?: number } | undefined,
  newRS: ObservedReplicaSet | undefined,
  stableRS: ObservedReplicaSet | undefined,
  all: readonly ObservedReplicaSet[],
): boolean {
  const revisions = window?.revisions ?? 0;
  if (revisions <= 0 || newRS === undefined || stableRS === undefined || newRS.hash === stableRS.hash) return false;
  if (!createdBefore(newRS, stableRS)) return false;
  const between = all.filter((rs) => createdBefore(newRS, rs) && createdBefore(rs, stableRS)).length;
  return between < revisions;
}
