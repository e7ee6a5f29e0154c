// `rollway lint` for Experiments: the schema and rules the controller applies (api/experiment.ts),
// and the analysis templates it names, looked up in the same file.
import { ExperimentSchema, validateExperiment } from '../api/experiment.ts';
import type { Add } from './lint.ts';
import { field, str, type Raw } from './raw.ts';

export function lintExperiment(obj: Raw, all: readonly Raw[], add: Add): void {
  const result = validateExperiment(obj);
  if (!result.ok) {
    for (const issue of result.issues) add(issue);
    return;
  }
  if (!ExperimentSchema.safeParse(obj).success) return;
  (result.experiment.spec.analyses ?? []).forEach((analysis, i) => {
    if (!analysis.templateName) return;
    const kind = analysis.clusterScope ? 'ClusterAnalysisTemplate' : 'AnalysisTemplate';
    const found = all.some((o) => o.kind === kind && str(field(o, 'metadata', 'name')) === analysis.templateName);
    if (found) return;
    add(
      {
        path: `spec.analyses[${i}].templateName`,
        message: `${kind} "${analysis.templateName}" is not in this file: without it in the cluster the experiment ends in Error`,
        fix: `create the ${kind} before the Experiment, or correct templateName`,
      },
      'warning',
    );
  });
}
