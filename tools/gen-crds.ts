// Writes Rollway's CRDs from their zod schemas (run by `make crds`). api/crd.test.ts fails when a
// committed file differs from what this would write.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ANALYSIS_CRDS, renderAnalysisCrd } from '../api/analysis.ts';
import { ROLLOUT_CRD_PATH, renderRolloutCrd } from '../api/crd.ts';
import { EXPERIMENT_CRD_PATH, renderExperimentCrd } from '../api/experiment.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outputs: [string, string][] = [
  [ROLLOUT_CRD_PATH, renderRolloutCrd()],
  [EXPERIMENT_CRD_PATH, renderExperimentCrd()],
  ...ANALYSIS_CRDS.map(({ path, definition }): [string, string] => [path, renderAnalysisCrd(definition)]),
];
for (const [path, text] of outputs) {
  const file = join(root, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
  console.log(`wrote ${path}`);
}
