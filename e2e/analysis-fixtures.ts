// Shared pieces of the analysis e2e scenarios: Rollout and template manifests, and small waits.
// (The analysis CRDs come with the cluster: cluster-up applies ours even on a running cluster.)
import assert from 'node:assert/strict';
import type { RolloutObject } from '../api/views.ts';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import { Cluster, sleep } from './harness.ts';

export const rolloutRef = (ns: string, name: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
export const runRef = (ns: string, name?: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'analysisruns', namespace: ns, name });
export const rsRef = (ns: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns });
export const jobRef = (ns: string, name?: string): ResourceRef => ({ group: 'batch', version: 'v1', plural: 'jobs', namespace: ns, name });

export interface RunObject extends KubeObject {
  spec: { metrics: { name: string }[]; terminate?: boolean };
  status?: {
    phase: string;
    message?: string;
    metricResults?: { name: string; phase: string; count?: number; successful?: number; failed?: number; error?: number; inconclusive?: number; consecutiveError?: number; measurements?: { phase: string; value?: string; message?: string; metadata?: Record<string, string> }[] }[];
  };
}

export interface RolloutOptions {
  replicas?: number;
  image?: string;
  /** YAML of the steps list items, indented for `steps:` */
  steps: string;
  /** YAML of strategy.canary.analysis, indented under `analysis:` */
  background?: string;
}

export function rolloutYaml(name: string, options: RolloutOptions): string {
  return `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: ${name}
spec:
  replicas: ${options.replicas ?? 2}
  revisionHistoryLimit: 3
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: app
        image: ${options.image ?? 'registry.example/app:1'}
  strategy:
    canary:
      scaleDownDelaySeconds: 0
      steps:
${options.steps}
${options.background ? `      analysis:\n${options.background}` : ''}
`;
}

/** An AnalysisTemplate named `name` whose spec is `body` (YAML indented under `spec:`). */
export const templateYaml = (name: string, body: string): string => `
apiVersion: rollway.dev/v1alpha1
kind: AnalysisTemplate
metadata: {name: ${name}}
spec:
${body}
`;

export const phaseIs = (phase: string, extra: (ro: RolloutObject) => boolean = () => true) => (ro: RolloutObject | undefined): boolean =>
  ro?.status?.phase === phase && ro.status.observedGeneration === String(ro.metadata.generation) && extra(ro);

/** Sets the image of the Rollout's only container (a new revision). */
export async function setImage(cluster: Cluster, ns: string, name: string, image: string): Promise<void> {
  await cluster.patch(rolloutRef(ns, name), [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: image }], 'json');
}

/** The AnalysisRuns of a Rollout, oldest first. */
export async function runsOf(cluster: Cluster, ns: string, rollout: string): Promise<RunObject[]> {
  const runs = await cluster.list<RunObject>(runRef(ns), `rollway.dev/rollout=${rollout}`);
  return runs.sort((a, b) => (a.metadata.creationTimestamp ?? '').localeCompare(b.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

/** Waits for a run to reach a phase; answers it. */
export async function waitForRun(cluster: Cluster, ns: string, name: string, phase: string, timeoutMs = 60_000): Promise<RunObject> {
  const run = await cluster.waitFor<RunObject>(runRef(ns, name), (r) => r?.status?.phase === phase, { what: `AnalysisRun ${name} ${phase}`, timeoutMs });
  return run!;
}

/**
 * Asserts that an Event of `reason` about the object has a message matching every pattern. A
 * step's Normal Events are one Event (controller/step-event.ts) under the step's headline reason,
 * so a Normal message is found in any Normal Event; Warnings keep their own reason.
 */
export async function expectEvent(cluster: Cluster, ns: string, involved: { kind: string; name: string }, reason: string, patterns: RegExp[], timeoutMs = 10_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await cluster.events(ns, involved);
    const seen = events.map((e) => `${e.reason ?? ''}: ${e.message ?? ''}`);
    const found = events.find((e) => (e.reason === reason || (e.type === 'Normal' && !WARNING_REASONS.test(reason))) && patterns.every((p) => p.test(e.message ?? '')));
    if (found) return found.message ?? '';
    if (Date.now() > deadline) assert.fail(`no ${reason} Event on ${involved.kind} ${involved.name} matching ${patterns.join(', ')}; Events:\n${seen.join('\n')}`);
    await sleep(250);
  }
}

/** Reasons the controller writes as Warnings (each its own Event). */
const WARNING_REASONS = /^(AnalysisRun(Failed|Error|Inconclusive)|RolloutAborted|InvalidSpec|StepNotImplemented|RolloutProgressDeadlineExceeded)$/;
