import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotationsSize, checkName, dns1035Label, dns1123Label, dns1123Subdomain, labelValue, qualifiedName, suggestLabelValue, suggestName } from './k8s-names.ts';

const valid = (problems: string[], what: string): void => assert.deepEqual(problems, [], what);
const invalid = (problems: string[], match: RegExp, what: string): void => {
  assert.ok(problems.length > 0, `${what} should be refused`);
  assert.match(problems.join('; '), match, what);
};

void describe('object names as the API server checks them', () => {
  void it('DNS-1123 subdomain: lowercase, digits, - and ., alphanumeric at both ends, at most 253', () => {
    for (const name of ['web', 'web-2', 'web.v2', '0web', 'a', 'a.b-c.d', 'x'.repeat(253)]) valid(dns1123Subdomain(name), name);
    invalid(dns1123Subdomain('Web'), /lowercase RFC 1123 subdomain/, 'capitals');
    invalid(dns1123Subdomain('web_app'), /subdomain/, 'underscore');
    invalid(dns1123Subdomain('-web'), /subdomain/, 'leading dash');
    invalid(dns1123Subdomain('web-'), /subdomain/, 'trailing dash');
    invalid(dns1123Subdomain('web..v2'), /subdomain/, 'empty label');
    invalid(dns1123Subdomain('web.-v2'), /subdomain/, 'label starting with a dash');
    invalid(dns1123Subdomain(''), /subdomain/, 'empty');
    invalid(dns1123Subdomain('x'.repeat(254)), /no more than 253 characters, has 254/, 'too long');
  });

  void it('DNS-1123 label (namespaces): no dots, at most 63', () => {
    valid(dns1123Label('shop-prod'), 'plain');
    valid(dns1123Label('1shop'), 'digit first');
    invalid(dns1123Label('shop.prod'), /RFC 1123 label/, 'a dot');
    invalid(dns1123Label('x'.repeat(64)), /no more than 63/, 'too long');
    valid(dns1123Label('x'.repeat(63)), '63 characters');
  });

  void it('DNS-1035 label (Services): must start with a letter', () => {
    valid(dns1035Label('web-stable'), 'plain');
    invalid(dns1035Label('1web'), /starting with a letter/, 'digit first');
    invalid(dns1035Label('web.stable'), /RFC 1035/, 'a dot');
    assert.deepEqual(checkName('1web', 'dns1035'), dns1035Label('1web'));
  });
});

void describe('labels and annotations', () => {
  void it('label keys: optional DNS subdomain prefix, a name part of at most 63 with _ allowed', () => {
    for (const key of ['app', 'App_Name', 'app.kubernetes.io/name', 'rollouts-pod-template-hash', 'example.com/a.b_c-d', 'x'.repeat(63)]) valid(qualifiedName(key), key);
    invalid(qualifiedName('a/b/c'), /at most one '\/'/, 'two slashes');
    invalid(qualifiedName('/app'), /empty prefix/, 'empty prefix');
    invalid(qualifiedName('example.com/'), /empty name part/, 'empty name');
    invalid(qualifiedName('Example.com/app'), /prefix "Example.com" must be a lowercase RFC 1123 subdomain/, 'capital prefix');
    invalid(qualifiedName('-app'), /name part "-app" must be letters/, 'leading dash');
    invalid(qualifiedName('app name'), /name part/, 'a space');
    invalid(qualifiedName('x'.repeat(64)), /name part must be no more than 63 characters/, 'too long');
    invalid(qualifiedName(''), /empty name part/, 'empty');
  });

  void it('label values: empty or up to 63 alphanumerics with - _ . inside', () => {
    for (const value of ['', 'v1.2.3', 'blue_green', 'A-1', 'x'.repeat(63)]) valid(labelValue(value), JSON.stringify(value));
    invalid(labelValue('v1 '), /must be empty or letters/, 'trailing space');
    invalid(labelValue('-v1'), /must be empty or letters/, 'leading dash');
    invalid(labelValue('a/b'), /must be empty or letters/, 'a slash');
    invalid(labelValue('x'.repeat(64)), /no more than 63 characters, has 64/, 'too long');
  });

  void it('annotations: the total size is capped at 256 KiB', () => {
    valid(annotationsSize({ a: 'x'.repeat(1000) }), 'small');
    invalid(annotationsSize({ a: 'x'.repeat(256 * 1024) }), /262145 bytes, more than the 262144/, 'one byte over');
  });
});

void describe('suggested names', () => {
  void it('turns a refused name into a close valid one for the rule, or nothing', () => {
    assert.equal(suggestName('Web_App'), 'web-app');
    assert.equal(suggestName('-My.Service-'), 'my.service');
    assert.equal(suggestName('web.-v2'), 'web.v2');
    assert.equal(suggestName('shop.prod', 'label'), 'shop-prod');
    assert.equal(suggestName('1-web', 'dns1035'), 'web');
    assert.equal(suggestName('x'.repeat(70), 'label'), 'x'.repeat(63));
    assert.equal(suggestName('___'), undefined);
    assert.equal(suggestLabelValue('1.0 beta'), '1.0-beta');
    assert.equal(suggestLabelValue('-front'), 'front');
    assert.equal(suggestLabelValue('v'.repeat(70) + '!'), 'v'.repeat(63));
    assert.equal(suggestLabelValue('//'), undefined);
    for (const [name, rule] of [['Web_App', 'subdomain'], ['a..b', 'subdomain'], ['A.B', 'label'], ['9x', 'dns1035']] as const) {
      const suggestion = suggestName(name, rule);
      assert.ok(suggestion !== undefined && checkName(suggestion, rule).length === 0, `${name} → ${suggestion}`);
    }
  });
});
