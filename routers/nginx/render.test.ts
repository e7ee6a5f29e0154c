import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffJson } from '../json-patch.ts';
import { FULL_STABLE, ratioFromPercent, type DesiredTraffic } from '../types.ts';
import { canaryIngressName, ingressWeight, renderCanaryIngress, type CanaryIngressInput, type Ingress } from './render.ts';

const rollout = { name: 'web', uid: 'uid-1', apiVersion: 'rollway.dev/v1alpha1', kind: 'Rollout' };
const P = 'nginx.ingress.kubernetes.io';

function traffic(percent: number, extra: Partial<DesiredTraffic> = {}): DesiredTraffic {
  return { weight: percent === 0 ? FULL_STABLE : ratioFromPercent(percent), stableService: 'web-stable', canaryService: 'web-canary', stableHash: 's', canaryHash: 'c', headerRoutes: [], mirrorRoutes: [], ...extra };
}

const stable = (): Ingress => ({
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: { name: 'web', namespace: 'shop', annotations: { [`${P}/rewrite-target`]: '/', 'kubernetes.io/ingress.class': 'nginx' } },
  spec: {
    ingressClassName: 'nginx',
    tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
    rules: [
      {
        host: 'web.example.com',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: { service: { name: 'web-stable', port: { name: 'http' } } } },
            { path: '/admin', pathType: 'Prefix', backend: { service: { name: 'admin', port: { number: 80 } } } },
          ],
        },
      },
      { host: 'admin.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'admin', port: { number: 80 } } } }] } },
    ],
  },
});

function render(desired: DesiredTraffic, existing?: Ingress, overrides: Partial<CanaryIngressInput> = {}) {
  return renderCanaryIngress({ stable: stable(), existing, desired, rollout, namespace: 'shop', prefix: P, additionalAnnotations: {}, canaryIngressAnnotations: {}, refPath: 'spec.x.stableIngress', ...overrides });
}

void describe('NGINX canary Ingress rendering', () => {
  void it('copies only the stable Service paths, pointed at the canary Service, with TLS and class', () => {
    const out = render(traffic(20));
    assert.deepEqual(out.issues, []);
    assert.equal(out.object.metadata.name, 'web-web-canary');
    assert.deepEqual(out.object.metadata.ownerReferences, [{ ...rollout, controller: true, blockOwnerDeletion: true }]);
    assert.deepEqual(out.object.spec, {
      ingressClassName: 'nginx',
      tls: [{ hosts: ['web.example.com'], secretName: 'web-tls' }],
      rules: [{ host: 'web.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'web-canary', port: { name: 'http' } } } }] } }],
    });
    assert.deepEqual(out.object.metadata.annotations, {
      'kubernetes.io/ingress.class': 'nginx',
      [`${P}/canary`]: 'true',
      [`${P}/canary-weight`]: '20',
      [`${P}/canary-weight-total`]: '100',
    });
  });

  void it('writes 0.01% as weight 1 of 10000, 0.5% as 1 of 200', () => {
    const fine = render(traffic(0.01)).object.metadata.annotations!;
    assert.equal(fine[`${P}/canary-weight`], '1');
    assert.equal(fine[`${P}/canary-weight-total`], '10000');
    const half = render(traffic(0.5)).object;
    assert.deepEqual(ingressWeight(half, P), { canary: 1, total: 200 });
  });

  void it('turns a header route into canary-by-header annotations and removes them again', () => {
    const exact = render(traffic(5, { headerRoutes: [{ name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { exact: 'yes' } }] }] })).object;
    assert.equal(exact.metadata.annotations?.[`${P}/canary-by-header`], 'X-Beta');
    assert.equal(exact.metadata.annotations?.[`${P}/canary-by-header-value`], 'yes');
    const prefix = render(traffic(5, { headerRoutes: [{ name: 'beta', match: [{ headerName: 'X-Beta', headerValue: { prefix: 'v1.' } }] }] }), exact).object;
    assert.equal(prefix.metadata.annotations?.[`${P}/canary-by-header-pattern`], '^v1\\..*');
    assert.equal(prefix.metadata.annotations?.[`${P}/canary-by-header-value`], undefined);
    const off = render(traffic(5), prefix).object;
    assert.equal(off.metadata.annotations?.[`${P}/canary-by-header`], undefined);
    assert.equal(off.metadata.annotations?.[`${P}/canary-by-header-pattern`], undefined);
  });

  void it('keeps annotations other writers put on the canary Ingress, and changes nothing when nothing changed', () => {
    const first = render(traffic(5)).object;
    first.metadata.uid = 'x';
    first.metadata.annotations!['argocd.argoproj.io/tracking-id'] = 'app:x';
    first.metadata.labels = { team: 'shop' };
    const again = render(traffic(5), first).object;
    assert.deepEqual(diffJson(first, again), []);
    const moved = render(traffic(50), first).object;
    assert.deepEqual(
      diffJson(first, moved).filter((op) => op.op !== 'test'),
      [{ op: 'replace', path: `/metadata/annotations/${P.replace(/\//g, '~1')}~1canary-weight`, value: '50' }],
    );
  });

  void it('applies additionalIngressAnnotations and canaryIngressAnnotations under a custom prefix', () => {
    const out = render(traffic(5), undefined, { prefix: 'ingress.example.com', additionalAnnotations: { 'canary-by-cookie': 'beta' }, canaryIngressAnnotations: { 'example.com/team': 'shop' } }).object;
    assert.equal(out.metadata.annotations?.['ingress.example.com/canary-by-cookie'], 'beta');
    assert.equal(out.metadata.annotations?.['ingress.example.com/canary-weight'], '5');
    assert.equal(out.metadata.annotations?.['example.com/team'], 'shop');
  });

  void it('keeps additionalIngressAnnotations names that already carry the prefix as they are, as Argo does', () => {
    const additionalAnnotations = { [`${P}/canary-by-header`]: 'X-Canary', 'canary-by-header-value': 'yes', [`${P}/proxy-body-size`]: '8m' };
    const annotations = render(traffic(5), undefined, { additionalAnnotations }).object.metadata.annotations ?? {};
    assert.deepEqual(annotations, {
      'kubernetes.io/ingress.class': 'nginx',
      [`${P}/canary`]: 'true',
      [`${P}/canary-weight`]: '5',
      [`${P}/canary-weight-total`]: '100',
      [`${P}/canary-by-header`]: 'X-Canary',
      [`${P}/canary-by-header-value`]: 'yes',
      [`${P}/proxy-body-size`]: '8m',
    });
    assert.ok(Object.keys(annotations).every((key) => key.split('/').length === 2), 'no key prefixed twice');
  });

  void it('refuses to take over an Ingress of that name it does not own, and a stable Ingress without the stable Service', () => {
    const foreign: Ingress = { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', metadata: { name: 'web-web-canary', ownerReferences: [{ apiVersion: 'v1', kind: 'Foo', name: 'x', uid: 'other', controller: true }] } };
    assert.match(render(traffic(5), foreign).issues[0]?.message ?? '', /controlled by Foo x, not by this Rollout/);
    const none = render({ ...traffic(5), stableService: 'nope' });
    assert.match(none.issues[0]?.message ?? '', /no path whose backend is the stable Service "nope"/);
  });

  void it('names the canary Ingress after the Rollout and the stable Ingress, within 253 characters', () => {
    assert.equal(canaryIngressName('web', 'shop'), 'web-shop-canary');
    const long = canaryIngressName('r'.repeat(200), 's'.repeat(100));
    assert.equal(long.length, 253);
    assert.ok(long.endsWith('-canary'));
  });
});
