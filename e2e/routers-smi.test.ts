// The SMI router on the real control plane with the SMI TrafficSplit CRD (v1alpha4 served):
// the Rollout's own TrafficSplit through a whole rollout, and one owned by someone else refused.
import assert from 'node:assert/strict';
import type { RolloutObject } from '../controller/controller.ts';
import type { ResourceRef } from '../kube/client.ts';
import type { TrafficSplit } from '../routers/smi/render.ts';
import { scenario, startController } from './harness.ts';
import { CANARY, removeRollout, rollout, rolloutRef, services, STABLE, STEPS_1_5_20_50, stepsToFiftyScenario, type RouterUnderTest } from './routers-support.ts';

const splitRef = (ns: string, name = 'web-split'): ResourceRef => ({ group: 'split.smi-spec.io', version: 'v1alpha4', plural: 'trafficsplits', namespace: ns, name });

const smi: RouterUnderTest = {
  trafficRouting: { smi: { trafficSplitName: 'web-split', rootService: 'web' } },
  async setup(cluster, ns) {
    await cluster.apply({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } }, ns);
  },
  async weights(cluster, ns) {
    const split = await cluster.get<TrafficSplit>(splitRef(ns));
    if (!split) return [{ canary: 0, stable: 100 }]; // no split: the root Service as it is
    assert.equal(split.spec?.service, 'web');
    const weight = (service: string): number => Number(split.spec?.backends.find((b) => b.service === service)?.weight);
    return [{ canary: weight(CANARY), stable: weight(STABLE) }];
  },
  async leftovers(cluster, ns) {
    return (await cluster.get(splitRef(ns))) ? ['TrafficSplit web-split'] : [];
  },
};

scenario('SMI: a TrafficSplit at 1%, 5%, 20%, 50%, promoted to 100% new stable, a second update aborted, deleted with the Rollout', (ctx) => stepsToFiftyScenario(ctx, smi), { timeoutMs: 150_000 });

scenario('SMI: a TrafficSplit of that name owned by someone else is not taken over', async ({ cluster, ns, given, then }) => {
  const controller = startController(ns);
  try {
    await given("another team's TrafficSplit named like the Rollout's, and the Rollout", async () => {
      await cluster.apply(services(), ns);
      await cluster.apply({ apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'web-split' }, spec: { service: 'payments', backends: [{ service: 'payments-v1', weight: 100 }] } }, ns);
      await cluster.apply(rollout(smi.trafficRouting, STEPS_1_5_20_50), ns);
    });
    await then('the Rollout is Degraded with InvalidSpec naming trafficSplitName, and the TrafficSplit is untouched', async () => {
      const ro = await cluster.waitFor<RolloutObject>(rolloutRef(ns), (r) => r?.status?.phase === 'Degraded', { what: 'Rollout Degraded' });
      const condition = ro!.status!.conditions!.find((c) => c.type === 'InvalidSpec');
      assert.match(condition?.message ?? '', /spec\.strategy\.canary\.trafficRouting\.smi\.trafficSplitName: TrafficSplit "web-split" exists and is controlled by no controller/);
      const split = await cluster.get<TrafficSplit>(splitRef(ns));
      assert.deepEqual(split?.spec, { service: 'payments', backends: [{ service: 'payments-v1', weight: 100 }] });
      assert.equal(split?.metadata.ownerReferences, undefined);
    });
    await then('deleting the Rollout leaves that TrafficSplit alone', async () => {
      await cluster.delete(rolloutRef(ns));
      await cluster.waitFor(rolloutRef(ns), (r) => r === undefined, { what: 'Rollout gone' });
      assert.ok(await cluster.get(splitRef(ns)));
    });
  } finally {
    await removeRollout(cluster, ns);
    await controller.kill();
  }
});
