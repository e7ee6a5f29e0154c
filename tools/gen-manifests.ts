// Writes manifests/install.yaml and manifests/namespace-install.yaml from the kustomize bases
// under manifests/ (run by `make manifests`). tools/manifests.test.ts fails when a committed
// file differs from what this would write.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { INSTALLS, renderInstall, repoRoot } from './manifests.ts';

for (const install of INSTALLS) {
  writeFileSync(path.join(repoRoot, install.output), renderInstall(install));
  console.log(`wrote ${install.output}`);
}
