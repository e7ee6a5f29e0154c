import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ratioFromPercent } from './types.ts';
import { expresses, poolWeights, ratioOfWeights, splitWeights } from './weights.ts';

void describe('poolWeights', () => {
  void it('writes the ratio as it comes when the route has only stable and canary', () => {
    const cases: [number, number, number][] = [
      [0, 0, 100],
      [0.01, 1, 9999],
      [0.5, 1, 199],
      [1, 1, 99],
      [20, 20, 80],
      [100, 100, 0],
    ];
    for (const [percent, canary, stable] of cases) {
      assert.deepEqual(poolWeights(ratioFromPercent(percent), { canary: 0, stable: 100 }, []), percent === 0 ? { canary: 0, stable: 100, othersScale: 1 } : { canary, stable, othersScale: 1 }, `${percent}%`);
    }
  });

  void it('keeps weights that already express the ratio (nothing to write)', () => {
    assert.deepEqual(poolWeights(ratioFromPercent(20), { canary: 2, stable: 8 }, []), { canary: 2, stable: 8, othersScale: 1 });
    assert.ok(expresses(1, 9999, ratioFromPercent(0.01)));
    assert.ok(!expresses(0, 0, ratioFromPercent(0)));
  });

  void it('keeps the share of other destinations, scaling them only when a finer weight needs it', () => {
    // stable 90, legacy 10: the rollout has 90% of the route
    assert.deepEqual(poolWeights(ratioFromPercent(20), { canary: 0, stable: 90 }, [10]), { canary: 18, stable: 72, othersScale: 1 });
    const fine = poolWeights(ratioFromPercent(0.01), { canary: 0, stable: 90 }, [10]);
    assert.deepEqual(fine, { canary: 9, stable: 89991, othersScale: 1000 });
    // canary:stable is exactly 1:9999 and legacy keeps 10% of the route
    assert.deepEqual(ratioOfWeights(fine.canary, fine.stable), { canary: 1, total: 10000 });
    assert.equal(10 * fine.othersScale / (fine.canary + fine.stable + 10 * fine.othersScale), 0.1);
  });
});

void describe('splitWeights (weighted experiment destinations)', () => {
  const FULL = { canary: 0, stable: 100, extras: [] };
  void it('gives each extra destination its share of all traffic; stable keeps the rest', () => {
    assert.deepEqual(splitWeights({ canary: 0, total: 100 }, [5, 5], FULL, []), { canary: 0, stable: 90, extras: [5, 5], othersScale: 1 });
    assert.deepEqual(splitWeights(ratioFromPercent(20), [10], FULL, []), { canary: 20, stable: 70, extras: [10], othersScale: 1 });
    assert.deepEqual(splitWeights(ratioFromPercent(0.01), [5], FULL, []), { canary: 1, stable: 9499, extras: [500], othersScale: 1 });
  });
  void it('keeps weights that already say the split (no rewrite), and is poolWeights without extras', () => {
    assert.deepEqual(splitWeights(ratioFromPercent(10), [5], { canary: 20, stable: 170, extras: [10] }, []), { canary: 20, stable: 170, extras: [10], othersScale: 1 });
    assert.deepEqual(splitWeights(ratioFromPercent(20), [], { canary: 0, stable: 100, extras: [] }, [50]), { ...poolWeights(ratioFromPercent(20), { canary: 0, stable: 100 }, [50]), extras: [] });
  });
  void it("leaves a user's other destinations their share of the route", () => {
    // pool 100 beside another destination of 100: the split fits in the pool, others unchanged
    assert.deepEqual(splitWeights({ canary: 0, total: 100 }, [5, 5], FULL, [100]), { canary: 0, stable: 90, extras: [5, 5], othersScale: 1 });
    // pool 10: 5% of it is not whole, so the route is scaled by 2 (others too)
    assert.deepEqual(splitWeights({ canary: 0, total: 100 }, [5, 5], { canary: 0, stable: 10, extras: [] }, [7]), { canary: 0, stable: 18, extras: [1, 1], othersScale: 2 });
  });
  void it('never writes a negative stable weight when the shares add up above 100', () => {
    const split = splitWeights(ratioFromPercent(90), [20], FULL, []);
    assert.equal(split.stable, 0);
  });
});
