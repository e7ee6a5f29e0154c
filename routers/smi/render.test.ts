import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FULL_STABLE, ratioFromPercent, type DesiredTraffic } from '../types.ts';
import { quantityMilli, renderTrafficSplit, trafficSplitWeight, weightQuantity, type SmiVersion, type TrafficSplit } from './render.ts';

const rollout = { name: 'web', uid: 'uid-1', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' };
const traffic = (percent: number): DesiredTraffic => ({ weight: percent === 0 ? FULL_STABLE : ratioFromPercent(percent), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [] });
const render = (percent: number, apiVersion: SmiVersion = 'v1alpha4', existing?: TrafficSplit) =>
  renderTrafficSplit({ existing, desired: traffic(percent), rollout, namespace: 'shop', name: 'web', rootService: 'web', apiVersion, refPath: 'spec.x.smi' });

void describe('SMI TrafficSplit rendering', () => {
  void it('writes integer weights for v1alpha2..v1alpha4, exact down to 0.01%', () => {
    const cases: [number, number[]][] = [
      [0, [0, 100]],
      [0.01, [1, 9999]],
      [1, [1, 99]],
      [20, [20, 80]],
      [100, [100, 0]],
    ];
    for (const [percent, weights] of cases) {
      const out = render(percent);
      assert.deepEqual(out.object.spec?.backends, [
        { service: 'web-canary', weight: weights[0] },
        { service: 'web-stable', weight: weights[1] },
      ]);
      assert.equal(out.object.spec?.service, 'web');
      assert.equal(out.object.apiVersion, 'split.smi-spec.io/v1alpha4');
    }
  });

  void it('writes v1alpha1 weights as quantities', () => {
    assert.deepEqual(render(20, 'v1alpha1').object.spec?.backends.map((b) => b.weight), ['200m', '800m']);
    assert.deepEqual(render(0.01, 'v1alpha1').object.spec?.backends.map((b) => b.weight), ['1', '9999']);
    assert.deepEqual(render(0, 'v1alpha1').object.spec?.backends.map((b) => b.weight), ['0', '1']);
    assert.equal(weightQuantity(1, 2), '500m');
    assert.equal(quantityMilli('500m'), 500);
    assert.equal(quantityMilli('2'), 2000);
    assert.equal(quantityMilli('0.5'), 500);
    assert.equal(quantityMilli('lots'), undefined);
    assert.deepEqual(trafficSplitWeight(render(20, 'v1alpha1').object, 'web-canary', 'web-stable'), { canary: 1, total: 5 });
  });

  void it('gives weighted experiment backends their share; stable keeps the rest (integers and quantities)', () => {
    const desired: DesiredTraffic = { ...traffic(10), extraDestinations: [{ service: 'web-exp-baseline', podTemplateHash: 'b', weight: 5 }, { service: 'web-exp-canary', podTemplateHash: 'c', weight: 5 }] };
    const out = (apiVersion: SmiVersion) => renderTrafficSplit({ existing: undefined, desired, rollout, namespace: 'shop', name: 'web', rootService: 'web', apiVersion, refPath: 'spec.x.smi' });
    assert.deepEqual(out('v1alpha4').object.spec?.backends, [
      { service: 'web-canary', weight: 10 },
      { service: 'web-stable', weight: 80 },
      { service: 'web-exp-baseline', weight: 5 },
      { service: 'web-exp-canary', weight: 5 },
    ]);
    assert.deepEqual(out('v1alpha1').object.spec?.backends.map((b) => b.weight), ['100m', '800m', '50m', '50m']);
    assert.deepEqual(out('v1alpha4').weight, { canary: 1, total: 10 }, 'the canary share of all traffic');
    assert.deepEqual(trafficSplitWeight(out('v1alpha4').object, 'web-canary', 'web-stable'), { canary: 1, total: 10 });
  });

  void it('is owned by the Rollout and refuses a TrafficSplit owned by something else', () => {
    assert.deepEqual(render(5).object.metadata.ownerReferences, [{ ...rollout, controller: true, blockOwnerDeletion: true }]);
    const foreign: TrafficSplit = { apiVersion: 'split.smi-spec.io/v1alpha4', kind: 'TrafficSplit', metadata: { name: 'web' }, spec: { service: 'web', backends: [] } };
    const out = render(5, 'v1alpha4', foreign);
    assert.equal(out.issues[0]?.path, 'spec.x.smi');
    assert.match(out.issues[0]?.message ?? '', /controlled by no controller .*not taken over/);
  });
});
