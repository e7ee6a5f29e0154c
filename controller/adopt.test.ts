// ReplicaSets adopted from Argo Rollouts keep their name and hash: the planner finds the current
// one by its template, not by our hash, and neither creates a ReplicaSet nor replaces a pod.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicaRatioCapabilities } from '../routers/replica-ratio/router.ts';
import { adoptedHash, normalizeTemplate, templateKey } from './adopt.ts';
import { podTemplateHash } from '../api/hash.ts';
import type { ObservedReplicaSet, Plan, SpecView, StatusView } from './model.ts';
import { planRollout } from './planner.ts';
import { parsePlanSpec } from './plan-spec.ts';

const template = (image: string) => ({ metadata: { labels: { app: 'shop' } }, spec: { containers: [{ name: 'shop', image, ports: [{ containerPort: 8080 }] }] } });

/** The template as the API server returns it in a ReplicaSet Argo made: defaults and Argo's hash label. */
function asStored(t: ReturnType<typeof template>, hash: string) {
  return {
    metadata: { creationTimestamp: null, labels: { ...t.metadata.labels, 'rollouts-pod-template-hash': hash } },
    spec: {
      containers: t.spec.containers.map((c) => ({ resources: {}, ...c, ports: c.ports.map((p) => ({ ...p, protocol: 'TCP' })), terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: 'IfNotPresent' })),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      securityContext: {},
      schedulerName: 'default-scheduler',
    },
  };
}

void test('a stored ReplicaSet template equals the Rollout template once defaults and the hash label are set aside', () => {
  const t = template('shop:2');
  assert.equal(templateKey(asStored(t, '58cd967857')), templateKey(t));
  assert.notEqual(templateKey(asStored(template('shop:1'), '58cd967857')), templateKey(t), 'another image');
  const withLimits = { ...t, spec: { containers: [{ ...t.spec.containers[0]!, resources: { limits: { cpu: '1' } } }] } };
  assert.notEqual(templateKey(asStored(withLimits as never, 'x')), templateKey(t), 'a field removed from the template since is a difference, not a default');
  const latest = asStored(template('shop:latest'), 'x');
  latest.spec.containers[0]!.imagePullPolicy = 'IfNotPresent';
  assert.notEqual(templateKey(latest), templateKey(template('shop:latest')), ':latest defaults to Always, so IfNotPresent was chosen');
  assert.deepEqual(normalizeTemplate(t), t, 'nothing to drop from a plain template');
});

void test('the ReplicaSet the status names wins over another with the same template, then the newest revision', () => {
  const key = templateKey(template('shop:2'));
  const sets = [
    { hash: 'a', revision: 3, templateKey: key },
    { hash: 'b', revision: 5, templateKey: key },
    { hash: 'c', revision: 6, templateKey: 'other' },
  ];
  assert.equal(adoptedHash(sets, template('shop:2'), 'a'), 'a');
  assert.equal(adoptedHash(sets, template('shop:2'), undefined), 'b');
  assert.equal(adoptedHash(sets, template('shop:3'), 'a'), undefined);
});

const STEPS = [{ setWeight: 20 }, { pause: {} }, { setWeight: 60 }, { pause: { duration: 5 } }];
const NOW = Date.parse('2026-11-30T10:00:00Z');

function argoWorld(withKeys: boolean) {
  const spec: SpecView = { replicas: 5, selector: { matchLabels: { app: 'shop' } }, template: template('shop:2'), strategy: { canary: { steps: STEPS } } } as SpecView;
  const rs = (name: string, hash: string, revision: number, replicas: number, image: string): ObservedReplicaSet => ({
    name,
    hash,
    revision,
    replicas,
    current: replicas,
    ready: replicas,
    available: replicas,
    settled: true,
    templateKey: withKeys ? templateKey(asStored(template(image), hash)) : undefined,
  });
  const replicaSets = [rs('shop-6b8f7c9d45', '6b8f7c9d45', 1, 4, 'shop:1'), rs('shop-58cd967857', '58cd967857', 2, 1, 'shop:2')];
  // What rollway migrate writes: Argo's status, paused at step 1 after setWeight 20.
  const status: StatusView = {
    currentPodHash: '58cd967857',
    stableRS: '6b8f7c9d45',
    currentStepIndex: 1,
    pauseConditions: [{ reason: 'CanaryPauseStep', startTime: new Date(NOW - 60_000).toISOString() }],
    controllerPause: true,
    observedGeneration: '1',
  } as StatusView;
  return { spec, replicaSets, status };
}

function plan(world: ReturnType<typeof argoWorld>, now = NOW): Plan {
  return planRollout({
    rollout: { name: 'shop', namespace: 'ns', uid: 'u1', generation: 1, spec: parsePlanSpec(world.spec), status: world.status },
    replicaSets: world.replicaSets,
    pods: [],
    services: {},
    specIssues: [],
    notImplemented: [],
    router: { name: 'test', capabilities: replicaRatioCapabilities },
    trafficVerified: true,
    now,
  });
}

void test('an adopted paused canary stays where Argo left it: no new ReplicaSet, no scaling, same step', () => {
  const world = argoWorld(true);
  const p = plan(world);
  assert.equal(p.create, undefined, 'no ReplicaSet created');
  assert.deepEqual(p.scale.filter((s) => world.replicaSets.find((r) => r.name === s.name)?.replicas !== s.to), [], 'no ReplicaSet resized');
  assert.deepEqual(p.deleteReplicaSets, []);
  assert.deepEqual(p.deletePods, []);
  assert.equal(p.status.currentPodHash, '58cd967857');
  assert.equal(p.status.currentStepIndex, 1);
  assert.ok((p.status.pauseConditions ?? []).length > 0, 'still paused');
  // Without the template match, Rollway's own hash names no ReplicaSet: a new one and a restart from step 0.
  const blind = plan(argoWorld(false));
  assert.equal(blind.create?.name, `shop-${podTemplateHash(template('shop:2'))}`);
  assert.equal(blind.status.currentStepIndex, 0);
});

void test('promoted, the adopted canary completes under its Argo name and hash', () => {
  const world = argoWorld(true);
  world.status = { ...world.status, pauseConditions: [] }; // what rollway promote does
  let now = NOW;
  for (let i = 0; i < 20 && world.status.stableRS !== '58cd967857'; i++) {
    const p = plan(world, now);
    assert.equal(p.create, undefined, `reconcile ${i} creates no ReplicaSet`);
    for (const s of p.scale) {
      const rs = world.replicaSets.find((r) => r.name === s.name)!;
      rs.replicas = rs.current = rs.ready = rs.available = s.to;
    }
    world.status = p.status;
    now += 6_000;
  }
  assert.equal(world.status.stableRS, '58cd967857');
  assert.equal(world.replicaSets.find((r) => r.hash === '58cd967857')?.replicas, 5);
});

void test('an adopted blue-green Rollout awaiting promotion keeps its preview stack and Services as Argo left them', () => {
  const spec = { replicas: 3, selector: { matchLabels: { app: 'shop' } }, template: template('shop:2'), strategy: { blueGreen: { activeService: 'active', previewService: 'preview', autoPromotionEnabled: false } } } as SpecView;
  const rs = (hash: string, revision: number, image: string, keyed = true): ObservedReplicaSet => ({ name: `shop-${hash}`, hash, revision, replicas: 3, current: 3, ready: 3, available: 3, settled: true, templateKey: keyed ? templateKey(asStored(template(image), hash)) : undefined });
  const status = {
    currentPodHash: '58cd967857',
    stableRS: '6b8f7c9d45',
    blueGreen: { activeSelector: '6b8f7c9d45', previewSelector: '58cd967857' },
    pauseConditions: [{ reason: 'BlueGreenPause', startTime: new Date(NOW - 60_000).toISOString() }],
    controllerPause: true,
  } as StatusView;
  const plan = (keyed: boolean) => planRollout({
    rollout: { name: 'shop', namespace: 'ns', uid: 'u1', generation: 1, spec: parsePlanSpec(spec), status },
    replicaSets: [rs('6b8f7c9d45', 1, 'shop:1', keyed), rs('58cd967857', 2, 'shop:2', keyed)],
    pods: [],
    services: {
      active: { name: 'active', selector: { app: 'shop', 'rollouts-pod-template-hash': '6b8f7c9d45' } },
      preview: { name: 'preview', selector: { app: 'shop', 'rollouts-pod-template-hash': '58cd967857' } },
    },
    specIssues: [],
    notImplemented: [],
    router: { name: 'none', capabilities: replicaRatioCapabilities },
    trafficVerified: true,
    now: NOW,
  });
  const p = plan(true);
  assert.equal(p.create, undefined);
  assert.ok(plan(false).create, 'without the template match: a third stack');
  assert.deepEqual(p.scale.filter((s) => s.to !== 3), [], 'neither stack resized');
  assert.deepEqual(p.services, [], 'no Service switched');
  assert.equal(p.status.currentPodHash, '58cd967857');
  assert.ok((p.status.pauseConditions ?? []).length > 0, 'still waiting for promotion');
});

void test('the planner names the current revision with the hash the controller kept for the generation', () => {
  const world = argoWorld(false);
  const kept = planRollout({ ...planInputOf(world), templateHash: 'keptkeptkp' });
  assert.equal(kept.create?.name, 'shop-keptkeptkp', 'not hashed again');
  assert.equal(kept.status.currentPodHash, 'keptkeptkp');
});

function planInputOf(world: ReturnType<typeof argoWorld>): Parameters<typeof planRollout>[0] {
  return { rollout: { name: 'shop', namespace: 'ns', uid: 'u1', generation: 1, spec: parsePlanSpec(world.spec), status: world.status }, replicaSets: world.replicaSets, pods: [], services: {}, specIssues: [], notImplemented: [], router: { name: 'test', capabilities: replicaRatioCapabilities }, trafficVerified: true, now: NOW };
}
