import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { KubeconfigError, loadConnection } from './kubeconfig.ts';

const dir = mkdtempSync(path.join(os.tmpdir(), 'kubeconfig-test-'));
const write = (name: string, text: string): string => {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
};

const config = write(
  'config',
  `apiVersion: v1
kind: Config
current-context: dev
clusters:
- name: dev-cluster
  cluster: {server: "https://127.0.0.1:6443/", certificate-authority-data: ${Buffer.from('CA').toString('base64')}}
- name: prod-cluster
  cluster: {server: "https://prod.example:443", insecure-skip-tls-verify: true}
users:
- name: dev-user
  user: {token: abc}
- name: prod-user
  user: {username: alice, password: secret}
contexts:
- name: dev
  context: {cluster: dev-cluster, user: dev-user, namespace: shop}
- name: prod
  context: {cluster: prod-cluster, user: prod-user}
`,
);

void test('the current context gives server, namespace, CA and bearer token', async () => {
  const conn = loadConnection({ path: config });
  assert.equal(conn.server, 'https://127.0.0.1:6443');
  assert.equal(conn.namespace, 'shop');
  const request: https.RequestOptions = { headers: { Accept: 'application/json' } };
  await conn.authenticate(request);
  assert.equal(String(request.ca), 'CA');
  assert.equal((request.headers as Record<string, string>).Authorization, 'Bearer abc');
  assert.equal((request.headers as Record<string, string>).Accept, 'application/json');
});

void test('--context picks another context: basic auth, insecure TLS, default namespace', async () => {
  const conn = loadConnection({ path: config, context: 'prod' });
  assert.equal(conn.namespace, 'default');
  const request: https.RequestOptions = {};
  await conn.authenticate(request);
  assert.equal(request.rejectUnauthorized, false);
  assert.equal((request.headers as Record<string, string>).Authorization, `Basic ${Buffer.from('alice:secret').toString('base64')}`);
});

void test('mistakes are named: missing file, unknown context, not YAML', () => {
  assert.throws(() => loadConnection({ path: path.join(dir, 'nope') }), (err: unknown) => err instanceof KubeconfigError && /does not exist/.test(err.message));
  assert.throws(() => loadConnection({ path: config, context: 'staging' }), /context "staging" is not in the kubeconfig; contexts there: dev, prod/);
  assert.throws(() => loadConnection({ path: write('bad', 'clusters: [oops') }), /not valid YAML/);
});

void test('KUBECONFIG lists several files; the first one to define an entry wins', async () => {
  const second = write('second', `current-context: other\ncontexts:\n- name: dev\n  context: {cluster: x, user: y}\n- name: other\n  context: {cluster: dev-cluster, user: dev-user}\n`);
  const saved = process.env.KUBECONFIG;
  process.env.KUBECONFIG = [config, second].join(path.delimiter);
  try {
    const conn = loadConnection();
    assert.equal(conn.contextName, 'dev', 'current-context from the first file');
    assert.equal(conn.namespace, 'shop', 'context dev from the first file');
    const other = loadConnection({ context: 'other' });
    assert.equal(other.server, 'https://127.0.0.1:6443');
  } finally {
    if (saved === undefined) delete process.env.KUBECONFIG;
    else process.env.KUBECONFIG = saved;
  }
});
