// Semantic rules of the canary `experiment` step (its schema is ExperimentStepSchema in
// api/rollout.ts). Called from semanticIssues, so the controller (InvalidSpec) and `rollway lint`
// say the same. Argo Rollouts' rules, plus the sum of the shares a step sends: the canary's
// current weight and the templates' weights cannot add up above 100%.
import type { SpecIssue } from './issues.ts';
import { parseDurationMs, type CanaryStrategy } from './rollout.ts';

const STEPS = 'spec.strategy.canary.steps';
export const SPEC_REFS = ['stable', 'canary'] as const;

type ExperimentStep = NonNullable<NonNullable<CanaryStrategy['steps']>[number]['experiment']>;

export function experimentStepIssues(canary: CanaryStrategy): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const steps = canary.steps ?? [];
  const maxTrafficWeight = canary.trafficRouting?.maxTrafficWeight ?? 100;
  let canaryWeight = 0; // the last setWeight before the step, in percent
  steps.forEach((step, index) => {
    if (typeof step.setWeight === 'number') canaryWeight = (step.setWeight * 100) / maxTrafficWeight;
    if (step.experiment === undefined) return;
    const path = `${STEPS}[${index}].experiment`;
    issues.push(...templateIssues(step.experiment, path, canary.trafficRouting !== undefined, canaryWeight));
    issues.push(...analysisIssues(step.experiment, path));
    const duration = step.experiment.duration;
    if (duration !== undefined && parseDurationMs(duration) === undefined) {
      issues.push({ path: `${path}.duration`, message: `duration must be a duration such as "30s", "5m" or "1h", got ${JSON.stringify(duration)}`, fix: 'write duration: 5m, or leave it out to run until the analyses end' });
    }
  });
  return issues;
}

function templateIssues(experiment: ExperimentStep, path: string, routed: boolean, canaryWeight: number): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  let weights = 0;
  experiment.templates.forEach((template, i) => {
    const at = `${path}.templates[${i}]`;
    if (seen.has(template.name)) issues.push({ path: `${at}.name`, message: `two templates are named ${JSON.stringify(template.name)}`, fix: 'give each template of the step its own name, e.g. baseline and canary' });
    seen.add(template.name);
    if (!(SPEC_REFS as readonly string[]).includes(template.specRef)) {
      issues.push({ path: `${at}.specRef`, message: `specRef must be stable or canary, got ${JSON.stringify(template.specRef)}`, fix: 'write specRef: stable (the stable pod template) or specRef: canary (the new one)' });
    }
    const weight = template.weight;
    if (weight === undefined) return;
    if (!Number.isInteger(weight) || weight < 0 || weight > 100) {
      issues.push({ path: `${at}.weight`, message: `weight must be a whole percentage between 0 and 100, got ${weight}`, fix: 'use a share such as 5' });
    } else if (!routed) {
      issues.push({ path: `${at}.weight`, message: 'weight needs trafficRouting: without a traffic router no share of traffic can be sent to a template', fix: 'configure strategy.canary.trafficRouting, or remove weight' });
    } else weights += weight;
  });
  if (weights > 0 && canaryWeight + weights > 100) {
    issues.push({
      path: `${path}.templates`,
      message: `the template weights (${weights}%) and the canary weight at this step (${canaryWeight}%) add up to ${canaryWeight + weights}%, above 100%`,
      fix: `lower the template weights to ${Math.max(0, 100 - canaryWeight)}% in all, or the setWeight before the step`,
    });
  }
  return issues;
}

function analysisIssues(experiment: ExperimentStep, path: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  (experiment.analyses ?? []).forEach((analysis, i) => {
    const at = `${path}.analyses[${i}]`;
    if (seen.has(analysis.name)) issues.push({ path: `${at}.name`, message: `two analyses are named ${JSON.stringify(analysis.name)}`, fix: 'give each analysis of the step its own name' });
    seen.add(analysis.name);
    if (!analysis.templateName) issues.push({ path: `${at}.templateName`, message: 'templateName is missing', fix: 'name the AnalysisTemplate (or ClusterAnalysisTemplate with clusterScope: true) to run' });
  });
  return issues;
}
