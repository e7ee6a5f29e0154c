import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostIsService, managedRouteNames, MANAGED_ROUTES_ANNOTATION, prefixAsRegex, setManagedRouteNames } from './common.ts';

void describe('router helpers', () => {
  void it('recognises a Service by its short and qualified host names', () => {
    for (const host of ['web', 'web.shop', 'web.shop.svc', 'web.shop.svc.cluster.local', 'web.shop.svc.example.internal']) assert.ok(hostIsService(host, 'web', 'shop'), host);
    for (const host of ['web2', 'web.other', 'web.shop.example.com', undefined]) assert.ok(!hostIsService(host, 'web', 'shop'), String(host));
  });

  void it('keeps one entry per Rollout in the managed-routes annotation, and drops it when empty', () => {
    const object = { metadata: { annotations: { [MANAGED_ROUTES_ANNOTATION]: '{"other":["a"]}', keep: 'x' } } };
    setManagedRouteNames(object, 'web', ['beta', 'copy']);
    assert.deepEqual(managedRouteNames(object, 'web'), ['beta', 'copy']);
    assert.deepEqual(managedRouteNames(object, 'other'), ['a']);
    setManagedRouteNames(object, 'web', []);
    setManagedRouteNames(object, 'other', []);
    assert.deepEqual(object.metadata.annotations, { keep: 'x' });
  });

  void it('writes a prefix as an anchored regular expression', () => {
    assert.equal(prefixAsRegex('v1.2+'), '^v1\\.2\\+.*');
    assert.ok(new RegExp(prefixAsRegex('v1.2+')).test('v1.2+beta'));
  });
});
