import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { dashboardToken, isLoopbackHost, loopbackHostAllowed, originAllowed, parseHostHeader, presentedToken, tokenCookie, tokenProblem, tokensEqual } from './guard.ts';

void describe('loopback in every spelling', () => {
  void it('127.0.0.0/8 in any form, ::1, IPv4-mapped 127.x, localhost in any case', () => {
    const loopback = ['127.0.0.1', '127.1', '127.255.0.9', '0x7f.0.0.1', '0177.0.0.1', '2130706433', '::1', '[::1]', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '[::ffff:127.9.8.7]', '::FFFF:7f00:1', 'localhost', 'LOCALHOST', 'LocalHost.'];
    for (const a of loopback) assert.equal(isLoopbackHost(a), true, a);
  });
  void it('everything else is not: any-address, other hosts, mapped non-127, zone ids, names that end in localhost', () => {
    const other = ['0.0.0.0', '::', '10.0.0.1', '128.0.0.1', '::ffff:10.0.0.1', '::127.0.0.1', 'fe80::1%eth0', 'evil.localhost', 'localhost.evil.example', 'example.com', '', '127.0.0.1.evil.example'];
    for (const a of other) assert.equal(isLoopbackHost(a), false, a);
  });
});

void describe('Host and Origin', () => {
  void it('a loopback listener answers a loopback Host on its own port only', () => {
    assert.deepEqual(parseHostHeader('[::1]:3100'), { host: '[::1]', port: 3100 });
    assert.deepEqual(parseHostHeader('LOCALHOST'), { host: 'LOCALHOST', port: undefined });
    assert.equal(parseHostHeader('::1:3100'), undefined, 'IPv6 needs brackets in a Host header');
    for (const host of ['127.0.0.1:3100', 'LOCALHOST:3100', 'localhost:3100', '[::1]:3100', '[::ffff:7f00:1]:3100', '127.1:3100']) assert.equal(loopbackHostAllowed(host, 3100), true, host);
    for (const host of ['attacker.example:3100', 'localhost:3101', 'localhost', '127.0.0.1:3100@evil', 'user@localhost:3100', '', undefined]) assert.equal(loopbackHostAllowed(host, 3100), false, String(host));
    assert.equal(loopbackHostAllowed('localhost', 80), true, 'the default port may be left out');
  });
  void it('an Origin must be the page itself; null and garbage are refused; no Origin is not a browser page', () => {
    assert.equal(originAllowed(undefined, 'localhost:3100'), true);
    assert.equal(originAllowed('http://localhost:3100', 'LOCALHOST:3100'), true);
    assert.equal(originAllowed('http://127.0.0.1', '127.0.0.1:80'), true);
    assert.equal(originAllowed('null', 'localhost:3100'), false);
    assert.equal(originAllowed('http://attacker.example', 'localhost:3100'), false);
    assert.equal(originAllowed('http://localhost:3101', 'localhost:3100'), false);
    assert.equal(originAllowed('file://', 'localhost:3100'), false);
    assert.equal(originAllowed('%%%', 'localhost:3100'), false);
  });
});

void describe('the token', () => {
  void it('is compared whole, read from Bearer or the cookie, and kept in an HttpOnly SameSite=Strict cookie', () => {
    const t = 'a'.repeat(32);
    assert.equal(tokensEqual(t, t), true);
    assert.equal(tokensEqual(`${t}x`, t), false);
    assert.equal(tokensEqual('', t), false);
    assert.equal(presentedToken({ authorization: `bearer ${t}` }, 'c'), t);
    assert.equal(presentedToken({ cookie: `other=1; c=${t}; more=2` }, 'c'), t);
    assert.equal(presentedToken({ authorization: `Basic ${t}` }, 'c'), undefined);
    assert.equal(presentedToken({}, 'c'), undefined);
    assert.equal(tokenCookie('c', t), `c=${t}; Path=/; HttpOnly; SameSite=Strict`);
  });
  void it('comes from --token-file, is generated beyond loopback, and a weak one is refused', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rollway-token-'));
    try {
      assert.deepEqual(dashboardToken('127.0.0.1', undefined), { token: undefined, generated: false });
      const a = dashboardToken('0.0.0.0', undefined);
      const b = dashboardToken('::', undefined);
      assert.equal(a.generated, true);
      assert.ok(a.token && a.token.length >= 40 && tokenProblem(a.token) === undefined);
      assert.notEqual(a.token, b.token);
      const file = path.join(dir, 'token');
      writeFileSync(file, '  s3cr3t-token-of-enough-length\n');
      assert.deepEqual(dashboardToken('0.0.0.0', file), { token: 's3cr3t-token-of-enough-length', generated: false });
      writeFileSync(file, 'short');
      assert.throws(() => dashboardToken('0.0.0.0', file), /--token-file .*: the token has 5 characters; use at least 16/);
      writeFileSync(file, '\n');
      assert.throws(() => dashboardToken('0.0.0.0', file), /the file is empty/);
      writeFileSync(file, 'has spaces in the middle of it');
      assert.throws(() => dashboardToken('0.0.0.0', file), /may hold only letters/);
      assert.throws(() => dashboardToken('0.0.0.0', path.join(dir, 'missing')), /no such file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
