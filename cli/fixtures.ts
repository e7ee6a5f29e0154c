// Fabricated observed objects for the rendering tests: a Rollout in a chosen state with its
// ReplicaSets, pods, AnalysisRuns and routing observations, as the API server would return them.
import type { ReplicaSetObject, RolloutObject, StatusView, StepView } from '../api/views.ts';
import type { AnalysisRunObject, MetricResult, PodObject, RolloutSnapshot, RoutingObservation } from '../client/view.ts';

/** Every fixture is observed at this instant. */
export const NOW = Date.parse('2026-03-01T12:00:00Z');
export const ago = (seconds: number): string => new Date(NOW - seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');
export const later = (seconds: number): string => new Date(NOW + seconds * 1000).toISOString().replace(/\.000Z$/, 'Z');

export const WALKTHROUGH_STEPS: StepView[] = [
  { setWeight: 20 },
  { pause: {} },
  { setWeight: 40 },
  { pause: { duration: 10 } },
  { setWeight: 60 },
  { pause: { duration: 10 } },
  { setWeight: 80 },
  { pause: { duration: 10 } },
];

export function rollout(options: {
  name?: string;
  replicas?: number;
  steps?: StepView[];
  image?: string;
  status: StatusView;
  blueGreen?: { activeService: string } & Record<string, unknown>;
  trafficRouting?: Record<string, unknown>;
  paused?: boolean;
  generation?: number;
}): RolloutObject {
  const name = options.name ?? 'web';
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name, namespace: 'shop', uid: `uid-${name}`, generation: options.generation ?? 2, creationTimestamp: ago(3600) },
    spec: {
      replicas: options.replicas ?? 5,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { containers: [{ name, image: options.image ?? 'shop/web:2.0' }] } },
      ...(options.paused ? { paused: true } : {}),
      strategy: options.blueGreen
        ? { blueGreen: options.blueGreen }
        : { canary: { steps: options.steps ?? WALKTHROUGH_STEPS, canaryService: `${name}-canary`, stableService: `${name}-stable`, ...(options.trafficRouting ? { trafficRouting: options.trafficRouting } : {}) } },
    },
    status: { observedGeneration: String(options.generation ?? 2), ...options.status },
  };
}

export function replicaSet(owner: RolloutObject, options: { hash: string; revision: number; image: string; replicas: number; available?: number; ageSeconds: number; scaleDownDeadline?: string }): ReplicaSetObject {
  const name = `${owner.metadata.name}-${options.hash}`;
  const available = options.available ?? options.replicas;
  return {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: {
      name,
      namespace: 'shop',
      uid: `uid-${name}`,
      creationTimestamp: ago(options.ageSeconds),
      labels: { app: owner.metadata.name!, 'rollouts-pod-template-hash': options.hash },
      annotations: { 'rollway.dev/revision': String(options.revision), ...(options.scaleDownDeadline ? { 'rollway.dev/scale-down-deadline': options.scaleDownDeadline } : {}) },
      ownerReferences: [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }],
    },
    spec: { replicas: options.replicas, template: { spec: { containers: [{ name: owner.metadata.name!, image: options.image }] } } },
    status: { replicas: options.replicas, readyReplicas: available, availableReplicas: available },
  };
}

export function pods(rs: ReplicaSetObject, states: ('ready' | 'starting' | 'crashing')[], ageSeconds: number): PodObject[] {
  const suffixes = ['4kq2x', '7hz9p', 'b2m5n', 'c8w3t', 'd6r7v', 'f3j8l', 'g9p2s', 'h5t6q', 'j2x4z', 'k7n9w'];
  return states.map((state, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${rs.metadata.name}-${suffixes[i]}`,
      namespace: 'shop',
      uid: `uid-pod-${rs.metadata.name}-${i}`,
      creationTimestamp: ago(ageSeconds),
      labels: { ...rs.metadata.labels },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: rs.metadata.name!, uid: rs.metadata.uid!, controller: true }],
    },
    spec: { containers: [{ name: 'web', image: 'x' }] },
    status:
      state === 'ready'
        ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }], containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: {} }] }
        : state === 'starting'
          ? { phase: 'Pending', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'web', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] }
          : { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }], containerStatuses: [{ name: 'web', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } } }] },
  }));
}

export function analysisRun(owner: RolloutObject, options: { name: string; hash: string; phase: string; ageSeconds: number; metrics: MetricResult[] }): AnalysisRunObject {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'AnalysisRun',
    metadata: {
      name: options.name,
      namespace: 'shop',
      uid: `uid-${options.name}`,
      creationTimestamp: ago(options.ageSeconds),
      labels: { 'rollouts-pod-template-hash': options.hash },
      ownerReferences: [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: owner.metadata.name!, uid: owner.metadata.uid!, controller: true }],
    },
    spec: { metrics: options.metrics.map((m) => ({ name: m.name })) },
    status: { phase: options.phase, metricResults: options.metrics },
  };
}

export function snapshot(ro: RolloutObject, sets: ReplicaSetObject[], podList: PodObject[] = [], runs: AnalysisRunObject[] = [], routing: RoutingObservation[] = []): RolloutSnapshot {
  return { rollout: ro, replicaSets: sets, pods: podList, analysisRuns: runs, routing };
}

const condition = (type: string, status: 'True' | 'False', reason: string) => ({ type, status, reason, message: reason, lastUpdateTime: ago(30), lastTransitionTime: ago(30) });

/** Paused at step 2/8 (manual pause) after setWeight 20: 1 canary pod, 4 stable. */
export function pausedCanary(): RolloutSnapshot {
  const ro = rollout({
    status: {
      phase: 'Paused',
      message: 'CanaryPauseStep',
      currentPodHash: 'b7k2x9',
      stableRS: 'a4f8q2',
      currentStepIndex: 1,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: ago(42) }],
      controllerPause: true,
      replicas: 5,
      updatedReplicas: 1,
      readyReplicas: 5,
      availableReplicas: 5,
      canary: { weights: { canary: { weight: 20, podTemplateHash: 'b7k2x9' }, stable: { weight: 80, podTemplateHash: 'a4f8q2' } } },
      conditions: [condition('Paused', 'True', 'RolloutPaused')],
    },
  });
  const stable = replicaSet(ro, { hash: 'a4f8q2', revision: 1, image: 'shop/web:1.0', replicas: 4, ageSeconds: 3600 });
  const canary = replicaSet(ro, { hash: 'b7k2x9', revision: 2, image: 'shop/web:2.0', replicas: 1, ageSeconds: 50 });
  return snapshot(ro, [stable, canary], [...pods(stable, ['ready', 'ready', 'ready', 'ready'], 3500), ...pods(canary, ['ready'], 48)]);
}

/** Aborted at step 3: the canary is scaled to 0 after its delay, all traffic back on stable. */
export function aborted(): RolloutSnapshot {
  const ro = rollout({
    image: 'shop/web:3.0-bad',
    status: {
      phase: 'Degraded',
      message: 'RolloutAborted: Rollout aborted update to revision 3',
      currentPodHash: 'c9m3v5',
      stableRS: 'b7k2x9',
      currentStepIndex: 0,
      abort: true,
      abortedAt: ago(20),
      replicas: 6,
      updatedReplicas: 1,
      readyReplicas: 5,
      availableReplicas: 5,
      canary: { weights: { canary: { weight: 0, podTemplateHash: 'c9m3v5' }, stable: { weight: 100, podTemplateHash: 'b7k2x9' } } },
    },
    trafficRouting: { istio: { virtualService: { name: 'web-vsvc', routes: ['primary'] } } },
  });
  const stable = replicaSet(ro, { hash: 'b7k2x9', revision: 2, image: 'shop/web:2.0', replicas: 5, ageSeconds: 1800 });
  const bad = replicaSet(ro, { hash: 'c9m3v5', revision: 3, image: 'shop/web:3.0-bad', replicas: 1, available: 0, ageSeconds: 90, scaleDownDeadline: later(10) });
  const old = replicaSet(ro, { hash: 'a4f8q2', revision: 1, image: 'shop/web:1.0', replicas: 0, ageSeconds: 3600 });
  return snapshot(
    ro,
    [old, stable, bad],
    [...pods(stable, ['ready', 'ready', 'ready', 'ready', 'ready'], 1700), ...pods(bad, ['crashing'], 85)],
    [],
    [{ kind: 'VirtualService', name: 'web-vsvc', namespace: 'shop', weight: { canary: 0, total: 100 } }],
  );
}

/** An analysis step running at step 3/5 with an exact 0.5% canary through a VirtualService. */
export function analysisRunning(): RolloutSnapshot {
  const steps: StepView[] = [{ setWeight: 0.5 }, { pause: { duration: '1m' } }, { analysis: { templates: [{ templateName: 'success-rate' }] } }, { setWeight: 50 }, { pause: {} }];
  const ro = rollout({
    steps,
    status: {
      phase: 'Progressing',
      message: 'more replicas need to be updated',
      currentPodHash: 'b7k2x9',
      stableRS: 'a4f8q2',
      currentStepIndex: 2,
      replicas: 6,
      updatedReplicas: 1,
      readyReplicas: 6,
      availableReplicas: 6,
      canary: {
        weights: { canary: { weight: 0.5, podTemplateHash: 'b7k2x9' }, stable: { weight: 99.5, podTemplateHash: 'a4f8q2' } },
        currentStepAnalysisRunStatus: { name: 'web-b7k2x9-2-2', status: 'Running' },
      },
    },
    trafficRouting: { istio: { virtualService: { name: 'web-vsvc' } } },
  });
  const stable = replicaSet(ro, { hash: 'a4f8q2', revision: 1, image: 'shop/web:1.0', replicas: 5, ageSeconds: 3600 });
  const canary = replicaSet(ro, { hash: 'b7k2x9', revision: 2, image: 'shop/web:2.0', replicas: 1, ageSeconds: 120 });
  const run = analysisRun(ro, {
    name: 'web-b7k2x9-2-2',
    hash: 'b7k2x9',
    phase: 'Running',
    ageSeconds: 30,
    metrics: [
      { name: 'success-rate', phase: 'Running', successful: 3, failed: 0, inconclusive: 1, error: 0, count: 4 },
      { name: 'latency-p99', phase: 'Running', successful: 2, failed: 1, inconclusive: 0, error: 1, count: 4 },
    ],
  });
  return snapshot(
    ro,
    [stable, canary],
    [...pods(stable, ['ready', 'ready', 'ready', 'ready', 'ready'], 3500), ...pods(canary, ['ready'], 110)],
    [run],
    [{ kind: 'VirtualService', name: 'web-vsvc', namespace: 'shop', weight: { canary: 1, total: 200 } }],
  );
}

/** Blue/green waiting for promotion: the preview ReplicaSet is up, the active Service still on blue. */
export function blueGreen(): RolloutSnapshot {
  const ro = rollout({
    replicas: 3,
    blueGreen: { activeService: 'web-active', previewService: 'web-preview', autoPromotionEnabled: false },
    status: {
      phase: 'Paused',
      message: 'BlueGreenPause',
      currentPodHash: 'g5n8r2',
      stableRS: 'f2d7w4',
      pauseConditions: [{ reason: 'BlueGreenPause', startTime: ago(15) }],
      replicas: 6,
      updatedReplicas: 3,
      readyReplicas: 5,
      availableReplicas: 5,
      blueGreen: { activeSelector: 'f2d7w4', previewSelector: 'g5n8r2' },
    },
  });
  const blue = replicaSet(ro, { hash: 'f2d7w4', revision: 4, image: 'shop/web:blue', replicas: 3, ageSeconds: 7200 });
  const green = replicaSet(ro, { hash: 'g5n8r2', revision: 5, image: 'shop/web:green', replicas: 3, available: 2, ageSeconds: 20 });
  return snapshot(ro, [blue, green], [...pods(blue, ['ready', 'ready', 'ready'], 7100), ...pods(green, ['ready', 'ready', 'starting'], 18)]);
}

/**
 * A weighted experiment step running (step 1/3, setWeight 0): its Experiment with a baseline and a
 * canary template (a ReplicaSet and pod each) and an analysis; the VirtualService carries stable
 * 90, canary 0 and 5 + 5 for the templates' Services.
 */
export function experimentStep(): RolloutSnapshot {
  const steps: StepView[] = [
    { setWeight: 0 },
    { experiment: { duration: '5m', templates: [{ name: 'baseline', specRef: 'stable', weight: 5 }, { name: 'canary', specRef: 'canary', weight: 5 }], analyses: [{ name: 'compare', templateName: 'latency' }] } },
    { setWeight: 20 },
  ];
  const ro = rollout({
    steps,
    status: {
      phase: 'Progressing',
      message: 'waiting for experiment web-b7k2x9-2-1',
      currentPodHash: 'b7k2x9',
      stableRS: 'a4f8q2',
      currentStepIndex: 1,
      replicas: 5,
      updatedReplicas: 0,
      readyReplicas: 5,
      availableReplicas: 5,
      canary: { weights: { canary: { weight: 0, podTemplateHash: 'b7k2x9' }, stable: { weight: 90, podTemplateHash: 'a4f8q2' } } },
    },
    trafficRouting: { istio: { virtualService: { name: 'web-vsvc' } } },
  });
  const stable = replicaSet(ro, { hash: 'a4f8q2', revision: 1, image: 'shop/web:1.0', replicas: 5, ageSeconds: 3600 });
  const canary = replicaSet(ro, { hash: 'b7k2x9', revision: 2, image: 'shop/web:2.0', replicas: 0, ageSeconds: 120 });
  const exp = {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Experiment',
    metadata: {
      name: 'web-b7k2x9-2-1',
      namespace: 'shop',
      uid: 'uid-exp',
      creationTimestamp: ago(100),
      labels: { 'rollouts-pod-template-hash': 'b7k2x9' },
      annotations: { 'rollway.dev/revision': '2' },
      ownerReferences: [{ apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout', name: 'web', uid: ro.metadata.uid!, controller: true }],
    },
    spec: { duration: '5m', templates: [] },
    status: { phase: 'Running' as const, availableAt: ago(60) },
  };
  const owned = { apiVersion: 'rollway.dev/v1alpha1', kind: 'Experiment', name: exp.metadata.name, uid: exp.metadata.uid, controller: true };
  const template = (name: string, hash: string, image: string): ReplicaSetObject => {
    const rs = replicaSet(ro, { hash, revision: 0, image, replicas: 1, ageSeconds: 95 });
    rs.metadata.name = `web-b7k2x9-2-1-${name}`;
    rs.metadata.uid = `uid-exp-${name}`;
    rs.metadata.annotations = { 'rollway.dev/experiment-template-name': name };
    rs.metadata.ownerReferences = [owned];
    return rs;
  };
  const baseline = template('baseline', 'x1b2c3', 'shop/web:1.0');
  const expCanary = template('canary', 'y4d5e6', 'shop/web:2.0');
  const run = analysisRun(ro, { name: 'web-b7k2x9-2-1-compare', hash: 'b7k2x9', phase: 'Running', ageSeconds: 60, metrics: [{ name: 'p99', phase: 'Running', successful: 2, failed: 0, inconclusive: 0, error: 0, count: 2 }] });
  run.metadata.ownerReferences = [owned];
  const snap = snapshot(
    ro,
    [stable, canary, baseline, expCanary],
    [...pods(stable, ['ready', 'ready', 'ready', 'ready', 'ready'], 3500), ...pods(baseline, ['ready'], 90), ...pods(expCanary, ['ready'], 90)],
    [run],
    [{ kind: 'VirtualService', name: 'web-vsvc', namespace: 'shop', weight: { canary: 0, total: 100, extras: [{ service: 'web-b7k2x9-2-1-baseline', weight: 5 }, { service: 'web-b7k2x9-2-1-canary', weight: 5 }] } }],
  );
  return { ...snap, experiments: [exp] };
}
