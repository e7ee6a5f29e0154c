// `make cluster-up` / `make cluster-down` twice in a row, on a second cluster with its own state
// folder and ports so the shared e2e cluster is not disturbed. After each `down`, no process that
// `up` started is left.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { KubeClient } from '../kube/client.ts';
import { repoRoot } from './harness.ts';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'rollway-lifecycle-'));
const env = { ...process.env, ROLLWAY_CLUSTER_DIR: stateDir, ROLLWAY_API_PORT: '26443', ROLLWAY_KWOK_NODES: '1' };

function make(target: 'cluster-up' | 'cluster-down'): string {
  return execFileSync('make', ['--no-print-directory', '-C', repoRoot, target], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Processes whose command line mentions this cluster's state folder (read-only scan of /proc). */
function processesOfThisCluster(): string[] {
  const found: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmdline.includes(stateDir) && !cmdline.includes('node ')) found.push(`${entry}: ${cmdline.slice(0, 120)}`);
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}

void test('cluster-up and cluster-down work twice in a row and leave no process behind', { timeout: 300_000 }, async (t) => {
  t.after(() => {
    execFileSync(path.join(repoRoot, 'hack/cluster.sh'), ['down'], { env, stdio: 'ignore' });
    rmSync(stateDir, { recursive: true, force: true });
  });
  for (const round of [1, 2]) {
    await t.test(`round ${round}: up serves the API and prints the kubeconfig path last`, async () => {
      const out = make('cluster-up');
      const lastLine = out.trim().split('\n').at(-1);
      assert.equal(lastLine, path.join(stateDir, 'kubeconfig'));
      assert.ok(existsSync(path.join(stateDir, 'bin/kubectl')), 'kubectl is placed beside the kubeconfig');
      const client = KubeClient.fromKubeconfig({ path: lastLine });
      try {
        const version = await client.request<{ gitVersion: string }>('GET', '/version');
        assert.match(version.gitVersion, /^v1\.\d+\.\d+$/);
        const nodes = await client.list({ group: '', version: 'v1', plural: 'nodes' });
        assert.equal(nodes.items.length, 1);
      } finally {
        client.close();
      }
      assert.equal(processesOfThisCluster().length, 5, 'etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok run');
    });
    await t.test(`round ${round}: up again while up is harmless`, () => {
      const pidsBefore = readdirSync(path.join(stateDir, 'run')).filter((f) => f.endsWith('.pid')).map((f) => readFileSync(path.join(stateDir, 'run', f), 'utf8'));
      const out = make('cluster-up');
      assert.equal(out.trim().split('\n').at(-1), path.join(stateDir, 'kubeconfig'));
      const pidsAfter = readdirSync(path.join(stateDir, 'run')).filter((f) => f.endsWith('.pid')).map((f) => readFileSync(path.join(stateDir, 'run', f), 'utf8'));
      assert.deepEqual(pidsAfter, pidsBefore, 'the running cluster was kept, not restarted');
    });
    await t.test(`round ${round}: down stops every process up started`, () => {
      make('cluster-down');
      assert.deepEqual(processesOfThisCluster(), []);
    });
  }
});
