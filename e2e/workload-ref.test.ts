// spec.workloadRef on the real control plane: a Rollout takes its pod template and selector from a
// running Deployment, scales that Deployment to 0 once it is Healthy (scaleDown: onsuccess), and
// runs a canary when the Deployment's template changes.
import assert from 'node:assert/strict';
import type { KubeObject, ResourceRef } from '../kube/client.ts';
import type { RolloutObject } from '../controller/controller.ts';
import { podTemplateHash } from '../api/hash.ts';
import { rollway, scenario, startController } from './harness.ts';

const HASH = 'rollouts-pod-template-hash';
const rolloutRef = (ns: string): ResourceRef => ({ group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts', namespace: ns, name: 'web' });
const deploymentRef = (ns: string): ResourceRef => ({ group: 'apps', version: 'v1', plural: 'deployments', namespace: ns, name: 'web' });
const podRef = (ns: string): ResourceRef => ({ group: '', version: 'v1', plural: 'pods', namespace: ns });

type Pod = KubeObject & { spec: { containers: { image: string }[] } };
type Deployment = KubeObject & { spec: { replicas: number; template: unknown } };

const deployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: argoproj/rollouts-demo:blue
`;

const rollout = `
apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata:
  name: web
spec:
  replicas: 3
  workloadRef:
    apiVersion: apps/v1
    kind: Deployment
    name: web
    scaleDown: onsuccess
  strategy:
    canary:
      steps:
      - setWeight: 34
      - pause: {}
`;

const phaseIs = (phase: string, extra: (ro: RolloutObject) => boolean = () => true) => (ro: RolloutObject | undefined): boolean =>
  ro?.status?.phase === phase && ro.status.observedGeneration === String(ro.metadata.generation) && extra(ro);

const live = (pods: Pod[]): Pod[] => pods.filter((p) => !p.metadata.deletionTimestamp);
const images = (pods: Pod[]): string[] => live(pods).map((p) => p.spec.containers[0]!.image.split(':').at(-1)!).sort();

scenario(
  'a Rollout with workloadRef runs the Deployment\'s template, scales the Deployment down on success, and canaries its template changes',
  async ({ cluster, ns, given, when, then }) => {
    const controller = startController(ns);
    try {
      await given('a Deployment of 3 blue pods, serving', async () => {
        await cluster.apply(deployment, ns);
        await cluster.waitForList<Pod>(podRef(ns), (pods) => live(pods).length === 3, { labelSelector: 'app=web', what: '3 Deployment pods' });
      });

      await when('a Rollout names it in workloadRef, with no template and no selector of its own', () => cluster.apply(rollout, ns));
      await then('the Rollout runs 3 blue pods of its own, named by the Deployment template\'s hash, and is Healthy', async () => {
        const healthy = await cluster.waitFor<RolloutObject>(rolloutRef(ns), phaseIs('Healthy'), { what: 'Rollout Healthy', timeoutMs: 60_000 });
        const ownPods = await cluster.waitForList<Pod>(podRef(ns), (pods) => images(pods).join() === 'blue,blue,blue', { labelSelector: `app=web,${HASH}`, what: 'the Rollout\'s 3 blue pods' });
        const deploy = await cluster.get<Deployment>(deploymentRef(ns));
        assert.equal(healthy?.status?.stableRS, podTemplateHash(deploy?.spec.template), 'the hash of the Deployment\'s template');
        assert.equal(live(ownPods).length, 3);
      });
      await then('the Deployment is scaled to 0 (scaleDown: onsuccess) and its pods go', async () => {
        const scaled = await cluster.waitFor<Deployment>(deploymentRef(ns), (d) => d?.spec.replicas === 0, { what: 'Deployment scaled to 0' });
        // Scaling it bumped the Deployment's generation; the Rollout's status follows it.
        await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.workloadObservedGeneration === String(scaled?.metadata.generation), { what: `workloadObservedGeneration ${scaled?.metadata.generation}` });
        await cluster.waitForList<Pod>(podRef(ns), (pods) => live(pods).length === 0, { labelSelector: `app=web,!${HASH}`, what: 'no Deployment pods left' });
        await cluster.waitForEvent(ns, { kind: 'Rollout', name: 'web' }, (e) => e.reason === 'ScalingDeployment', { what: 'the scale-down as an Event on the Rollout' });
      });

      await when('the Deployment\'s image changes to yellow', () => cluster.patch(deploymentRef(ns), { spec: { template: { spec: { containers: [{ name: 'web', image: 'argoproj/rollouts-demo:yellow' }] } } } }, 'strategic'));
      await then('the Rollout canaries it: paused at step 1 with 1 yellow and 2 blue pods, the Deployment still at 0', async () => {
        await cluster.waitFor<RolloutObject>(rolloutRef(ns), phaseIs('Paused', (r) => r.status?.currentStepIndex === 1), { what: 'Paused at step 1' });
        await cluster.waitForList<Pod>(podRef(ns), (pods) => images(pods).join() === 'blue,blue,yellow', { labelSelector: `app=web,${HASH}`, what: '2 blue and 1 yellow Rollout pods' });
        assert.equal((await cluster.get<Deployment>(deploymentRef(ns)))?.spec.replicas, 0);
      });
      await when('it is promoted', () => rollway('-n', ns, 'promote', 'web'));
      await then('3 yellow pods serve and the Rollout is Healthy', async () => {
        await cluster.waitFor<RolloutObject>(rolloutRef(ns), phaseIs('Healthy', (r) => r.status?.currentStepIndex === 2), { what: 'Healthy on yellow', timeoutMs: 60_000 });
        await cluster.waitForList<Pod>(podRef(ns), (pods) => images(pods).join() === 'yellow,yellow,yellow', { labelSelector: `app=web,${HASH}`, what: '3 yellow Rollout pods' });
      });
    } finally {
      await controller.kill();
    }
  },
  { timeoutMs: 180_000 },
);
