// dryRun and measurementRetention name their metrics by `metricName`, an RE2 regular expression
// searched for anywhere in a metric's name (Go's regexp.MatchString, as Argo Rollouts reads it: a
// plain name such as "error" names "error-rate" too). Each pattern is checked where it is written
// (a Rollout's analysis blocks, an AnalysisTemplate or AnalysisRun spec) so a pattern RE2 refuses
// is reported with its field path before any run starts, by the controller (InvalidSpec) and by
// `rollway lint` alike. A rule that names no metric of its run makes the run Error, as in Argo;
// lint reports it on the template or run that holds it.
import type { SpecIssue } from './issues.ts';
// (safe-regex directly, not api/analysis.ts: api/rollout.ts imports this module, and
// api/analysis.ts leads back to api/rollout.ts.)
import { compileRegex, RegexError, regexProblem } from '../lib/safe-regex.ts';

interface MetricNamed {
  metricName?: unknown;
}
interface AnalysisBlock {
  dryRun?: readonly MetricNamed[] | undefined;
  measurementRetention?: readonly MetricNamed[] | undefined;
}

const FIX = 'write a metric name, or an RE2 regular expression searched for in metric names such as "^error-" (no lookahead, lookbehind or backreferences)';
const RULE_KEYS = ['dryRun', 'measurementRetention'] as const;
/** Metric names listed in a message, at most. */
const LISTED = 10;

const fieldOf = (path: string, key: string, i: number): string => `${path ? `${path}.` : ''}${key}[${i}].metricName`;

/** The metricName of each rule of `key` as written: a string, or undefined for anything else. */
function rulePatterns(block: unknown, key: (typeof RULE_KEYS)[number]): (string | undefined)[] {
  const entries: unknown = block !== null && typeof block === 'object' ? (block as AnalysisBlock)[key] : undefined;
  if (!Array.isArray(entries)) return [];
  return entries.map((entry: unknown) => {
    const pattern = entry !== null && typeof entry === 'object' ? (entry as MetricNamed).metricName : undefined;
    return typeof pattern === 'string' ? pattern : undefined;
  });
}

/**
 * Issues for the metricName patterns of one spec holding dryRun / measurementRetention; `path`
 * leads to that spec. It may be any value as written (lint reads raw YAML): what is not a list of
 * names is the schema's business.
 */
export function metricNamePatternIssues(block: unknown, path: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  for (const key of RULE_KEYS) {
    rulePatterns(block, key).forEach((pattern, i) => {
      if (pattern === undefined) return;
      const field = fieldOf(path, key, i);
      const problem = regexProblem(pattern, field);
      if (problem !== undefined) issues.push({ path: field, message: problem.reason, fix: FIX });
    });
  }
  return issues;
}

/**
 * The dryRun / measurementRetention rules of `block` that name none of `metricNames`. Argo makes
 * such a run Error ("Rule didn't match any metric name(s)"), so a misspelt rule cannot silently
 * leave a metric deciding the run. `holder` says whose metrics they are ("this run"). Patterns RE2
 * refuses are left to metricNamePatternIssues.
 */
export function unmatchedRuleIssues(block: unknown, metricNames: readonly string[], path: string, holder: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const listed = metricNames.length > LISTED ? `${metricNames.slice(0, LISTED).join(', ')}, …` : metricNames.join(', ');
  for (const key of RULE_KEYS) {
    rulePatterns(block, key).forEach((pattern, i) => {
      const field = fieldOf(path, key, i);
      if (pattern === undefined || regexProblem(pattern, field) !== undefined) return;
      const matched = namesAny(pattern, metricNames, field);
      if (matched === true) return;
      if (matched instanceof RegexError) issues.push({ path: field, message: matched.reason, fix: FIX });
      else issues.push({ path: field, message: `${JSON.stringify(pattern)} matches no metric of ${holder} (metrics: ${listed || 'none'})`, fix: unmatchedFix(pattern, metricNames, holder) });
    });
  }
  return issues;
}

/** Whether `pattern` names one of `names`; the RegexError of a name too long to match. */
function namesAny(pattern: string, names: readonly string[], field: string): boolean | RegexError {
  try {
    const re = compileRegex(pattern, field);
    return names.some((name) => re.test(name));
  } catch (err) {
    if (err instanceof RegexError) return err;
    throw err;
  }
}

function unmatchedFix(pattern: string, metricNames: readonly string[], holder: string): string {
  const how = 'metricName is an RE2 regular expression searched for in each metric name';
  // A name written as it is spelt but holding regex characters, e.g. "p99(ms)", matches nothing.
  if (metricNames.includes(pattern)) return `${how} and ${JSON.stringify(pattern)} has special characters: escape them, e.g. metricName: '${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}'`;
  const example = metricNames[0] !== undefined ? `, e.g. ${JSON.stringify(metricNames[0])}` : '';
  return `${how}: name a metric of ${holder}${example}, or remove the rule`;
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
