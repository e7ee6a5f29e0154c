import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KubeApiError } from '../kube/client.ts';
import { hostIsService, managedRouteNames, MANAGED_ROUTES_ANNOTATION, prefixAsRegex, rejectedWriteIssue, setManagedRouteNames } from './common.ts';
import './registry.ts'; // names the router of each kind (what the controller has loaded)

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

  void it('turns a write the API server rejects into a spec issue naming the object, but not a lost race', () => {
    // Status bodies as the API server sends them (kube-apiserver v1.34).
    const message = 'Ingress.networking.k8s.io "web-web-canary" is invalid: metadata.annotations: Invalid value: "a b": name part must consist of alphanumeric characters';
    const invalid = new KubeApiError(422, 'Invalid', message, { kind: 'Status', reason: 'Invalid', message, details: { name: 'web-web-canary', group: 'networking.k8s.io', kind: 'Ingress', causes: [{ field: 'metadata.annotations' }] }, code: 422 });
    assert.deepEqual(rejectedWriteIssue(invalid), {
      path: 'spec.strategy.canary.trafficRouting.nginx',
      message: `the API server rejected the write of Ingress "web-web-canary" (422 Invalid): ${message}`,
      fix: 'correct the trafficRouting setting (or the routing object) the message points at; the controller retries with backoff until the write is accepted',
    });
    const badRequest = new KubeApiError(400, 'BadRequest', 'the body of the request was in an unknown format', { kind: 'Status', reason: 'BadRequest', code: 400 });
    assert.equal(rejectedWriteIssue(badRequest)?.path, 'spec.strategy.canary.trafficRouting');
    // A JSON patch whose test op failed: 422 Invalid too, but naming no object. Retried, not reported.
    const raceLost = new KubeApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', { kind: 'Status', reason: 'Invalid', details: {}, code: 422 });
    assert.equal(rejectedWriteIssue(raceLost), undefined);
    assert.equal(rejectedWriteIssue(new KubeApiError(500, 'InternalError', 'etcd timeout', {})), undefined);
    assert.equal(rejectedWriteIssue(new Error('socket hang up')), undefined);
  });

  void it('writes a prefix as an anchored regular expression', () => {
    assert.equal(prefixAsRegex('v1.2+'), '^v1\\.2\\+.*');
    assert.ok(new RegExp(prefixAsRegex('v1.2+')).test('v1.2+beta'));
  });
});
