// The fields that shape pods and old ReplicaSets without changing the pod-template hash:
// canaryMetadata/stableMetadata, antiAffinity, replicaProgressThreshold,
// scaleDownDelayRevisionLimit and rollbackWindow. The planner runs against a small world whose
// ReplicaSets keep their pods by name (a pod replaced would get a new name), so "no restart"
// is visible: the same pod names before and after a change of role.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { replicaRatioCapabilities } from '../routers/replica-ratio/router.ts';
import type { RouterCapabilities } from '../routers/types.ts';
import { podTemplateHash } from '../api/hash.ts';
import type { ObservedPod, ObservedReplicaSet, Plan, PodMetadata, SpecView, StatusView } from './model.ts';
import { planRollout } from './planner.ts';
import { EPHEMERAL_METADATA_ANNOTATION } from './pod-metadata.ts';
import { parsePlanSpec } from './plan-spec.ts';

const exactRouter: RouterCapabilities = { weightResolutionPercent: 0.01, headerMatch: ['exact'], mirror: false, verification: false, replicaBased: false };
const HASH = 'rollouts-pod-template-hash';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** RFC 7386, as the API server applies a merge patch. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Json = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = applyMergePatch(out[key], value);
  }
  return out;
}

function template(image: string, extra: Json = {}) {
  return { metadata: { labels: { app: 'demo', tier: 'front' } }, spec: { containers: [{ name: 'demo', image }], ...extra } };
}

interface WorldReplicaSet extends ObservedReplicaSet {
  annotations: Record<string, string>;
}

class World {
  spec: SpecView;
  status: StatusView | undefined;
  replicaSets = new Map<string, WorldReplicaSet>();
  pods: (ObservedPod & { labels: Record<string, string>; annotations: Record<string, string> })[] = [];
  now = Date.parse('2026-11-26T10:00:00Z');
  generation = 1;
  /** at most this many pods of a hash become available */
  availableCap = new Map<string, number>();
  events: { reason: string; message: string }[] = [];
  lastPlan: Plan | undefined;
  readonly router: RouterCapabilities;
  private podCount = 0;

  constructor(spec: SpecView, router: RouterCapabilities = replicaRatioCapabilities) {
    this.spec = spec;
    this.router = router;
  }

  plan(): Plan {
    this.lastPlan = planRollout({
      rollout: { name: 'demo', namespace: 'ns', uid: 'u1', generation: this.generation, spec: parsePlanSpec(this.spec), status: this.status },
      replicaSets: [...this.replicaSets.values()].map((rs) => ({ ...rs, ephemeralRecord: rs.annotations[EPHEMERAL_METADATA_ANNOTATION] })),
      pods: this.pods,
      services: {},
      specIssues: [],
      notImplemented: [],
      router: { name: 'test', capabilities: this.router },
      trafficVerified: true,
      now: this.now,
    });
    return this.lastPlan;
  }

  reconcile(): Plan {
    const plan = this.plan();
    if (plan.create) {
      const c = plan.create;
      const podMetadata = c.podMetadata ?? this.spec.template?.metadata ?? {};
      const specOf = this.spec.template?.spec as Json | undefined;
      const createdAt = new Date(this.now).toISOString();
      this.replicaSets.set(c.hash, {
        ...{ name: c.name, hash: c.hash, revision: c.revision, replicas: c.replicas, current: 0, ready: 0, available: 0, settled: true, createdAt },
        podMetadata: { ...podMetadata, labels: { ...podMetadata.labels, [HASH]: c.hash } },
        affinity: 'affinity' in c ? c.affinity : specOf?.affinity,
        annotations: { ...c.annotations },
      });
    }
    for (const s of plan.scale) {
      const rs = [...this.replicaSets.values()].find((r) => r.name === s.name)!;
      rs.replicas = s.to;
      for (const [k, v] of Object.entries(s.annotations ?? {})) {
        if (k === 'rollway.dev/scale-down-deadline') rs.scaleDownDeadline = v ?? undefined;
        if (k === 'rollway.dev/revision' && v) rs.revision = Number(v);
      }
    }
    for (const change of plan.templatePatches ?? []) {
      const rs = [...this.replicaSets.values()].find((r) => r.name === change.name)!;
      const before = { metadata: { annotations: rs.annotations }, spec: { template: { metadata: rs.podMetadata, spec: { affinity: rs.affinity } } } };
      const after = applyMergePatch(before, change.patch) as { metadata: { annotations?: Record<string, string> }; spec: { template: { metadata?: PodMetadata; spec?: { affinity?: unknown } } } };
      rs.annotations = after.metadata.annotations ?? {};
      rs.podMetadata = after.spec.template.metadata;
      rs.affinity = after.spec.template.spec?.affinity;
    }
    for (const change of plan.podPatches ?? []) {
      const pod = this.pods.find((p) => p.name === change.name)!;
      pod.labels = applyMergePatch(pod.labels, change.labels) as Record<string, string>;
      pod.annotations = applyMergePatch(pod.annotations, change.annotations) as Record<string, string>;
    }
    for (const name of plan.deleteReplicaSets) for (const [h, rs] of this.replicaSets) if (rs.name === name) this.replicaSets.delete(h);
    this.status = structuredClone(plan.status);
    this.events.push(...plan.events);
    this.runReplicaSetController();
    return plan;
  }

  /** Pods follow their ReplicaSet's size; new ones are made from its template as it is now. */
  private runReplicaSetController(): void {
    for (const rs of this.replicaSets.values()) {
      const mine = this.pods.filter((p) => p.hash === rs.hash);
      for (const pod of mine.slice(rs.replicas)) this.pods.splice(this.pods.indexOf(pod), 1);
      for (let i = mine.length; i < rs.replicas; i++) {
        const labels = { ...rs.podMetadata?.labels };
        const annotations = { ...rs.podMetadata?.annotations };
        this.pods.push({ name: `${rs.name}-${++this.podCount}`, hash: rs.hash, createdAt: new Date(this.now).toISOString(), ready: true, deleting: false, labels, annotations });
      }
      rs.current = rs.replicas;
      rs.ready = Math.min(rs.replicas, this.availableCap.get(rs.hash) ?? rs.replicas);
      rs.available = rs.ready;
    }
  }

  settle(maxRounds = 30): void {
    for (let i = 0; i < maxRounds; i++) {
      const before = JSON.stringify([this.status, [...this.replicaSets.values()], this.pods]);
      this.reconcile();
      if (JSON.stringify([this.status, [...this.replicaSets.values()], this.pods]) === before) return;
    }
  }

  setTemplate(next: SpecView['template']): string {
    this.spec = { ...this.spec, template: next };
    this.generation++;
    this.now += 1000;
    return podTemplateHash(next);
  }

  podsOf(hash: string) {
    return this.pods.filter((p) => p.hash === hash);
  }

  sizes(): Record<string, number> {
    return Object.fromEntries([...this.replicaSets.values()].map((rs) => [rs.hash, rs.replicas]));
  }
}

function metadataSpec(canary: NonNullable<NonNullable<SpecView['strategy']>['canary']>): SpecView {
  return {
    replicas: 4,
    selector: { matchLabels: { app: 'demo' } },
    template: template('demo:blue'),
    strategy: { canary: { steps: [{ setWeight: 50 }, { pause: {} }], ...canary } },
  };
}

const promote = (world: World): void => {
  world.status!.pauseConditions = []; // what `rollway promote` does
};

void test('canaryMetadata on running canary pods, moved to stableMetadata at promotion in place; the hash ignores both', () => {
  const world = new World(metadataSpec({ canaryMetadata: { labels: { role: 'canary' }, annotations: { 'track.example/phase': 'canary' } }, stableMetadata: { labels: { role: 'stable' } } }));
  world.settle();
  const blue = world.status!.stableRS!;
  assert.equal(blue, podTemplateHash(template('demo:blue')), 'the ReplicaSet hash is the template hash, metadata aside');
  for (const pod of world.podsOf(blue)) assert.equal(pod.labels.role, 'stable', 'the first revision is stable at once');

  const yellow = world.setTemplate(template('demo:yellow'));
  world.settle();
  assert.equal(world.status?.phase, 'Paused');
  assert.deepEqual(world.sizes(), { [blue]: 2, [yellow]: 2 });
  const canaryPods = world.podsOf(yellow);
  for (const pod of canaryPods) {
    assert.equal(pod.labels.role, 'canary');
    assert.equal(pod.annotations['track.example/phase'], 'canary');
    assert.equal(pod.labels[HASH], yellow);
  }
  for (const pod of world.podsOf(blue)) assert.equal(pod.labels.role, 'stable');

  const namesBefore = world.podsOf(yellow).map((p) => p.name);
  promote(world);
  world.settle();
  assert.equal(world.status?.stableRS, yellow);
  const after = world.podsOf(yellow);
  assert.deepEqual(after.map((p) => p.name).slice(0, namesBefore.length), namesBefore, 'the canary pods were kept, not replaced');
  for (const pod of after) {
    assert.equal(pod.labels.role, 'stable', `${pod.name} carries stableMetadata`);
    assert.equal(pod.annotations['track.example/phase'], undefined, 'canary-only annotations are removed');
  }
  const rs = world.replicaSets.get(yellow)!;
  assert.equal(rs.podMetadata?.labels?.role, 'stable', 'pods the ReplicaSet makes later are born stable');
  assert.equal(rs.podMetadata?.annotations?.['track.example/phase'], undefined);
  assert.equal(world.events.filter((e) => e.reason === 'NewReplicaSetCreated').length, 2, 'one ReplicaSet per revision');
});

void test('a template label covered by canaryMetadata comes back when the pods stop being the canary', () => {
  const world = new World(metadataSpec({ canaryMetadata: { labels: { tier: 'canary' } } }));
  world.settle();
  const yellow = world.setTemplate(template('demo:yellow'));
  world.settle();
  for (const pod of world.podsOf(yellow)) assert.equal(pod.labels.tier, 'canary');
  promote(world);
  world.settle();
  assert.equal(world.status?.stableRS, yellow);
  for (const pod of world.podsOf(yellow)) assert.equal(pod.labels.tier, 'front', 'the template value is back');
  const rs = world.replicaSets.get(yellow)!;
  assert.equal(rs.podMetadata?.labels?.tier, 'front');
  assert.equal(rs.annotations[EPHEMERAL_METADATA_ANNOTATION], undefined, 'nothing left to remember');
});

void test('editing canaryMetadata mid-rollout patches the running canary pods and creates no ReplicaSet', () => {
  const world = new World(metadataSpec({ canaryMetadata: { labels: { role: 'canary', wave: '1' } } }));
  world.settle();
  const yellow = world.setTemplate(template('demo:yellow'));
  world.settle();
  const names = world.podsOf(yellow).map((p) => p.name);
  world.spec = metadataSpec({ canaryMetadata: { labels: { role: 'canary', wave: '2' } } });
  world.spec.template = template('demo:yellow');
  world.generation++;
  const plan = world.reconcile();
  assert.equal(plan.create, undefined);
  world.settle();
  assert.deepEqual(world.podsOf(yellow).map((p) => p.name), names);
  for (const pod of world.podsOf(yellow)) assert.equal(pod.labels.wave, '2');
  assert.equal(world.status?.phase, 'Paused', 'still at the same step');
});

void test('without ephemeral metadata nothing is patched', () => {
  const world = new World(metadataSpec({}));
  world.settle();
  world.setTemplate(template('demo:yellow'));
  for (let i = 0; i < 5; i++) {
    const plan = world.reconcile();
    assert.equal(plan.templatePatches, undefined);
    assert.equal(plan.podPatches, undefined);
    assert.equal(plan.create?.podMetadata, undefined);
  }
});

void test('antiAffinity: the canary template keeps off stable pods (Argo\'s term), the hash is unchanged, and the term goes at promotion', () => {
  const nodeAffinity = { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'pool', operator: 'In', values: ['a'] }] }] } } };
  const spec = metadataSpec({ antiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: { weight: 40 } } });
  spec.template = template('demo:blue', { affinity: nodeAffinity });
  const world = new World(spec);
  const first = world.reconcile();
  assert.equal(first.create?.affinity, undefined, 'the first revision has no stable to keep off');
  world.settle();
  const blue = world.status!.stableRS!;

  const yellowTemplate = template('demo:yellow', { affinity: nodeAffinity });
  const yellow = world.setTemplate(yellowTemplate);
  const plan = world.reconcile();
  assert.equal(plan.create?.hash, yellow);
  assert.equal(yellow, podTemplateHash(yellowTemplate), 'the injected term is not part of the hash');
  assert.deepEqual(plan.create?.affinity, {
    ...nodeAffinity,
    podAntiAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 40, podAffinityTerm: { labelSelector: { matchExpressions: [{ key: HASH, operator: 'In', values: [blue] }] }, namespaces: ['ns'], topologyKey: 'kubernetes.io/hostname' } },
      ],
    },
  });
  world.settle();
  const names = world.podsOf(yellow).map((p) => p.name);
  promote(world);
  world.settle();
  assert.equal(world.status?.stableRS, yellow);
  assert.deepEqual(world.replicaSets.get(yellow)?.affinity, nodeAffinity, 'the stable template has the user\'s affinity only');
  assert.deepEqual(world.podsOf(yellow).map((p) => p.name).slice(0, names.length), names, 'running pods stay');
});

void test('antiAffinity required: a required term against the stable hash', () => {
  const world = new World(metadataSpec({ antiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: {} } }));
  world.settle();
  const blue = world.status!.stableRS!;
  world.setTemplate(template('demo:yellow'));
  const plan = world.reconcile();
  assert.deepEqual(plan.create?.affinity, {
    podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchExpressions: [{ key: HASH, operator: 'In', values: [blue] }] }, namespaces: ['ns'], topologyKey: 'kubernetes.io/hostname' }] },
  });
});

void test('replicaProgressThreshold: a step moves on with 80% of its canary pods available; promotion still waits for all', () => {
  const spec: SpecView = {
    replicas: 10,
    selector: { matchLabels: { app: 'demo' } },
    template: template('demo:blue'),
    strategy: { canary: { canaryService: 'c', stableService: 's', steps: [{ setWeight: 50 }, { pause: { duration: 10 } }] } },
  };
  const without = new World(structuredClone(spec), exactRouter);
  without.settle();
  const yellow = without.setTemplate(template('demo:yellow'));
  without.availableCap.set(yellow, 4); // 4 of the 5 pods setWeight 50 wants
  without.settle();
  assert.equal(without.status?.currentStepIndex, 0, 'without a threshold the step waits for all 5');

  spec.strategy!.canary!.replicaProgressThreshold = { type: 'Percent', value: 80 };
  const world = new World(spec, exactRouter);
  world.settle();
  world.setTemplate(template('demo:yellow'));
  world.availableCap.set(yellow, 4);
  world.settle();
  assert.equal(world.status?.currentStepIndex, 1, '4 of 5 is 80%: the step completed');
  assert.equal(world.status?.canary?.weights?.canary.weight, 50, 'and its weight is set');
  world.now += 10_000;
  world.settle();
  assert.equal(world.status?.currentStepIndex, 2);
  assert.notEqual(world.status?.stableRS, yellow, 'promotion waits for every pod, as in Argo');
  world.availableCap.delete(yellow);
  world.settle();
  assert.equal(world.status?.stableRS, yellow);
});

void test('replicaProgressThreshold of type Pod counts pods', () => {
  const spec: SpecView = {
    replicas: 10,
    selector: { matchLabels: { app: 'demo' } },
    template: template('demo:blue'),
    strategy: { canary: { canaryService: 'c', stableService: 's', replicaProgressThreshold: { type: 'Pod', value: 3 }, steps: [{ setWeight: 50 }, { pause: {} }] } },
  };
  const world = new World(spec, exactRouter);
  world.settle();
  const yellow = world.setTemplate(template('demo:yellow'));
  world.availableCap.set(yellow, 2);
  world.settle();
  assert.equal(world.status?.currentStepIndex, 0, '2 pods: not yet');
  world.availableCap.set(yellow, 3);
  world.settle();
  assert.equal(world.status?.currentStepIndex, 1, '3 pods reached');
});

/** A routed rollout updated three times in a row, each promoted at once, inside the scale-down delay. */
function threeQuickUpdates(limit: number | undefined): { world: World; hashes: string[] } {
  const spec: SpecView = {
    replicas: 2,
    selector: { matchLabels: { app: 'demo' } },
    template: template('demo:v1'),
    strategy: { canary: { canaryService: 'c', stableService: 's', scaleDownDelaySeconds: 600, ...(limit !== undefined ? { scaleDownDelayRevisionLimit: limit } : {}), steps: [{ setWeight: 50 }] } },
  };
  const world = new World(spec, exactRouter);
  world.settle();
  const hashes = [world.status!.stableRS!];
  for (const image of ['demo:v2', 'demo:v3', 'demo:v4']) {
    hashes.push(world.setTemplate(template(image)));
    world.settle();
    assert.equal(world.status?.stableRS, hashes.at(-1));
  }
  return { world, hashes };
}

void test('scaleDownDelayRevisionLimit: only the newest old ReplicaSets keep running through their delay', () => {
  const unlimited = threeQuickUpdates(undefined);
  const [v1, v2, v3, v4] = unlimited.hashes as [string, string, string, string];
  assert.deepEqual(unlimited.world.sizes(), { [v1]: 2, [v2]: 2, [v3]: 2, [v4]: 2 }, 'without a limit every old revision waits out its delay');

  const limited = threeQuickUpdates(1);
  assert.deepEqual(limited.world.sizes(), { [v1]: 0, [v2]: 0, [v3]: 2, [v4]: 2 }, 'limit 1: the newest old revision waits, older ones go at once');
  assert.equal(limited.world.replicaSets.get(v1)?.scaleDownDeadline, undefined, 'a ReplicaSet scaled down early keeps no deadline');

  const none = threeQuickUpdates(0);
  assert.deepEqual(none.world.sizes(), { [v1]: 0, [v2]: 0, [v3]: 0, [v4]: 2 }, 'limit 0: no delay at all');
});

/** v1 (demo:blue) → v2 → v3, each fully promoted; answers the hashes. */
function threeRevisions(rollbackWindow: { revisions: number } | undefined): { world: World; hashes: [string, string, string] } {
  const spec = metadataSpec({});
  if (rollbackWindow) spec.rollbackWindow = rollbackWindow;
  const world = new World(spec);
  world.settle();
  const v1 = world.status!.stableRS!;
  const v2 = world.setTemplate(template('demo:v2'));
  world.settle();
  world.status!.promoteFull = true;
  world.settle();
  const v3 = world.setTemplate(template('demo:v3'));
  world.settle();
  world.status!.promoteFull = true;
  world.settle();
  assert.equal(world.status?.stableRS, v3);
  return { world, hashes: [v1, v2, v3] };
}

void test('rollbackWindow: back to a revision within the window skips the steps; outside it, the steps run', () => {
  const inside = threeRevisions({ revisions: 1 });
  const [, v2] = inside.hashes;
  assert.equal(inside.world.setTemplate(template('demo:v2')), v2);
  const eventsBefore = inside.world.events.length;
  const plan = inside.world.reconcile();
  assert.equal(plan.create, undefined, 'the old ReplicaSet is used again');
  assert.ok(plan.events.some((e) => e.reason === 'SkipSteps' && /within rollbackWindow \(1\)/.test(e.message)), plan.events.map((e) => e.reason).join(', '));
  inside.world.settle();
  assert.equal(inside.world.status?.phase, 'Healthy');
  assert.equal(inside.world.status?.stableRS, v2);
  const after = inside.world.events.slice(eventsBefore).map((e) => e.reason);
  assert.ok(!after.includes('RolloutPaused') && !after.includes('RolloutStepCompleted'), `no step ran: ${after.join(', ')}`);

  const outside = threeRevisions({ revisions: 1 });
  assert.equal(outside.world.setTemplate(template('demo:blue')), outside.hashes[0]); // v2 lies between v1 and v3: two back
  assert.equal(outside.world.reconcile().create, undefined);
  outside.world.settle();
  assert.equal(outside.world.status?.phase, 'Paused', 'outside the window the steps run');
  assert.equal(outside.world.status?.currentStepIndex, 1);

  const wider = threeRevisions({ revisions: 2 });
  wider.world.setTemplate(template('demo:blue'));
  wider.world.settle();
  assert.equal(wider.world.status?.phase, 'Healthy', 'two back is inside a window of 2');
  assert.equal(wider.world.status?.stableRS, wider.hashes[0]);

  const noWindow = threeRevisions(undefined);
  noWindow.world.setTemplate(template('demo:v2'));
  noWindow.world.settle();
  assert.equal(noWindow.world.status?.phase, 'Paused', 'without rollbackWindow a rollback goes through the steps');
});
