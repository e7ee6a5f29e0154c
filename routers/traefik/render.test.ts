import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ratioFromPercent, type DesiredTraffic } from '../types.ts';
import { readTraefikService, renderTraefikService, shapeIssues, type TraefikService, type WeightedEntry } from './render.ts';

const PATH = 'spec.strategy.canary.trafficRouting.traefik.weightedTraefikServiceName';

function desired(percent: number): DesiredTraffic {
  return { weight: ratioFromPercent(percent), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [] };
}

function service(entries: unknown): TraefikService {
  return { apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', metadata: { name: 'web', namespace: 'shop' }, spec: { weighted: { services: entries as WeightedEntry[] } } };
}

const weights = (object: TraefikService): (number | undefined)[] => (object.spec?.weighted?.services ?? []).map((e) => e.weight);

void describe('renderTraefikService', () => {
  void it('sets the canary and stable entries as Argo does (20% as 20/80), leaving their other fields', () => {
    const given = service([
      { name: 'web-stable', port: 80, weight: 100, passHostHeader: false },
      { name: 'web-canary', port: 80, weight: 0 },
    ]);
    const out = renderTraefikService(given, desired(20), PATH);
    assert.deepEqual(out.issues, []);
    assert.deepEqual(out.object.spec?.weighted?.services, [
      { name: 'web-stable', port: 80, weight: 80, passHostHeader: false },
      { name: 'web-canary', port: 80, weight: 20 },
    ]);
    assert.deepEqual(out.weight, { canary: 1, total: 5 });
    assert.equal(given.spec?.weighted?.services?.[0]?.weight, 100, 'the input is not changed');
  });

  void it('writes 0.01% exactly as 1 and 9999', () => {
    const out = renderTraefikService(service([{ name: 'web-canary', weight: 0 }, { name: 'web-stable', weight: 100 }]), desired(0.01), PATH);
    assert.deepEqual(weights(out.object), [1, 9999]);
  });

  void it('keeps weights that already say the share (50/50 as 1/1 is not rewritten)', () => {
    const given = service([{ name: 'web-canary', weight: 1 }, { name: 'web-stable', weight: 1 }]);
    assert.deepEqual(weights(renderTraefikService(given, desired(50), PATH).object), [1, 1]);
  });

  void it("keeps another entry's share of the whole: the canary's share is of the Rollout's pool", () => {
    const given = service([{ name: 'web-stable', weight: 90 }, { name: 'web-canary', weight: 0 }, { name: 'legacy', weight: 10 }]);
    const out = renderTraefikService(given, desired(20), PATH);
    // pool 90 of 100: canary 18, stable 72, legacy still 10 of 100
    assert.deepEqual(weights(out.object), [72, 18, 10]);
  });

  void it('does not take an entry of another kind or namespace for the Service', () => {
    const given = service([{ name: 'web-stable', weight: 100 }, { name: 'web-canary', kind: 'TraefikService', weight: 0 }]);
    const out = renderTraefikService(given, desired(20), PATH);
    assert.equal(out.issues.length, 1);
    assert.match(out.issues[0]!.message, /no entry for the canary Service "web-canary"/);
    assert.equal(out.issues[0]!.path, PATH);
    assert.deepEqual(weights(out.object), [100, 0], 'nothing changed');
  });

  void it('says what is missing when the TraefikService is not weighted', () => {
    const mirroring: TraefikService = { apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', metadata: { name: 'web' }, spec: { mirroring: { name: 'web-stable' } } };
    const [issue] = renderTraefikService(mirroring, desired(5), PATH).issues;
    assert.match(issue!.message, /TraefikService "web" has no spec.weighted.services/);
    assert.match(issue!.fix, /web-stable and web-canary/);
  });
});

void describe('readTraefikService and shapeIssues (a manifest in a file)', () => {
  void it('reads the share of the canary and stable entries; missing weights count as 1 (Traefik default)', () => {
    const names = { canaryService: 'web-canary', stableService: 'web-stable' };
    assert.deepEqual(readTraefikService(service([{ name: 'web-stable', weight: 95 }, { name: 'web-canary', weight: 5 }, { name: 'x', weight: 900 }]), names), { canary: 5, total: 100 });
    assert.deepEqual(readTraefikService(service([{ name: 'web-stable' }, { name: 'web-canary' }]), names), { canary: 1, total: 2 });
    assert.equal(readTraefikService(service([{ name: 'web-stable', weight: 1 }]), names), undefined);
  });

  void it('reads any shape without throwing', () => {
    const names = { canaryService: 'web-canary', stableService: 'web-stable', namespace: 'shop' };
    const odd = { apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', metadata: { name: 'web' }, spec: { weighted: { services: 'web-stable' } } } as unknown as TraefikService;
    assert.match(shapeIssues(odd, names, 'p')[0]!.message, /no spec.weighted.services/);
    assert.match(shapeIssues(service([null, 7, { name: 'web-stable' }]), names, 'p')[0]!.message, /no entry for the canary Service/);
  });
});
