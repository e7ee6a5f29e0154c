import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { additionalAnnotationKey, additionalAnnotationProblems, canaryAnnotations, parseCanaryAnnotations, settingOf } from './annotations.ts';

void describe('NGINX canary annotations', () => {
  void it('builds the annotations for a sub-percent weight and a header under any prefix', () => {
    assert.deepEqual(canaryAnnotations({ canary: true, weight: 1, weightTotal: 10000, byHeader: 'X-Canary', byHeaderValue: 'yes' }, 'ingress.example.com'), {
      'ingress.example.com/canary': 'true',
      'ingress.example.com/canary-weight': '1',
      'ingress.example.com/canary-weight-total': '10000',
      'ingress.example.com/canary-by-header': 'X-Canary',
      'ingress.example.com/canary-by-header-value': 'yes',
    });
  });

  void it('reads them back, ignoring other annotations and other prefixes', () => {
    const parsed = parseCanaryAnnotations({
      'nginx.ingress.kubernetes.io/canary': 'true',
      'nginx.ingress.kubernetes.io/canary-weight': '5',
      'nginx.ingress.kubernetes.io/canary-by-cookie': 'beta',
      'nginx.ingress.kubernetes.io/rewrite-target': '/',
      'other.example.com/canary-weight': '99',
    });
    assert.deepEqual(parsed, { ok: true, value: { canary: true, weight: 5, byCookie: 'beta' } });
    assert.equal(settingOf('nginx.ingress.kubernetes.io/canary-by-header-pattern'), 'byHeaderPattern');
    assert.equal(settingOf('nginx.ingress.kubernetes.io/rewrite-target'), undefined);
  });

  void it('refuses combinations NGINX would misread', () => {
    assert.throws(() => canaryAnnotations({ canary: true, weight: 101 }), /canary-weight 101 is above canary-weight-total 100/);
    assert.throws(() => canaryAnnotations({ canary: true, weight: 1 }, 'Not A Prefix'), /DNS subdomain/);
    const parsed = parseCanaryAnnotations({ 'nginx.ingress.kubernetes.io/canary': 'yes', 'nginx.ingress.kubernetes.io/canary-weight': '1.5' });
    assert.equal(parsed.ok, false);
    assert.deepEqual(parsed.ok ? [] : parsed.issues.map((i) => i.annotation), ['nginx.ingress.kubernetes.io/canary', 'nginx.ingress.kubernetes.io/canary-weight']);
    const both = parseCanaryAnnotations({ 'nginx.ingress.kubernetes.io/canary-by-header': 'h', 'nginx.ingress.kubernetes.io/canary-by-header-value': 'v', 'nginx.ingress.kubernetes.io/canary-by-header-pattern': '(' });
    const messages = both.ok ? [] : both.issues.map((i) => i.message);
    assert.equal(messages[0], 'canary-by-header-value and canary-by-header-pattern are both set; NGINX ignores the pattern');
    assert.match(messages[1] ?? '', /^canary-by-header-pattern: "\(" is not a regular expression RE2 accepts: missing closing \)/);
    assert.equal(messages.length, 2);
  });

  void it('lets additionalIngressAnnotations set header and cookie routing but not the weight', () => {
    assert.deepEqual(additionalAnnotationProblems({ 'canary-by-header': 'X-Beta', 'canary-by-header-pattern': '^b.*' }), []);
    assert.deepEqual(additionalAnnotationProblems({ canary: 'false', 'canary-weight-total': '1000' }).map(([name]) => name), ['canary', 'canary-weight-total']);
  });

  void it('reads additionalIngressAnnotations names that already carry the prefix as that annotation, and names them as given', () => {
    assert.equal(additionalAnnotationKey('nginx.ingress.kubernetes.io/canary-by-header'), 'nginx.ingress.kubernetes.io/canary-by-header');
    assert.equal(additionalAnnotationKey('canary-by-header'), 'nginx.ingress.kubernetes.io/canary-by-header');
    assert.equal(additionalAnnotationKey('canary-by-header', 'ingress.example.com'), 'ingress.example.com/canary-by-header');
    assert.deepEqual(additionalAnnotationProblems({ 'nginx.ingress.kubernetes.io/canary-by-header': 'X-Beta', 'nginx.ingress.kubernetes.io/canary-by-header-value': 'yes' }), []);
    assert.deepEqual(additionalAnnotationProblems({ 'nginx.ingress.kubernetes.io/canary-weight': '5', 'nginx.ingress.kubernetes.io/canary-by-header-value': 'yes' }), [
      ['nginx.ingress.kubernetes.io/canary-weight', 'canary-weight is set by the router from the steps and cannot be given here'],
      ['nginx.ingress.kubernetes.io/canary-by-header-value', 'canary-by-header-value needs canary-by-header (the header it applies to)'],
    ]);
  });
});
