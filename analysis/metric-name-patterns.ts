// dryRun and measurementRetention name their metrics by `metricName`, a name or a regular
// expression. Each pattern is checked where it is written (a Rollout's analysis blocks, an
// AnalysisTemplate or AnalysisRun spec) so a pattern RE2 refuses is reported with its field path
// before any run starts, by the controller (InvalidSpec) and by `rollway lint` alike.
import type { SpecIssue } from '../api/issues.ts';
import { regexProblem } from './safe-regex.ts';

interface MetricNamed {
  metricName?: unknown;
}
interface AnalysisBlock {
  dryRun?: readonly MetricNamed[] | undefined;
  measurementRetention?: readonly MetricNamed[] | undefined;
}

const FIX = 'write a metric name, or an RE2 regular expression over metric names such as "error-.*" (no lookahead, lookbehind or backreferences)';

/**
 * Issues for the metricName patterns of one spec holding dryRun / measurementRetention; `path`
 * leads to that spec. It may be any value as written (lint reads raw YAML): what is not a list of
 * names is the schema's business.
 */
export function metricNamePatternIssues(block: unknown, path: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const key of ['dryRun', 'measurementRetention'] as const) {
    const entries: unknown = block !== null && typeof block === 'object' ? (block as AnalysisBlock)[key] : undefined;
    if (!Array.isArray(entries)) continue;
    entries.forEach((entry: unknown, i) => {
      const field = `${path}.${key}[${i}].metricName`;
      const pattern = entry !== null && typeof entry === 'object' ? (entry as MetricNamed).metricName : undefined;
      if (typeof pattern !== 'string') return;
      const problem = regexProblem(pattern, field);
      if (problem !== undefined) issues.push({ path: field, message: problem.reason, fix: FIX });
    });
  }
  return issues;
}

interface RolloutAnalysisSpec {
  strategy?:
    | {
        canary?: { analysis?: AnalysisBlock | undefined; steps?: readonly ({ analysis?: AnalysisBlock | undefined } | undefined)[] | undefined } | undefined;
        blueGreen?: { prePromotionAnalysis?: AnalysisBlock | undefined; postPromotionAnalysis?: AnalysisBlock | undefined } | undefined;
      }
    | undefined;
}

/** The metricName pattern issues of every analysis block of a Rollout spec. */
export function rolloutMetricNameIssues(spec: RolloutAnalysisSpec): SpecIssue[] {
  const canary = spec.strategy?.canary;
  const blueGreen = spec.strategy?.blueGreen;
  return [
    ...metricNamePatternIssues(canary?.analysis, 'spec.strategy.canary.analysis'),
    ...(canary?.steps ?? []).flatMap((step, i) => metricNamePatternIssues(step?.analysis, `spec.strategy.canary.steps[${i}].analysis`)),
    ...metricNamePatternIssues(blueGreen?.prePromotionAnalysis, 'spec.strategy.blueGreen.prePromotionAnalysis'),
    ...metricNamePatternIssues(blueGreen?.postPromotionAnalysis, 'spec.strategy.blueGreen.postPromotionAnalysis'),
  ];
}
