// Writes manifests/install.yaml and manifests/namespace-install.yaml from the kustomize bases
// under manifests/, and the Helm chart's copies of the CRDs (run by `make manifests` and `make crds`). tools/manifests.test.ts fails when a committed
// file differs from what this would write.
import { copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CHART_CRDS_DIR, INSTALLS, chartCrdCopies, renderInstall, repoRoot } from './manifests.ts';

for (const install of INSTALLS) {
  writeFileSync(path.join(repoRoot, install.output), renderInstall(install));
  console.log(`wrote ${install.output}`);
}

const chartCrds = path.join(repoRoot, CHART_CRDS_DIR);
mkdirSync(chartCrds, { recursive: true });
for (const stale of readdirSync(chartCrds)) rmSync(path.join(chartCrds, stale));
for (const { source, output } of chartCrdCopies()) {
  copyFileSync(path.join(repoRoot, source), path.join(repoRoot, output));
  console.log(`wrote ${output}`);
}
