// The Experiment (rollway.dev/v1alpha1, short name `exp`): runs one ReplicaSet per template for a
// while (or until its analyses end) and judges it with AnalysisRuns. Field names and meanings are
// Argo Rollouts' Experiment, so an Argo manifest runs after changing only its apiVersion. The zod
// schema is the single source of the TypeScript types, the validation and the CRD (api/crd.ts).
//
// A Rollout's canary `experiment` step creates one (controller/experiment-manifest.ts); one can
// also be applied on its own. The lifecycle is planned in controller/experiment-plan.ts.
import { z } from 'zod';
import { ANALYSIS_PHASES, ArgumentSchema } from './analysis.ts';
import { buildCrd, renderCrd, type CrdDefinition, type SchemaNode } from './crd.ts';
import { formatPath, type SpecIssue } from './issues.ts';
import { dns1123Label } from './k8s-names.ts';
import { parseDurationMs, ROLLOUT_GROUP, ROLLOUT_VERSION, RolloutSpecSchema, selectorMatches, zodIssueToSpecIssue } from './rollout.ts';

export const EXPERIMENT_API_VERSION = `${ROLLOUT_GROUP}/${ROLLOUT_VERSION}`;
export const EXPERIMENT_KIND = 'Experiment';
export const EXPERIMENT_PLURAL = 'experiments';
export const EXPERIMENT_CRD_PATH = 'crds/rollway/experiments.rollway.dev.yaml';

/** Defaults as in Argo Rollouts (the CRD carries none; the controller applies them). */
export const DEFAULT_EXPERIMENT_REPLICAS = 1;
export const DEFAULT_EXPERIMENT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_EXPERIMENT_SCALE_DOWN_DELAY_SECONDS = 30;

/** On each ReplicaSet (and Service) of an Experiment: which Experiment and template it runs. */
export const EXPERIMENT_NAME_ANNOTATION = 'rollway.dev/experiment-name';
export const EXPERIMENT_TEMPLATE_ANNOTATION = 'rollway.dev/experiment-template-name';

/** An Experiment's phase is an analysis phase: Pending, Running, then one of the four ends. */
export type ExperimentPhase = (typeof ANALYSIS_PHASES)[number];
export const TEMPLATE_STATUSES = ['Progressing', 'Running', 'Successful', 'Failed', 'Error'] as const;
export type TemplateStatusCode = (typeof TEMPLATE_STATUSES)[number];

const count = () => z.int32().nonnegative();
const StringMap = z.record(z.string(), z.string());
const DateTime = z.iso.datetime({ offset: true });
// The Rollout's selector and pod template schemas, reused so both kinds accept the same things.
const LabelSelectorSchema = RolloutSpecSchema.shape.selector.unwrap();
const PodTemplateSchema = RolloutSpecSchema.shape.template.unwrap();

export const ExperimentTemplateSchema = z.object({
  name: z.string().describe('Name of the template; its ReplicaSet is <experiment>-<name>.'),
  replicas: count().optional().describe('Pods of the template; default 1.'),
  minReadySeconds: count().optional(),
  selector: LabelSelectorSchema.describe('Label selector of the pods; must match the template labels.'),
  template: PodTemplateSchema,
  service: z.object({ name: z.string().optional() }).optional().describe('Create a Service for the pods (named <experiment>-<template> unless name says otherwise).'),
});

export const ExperimentAnalysisSchema = z.object({
  name: z.string(),
  templateName: z.string().optional(),
  clusterScope: z.boolean().optional().describe('templateName names a ClusterAnalysisTemplate.'),
  args: z.array(ArgumentSchema).optional().describe('Values may use {{templates.NAME.podTemplateHash}} and {{templates.NAME.replicaset.name}}.'),
  requiredForCompletion: z.boolean().optional().describe('The experiment completes when every required analysis has ended.'),
});

export const ExperimentSpecSchema = z.object({
  templates: z.array(ExperimentTemplateSchema).min(1),
  duration: z.union([z.int32(), z.string()]).optional().describe('How long the experiment runs once all its pods are available ("1h", "30m"); absent: until the required analyses end.'),
  progressDeadlineSeconds: count().optional().describe('Seconds a template may take to become available; default 600.'),
  terminate: z.boolean().optional().describe('Stop the experiment now: analyses are terminated and the pods scaled down.'),
  scaleDownDelaySeconds: count().optional().describe('Seconds the pods stay up after the experiment ends; default 30.'),
  analyses: z.array(ExperimentAnalysisSchema).optional(),
  dryRun: z.array(z.object({ metricName: z.string() })).optional(),
  measurementRetention: z.array(z.object({ metricName: z.string(), limit: z.int32() })).optional(),
  analysisRunMetadata: z.object({ labels: StringMap.optional(), annotations: StringMap.optional() }).optional(),
});

export const TemplateStatusSchema = z.object({
  name: z.string(),
  replicas: count().optional(),
  updatedReplicas: count().optional(),
  readyReplicas: count().optional(),
  availableReplicas: count().optional(),
  collisionCount: count().optional(),
  status: z.enum(TEMPLATE_STATUSES).optional(),
  message: z.string().optional(),
  lastTransitionTime: DateTime.optional(),
  serviceName: z.string().optional(),
  podTemplateHash: z.string().optional(),
});

export const ExperimentAnalysisRunStatusSchema = z.object({
  name: z.string(),
  analysisRun: z.string().optional(),
  phase: z.enum(ANALYSIS_PHASES).optional(),
  message: z.string().optional(),
});

export const ExperimentStatusSchema = z.object({
  phase: z.enum(ANALYSIS_PHASES).optional(),
  message: z.string().optional(),
  templateStatuses: z.array(TemplateStatusSchema).optional(),
  analysisRuns: z.array(ExperimentAnalysisRunStatusSchema).optional(),
  availableAt: DateTime.optional().describe('When every template first had all its pods available: the duration counts from here.'),
  conditions: z
    .array(
      z.object({
        type: z.string(),
        status: z.string(),
        reason: z.string().optional(),
        message: z.string().optional(),
        lastUpdateTime: DateTime.optional(),
        lastTransitionTime: DateTime.optional(),
      }),
    )
    .optional(),
});

export const ExperimentSchema = z.object({
  apiVersion: z.literal(EXPERIMENT_API_VERSION),
  kind: z.literal(EXPERIMENT_KIND),
  metadata: z.looseObject({ name: z.string().optional(), namespace: z.string().optional(), labels: StringMap.optional(), annotations: StringMap.optional() }),
  spec: ExperimentSpecSchema,
  status: ExperimentStatusSchema.optional(),
});

export type Experiment = z.output<typeof ExperimentSchema>;
export type ExperimentSpec = z.output<typeof ExperimentSpecSchema>;
export type ExperimentTemplate = z.output<typeof ExperimentTemplateSchema>;
export type ExperimentAnalysis = z.output<typeof ExperimentAnalysisSchema>;
export type ExperimentStatus = z.output<typeof ExperimentStatusSchema>;
export type TemplateStatus = z.output<typeof TemplateStatusSchema>;
export type ExperimentAnalysisRunStatus = z.output<typeof ExperimentAnalysisRunStatusSchema>;

// ---------------------------------------------------------------------------------------------
// Validation: the shape (zod), then the rules a schema cannot say

export type ExperimentValidation = { ok: true; experiment: Experiment } | { ok: false; issues: SpecIssue[] };

export function validateExperiment(object: unknown): ExperimentValidation {
  const parsed = ExperimentSchema.safeParse(object, { reportInput: true });
  if (!parsed.success) return { ok: false, issues: parsed.error.issues.map(experimentZodIssue) };
  const issues = experimentSpecIssues(parsed.data.spec, parsed.data.metadata.name ?? '');
  return issues.length > 0 ? { ok: false, issues } : { ok: true, experiment: parsed.data };
}

/** The Rollout's wording for zod issues, except apiVersion and kind, which name this kind. */
function experimentZodIssue(issue: z.core.$ZodIssue): SpecIssue {
  const path = formatPath(issue.path);
  if (path === 'apiVersion') return { path, message: `apiVersion must be ${EXPERIMENT_API_VERSION}`, fix: `set apiVersion: ${EXPERIMENT_API_VERSION} (an Argo Rollouts Experiment needs no other change)` };
  if (path === 'kind') return { path, message: `kind must be ${EXPERIMENT_KIND}`, fix: `set kind: ${EXPERIMENT_KIND}` };
  return zodIssueToSpecIssue(issue);
}

/** Rules over a parsed spec: unique names, durations, selectors that select their pods. */
export function experimentSpecIssues(spec: ExperimentSpec, name: string): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const seen = new Set<string>();
  spec.templates.forEach((t, i) => {
    const at = `spec.templates[${i}]`;
    if (seen.has(t.name)) issues.push({ path: `${at}.name`, message: `two templates are named ${JSON.stringify(t.name)}`, fix: 'give each template its own name, e.g. baseline and canary' });
    seen.add(t.name);
    const rsName = `${name}-${t.name}`;
    if (dns1123Label(t.name).length > 0) {
      issues.push({ path: `${at}.name`, message: `template name ${JSON.stringify(t.name)} is not a DNS label (lower-case letters, digits and -)`, fix: 'use a name such as canary' });
    } else if (name && rsName.length > 63) {
      issues.push({ path: `${at}.name`, message: `the ReplicaSet name ${rsName} would be longer than 63 characters`, fix: 'shorten the Experiment or template name' });
    }
    if (!selectorMatches(t.selector, t.template.metadata?.labels ?? {})) {
      issues.push({ path: `${at}.selector`, message: `the selector does not select the labels of template ${JSON.stringify(t.name)}`, fix: 'make selector.matchLabels a subset of template.metadata.labels' });
    }
  });
  if (spec.duration !== undefined && parseDurationMs(spec.duration) === undefined) {
    issues.push({ path: 'spec.duration', message: `duration must be a duration such as "30s", "5m" or "1h", got ${JSON.stringify(spec.duration)}`, fix: 'write duration: 5m, or leave it out to run until the required analyses end' });
  }
  const analyses = new Set<string>();
  (spec.analyses ?? []).forEach((a, i) => {
    const at = `spec.analyses[${i}]`;
    if (analyses.has(a.name)) issues.push({ path: `${at}.name`, message: `two analyses are named ${JSON.stringify(a.name)}`, fix: 'give each analysis its own name' });
    analyses.add(a.name);
    if (!a.templateName) issues.push({ path: `${at}.templateName`, message: 'templateName is missing', fix: 'name the AnalysisTemplate (or ClusterAnalysisTemplate with clusterScope: true) to run' });
  });
  return issues;
}

// ---------------------------------------------------------------------------------------------
// CRD

export const EXPERIMENT_CRD: CrdDefinition = {
  group: ROLLOUT_GROUP,
  version: ROLLOUT_VERSION,
  kind: EXPERIMENT_KIND,
  plural: EXPERIMENT_PLURAL,
  singular: 'experiment',
  shortNames: ['exp'],
  scope: 'Namespaced',
  schema: ExperimentSchema,
  printerColumns: [
    { name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'Phase of the Experiment' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the resource was created' },
  ],
};

export function buildExperimentCrd(): SchemaNode {
  return buildCrd(EXPERIMENT_CRD);
}

export function renderExperimentCrd(): string {
  return renderCrd(buildExperimentCrd(), '# Generated by make crds from api/experiment.ts; do not edit.\n');
}
