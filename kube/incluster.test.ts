// In-cluster configuration as a pod sees it: the API server from the service environment, the
// mounted CA, and the ServiceAccount token, read again on every request because the kubelet
// rotates it in place.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { KubeconfigError, inClusterConnection } from './kubeconfig.ts';

function mountedServiceAccount(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'rollway-sa-'));
  writeFileSync(path.join(dir, 'ca.crt'), 'CA-PEM');
  writeFileSync(path.join(dir, 'token'), 'first-token\n');
  writeFileSync(path.join(dir, 'namespace'), 'rollway');
  return dir;
}

const headerOf = async (connection: ReturnType<typeof inClusterConnection>): Promise<{ auth: string; ca: string }> => {
  const options: https.RequestOptions = { headers: {} };
  await connection.authenticate(options);
  return { auth: (options.headers as Record<string, string>).Authorization ?? '', ca: String(options.ca) };
};

void test('a pod: the service address, the mounted CA and namespace, and the token as a bearer', async (t) => {
  const dir = mountedServiceAccount();
  t.after(() => rmSync(dir, { recursive: true }));
  const connection = inClusterConnection(dir, { KUBERNETES_SERVICE_HOST: '10.96.0.1', KUBERNETES_SERVICE_PORT: '443' });
  assert.equal(connection.server, 'https://10.96.0.1:443');
  assert.equal(connection.namespace, 'rollway');
  assert.deepEqual(await headerOf(connection), { auth: 'Bearer first-token', ca: 'CA-PEM' });
  assert.equal(inClusterConnection(dir, { KUBERNETES_SERVICE_HOST: 'fd00::1' }).server, 'https://[fd00::1]:443', 'an IPv6 service address is bracketed');
});

void test('a rotated token is used from the next request on, without a restart', async (t) => {
  const dir = mountedServiceAccount();
  t.after(() => rmSync(dir, { recursive: true }));
  const connection = inClusterConnection(dir, { KUBERNETES_SERVICE_HOST: '10.96.0.1' });
  assert.equal((await headerOf(connection)).auth, 'Bearer first-token');
  writeFileSync(path.join(dir, 'token'), 'rotated-token\n'); // the kubelet swaps the projected token
  assert.equal((await headerOf(connection)).auth, 'Bearer rotated-token');
});

void test('outside a pod the in-cluster configuration says what is missing', () => {
  assert.throws(() => inClusterConnection(mountedServiceAccount(), {}), (err: unknown) => err instanceof KubeconfigError && /KUBERNETES_SERVICE_HOST/.test(err.message));
});
