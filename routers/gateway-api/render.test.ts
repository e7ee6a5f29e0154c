import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MANAGED_ROUTES_ANNOTATION } from '../common.ts';
import { diffJson } from '../json-patch.ts';
import { FULL_STABLE, percentOf, ratioFromPercent, type DesiredTraffic } from '../types.ts';
import { acceptance, renderHttpRoute, type HTTPRoute, type HTTPRouteRef, type HTTPRouteRule } from './render.ts';

const PATH = 'spec.strategy.canary.trafficRouting.gatewayAPI.httpRoutes[0]';
const svc = (name: string, weight: number) => ({ group: '', kind: 'Service', name, port: 80, weight });

function traffic(percent: number, extra: Partial<DesiredTraffic> = {}): DesiredTraffic {
  return { weight: percent === 0 ? FULL_STABLE : ratioFromPercent(percent), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [], ...extra };
}

const webRule = (): HTTPRouteRule => ({
  name: 'web',
  matches: [{ path: { type: 'PathPrefix', value: '/shop' } }],
  filters: [{ type: 'RequestHeaderModifier', requestHeaderModifier: { set: [{ name: 'x-via', value: 'gw' }] } }],
  backendRefs: [svc('web-stable', 100), svc('web-canary', 0)],
});
const docsRule = (): HTTPRouteRule => ({ name: 'docs', matches: [{ path: { type: 'PathPrefix', value: '/docs' } }], backendRefs: [svc('docs', 1)] });

function route(rules: HTTPRouteRule[]): HTTPRoute {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1',
    kind: 'HTTPRoute',
    metadata: { name: 'web', namespace: 'shop', generation: 3 },
    spec: { parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'gw' }], hostnames: ['web.example.com'], rules },
  };
}

function render(object: HTTPRoute, desired: DesiredTraffic, ref: HTTPRouteRef = { name: 'web' }) {
  return renderHttpRoute({ route: object, ref, refPath: PATH, desired, namespace: 'shop', rolloutName: 'web', managedRoutes: ['beta', 'copy'] });
}

const weights = (rule: HTTPRouteRule | undefined) => (rule?.backendRefs ?? []).map((b) => b.weight);

void describe('Gateway API HTTPRoute rendering', () => {
  void it('weighs the stable/canary backendRefs of the rules that have the stable Service, exactly', () => {
    const cases: [number, number[]][] = [
      [0, [100, 0]],
      [0.01, [9999, 1]],
      [0.5, [199, 1]],
      [20, [80, 20]],
      [100, [0, 100]],
    ];
    for (const [percent, expected] of cases) {
      const out = render(route([webRule(), docsRule()]), traffic(percent));
      assert.deepEqual(out.issues, []);
      assert.deepEqual(weights(out.object.spec?.rules[0]), expected, `${percent}%`);
      assert.deepEqual(out.object.spec?.rules[1], docsRule());
      assert.equal(percentOf(out.weight!), percent);
    }
  });

  void it('weighs only the named rules, and names a rule that is missing', () => {
    const second = { ...webRule(), name: 'web-api' };
    const out = render(route([webRule(), second]), traffic(10), { name: 'web', rules: ['web-api'] });
    assert.deepEqual(weights(out.object.spec?.rules[0]), [100, 0]);
    assert.deepEqual(weights(out.object.spec?.rules[1]), [90, 10]);
    const missing = render(route([webRule()]), traffic(10), { name: 'web', rules: ['nope'] });
    assert.equal(missing.issues[0]?.path, `${PATH}.rules[0]`);
    assert.match(missing.issues[0]?.message ?? '', /no rule named "nope" \(its rules: web\)/);
    const noCanary = render(route([{ ...webRule(), backendRefs: [svc('web-stable', 1)] }]), traffic(10));
    assert.match(noCanary.issues[0]?.message ?? '', /rule "web" has no backendRef to the canary Service "web-canary"/);
    assert.equal(noCanary.issues[0]?.path, `${PATH}.name`, 'found by its stable backendRef: the route is the field to fix');
    const onlyStable = { ...webRule(), name: 'web-api', backendRefs: [svc('web-stable', 1)] };
    const namedNoCanary = render(route([webRule(), onlyStable]), traffic(10), { name: 'web', rules: ['nope', 'web-api'] });
    assert.deepEqual(namedNoCanary.issues.map((i) => i.path), [`${PATH}.rules[0]`, `${PATH}.rules[1]`], 'each issue names its own entry of rules');
    assert.deepEqual(render(route([{ ...webRule(), backendRefs: [svc('web-stable', 1)] }]), traffic(10), { name: 'web', rules: [] }).issues[0]?.path, `${PATH}.name`, 'an empty rules list names no entry');
  });

  void it('adds a header rule narrowing the managed matches, and takes it away again', () => {
    const before = route([webRule(), docsRule()]);
    const out = render(before, traffic(5, { headerRoutes: [{ name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }, { headerName: 'X-Ver', headerValue: { prefix: '2.' } }] }] }));
    const rules = out.object.spec?.rules ?? [];
    assert.deepEqual(rules.map((r) => r.name), ['beta', 'web', 'docs']);
    assert.deepEqual(rules[0], {
      name: 'beta',
      filters: webRule().filters,
      matches: [
        {
          path: { type: 'PathPrefix', value: '/shop' },
          headers: [
            { name: 'X-Beta', type: 'Exact', value: 'yes' },
            { name: 'X-Ver', type: 'RegularExpression', value: '^2\\..*' },
          ],
        },
      ],
      backendRefs: [svc('web-canary', 1)],
    });
    assert.equal(out.object.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION], '{"web":["beta"]}');
    const back = render(out.object, traffic(0));
    assert.deepEqual(back.object, before);
  });

  void it('adds a mirror rule with the RequestMirror filter and its percent', () => {
    const out = render(route([webRule()]), traffic(10, { mirrorRoutes: [{ name: 'copy', percentage: 25, match: [{ method: { exact: 'get' }, path: { exact: '/shop/cart' } }] }] }));
    const rule = out.object.spec?.rules[0];
    assert.equal(rule?.name, 'copy');
    assert.deepEqual(rule?.matches, [{ path: { type: 'Exact', value: '/shop/cart' }, method: 'GET' }]);
    assert.deepEqual(weights(rule), [90, 10]);
    assert.deepEqual(rule?.filters?.at(-1), { type: 'RequestMirror', requestMirror: { backendRef: { group: '', kind: 'Service', name: 'web-canary', port: 80 }, percent: 25 } });
  });

  void it('writes nothing the second time', () => {
    const once = render(route([webRule()]), traffic(7, { headerRoutes: [{ name: 'beta', match: [{ headerName: 'a', headerValue: { regex: 'b+' } }] }] })).object;
    const twice = render(once, traffic(7, { headerRoutes: [{ name: 'beta', match: [{ headerName: 'a', headerValue: { regex: 'b+' } }] }] })).object;
    assert.deepEqual(diffJson(once, twice), []);
  });

  void it('finds backendRefs of a route in another namespace by their namespace', () => {
    const object = route([{ ...webRule(), backendRefs: [{ ...svc('web-stable', 1), namespace: 'shop' }, { ...svc('web-canary', 0), namespace: 'shop' }, svc('web-stable', 1)] }]);
    object.metadata.namespace = 'edge';
    const out = render(object, traffic(50));
    // the Service of the same name in the route's own namespace is someone else's: it keeps its half
    assert.deepEqual(weights(out.object.spec?.rules[0]), [1, 1, 2]);
  });
});

void describe('Gateway API verification', () => {
  const withStatus = (conditions: { type: string; status: string; observedGeneration: number }[][]): HTTPRoute => ({
    ...route([webRule()]),
    status: {
      parents: conditions.map((c, i) => ({
        controllerName: 'example.net/gateway',
        parentRef: { name: `gw-${i}` },
        conditions: c.map((x) => ({ ...x, reason: x.status === 'True' ? 'Accepted' : 'NotAllowed', message: '', lastTransitionTime: '2025-01-01T00:00:00Z' })),
      })),
    } as HTTPRoute['status'],
  });

  void it('is accepted only when every parent accepted the current generation', () => {
    assert.equal(acceptance(route([webRule()])).state, 'pending');
    assert.equal(acceptance(withStatus([[{ type: 'Accepted', status: 'True', observedGeneration: 3 }]])).state, 'accepted');
    assert.equal(acceptance(withStatus([[{ type: 'Accepted', status: 'True', observedGeneration: 2 }]])).state, 'pending');
    assert.equal(acceptance(withStatus([[{ type: 'Accepted', status: 'True', observedGeneration: 3 }], [{ type: 'Accepted', status: 'True', observedGeneration: 2 }]])).state, 'pending');
    assert.equal(acceptance(withStatus([[{ type: 'Accepted', status: 'False', observedGeneration: 3 }]])).state, 'rejected');
    assert.equal(acceptance(withStatus([[{ type: 'Accepted', status: 'True', observedGeneration: 3 }, { type: 'ResolvedRefs', status: 'False', observedGeneration: 3 }]])).state, 'rejected');
  });
});
