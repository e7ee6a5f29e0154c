import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffJson } from '../json-patch.ts';
import { MANAGED_ROUTES_ANNOTATION, POD_TEMPLATE_HASH_LABEL } from '../common.ts';
import { FULL_STABLE, percentOf, ratioFromPercent, type DesiredTraffic } from '../types.ts';
import { renderDestinationRule, renderVirtualService, type DestinationRule, type HttpRoute, type VirtualService, type VirtualServiceRenderInput } from './render.ts';

const NS = 'shop';
const PATH = 'spec.strategy.canary.trafficRouting.istio.virtualService';

function traffic(percent: number, extra: Partial<DesiredTraffic> = {}): DesiredTraffic {
  return { weight: percent === 0 ? FULL_STABLE : ratioFromPercent(percent), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's1', canaryHash: 'c1', headerRoutes: [], mirrorRoutes: [], ...extra };
}

function vs(http: HttpRoute[], extra: Partial<VirtualService> = {}): VirtualService {
  return { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', metadata: { name: 'web', namespace: NS, annotations: { 'team.example/owner': 'shop' } }, spec: { hosts: ['web.example.com'], gateways: ['web-gw'], http }, ...extra };
}

const primary = (): HttpRoute => ({
  name: 'primary',
  match: [{ uri: { prefix: '/shop' } }],
  retries: { attempts: 3, perTryTimeout: '2s' },
  timeout: '10s',
  route: [
    { destination: { host: 'web-stable', port: { number: 80 } }, weight: 100 },
    { destination: { host: 'web-canary', port: { number: 80 } }, weight: 0 },
  ],
});
const other = (): HttpRoute => ({ name: 'legacy', route: [{ destination: { host: 'legacy.other.svc.cluster.local' } }] });

function render(object: VirtualService, desired: DesiredTraffic, overrides: Partial<VirtualServiceRenderInput> = {}) {
  return renderVirtualService({ vs: object, ref: { name: 'web', routes: ['primary'] }, refPath: PATH, desired, namespace: NS, rolloutName: 'web', managedRoutes: ['header-beta', 'mirror-all'], ...overrides });
}

const weightsOf = (route: HttpRoute | undefined): (number | undefined)[] => (route?.route ?? []).map((d) => d.weight);

void describe('Istio VirtualService rendering', () => {
  void it('writes 0, 0.01, 1, 20 and 100 percent as exact relative weights', () => {
    const cases: [number, number[]][] = [
      [0, [100, 0]],
      [0.01, [9999, 1]],
      [1, [99, 1]],
      [20, [80, 20]],
      [100, [0, 100]],
    ];
    for (const [percent, weights] of cases) {
      const out = render(vs([primary(), other()]), traffic(percent));
      assert.deepEqual(out.issues, []);
      assert.deepEqual(weightsOf(out.object.spec?.http?.[0]), weights, `${percent}%`);
      assert.equal(percentOf(out.weight!), percent);
    }
  });

  void it('changes only the two weights, and nothing when they already say the weight', () => {
    const before = vs([primary(), other()]);
    const out = render(before, traffic(5));
    assert.deepEqual(
      diffJson(before, out.object).filter((op) => op.op !== 'test'),
      [
        { op: 'replace', path: '/spec/http/0/route/0/weight', value: 95 },
        { op: 'replace', path: '/spec/http/0/route/1/weight', value: 5 },
      ],
    );
    assert.deepEqual(diffJson(out.object, render(out.object, traffic(5)).object), []);
  });

  void it('manages the single unnamed route when routes is left out', () => {
    const unnamed = { ...primary(), name: undefined };
    delete unnamed.name;
    const out = render(vs([unnamed]), traffic(30), { ref: { name: 'web' } });
    assert.deepEqual(out.issues, []);
    assert.deepEqual(weightsOf(out.object.spec?.http?.[0]), [70, 30]);
  });

  void it('names the missing route, the missing destination and the ambiguous route list', () => {
    const missing = render(vs([primary()]), traffic(10), { ref: { name: 'web', routes: ['primary', 'nope'] } });
    assert.equal(missing.issues.length, 1);
    assert.equal(missing.issues[0]?.path, `${PATH}.routes[1]`);
    assert.match(missing.issues[0]?.message ?? '', /no http route named "nope" \(its routes: primary\)/);

    const noCanary = primary();
    noCanary.route = noCanary.route!.slice(0, 1);
    const out = render(vs([noCanary]), traffic(10));
    assert.equal(out.issues[0]?.path, `${PATH}.routes[0]`);
    assert.match(out.issues[0]?.message ?? '', /no destination for the canary Service "web-canary"/);

    const two = render(vs([primary(), other()]), traffic(10), { ref: { name: 'web' } });
    assert.equal(two.issues[0]?.path, `${PATH}.routes`);
  });

  void it('keeps the share of a destination the user added to the managed route', () => {
    const route = primary();
    route.route = [
      { destination: { host: 'web-stable' }, weight: 90 },
      { destination: { host: 'web-canary' }, weight: 0 },
      { destination: { host: 'web-legacy' }, weight: 10 },
    ];
    const out = render(vs([route]), traffic(20));
    assert.deepEqual(weightsOf(out.object.spec?.http?.[0]), [72, 18, 10]);
  });

  void it('accepts qualified hosts of the same Services', () => {
    const route = primary();
    route.route![0]!.destination.host = 'web-stable.shop.svc.cluster.local';
    route.route![1]!.destination.host = 'web-canary.shop';
    assert.deepEqual(weightsOf(render(vs([route]), traffic(50)).object.spec?.http?.[0]), [50, 50]);
    route.route![1]!.destination.host = 'web-canary.elsewhere';
    assert.equal(render(vs([route]), traffic(50)).issues.length, 1);
  });

  void it('inserts a header route above the user routes, within the managed route, and removes it again', () => {
    const before = vs([primary(), other()]);
    const withHeader = render(before, traffic(10, { headerRoutes: [{ name: 'header-beta', match: [{ headerName: 'x-beta', headerValue: { exact: 'yes' } }, { headerName: 'x-user', headerValue: { prefix: 'qa-' } }] }] }));
    const http = withHeader.object.spec?.http ?? [];
    assert.deepEqual(
      http.map((r) => r.name),
      ['header-beta', 'primary', 'legacy'],
    );
    assert.deepEqual(http[0], {
      name: 'header-beta',
      match: [{ uri: { prefix: '/shop' }, headers: { 'x-beta': { exact: 'yes' }, 'x-user': { prefix: 'qa-' } } }],
      retries: { attempts: 3, perTryTimeout: '2s' },
      timeout: '10s',
      route: [{ destination: { host: 'web-canary', port: { number: 80 } }, weight: 100 }],
    });
    assert.equal(withHeader.object.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION], '{"web":["header-beta"]}');
    assert.equal(withHeader.object.metadata.annotations?.['team.example/owner'], 'shop');

    const removed = render(withHeader.object, traffic(10));
    assert.deepEqual(removed.object.spec?.http?.map((r) => r.name), ['primary', 'legacy']);
    assert.equal(removed.object.metadata.annotations?.[MANAGED_ROUTES_ANNOTATION], undefined);
    assert.deepEqual(render(removed.object, FULL_STABLE_TRAFFIC).object, before);
  });

  void it('places header and mirror routes in managedRoutes order, whatever the step order', () => {
    const out = render(
      vs([primary()]),
      traffic(10, {
        mirrorRoutes: [{ name: 'mirror-all', percentage: 35, match: [{ method: { exact: 'GET' }, path: { prefix: '/shop/api' } }] }],
        headerRoutes: [{ name: 'header-beta', match: [{ headerName: 'x-beta', headerValue: { regex: '^y.*' } }] }],
      }),
    );
    const http = out.object.spec?.http ?? [];
    assert.deepEqual(http.map((r) => r.name), ['header-beta', 'mirror-all', 'primary']);
    const mirror = http[1]!;
    assert.deepEqual(mirror.match, [{ uri: { prefix: '/shop/api' }, method: { exact: 'GET' } }]);
    assert.deepEqual(mirror.mirror, { host: 'web-canary', port: { number: 80 } });
    assert.deepEqual(mirror.mirrorPercentage, { value: 35 });
    assert.deepEqual(weightsOf(mirror), [90, 10], 'mirrored requests are still served at the current weights');
  });

  void it('refuses to take over a user route that has a managed route name', () => {
    const clash = { ...other(), name: 'header-beta' };
    const out = render(vs([primary(), clash]), traffic(10, { headerRoutes: [{ name: 'header-beta', match: [{ headerName: 'a', headerValue: { exact: 'b' } }] }] }));
    assert.match(out.issues[0]?.message ?? '', /already has an http route named "header-beta" that Rollway did not create/);
  });

  void it('weighs tls and tcp routes chosen by port and SNI hosts', () => {
    const object = vs([], {
      spec: {
        hosts: ['web'],
        tls: [
          { match: [{ port: 443, sniHosts: ['web.example.com'] }], route: [{ destination: { host: 'web-stable' }, weight: 100 }, { destination: { host: 'web-canary' }, weight: 0 }] },
          { match: [{ port: 443, sniHosts: ['other.example.com'] }], route: [{ destination: { host: 'other' } }] },
        ],
        tcp: [{ match: [{ port: 5432 }], route: [{ destination: { host: 'web-stable' }, weight: 100 }, { destination: { host: 'web-canary' }, weight: 0 }] }],
      },
    });
    const out = render(object, traffic(0.01), { ref: { name: 'web', tlsRoutes: [{ port: 443, sniHosts: ['web.example.com'] }], tcpRoutes: [{ port: 5432 }] } });
    assert.deepEqual(out.issues, []);
    assert.deepEqual(out.object.spec?.tls?.[0]?.route?.map((d) => d.weight), [9999, 1]);
    assert.deepEqual(out.object.spec?.tls?.[1], object.spec?.tls?.[1]);
    assert.deepEqual(out.object.spec?.tcp?.[0]?.route?.map((d) => d.weight), [9999, 1]);
    assert.equal(out.object.spec?.http, undefined);
    const missing = render(object, traffic(1), { ref: { name: 'web', tcpRoutes: [{ port: 1 }] } });
    assert.equal(missing.issues[0]?.path, `${PATH}.tcpRoutes[0]`);
  });

  void it('resolves routes per kind as Argo does: routes: [primary] on a TLS-only VirtualService manages its tls route', () => {
    const tlsOnly = (routes: { port: number; hosts: string[] }[]): VirtualService =>
      vs([], {
        spec: {
          hosts: ['web'],
          tls: routes.map(({ port, hosts }) => ({ match: [{ port, sniHosts: hosts }], route: [{ destination: { host: 'web-stable' }, weight: 100 }, { destination: { host: 'web-canary' }, weight: 0 }] })),
        },
      });
    for (const ref of [{ name: 'web', routes: ['primary'] }, { name: 'web' }]) {
      const out = render(tlsOnly([{ port: 443, hosts: ['web.example.com'] }]), traffic(10), { ref });
      assert.deepEqual(out.issues, [], JSON.stringify(ref));
      assert.deepEqual(out.object.spec?.tls?.[0]?.route?.map((d) => d.weight), [90, 10]);
      assert.equal(out.object.spec?.http, undefined, 'no http routes appear');
      assert.equal(percentOf(out.weight!), 10);
    }
    // Two tls routes and no tlsRoutes: which one is meant cannot be guessed.
    const two = render(tlsOnly([{ port: 443, hosts: ['a.example.com'] }, { port: 443, hosts: ['b.example.com'] }]), traffic(10));
    assert.deepEqual(two.issues.map((i) => i.path), [`${PATH}.tlsRoutes`]);
    assert.match(two.issues[0]!.message, /has 2 tls routes and tlsRoutes does not say which to manage/);
  });

  void it('matches a tls selector against all match blocks of a route together, as Argo does', () => {
    const route = (match: { port?: number; sniHosts: string[] }[], stable = 'web-stable') => ({ match, route: [{ destination: { host: stable }, weight: 100 }, { destination: { host: 'web-canary' }, weight: 0 }] });
    const object = vs([], {
      spec: {
        hosts: ['web'],
        tls: [
          route([{ port: 443, sniHosts: ['a.example.com'] }, { port: 443, sniHosts: ['b.example.com'] }]),
          route([{ port: 443, sniHosts: ['a.example.com', 'c.example.com'] }], 'other'),
          route([{ sniHosts: ['a.example.com'] }], 'other'),
        ],
      },
    });
    const out = render(object, traffic(25), { ref: { name: 'web', tlsRoutes: [{ port: 443, sniHosts: ['b.example.com', 'a.example.com'] }] } });
    assert.deepEqual(out.issues, []);
    assert.deepEqual(out.object.spec?.tls?.map((r) => r.route?.map((d) => d.weight)), [[75, 25], [100, 0], [100, 0]], 'only the route whose hosts are exactly a and b');
    // A subset of a route's hosts, or a port the route does not name, is not that route.
    const partial = render(object, traffic(25), { ref: { name: 'web', tlsRoutes: [{ port: 443, sniHosts: ['a.example.com'] }] } });
    assert.deepEqual(partial.issues.map((i) => i.path), [`${PATH}.tlsRoutes[0]`]);
    assert.match(partial.issues[0]!.message, /has no tls route matching/);
  });

  void it('weighs the only tls route next to the managed http route when it has both destinations, and leaves another one alone', () => {
    const tls = (stable: string) => [{ match: [{ port: 443, sniHosts: ['web.example.com'] }], route: [{ destination: { host: stable }, weight: 100 }, { destination: { host: 'web-canary' }, weight: 0 }] }];
    const both = render({ ...vs([primary()]), spec: { ...vs([primary()]).spec, tls: tls('web-stable') } }, traffic(30));
    assert.deepEqual(both.issues, []);
    assert.deepEqual(weightsOf(both.object.spec?.http?.[0]), [70, 30]);
    assert.deepEqual(both.object.spec?.tls?.[0]?.route?.map((d) => d.weight), [70, 30]);
    const passthrough = render({ ...vs([primary()]), spec: { ...vs([primary()]).spec, tls: tls('mail') } }, traffic(30));
    assert.deepEqual(passthrough.issues, []);
    assert.deepEqual(passthrough.object.spec?.tls?.[0]?.route?.map((d) => d.weight), [100, 0]);
  });

  void it('names a VirtualService with no route of any kind', () => {
    const out = render(vs([], { spec: { hosts: ['web'] } }), traffic(10), { ref: { name: 'web', routes: ['primary'], tcpRoutes: [{ port: 5432 }] } });
    assert.deepEqual(out.issues.map((i) => [i.path, i.message]), [[`${PATH}.name`, 'VirtualService "web" has no http, tls or tcp routes']]);
  });

  void it('tells destinations apart by subset at subset level', () => {
    const route: HttpRoute = {
      name: 'primary',
      route: [
        { destination: { host: 'web', subset: 'stable' }, weight: 100 },
        { destination: { host: 'web', subset: 'canary' }, weight: 0 },
      ],
    };
    const out = render(vs([route]), traffic(0.5), { subsets: { stable: 'stable', canary: 'canary', host: 'web.shop.svc.cluster.local' } });
    assert.deepEqual(out.issues, []);
    assert.deepEqual(weightsOf(out.object.spec?.http?.[0]), [199, 1]);
  });
});

const FULL_STABLE_TRAFFIC = traffic(0);

void describe('Istio DestinationRule rendering', () => {
  const dr = (): DestinationRule => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'web', namespace: NS },
    spec: {
      host: 'web',
      trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
      subsets: [
        { name: 'stable', labels: { app: 'web' } },
        { name: 'canary', labels: { app: 'web' } },
        { name: 'debug', labels: { app: 'web', track: 'debug' } },
      ],
    },
  });
  const ref = { name: 'web', stableSubsetName: 'stable', canarySubsetName: 'canary' };

  void it('sets the hash labels of our two subsets and leaves the user subset alone', () => {
    const out = renderDestinationRule({ dr: dr(), ref, refPath: 'p', hashes: { stable: 'aaa', canary: 'bbb' } });
    assert.deepEqual(out.issues, []);
    assert.deepEqual(out.object.spec?.subsets, [
      { name: 'stable', labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: 'aaa' } },
      { name: 'canary', labels: { app: 'web', [POD_TEMPLATE_HASH_LABEL]: 'bbb' } },
      { name: 'debug', labels: { app: 'web', track: 'debug' } },
    ]);
    const released = renderDestinationRule({ dr: out.object, ref, refPath: 'p', hashes: undefined });
    assert.deepEqual(released.object, dr());
  });

  void it('names a missing subset', () => {
    const out = renderDestinationRule({ dr: dr(), ref: { ...ref, canarySubsetName: 'preview' }, refPath: 'spec.x.destinationRule', hashes: { stable: 'a', canary: 'b' } });
    assert.equal(out.issues[0]?.path, 'spec.x.destinationRule.canarySubsetName');
    assert.match(out.issues[0]?.message ?? '', /no subset named "preview" \(its subsets: stable, canary, debug\)/);
  });
});
