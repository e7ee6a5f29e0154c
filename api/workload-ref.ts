// spec.workloadRef: a Rollout that takes its pod template (and, when it names none, its selector)
// from a Deployment, as in Argo Rollouts. Shape rules here; the controller resolves the reference.
import type { SpecIssue } from './issues.ts';
import type { RolloutSpec } from './rollout.ts';

const PATH = 'spec.workloadRef';
export const WORKLOAD_SCALE_DOWN = ['never', 'onsuccess', 'progressively'] as const;
export type WorkloadScaleDown = (typeof WORKLOAD_SCALE_DOWN)[number];

export function workloadRefIssues(ref: NonNullable<RolloutSpec['workloadRef']>): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string, fix: string): void => void issues.push({ path, message, fix });
  if (ref.apiVersion !== 'apps/v1') {
    add(`${PATH}.apiVersion`, ref.apiVersion === undefined ? 'apiVersion is missing' : `apiVersion must be apps/v1, got ${JSON.stringify(ref.apiVersion)}`, 'set apiVersion: apps/v1 (a Deployment)');
  }
  if (ref.kind !== 'Deployment') {
    add(`${PATH}.kind`, ref.kind === undefined ? 'kind is missing' : `kind must be Deployment, got ${JSON.stringify(ref.kind)}`, 'set kind: Deployment');
  }
  if (!ref.name) add(`${PATH}.name`, 'name is missing', 'name the Deployment whose pod template the Rollout uses');
  if (ref.scaleDown !== undefined && !(WORKLOAD_SCALE_DOWN as readonly string[]).includes(ref.scaleDown)) {
    add(`${PATH}.scaleDown`, `scaleDown must be one of never, onsuccess, progressively, got ${JSON.stringify(ref.scaleDown)}`, 'use never (the default), onsuccess or progressively');
  }
  return issues;
}
