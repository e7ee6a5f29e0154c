// The SMI router as a conformance fixture: the router creates and owns the TrafficSplit; the
// user's content is another team's TrafficSplit beside it, which must stay untouched.
import type { ResourceRef } from '../../kube/client.ts';
import { CANARY_SERVICE, read, recreate, STABLE_SERVICE, userView, type ConformanceEnv, type RouterFixture, type TrafficState } from '../conformance.ts';
import { quantityMilli, type TrafficSplit } from './render.ts';

const ref = (env: ConformanceEnv, name: string): ResourceRef => ({ group: 'split.smi-spec.io', version: 'v1alpha4', plural: 'trafficsplits', namespace: env.namespace, name });
const SPLIT = 'conf-split';

export function smiFixture(): RouterFixture {
  return {
    title: 'smi',
    key: 'smi',
    supports: { header: false, mirror: false },

    async setup(env) {
      await env.client.delete(ref(env, SPLIT)).catch(() => {});
      await recreate(env, ref(env, 'other-team'), {
        apiVersion: 'split.smi-spec.io/v1alpha4',
        kind: 'TrafficSplit',
        metadata: { name: 'other-team', annotations: { 'team.example.com/owner': 'payments' } },
        spec: { service: 'payments', backends: [{ service: 'payments-v1', weight: 90 }, { service: 'payments-v2', weight: 10 }] },
      });
      return { smi: { trafficSplitName: SPLIT, rootService: 'conf-web' } };
    },

    async read(env): Promise<TrafficState> {
      const split = await read<TrafficSplit>(env, ref(env, SPLIT));
      if (!split) return { weights: [{ canary: 0, stable: 100 }], extraWeights: [{}], headerRoutes: [], mirrorRoutes: [] }; // no split: the root Service as is
      const backends = split.spec?.backends ?? [];
      const weight = (service: string): number => (quantityMilli(backends.find((b) => b.service === service)?.weight ?? 0) ?? 0) / 1000;
      const others = backends.filter((b) => b.service !== CANARY_SERVICE && b.service !== STABLE_SERVICE).map((b) => [b.service, weight(b.service)]);
      return { weights: [{ canary: weight(CANARY_SERVICE), stable: weight(STABLE_SERVICE) }], extraWeights: [Object.fromEntries(others)], headerRoutes: [], mirrorRoutes: [] };
    },

    async userContent(env) {
      return JSON.stringify(userView(await read(env, ref(env, 'other-team'))));
    },

    async ourMarks(env) {
      return (await read(env, ref(env, SPLIT))) ? [`TrafficSplit ${SPLIT}`] : [];
    },

    async revertWeight(env) {
      await env.client.patch(
        ref(env, SPLIT),
        'merge',
        { metadata: { annotations: { 'gitops.example.com/synced': 'true' } }, spec: { backends: [{ service: CANARY_SERVICE, weight: 0 }, { service: STABLE_SERVICE, weight: 100 }] } },
        { fieldManager: 'gitops-sync' },
      );
    },

    async otherWritersChangeKept(env) {
      return (await read(env, ref(env, SPLIT)))?.metadata.annotations?.['gitops.example.com/synced'] === 'true';
    },
  };
}
