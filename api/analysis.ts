// The analysis API (rollway.dev/v1alpha1): AnalysisTemplate, ClusterAnalysisTemplate and
// AnalysisRun as zod schemas. Like the Rollout (api/rollout.ts), each schema is the single source
// of the TypeScript types, the runtime validation and the CRD's openAPIV3Schema (api/crd.ts,
// written by `make crds`).
//
// Field names and types follow Argo Rollouts' analysis resources, so a template moves over by
// changing its apiVersion. Providers we run: prometheus, web and job; other Argo providers are
// accepted by the schema (kept as written) and reported on the AnalysisRun as unsupported.
//
// Our addition: `noData` (on the template spec, and per metric) says how a measurement that found
// no data (an empty Prometheus vector, a JSON path that matches nothing) is assessed:
// Inconclusive unless the template says Failed, Successful or Error.
import { z } from 'zod';
import { ROLLOUT_GROUP, ROLLOUT_VERSION } from './rollout.ts';
import { buildCrd, renderCrd, type CrdDefinition, type SchemaNode } from './crd.ts';
import { compileRegex } from '../lib/safe-regex.ts';

export const ANALYSIS_API_VERSION = `${ROLLOUT_GROUP}/${ROLLOUT_VERSION}`;
export const ANALYSIS_TEMPLATE_KIND = 'AnalysisTemplate';
export const CLUSTER_ANALYSIS_TEMPLATE_KIND = 'ClusterAnalysisTemplate';
export const ANALYSIS_RUN_KIND = 'AnalysisRun';
export const ANALYSIS_TEMPLATE_PLURAL = 'analysistemplates';
export const CLUSTER_ANALYSIS_TEMPLATE_PLURAL = 'clusteranalysistemplates';
export const ANALYSIS_RUN_PLURAL = 'analysisruns';

/** Defaults the controller applies when a field is absent (the CRD carries none). */
export const DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4;
export const DEFAULT_FAILURE_LIMIT = 0;
export const DEFAULT_INCONCLUSIVE_LIMIT = 0;
/** Measurements kept per metric in status unless measurementRetention says otherwise. */
export const DEFAULT_MEASUREMENT_RETENTION = 10;
/** After an Error measurement the next try comes after this long (or the interval, if shorter). */
export const DEFAULT_ERROR_RETRY_INTERVAL_MS = 10_000;
export const DEFAULT_WEB_TIMEOUT_SECONDS = 10;
export const DEFAULT_PROMETHEUS_TIMEOUT_SECONDS = 30;

export const ANALYSIS_PHASES = ['Pending', 'Running', 'Successful', 'Failed', 'Error', 'Inconclusive'] as const;
export type AnalysisPhase = (typeof ANALYSIS_PHASES)[number];
/** The phases a run, a metric or a measurement ends in. */
export const COMPLETED_PHASES: readonly AnalysisPhase[] = ['Successful', 'Failed', 'Error', 'Inconclusive'];
export const isCompleted = (phase: string | undefined): boolean => COMPLETED_PHASES.includes(phase as AnalysisPhase);

/** How a measurement that found no data is assessed (our addition; default Inconclusive). */
export const NO_DATA_PHASES = ['Inconclusive', 'Failed', 'Successful', 'Error'] as const;
export type NoDataPhase = (typeof NO_DATA_PHASES)[number];
export const DEFAULT_NO_DATA_PHASE: NoDataPhase = 'Inconclusive';

/** The providers this controller can measure with. */
export const SUPPORTED_PROVIDERS = ['prometheus', 'web', 'job'] as const;

// ---------------------------------------------------------------------------------------------
// Building blocks

const StringMap = z.record(z.string(), z.string());
const IntOrString = z.union([z.int32(), z.string()]);
const DateTime = z.iso.datetime({ offset: true });
const count = () => z.int32().nonnegative();

const HeaderSchema = z.object({ key: z.string(), value: z.string() });

const AuthenticationSchema = z.object({
  basicAuth: z.object({ username: z.string().optional(), password: z.string().optional() }).optional(),
  oauth2: z
    .object({
      tokenUrl: z.string().optional(),
      clientId: z.string().optional(),
      clientSecret: z.string().optional(),
      scopes: z.array(z.string()).optional(),
    })
    .optional(),
  sigv4: z.object({ region: z.string().optional(), profile: z.string().optional(), roleArn: z.string().optional() }).optional(),
});

export const PrometheusProviderSchema = z.object({
  address: z.string().optional().describe('Base URL of the Prometheus server, e.g. http://prometheus.monitoring:9090.'),
  query: z.string().optional().describe('PromQL instant query; {{args.NAME}} is replaced by the argument.'),
  timeout: z.int().optional().describe('Query timeout in seconds; default 30.'),
  headers: z.array(HeaderSchema).optional(),
  insecure: z.boolean().optional(),
  authentication: AuthenticationSchema.optional(),
  rangeQuery: z.object({ start: z.string().optional(), end: z.string().optional(), step: z.string().optional() }).optional(),
});

export const WebProviderSchema = z.object({
  url: z.string(),
  method: z.string().optional().describe('HTTP method; default GET.'),
  headers: z.array(HeaderSchema).optional(),
  body: z.string().optional(),
  jsonBody: z.looseObject({}).optional(),
  jsonPath: z.string().optional().describe('Path of the value in the JSON answer, e.g. $.data.ok or {$.data.ok}; absent: the whole answer.'),
  timeoutSeconds: z.int().optional().describe('Request timeout in seconds; default 10.'),
  insecure: z.boolean().optional().describe('Skip TLS certificate verification.'),
  authentication: AuthenticationSchema.optional(),
});

export const JobProviderSchema = z.object({
  metadata: z.object({ labels: StringMap.optional(), annotations: StringMap.optional() }).optional(),
  spec: z
    .looseObject({
      backoffLimit: z.int32().optional(),
      activeDeadlineSeconds: z.int().optional(),
      template: z.looseObject({
        metadata: z.looseObject({ labels: StringMap.optional(), annotations: StringMap.optional() }).optional(),
        spec: z.looseObject({}).optional(),
      }),
    })
    .describe('A batch/v1 JobSpec: the measurement succeeds when the Job completes and fails when it fails.'),
});

/**
 * Where a measurement comes from: one provider. Argo's other providers (datadog, newRelic, ...)
 * are kept as written; the AnalysisRun names them as unsupported.
 */
export const MetricProviderSchema = z.looseObject({
  prometheus: PrometheusProviderSchema.optional(),
  web: WebProviderSchema.optional(),
  job: JobProviderSchema.optional(),
});

export const MetricSchema = z.object({
  name: z.string(),
  interval: z.string().optional().describe('Time between measurements, e.g. 30s, 5m; absent: one measurement.'),
  initialDelay: z.string().optional().describe('Wait this long after the run starts before the first measurement.'),
  count: IntOrString.optional().describe('Number of measurements; default 1 without interval, unbounded with one.'),
  successCondition: z.string().optional().describe('Expression over `result`, e.g. result[0] >= 0.95.'),
  failureCondition: z.string().optional().describe('Expression over `result`, e.g. result[0] > 0.05.'),
  failureLimit: IntOrString.optional().describe('Failed measurements tolerated; default 0; -1 for no limit.'),
  inconclusiveLimit: IntOrString.optional().describe('Inconclusive measurements tolerated; default 0; -1 for no limit.'),
  consecutiveErrorLimit: IntOrString.optional().describe('Errors in a row tolerated; default 4; -1 for no limit.'),
  consecutiveSuccessLimit: IntOrString.optional().describe('Successes in a row that make the metric Successful.'),
  noData: z.enum(NO_DATA_PHASES).optional().describe('How a measurement with no data is assessed; default the template spec.noData, else Inconclusive.'),
  provider: MetricProviderSchema,
});

export const ArgumentSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({
      secretKeyRef: z.object({ name: z.string(), key: z.string() }).optional(),
      fieldRef: z.object({ fieldPath: z.string() }).optional(),
      podTemplateHashValue: z.enum(['Stable', 'Latest']).optional(),
    })
    .optional(),
});

const DryRunSchema = z.object({ metricName: z.string() });
const MeasurementRetentionSchema = z.object({ metricName: z.string(), limit: z.int32() });
const TemplateRefSchema = z.object({ templateName: z.string().optional(), clusterScope: z.boolean().optional() });

export const AnalysisTemplateSpecSchema = z.object({
  metrics: z.array(MetricSchema).optional(),
  args: z.array(ArgumentSchema).optional(),
  dryRun: z.array(DryRunSchema).optional().describe('Metrics (name or regular expression) whose failures never fail the run.'),
  measurementRetention: z.array(MeasurementRetentionSchema).optional(),
  templates: z.array(TemplateRefSchema).optional().describe('Other templates whose metrics and args this one includes.'),
  noData: z.enum(NO_DATA_PHASES).optional().describe('How a measurement with no data is assessed, for every metric; default Inconclusive.'),
});

export const AnalysisRunSpecSchema = z.object({
  metrics: z.array(MetricSchema),
  args: z.array(ArgumentSchema).optional(),
  dryRun: z.array(DryRunSchema).optional(),
  measurementRetention: z.array(MeasurementRetentionSchema).optional(),
  terminate: z.boolean().optional().describe('Stop measuring: running metrics end as they stand.'),
  noData: z.enum(NO_DATA_PHASES).optional(),
  ttlStrategy: z
    .object({
      secondsAfterCompletion: z.int32().optional(),
      secondsAfterFailure: z.int32().optional(),
      secondsAfterSuccess: z.int32().optional(),
    })
    .optional(),
});

export const MeasurementSchema = z.object({
  phase: z.enum(ANALYSIS_PHASES),
  value: z.string().optional(),
  startedAt: DateTime.optional(),
  finishedAt: DateTime.optional(),
  resumeAt: DateTime.optional(),
  message: z.string().optional(),
  metadata: StringMap.optional(),
});

export const MetricResultSchema = z.object({
  name: z.string(),
  phase: z.enum(ANALYSIS_PHASES),
  measurements: z.array(MeasurementSchema).optional(),
  message: z.string().optional(),
  count: count().optional(),
  successful: count().optional(),
  failed: count().optional(),
  inconclusive: count().optional(),
  error: count().optional(),
  consecutiveError: count().optional(),
  consecutiveSuccess: count().optional(),
  dryRun: z.boolean().optional(),
  metadata: StringMap.optional(),
});

const RunSummarySchema = z.object({
  count: count().optional(),
  successful: count().optional(),
  failed: count().optional(),
  inconclusive: count().optional(),
  error: count().optional(),
});

export const AnalysisRunStatusSchema = z.object({
  phase: z.enum(ANALYSIS_PHASES),
  message: z.string().optional(),
  metricResults: z.array(MetricResultSchema).optional(),
  startedAt: DateTime.optional(),
  completedAt: DateTime.optional(),
  runSummary: RunSummarySchema.optional(),
  dryRunSummary: RunSummarySchema.optional(),
});

const MetadataSchema = z.looseObject({
  name: z.string().optional(),
  namespace: z.string().optional(),
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
});

export const AnalysisTemplateSchema = z.object({
  apiVersion: z.literal(ANALYSIS_API_VERSION),
  kind: z.literal(ANALYSIS_TEMPLATE_KIND),
  metadata: MetadataSchema,
  spec: AnalysisTemplateSpecSchema,
});

export const ClusterAnalysisTemplateSchema = z.object({
  apiVersion: z.literal(ANALYSIS_API_VERSION),
  kind: z.literal(CLUSTER_ANALYSIS_TEMPLATE_KIND),
  metadata: MetadataSchema,
  spec: AnalysisTemplateSpecSchema,
});

export const AnalysisRunSchema = z.object({
  apiVersion: z.literal(ANALYSIS_API_VERSION),
  kind: z.literal(ANALYSIS_RUN_KIND),
  metadata: MetadataSchema,
  spec: AnalysisRunSpecSchema,
  status: AnalysisRunStatusSchema.optional(),
});

export type Metric = z.output<typeof MetricSchema>;
export type MetricProvider = z.output<typeof MetricProviderSchema>;
export type PrometheusProvider = z.output<typeof PrometheusProviderSchema>;
export type WebProvider = z.output<typeof WebProviderSchema>;
export type JobProvider = z.output<typeof JobProviderSchema>;
export type Argument = z.output<typeof ArgumentSchema>;
export type AnalysisTemplateSpec = z.output<typeof AnalysisTemplateSpecSchema>;
export type AnalysisTemplate = z.output<typeof AnalysisTemplateSchema>;
export type ClusterAnalysisTemplate = z.output<typeof ClusterAnalysisTemplateSchema>;
export type AnalysisRunSpec = z.output<typeof AnalysisRunSpecSchema>;
export type AnalysisRun = z.output<typeof AnalysisRunSchema>;
export type AnalysisRunStatus = z.output<typeof AnalysisRunStatusSchema>;
export type MetricResult = z.output<typeof MetricResultSchema>;
export type Measurement = z.output<typeof MeasurementSchema>;
export type RunSummary = z.output<typeof RunSummarySchema>;

// ---------------------------------------------------------------------------------------------
// CRDs

export const ANALYSIS_GENERATED_HEADER = '# Generated by make crds from api/analysis.ts; do not edit.\n';

const AGE_COLUMN = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since the resource was created' } as const;

export const ANALYSIS_TEMPLATE_CRD: CrdDefinition = {
  group: ROLLOUT_GROUP,
  version: ROLLOUT_VERSION,
  kind: ANALYSIS_TEMPLATE_KIND,
  plural: ANALYSIS_TEMPLATE_PLURAL,
  singular: 'analysistemplate',
  shortNames: ['at'],
  scope: 'Namespaced',
  schema: AnalysisTemplateSchema,
  printerColumns: [AGE_COLUMN],
};

export const CLUSTER_ANALYSIS_TEMPLATE_CRD: CrdDefinition = {
  group: ROLLOUT_GROUP,
  version: ROLLOUT_VERSION,
  kind: CLUSTER_ANALYSIS_TEMPLATE_KIND,
  plural: CLUSTER_ANALYSIS_TEMPLATE_PLURAL,
  singular: 'clusteranalysistemplate',
  shortNames: ['cat'],
  scope: 'Cluster',
  schema: ClusterAnalysisTemplateSchema,
  printerColumns: [AGE_COLUMN],
};

export const ANALYSIS_RUN_CRD: CrdDefinition = {
  group: ROLLOUT_GROUP,
  version: ROLLOUT_VERSION,
  kind: ANALYSIS_RUN_KIND,
  plural: ANALYSIS_RUN_PLURAL,
  singular: 'analysisrun',
  shortNames: ['ar'],
  scope: 'Namespaced',
  schema: AnalysisRunSchema,
  printerColumns: [{ name: 'Status', type: 'string', jsonPath: '.status.phase', description: 'Phase of the AnalysisRun' }, AGE_COLUMN],
};

/** The analysis CRDs with the paths they are committed at (relative to the repository root). */
export const ANALYSIS_CRDS: readonly { path: string; definition: CrdDefinition }[] = [
  { path: 'crds/rollway/analysistemplates.rollway.dev.yaml', definition: ANALYSIS_TEMPLATE_CRD },
  { path: 'crds/rollway/clusteranalysistemplates.rollway.dev.yaml', definition: CLUSTER_ANALYSIS_TEMPLATE_CRD },
  { path: 'crds/rollway/analysisruns.rollway.dev.yaml', definition: ANALYSIS_RUN_CRD },
];

export function buildAnalysisCrd(definition: CrdDefinition): SchemaNode {
  return buildCrd(definition);
}

/** A CRD as the YAML text committed for it. */
export function renderAnalysisCrd(definition: CrdDefinition): string {
  return renderCrd(buildCrd(definition), ANALYSIS_GENERATED_HEADER);
}

// ---------------------------------------------------------------------------------------------
// Small helpers shared by the run reconciler, the Rollout controller and the CLI

/** A Kubernetes IntOrString limit as a number; undefined when absent, NaN when not a whole number. */
export function intOrStringValue(value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number') return Number.isInteger(value) ? value : Number.NaN;
  const text = value.trim();
  return /^-?\d+$/.test(text) ? Number(text) : Number.NaN;
}

/**
 * Whether a dryRun / measurementRetention `metricName` names a metric. As in Argo Rollouts (Go's
 * regexp.MatchString), the pattern is searched for anywhere in the name: "error" names
 * "error-rate", and "^error$" pins it to the whole name. Matched in linear time (RE2); a pattern
 * RE2 refuses throws RegexError naming `field`.
 */
export function metricNameMatches(pattern: string, metricName: string, field = 'metricName'): boolean {
  return compileRegex(pattern, field).test(metricName);
}

/** The provider keys a metric sets (known or not), in the order written. */
export function providerKinds(provider: MetricProvider | Record<string, unknown> | undefined): string[] {
  return Object.entries(provider ?? {})
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k]) => k);
}
