// spec.workloadRef, as in Argo Rollouts: the Rollout takes its pod template from a Deployment (and
// its selector too when it names none), so a team can move to a Rollout without copying the
// template; an update is a change of the Deployment's template. scaleDown says what happens to
// the Deployment's own pods: never (kept), onsuccess (scaled to 0 once the Rollout is Healthy) or
// progressively (one Deployment pod fewer per available Rollout pod, 0 once Healthy, and back up if
// the Rollout is Degraded and lacks pods). Pure: the controller observes the Deployment and applies.
import type { SpecIssue } from '../api/issues.ts';
import { selectorMatches } from '../api/rollout.ts';
import type { SpecView, StatusView } from './model.ts';

export interface ObservedWorkload {
  name: string;
  /** spec.replicas */
  replicas: number;
  generation: number;
  template: SpecView['template'];
  selector: SpecView['selector'];
}

/** The spec the planner and the applier use: the Deployment's template (and selector) filled in. */
export function resolveWorkloadSpec(spec: SpecView, namespace: string, workload: ObservedWorkload | undefined): { spec: SpecView; issues: SpecIssue[] } {
  const ref = spec.workloadRef;
  if (ref === undefined) return { spec, issues: [] };
  if (workload === undefined) {
    return { spec, issues: [{ path: 'spec.workloadRef.name', message: `Deployment "${ref.name ?? ''}" not found in namespace ${namespace}`, fix: 'create the Deployment or correct spec.workloadRef.name' }] };
  }
  const resolved: SpecView = { ...spec, template: workload.template, selector: spec.selector ?? workload.selector };
  const labels = workload.template?.metadata?.labels ?? {};
  const selector = resolved.selector;
  if (selector === undefined || !selectorMatches(selector as Parameters<typeof selectorMatches>[0], labels)) {
    return {
      spec: resolved,
      issues: [
        {
          path: spec.selector === undefined ? 'spec.workloadRef.name' : 'spec.selector',
          message: `the selector does not match the labels of Deployment ${workload.name}'s pod template`,
          fix: spec.selector === undefined ? 'give the Deployment a selector that matches its pod template' : 'make spec.selector match the Deployment\'s pod template labels, or leave it out to use the Deployment\'s',
        },
      ],
    };
  }
  return { spec: resolved, issues: [] };
}

/** The Deployment's new size after this plan, or undefined when it stays as it is. */
export function workloadScaleDown(spec: SpecView, workload: ObservedWorkload | undefined, status: StatusView): { name: string; from: number; to: number } | undefined {
  const mode = spec.workloadRef?.scaleDown ?? 'never';
  if (workload === undefined || mode === 'never') return undefined;
  const healthy = status.phase === 'Healthy';
  let to: number | undefined;
  if (mode === 'onsuccess') {
    to = healthy ? 0 : undefined;
  } else if (mode === 'progressively') {
    const lacking = Math.max(0, (spec.replicas ?? 1) - (status.availableReplicas ?? 0));
    // Down as Rollout pods become available (never above its size while progressing), back up if Degraded.
    to = healthy ? 0 : status.phase === 'Degraded' ? lacking : Math.min(workload.replicas, lacking);
  }
  return to === undefined || to === workload.replicas ? undefined : { name: workload.name, from: workload.replicas, to };
}
