import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateRollout } from '../api/rollout.ts';
import type { SpecIssue } from '../api/issues.ts';

/** A valid Rollout with the given trafficRouting and steps. */
function rollout(trafficRouting: Record<string, unknown>, steps: Record<string, unknown>[]): unknown {
  return {
    apiVersion: 'rollway.dev/v1alpha1',
    kind: 'Rollout',
    metadata: { name: 'web' },
    spec: {
      replicas: 10,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } },
      strategy: { canary: { stableService: 'web-stable', canaryService: 'web-canary', trafficRouting: { managedRoutes: [{ name: 'beta' }, { name: 'copy' }], ...trafficRouting }, steps } },
    },
  };
}

function issues(manifest: unknown): SpecIssue[] {
  const result = validateRollout(manifest);
  return result.ok ? [] : result.issues;
}

const header = (match: Record<string, unknown>[], name = 'beta') => ({ setHeaderRoute: { name, match } });
const mirror = (match: Record<string, unknown>[]) => ({ setMirrorRoute: { name: 'copy', percentage: 10, match } });
const exact = (headerName: string, value: string) => ({ headerName, headerValue: { exact: value } });

void describe('router capabilities in validation (controller and lint)', () => {
  void it('accepts header and mirror routes and 0.01% on Istio', () => {
    const manifest = rollout({ istio: { virtualService: { name: 'web' } } }, [{ setWeight: 0.01 }, header([exact('x-a', '1'), { headerName: 'x-b', headerValue: { prefix: 'p' } }]), mirror([{ method: { regex: 'GET|HEAD' } }])]);
    assert.deepEqual(issues(manifest), []);
  });

  void it('rejects a header route on SMI, naming the router and its limit', () => {
    const found = issues(rollout({ smi: {} }, [{ setWeight: 5 }, header([exact('x-a', '1')])]));
    assert.equal(found.length, 1);
    assert.equal(found[0]?.path, 'spec.strategy.canary.steps[1].setHeaderRoute');
    assert.equal(found[0]?.message, 'the SMI router cannot route by header');
  });

  void it('rejects a mirror route on NGINX and SMI', () => {
    for (const routing of [{ nginx: { stableIngress: 'web' } }, { smi: {} }]) {
      const found = issues(rollout(routing, [mirror([{ path: { prefix: '/' } }])]));
      assert.equal(found[0]?.path, 'spec.strategy.canary.steps[0].setMirrorRoute');
      assert.match(found[0]?.message ?? '', /the (NGINX|SMI) router cannot mirror traffic/);
    }
  });

  void it('rejects what one canary Ingress cannot say: two headers in one route, two header routes', () => {
    const nginx = { nginx: { stableIngress: 'web' } };
    const twoHeaders = issues(rollout(nginx, [header([exact('x-a', '1'), exact('x-b', '2')])]));
    assert.equal(twoHeaders[0]?.path, 'spec.strategy.canary.steps[0].setHeaderRoute.match');
    assert.match(twoHeaders[0]?.message ?? '', /the NGINX router can match at most 1 header per route, got 2/);
    const twoRoutes = issues(rollout({ ...nginx, managedRoutes: [{ name: 'beta' }, { name: 'alpha' }] }, [header([exact('x-a', '1')]), header([exact('x-b', '1')], 'alpha')]));
    assert.match(twoRoutes[0]?.message ?? '', /can hold 1 header route at a time, the steps set 2 \(beta, alpha\)/);
  });

  void it('rejects a mirror method match other than exact on Gateway API, and rule names it cannot use', () => {
    const found = issues(rollout({ gatewayAPI: { httpRoutes: [{ name: 'web' }] }, managedRoutes: [{ name: 'Beta_Route' }, { name: 'copy' }] }, [mirror([{ method: { prefix: 'G' } }])]));
    assert.deepEqual(
      found.map((i) => i.path),
      ['spec.strategy.canary.steps[0].setMirrorRoute.match[0].method.prefix', 'spec.strategy.canary.trafficRouting.managedRoutes[0].name'],
    );
  });

  void it('checks NGINX additionalIngressAnnotations with the annotations helper', () => {
    const found = issues(rollout({ nginx: { stableIngress: 'web', additionalIngressAnnotations: { 'canary-weight': '50', 'canary-by-header-value': 'yes' } } }, [{ setWeight: 5 }]));
    assert.deepEqual(
      found.map((i) => [i.path, i.message]),
      [
        ['spec.strategy.canary.trafficRouting.nginx.additionalIngressAnnotations.canary-weight', 'canary-weight is set by the router from the steps and cannot be given here'],
        ['spec.strategy.canary.trafficRouting.nginx.additionalIngressAnnotations.canary-by-header-value', 'canary-by-header-value needs canary-by-header (the header it applies to)'],
      ],
    );
    assert.deepEqual(issues(rollout({ nginx: { stableIngress: 'web', additionalIngressAnnotations: { 'canary-by-header': 'X-Canary', 'canary-by-cookie': 'beta' } } }, [{ setWeight: 5 }])), []);
  });

  void it('needs no canary or stable Service for Istio subset-level splitting alone, as in Argo', () => {
    const withoutServices = (routing: Record<string, unknown>): unknown => {
      const manifest = rollout(routing, [{ setWeight: 5 }]) as { spec: { strategy: { canary: Record<string, unknown> } } };
      delete manifest.spec.strategy.canary.stableService;
      delete manifest.spec.strategy.canary.canaryService;
      return manifest;
    };
    const destinationRule = { name: 'web', canarySubsetName: 'canary', stableSubsetName: 'stable' };
    assert.deepEqual(issues(withoutServices({ istio: { virtualService: { name: 'web' }, destinationRule } })), []);
    const paths = (routing: Record<string, unknown>) => issues(withoutServices(routing)).map((i) => i.path);
    const both = ['spec.strategy.canary.canaryService', 'spec.strategy.canary.stableService'];
    assert.deepEqual(paths({ istio: { virtualService: { name: 'web' } } }), both, 'host-level splitting routes to the two Services');
    assert.deepEqual(paths({ istio: { virtualService: { name: 'web' }, destinationRule }, nginx: { stableIngress: 'web' } }), both, 'an NGINX canary Ingress points at the canary Service');
  });

  void it('applies the limits of every configured router when several are set', () => {
    const found = issues(rollout({ istio: { virtualService: { name: 'web' } }, smi: {} }, [header([exact('x-a', '1')])]));
    assert.match(found[0]?.message ?? '', /the Istio and SMI routers together cannot route by header/);
  });
});

void describe('trafficRouting.plugins in a Rollout', () => {
  void it("accepts Argo's argoproj-labs/gatewayAPI plugin as the Gateway API router, with its limits (exact method match for mirrors)", () => {
    const argo = { plugins: { 'argoproj-labs/gatewayAPI': { httpRoute: 'web-route', namespace: 'shop' } } };
    assert.deepEqual(issues(rollout(argo, [{ setWeight: 0.5 }, header([exact('x-beta', 'yes')])])), []);
    const found = issues(rollout(argo, [mirror([{ method: { prefix: 'G' } }])])).map((i) => i.path);
    assert.deepEqual(found, ['spec.strategy.canary.steps[0].setMirrorRoute.match[0].method.prefix']);
  });

  void it('rejects a plugin nothing loaded answers to, naming the loaded ones', () => {
    const found = issues(rollout({ plugins: { 'acme/mesh': {} } }, [{ setWeight: 5 }]));
    assert.deepEqual(found.map((i) => [i.path, i.message]), [['spec.strategy.canary.trafficRouting.plugins["acme/mesh"]', 'no traffic router plugin named "acme/mesh" is loaded (loaded: argoproj-labs/gatewayAPI)']]);
  });
});
