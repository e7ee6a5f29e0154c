// The Traefik plugin as the rest of Rollway sees it through the registry: `rollway lint` on an
// Argo manifest (only apiVersion changed), `rollway convert`, and the weight `get rollout` and the
// dashboard read.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { convertText, toYamlText } from '../../cli/convert.ts';
import { lintText } from '../../cli/lint.ts';
import { routingObjectsOf } from '../registry.ts';

const ROUTING = 'spec.strategy.canary.trafficRouting';

function manifest(steps: string, entries = '[{name: web-stable, port: 80, weight: 100}, {name: web-canary, port: 80, weight: 0}]'): string {
  return `apiVersion: rollway.dev/v1alpha1
kind: Rollout
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting:
        managedRoutes: [{name: beta}]
        traefik: {weightedTraefikServiceName: web-wrr}
      steps: ${steps}
---
apiVersion: traefik.io/v1alpha1
kind: TraefikService
metadata: {name: web-wrr, namespace: shop}
spec:
  weighted:
    services: ${entries}
`;
}

const lines = (text: string): string[] => lintText(text).map((f) => `${f.path}: ${f.message}`);

void describe('rollway lint with trafficRouting.traefik', () => {
  void it('accepts a weighted TraefikService naming both Services (no longer "not implemented")', () => {
    assert.deepEqual(lines(manifest('[{setWeight: 5}, {pause: {}}, {setWeight: 0.5}]')), []);
  });

  void it('reports header and mirror route steps as things the Traefik router cannot do, at their step', () => {
    const found = lines(manifest("[{setHeaderRoute: {name: beta, match: [{headerName: x-beta, headerValue: {exact: 'yes'}}]}}, {setMirrorRoute: {name: beta, match: [{method: {exact: GET}}]}}]"));
    assert.ok(found.includes('spec.strategy.canary.steps[0].setHeaderRoute: the Traefik router cannot route by header'), found.join('\n'));
    assert.ok(found.includes('spec.strategy.canary.steps[1].setMirrorRoute: the Traefik router cannot mirror traffic'), found.join('\n'));
  });

  void it('reports a TraefikService in the same file that lacks the canary entry, at the field naming it', () => {
    const found = lines(manifest('[{setWeight: 5}]', '[{name: web-stable, port: 80}]'));
    assert.deepEqual(found, [`${ROUTING}.traefik.weightedTraefikServiceName: TraefikService "web-wrr": spec.weighted.services has no entry for the canary Service "web-canary"`]);
  });

  void it('reports an empty name with the field path', () => {
    const found = lines(manifest('[{setWeight: 5}]').replace('weightedTraefikServiceName: web-wrr', "weightedTraefikServiceName: ''"));
    assert.ok(found.some((l) => l.startsWith(`${ROUTING}.traefik.weightedTraefikServiceName: "" is not a valid TraefikService name`)), found.join('\n'));
  });
});

void describe('the read path of get rollout and the dashboard', () => {
  void it("reads the canary share from the TraefikService's canary and stable entries", () => {
    // What `get rollout`, the live views and the dashboard do (client/routing.ts): the weight-carrying objects, each read by its plugin.
    const where = { namespace: 'shop', rolloutName: 'web', canaryService: 'web-canary', stableService: 'web-stable' };
    const targets = routingObjectsOf({ traefik: { weightedTraefikServiceName: 'web-wrr' } }, where).filter((o) => o.carriesWeight);
    assert.deepEqual(targets.map((t) => `${t.kind}.${t.group} ${t.namespace}/${t.name} at ${t.path}`), [`TraefikService.traefik.io shop/web-wrr at ${ROUTING}.traefik.weightedTraefikServiceName`]);
    const object = { apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService', metadata: { name: 'web-wrr', namespace: 'shop' }, spec: { weighted: { services: [{ name: 'web-stable', weight: 9999 }, { name: 'web-canary', weight: 1 }, { name: 'other', weight: 5 }] } } };
    assert.deepEqual(targets[0]!.plugin.read(object, targets[0]!.config, where), { canary: 1, total: 10000 });
  });
});

void describe('rollway convert of an Argo Rollout with trafficRouting.traefik', () => {
  const argo = (routing: string): string => `apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx}]}
  strategy:
    canary:
      canaryService: web-canary
      stableService: web-stable
      trafficRouting: ${routing}
      steps: [{setWeight: 5}]
`;

  void it('keeps the Traefik configuration as it is, with nothing to report', () => {
    const out = convertText(argo('{traefik: {weightedTraefikServiceName: web-wrr}}'));
    assert.deepEqual(out.notes, []);
    assert.match(toYamlText(out.documents), /traefik:\s*\{?\s*weightedTraefikServiceName: web-wrr/);
  });

  void it('names traefik among the routers to use instead of an unknown plugin', () => {
    const [note] = convertText(argo('{plugins: {example.com/other: {}}}')).notes;
    assert.match(note!.fix, /^use one of Rollway's routers \(istio, nginx, smi, gatewayAPI, traefik\)/);
  });
});
