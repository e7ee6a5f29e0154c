// `make cluster-up` / `make cluster-down` twice in a row, on a second cluster with its own state
// folder and ports so the shared e2e cluster is not disturbed. After each `down`, no process that
// `up` started is left.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { KubeClient } from '../kube/client.ts';
import { repoRoot } from './harness.ts';

const stateDir = mkdtempSync(path.join(os.tmpdir(), 'rollway-lifecycle-'));
const env = { ...process.env, ROLLWAY_CLUSTER_DIR: stateDir, ROLLWAY_API_PORT: '26443', ROLLWAY_KWOK_NODES: '1' };

function make(target: 'cluster-up' | 'cluster-down', extraEnv: Record<string, string> = {}): string {
  return execFileSync('make', ['--no-print-directory', '-C', repoRoot, target], { env: { ...env, ...extraEnv }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** A minimal namespaced CRD; `kind` may deliberately clash with another CRD of the group. */
function crdYaml(group: string, plural: string, kind: string): string {
  return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ${plural}.${group}}
spec:
  group: ${group}
  scope: Namespaced
  names: {plural: ${plural}, singular: ${plural.replace(/s$/, '')}, kind: ${kind}, listKind: ${kind}List}
  versions:
    - name: v1
      served: true
      storage: true
      schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
`;
}

function kubectl(args: string[], input?: string): string {
  return execFileSync(path.join(stateDir, 'bin/kubectl'), ['--kubeconfig', path.join(stateDir, 'kubeconfig'), ...args], { input, encoding: 'utf8' });
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
    if (round === 1) await t.test('round 1: up on a running cluster with other tools\' CRDs', (tt) => upWithForeignCrds(tt));
    await t.test(`round ${round}: down stops every process up started`, () => {
      make('cluster-down');
      assert.deepEqual(processesOfThisCluster(), []);
    });
  }
});

// Issue: `cluster-up` on a running cluster waited for every CRD in the cluster with one shared 1 s
// budget, and timed out once a few more CRDs (Argo's, say) were installed. It must wait for its own
// CRDs only, and name the one that is not Established.
async function upWithForeignCrds(t: import('node:test').TestContext): Promise<void> {
  // Twelve CRDs of another tool, one of them never Established (its kind clashes with a sibling's).
  const foreign = Array.from({ length: 11 }, (_, i) => crdYaml('other-tool.example.com', `things${i}s`, `Thing${i}`));
  foreign.push(crdYaml('other-tool.example.com', 'clashes', 'Thing0'));
  kubectl(['apply', '-f', '-'], foreign.join('---\n'));

  await t.test('up succeeds although a CRD that is not ours never becomes Established', () => {
    const out = make('cluster-up');
    assert.equal(out.trim().split('\n').at(-1), path.join(stateDir, 'kubeconfig'));
  });

  await t.test('up fails and names our CRD when one of ours is not Established', () => {
    const crdDir = mkdtempSync(path.join(os.tmpdir(), 'rollway-crds-'));
    try {
      cpSync(path.join(repoRoot, 'crds/rollway'), crdDir, { recursive: true });
      writeFileSync(path.join(crdDir, 'widgets.rollway.dev.yaml'), crdYaml('rollway.dev', 'widgets', 'Rollout'));
      let stderr = '';
      try {
        execFileSync(path.join(repoRoot, 'hack/cluster.sh'), ['up'], { env: { ...env, ROLLWAY_CRD_DIR: crdDir, ROLLWAY_CRD_WAIT_SECONDS: '3' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
        assert.fail('cluster-up succeeded with a CRD that cannot be Established');
      } catch (err) {
        stderr = String((err as { stderr?: string }).stderr ?? err);
      }
      assert.match(stderr, /widgets\.rollway\.dev .*KindConflict/);
      assert.doesNotMatch(stderr, /rollouts\.rollway\.dev|other-tool/, 'only the broken CRD is named');
    } finally {
      kubectl(['delete', 'crd', 'widgets.rollway.dev', '--ignore-not-found']);
      rmSync(crdDir, { recursive: true, force: true });
    }
  });
}
