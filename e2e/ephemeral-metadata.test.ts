// canaryMetadata / stableMetadata and antiAffinity on the real control plane: the canary's running
// pods carry the canary labels, and at promotion the same pods (same UIDs, never recreated) carry
// the stable ones; the canary ReplicaSet's template keeps off stable pods until it is promoted.
import assert from 'node:assert/strict';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import type { RolloutObject } from '../controller/controller.ts';
import { podTemplateHash } from '../api/hash.ts';
import { rollway, scenario, startController, type Cluster } from './harness.ts';

const HASH = 'rollouts-pod-template-hash';
const rolloutRef = (ns: string, name: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name });
const rsRef = (ns: string, name?: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: ns, ...(name ? { name } : {}) });
const podRef = (ns: string): ResourceRef => ({ group: '', version: 'v1', plural: 'pods', namespace: ns });

type ReplicaSet = KubeObject & { spec: { template: { metadata: { labels?: Record<string, string> }; spec: { affinity?: { podAntiAffinity?: unknown } } } } };

const manifest = `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: meta
spec:
  replicas: 4
  selector:
    matchLabels: {app: meta}
  template:
    metadata:
      labels: {app: meta}
    spec:
      containers:
      - name: meta
        image: argoproj/rollouts-demo:blue
  strategy:
    canary:
      canaryMetadata:
        labels: {role: canary}
        annotations: {example.com/track: canary}
      stableMetadata:
        labels: {role: stable}
      antiAffinity:
        preferredDuringSchedulingIgnoredDuringExecution: {weight: 100}
      steps:
      - setWeight: 50
      - pause: {}
`;

const phaseIs = (phase: string, extra: (ro: RolloutObject) => boolean = () => true) => (ro: RolloutObject | undefined): boolean =>
  ro?.status?.phase === phase && ro.status.observedGeneration === String(ro.metadata.generation) && extra(ro);

/** Live pods of one revision, once `until` holds for all of them. */
async function podsOf(cluster: Cluster, ns: string, hash: string, count: number, until: (pod: KubeObject) => boolean, what: string): Promise<KubeObject[]> {
  const live = (pods: KubeObject[]) => pods.filter((p) => !p.metadata.deletionTimestamp);
  const pods = await cluster.waitForList<KubeObject>(podRef(ns), (items) => live(items).length === count && live(items).every(until), { labelSelector: `app=meta,${HASH}=${hash}`, what });
  return live(pods);
}

const hasTerm = (rs: ReplicaSet | undefined): boolean => JSON.stringify(rs?.spec.template.spec.affinity?.podAntiAffinity ?? null).includes(HASH);

scenario(
  'canaryMetadata labels the running canary pods and becomes stableMetadata at promotion, on the same pods',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    const ro = rolloutRef(ns, 'meta');
    try {
      let blue = '';
      await given('a Rollout with canaryMetadata, stableMetadata and antiAffinity, deployed', async () => {
        await cluster.apply(manifest, ns);
        const healthy = await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy'), { what: 'first deploy Healthy' });
        blue = healthy!.status!.stableRS!;
        await podsOf(cluster, ns, blue, 4, (p) => p.metadata.labels?.role === 'stable', 'the first revision is stable: role=stable');
      });

      let yellow = '';
      let canaryUids: string[] = [];
      await when('the image changes and the Rollout pauses at 50%', async () => {
        rollway('-n', ns, 'set', 'image', 'meta', 'meta=argoproj/rollouts-demo:yellow');
        const paused = await cluster.waitFor<RolloutObject>(ro, phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'Paused at step 1' });
        yellow = paused!.status!.currentPodHash!;
      });
      await then('the canary pods run with role=canary and the canary annotation; the stable pods keep role=stable', async () => {
        const canaryPods = await podsOf(cluster, ns, yellow, 2, (p) => p.metadata.labels?.role === 'canary' && p.metadata.annotations?.['example.com/track'] === 'canary', 'canary pods labelled');
        canaryUids = canaryPods.map((p) => p.metadata.uid!).sort();
        await podsOf(cluster, ns, blue, 2, (p) => p.metadata.labels?.role === 'stable', 'stable pods labelled');
      });
      await then('the canary ReplicaSet keeps its pods off the stable pods\' nodes; its name is still the template hash', async () => {
        const rs = await cluster.get<ReplicaSet>(rsRef(ns, `meta-${yellow}`));
        assert.ok(hasTerm(rs), `anti-affinity term in ${JSON.stringify(rs?.spec.template.spec.affinity)}`);
        assert.ok(JSON.stringify(rs?.spec.template.spec.affinity).includes(blue), 'against the stable hash');
        assert.equal(rs?.spec.template.metadata.labels?.role, 'canary');
        const live = await cluster.get<RolloutObject>(ro);
        assert.equal(podTemplateHash(live?.spec.template, live?.status?.collisionCount ?? 0), yellow, 'the hash of the Rollout\'s template, without the injected metadata and affinity');
      });

      await when('it is promoted', () => rollway('-n', ns, 'promote', 'meta'));
      await then('the same canary pods, never recreated, now carry role=stable and no canary annotation', async () => {
        await cluster.waitFor<RolloutObject>(ro, phaseIs('Healthy', (r) => r.status?.stableRS === yellow), { what: 'Healthy on the new revision', timeoutMs: 60_000 });
        const pods = await podsOf(cluster, ns, yellow, 4, (p) => p.metadata.labels?.role === 'stable' && p.metadata.annotations?.['example.com/track'] === undefined, 'promoted pods relabelled');
        const uids = new Set(pods.map((p) => p.metadata.uid!));
        for (const uid of canaryUids) assert.ok(uids.has(uid), `canary pod ${uid} is still running`);
      });
      await then('the promoted ReplicaSet has stableMetadata and no injected anti-affinity', async () => {
        const rs = await cluster.waitFor<ReplicaSet>(rsRef(ns, `meta-${yellow}`), (r) => !hasTerm(r) && r?.spec.template.metadata.labels?.role === 'stable', { what: 'promoted ReplicaSet template' });
        assert.equal(rs?.metadata.labels?.[HASH], yellow);
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 180_000 },
);
