// spec.workloadRef: the Rollout plans with the Deployment's template (and selector), and the
// Deployment steps aside as scaleDown says.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicaRatioCapabilities } from '../routers/replica-ratio/router.ts';
import { podTemplateHash } from '../api/hash.ts';
import type { ObservedReplicaSet, SpecView, StatusView } from './model.ts';
import { planRollout } from './planner.ts';
import { resolveWorkloadSpec, workloadScaleDown, type ObservedWorkload } from './workload-ref.ts';
import { parsePlanSpec, type PlannedInput } from './plan-spec.ts';

const deploymentTemplate = (image: string) => ({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image }] } });
const workload = (replicas: number, image = 'web:1'): ObservedWorkload => ({ name: 'web', replicas, generation: 4, template: deploymentTemplate(image), selector: { matchLabels: { app: 'web' } } });
const spec = (scaleDown?: string): SpecView => ({
  replicas: 3,
  workloadRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', ...(scaleDown ? { scaleDown } : {}) },
  strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }] } },
});

void test('the Deployment\'s template and selector stand in for the Rollout\'s; a missing Deployment or a selector that misses is a spec issue', () => {
  const resolved = resolveWorkloadSpec(spec(), 'ns', workload(3));
  assert.deepEqual(resolved.issues, []);
  assert.deepEqual(resolved.spec.template, deploymentTemplate('web:1'));
  assert.deepEqual(resolved.spec.selector, { matchLabels: { app: 'web' } });

  const missing = resolveWorkloadSpec(spec(), 'ns', undefined);
  assert.equal(missing.issues[0]?.path, 'spec.workloadRef.name');
  assert.match(missing.issues[0]?.message ?? '', /Deployment "web" not found in namespace ns/);

  const own = resolveWorkloadSpec({ ...spec(), selector: { matchLabels: { app: 'other' } } }, 'ns', workload(3));
  assert.equal(own.issues[0]?.path, 'spec.selector');
  assert.match(own.issues[0]?.fix ?? '', /leave it out/);
});

void test('scaleDown: never keeps the Deployment, onsuccess scales it to 0 once Healthy, progressively follows the available Rollout pods', () => {
  const status = (phase: string, availableReplicas: number): StatusView => ({ phase, availableReplicas });
  assert.equal(workloadScaleDown(spec(), workload(3), status('Healthy', 3)), undefined, 'never is the default');
  assert.equal(workloadScaleDown(spec('never'), workload(3), status('Healthy', 3)), undefined);
  assert.equal(workloadScaleDown(spec('onsuccess'), workload(3), status('Progressing', 2)), undefined);
  assert.deepEqual(workloadScaleDown(spec('onsuccess'), workload(3), status('Healthy', 3)), { name: 'web', from: 3, to: 0 });
  assert.equal(workloadScaleDown(spec('onsuccess'), workload(0), status('Healthy', 3)), undefined, 'already down: no write');
  assert.equal(workloadScaleDown(spec('progressively'), workload(3), status('Progressing', 0)), undefined, 'no Rollout pod yet: all Deployment pods stay');
  assert.deepEqual(workloadScaleDown(spec('progressively'), workload(3), status('Progressing', 1)), { name: 'web', from: 3, to: 2 });
  assert.deepEqual(workloadScaleDown(spec('progressively'), workload(2), status('Healthy', 3)), { name: 'web', from: 2, to: 0 });
  assert.deepEqual(workloadScaleDown(spec('progressively'), workload(1), status('Degraded', 1)), { name: 'web', from: 1, to: 2 }, 'a Degraded Rollout gets the Deployment back up');
  assert.equal(workloadScaleDown(spec('progressively'), workload(1), status('Paused', 0)), undefined, 'never above its size while progressing');
});

function input(rolloutSpec: SpecView, status: StatusView | undefined, replicaSets: ObservedReplicaSet[], observed: ObservedWorkload | undefined): PlannedInput {
  const resolved = resolveWorkloadSpec(rolloutSpec, 'ns', observed).spec;
  return {
    rollout: { name: 'web', namespace: 'ns', uid: 'u1', generation: 1, spec: parsePlanSpec(resolved), status },
    replicaSets,
    pods: [],
    services: {},
    specIssues: [],
    notImplemented: [],
    router: { name: 'test', capabilities: replicaRatioCapabilities },
    trafficVerified: true,
    now: Date.parse('2026-11-26T10:00:00Z'),
    workload: observed,
  };
}

void test('the planner: ReplicaSets named by the Deployment template\'s hash, the Deployment scaled to 0 when the Rollout is Healthy (onsuccess)', () => {
  const first = planRollout(input(spec('onsuccess'), undefined, [], workload(3)));
  const hash = podTemplateHash(deploymentTemplate('web:1'));
  assert.equal(first.create?.hash, hash);
  assert.equal(first.workloadScale, undefined, 'not before the Rollout is Healthy');
  assert.equal(first.status.workloadObservedGeneration, '4');

  const rs: ObservedReplicaSet = { name: `web-${hash}`, hash, revision: 1, replicas: 3, current: 3, ready: 3, available: 3, settled: true };
  const healthy = planRollout(input(spec('onsuccess'), first.status, [rs], workload(3)));
  assert.equal(healthy.status.phase, 'Healthy');
  assert.deepEqual(healthy.workloadScale, { name: 'web', from: 3, to: 0 });
  assert.ok(healthy.events.some((e) => e.reason === 'ScalingDeployment' && /Deployment web from 3 to 0/.test(e.message)));

  const updated = planRollout(input(spec('onsuccess'), healthy.status, [{ ...rs }], workload(0, 'web:2')));
  assert.equal(updated.create?.hash, podTemplateHash(deploymentTemplate('web:2')), 'a change of the Deployment\'s template is an update of the Rollout');
  assert.equal(updated.workloadScale, undefined);
});
