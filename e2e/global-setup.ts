// Run once before the e2e files: start the local control plane unless it already serves.
// A cluster this run started is stopped again at the end; one that was already up is left up.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { ensureCluster, repoRoot } from './harness.ts';

let startedHere = false;

function clusterServes(): boolean {
  try {
    const out = execFileSync(path.join(repoRoot, 'hack/cluster.sh'), ['status'], { encoding: 'utf8' });
    return !out.includes('not running');
  } catch {
    return false;
  }
}

export function globalSetup(): void {
  startedHere = !clusterServes();
  const kubeconfig = ensureCluster();
  console.log(`e2e: control plane ready, kubeconfig ${kubeconfig}${startedHere ? ' (started for this run)' : ''}`);
}

export function globalTeardown(): void {
  if (startedHere && !process.env.ROLLWAY_E2E_KEEP_CLUSTER) {
    execFileSync(path.join(repoRoot, 'hack/cluster.sh'), ['down'], { stdio: 'inherit' });
  }
}
