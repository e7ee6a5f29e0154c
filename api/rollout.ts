// The Rollout API (rollway.dev/v1alpha1) as one zod schema: the TypeScript types, the runtime
// validation and the CRD's openAPIV3Schema (api/crd.ts) all come from here.
//
// Field names and types follow Argo Rollouts' Rollout, so an Argo manifest runs here after changing
// only its apiVersion. Our additions are new fields, never renamed ones:
//   - canary `setWeight` (and the canary weight in status) accepts decimals down to 0.01 percent;
//   - `strategy.canary.trafficRouting.gatewayAPI`.
//
// Validation has two layers. The zod schema checks shapes and types (it is what the API server
// enforces through the CRD). `validateRollout` then runs the semantic rules (one of canary or
// blueGreen, step kinds, weights, durations, selector vs template labels, ...), each reported as a
// SpecIssue with the exact field path and a fix.
import { z } from 'zod';
import { formatPath } from './issues.ts';
import type { SpecIssue } from './issues.ts';
import { BUILTIN_ROUTERS } from '../routers/registry.ts';
import { needsCanaryStableServices, trafficRoutingIssues } from '../routers/validation.ts';
import { rolloutMetricNameIssues } from './metric-name-patterns.ts';
import { regexProblem } from '../lib/safe-regex.ts';
import { canaryFieldIssues } from './canary-fields.ts';
import { experimentStepIssues } from './experiment-step.ts';
import { workloadRefIssues } from './workload-ref.ts';

export const ROLLOUT_GROUP = 'rollway.dev';
export const ROLLOUT_VERSION = 'v1alpha1';
export const ROLLOUT_API_VERSION = 'rollway.dev/v1alpha1';
export const ROLLOUT_KIND = 'Rollout';
export const ROLLOUT_PLURAL = 'rollouts';

// Defaults of absent fields, Argo's values. The schema fills them in (`.default`), so the planners
// read a parsed Rollout with no `?? default` of their own; the CRD leaves them out (api/crd.ts),
// as Argo's does, so the stored object stays what the user wrote. A default that depends on other
// fields (canary abortScaleDownDelaySeconds with dynamicStableScale) stays with its planner.
export const DEFAULT_REPLICAS = 1;
export const DEFAULT_REVISION_HISTORY_LIMIT = 10;
export const DEFAULT_PROGRESS_DEADLINE_SECONDS = 600;
export const DEFAULT_SCALE_DOWN_DELAY_SECONDS = 30;
export const DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS = 30;
export const DEFAULT_MAX_SURGE = '25%';
export const DEFAULT_MAX_UNAVAILABLE = '25%';
/** The smallest setWeight step: weights are percentages with at most two decimals. */
export const WEIGHT_RESOLUTION = 0.01;

// ---------------------------------------------------------------------------------------------
// Building blocks

const int32 = () => z.int32();
/** A count or a number of seconds: a non-negative 32-bit integer. */
const count = () => z.int32().nonnegative();
const StringMap = z.record(z.string(), z.string());
/** Kubernetes IntOrString: `1` or `"25%"` (the CRD says x-kubernetes-int-or-string). */
const IntOrString = z.union([z.int32(), z.string()]);
/** An RFC 3339 timestamp as Kubernetes writes them (`2025-01-31T12:00:00Z`). */
const DateTime = z.iso.datetime({ offset: true });
/** An object whose content is not modelled: kept as written (x-kubernetes-preserve-unknown-fields). */
const FreeForm = z.looseObject({});

const LabelSelectorRequirementSchema = z.object({
  key: z.string(),
  operator: z.enum(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: z.array(z.string()).optional(),
});

const LabelSelectorSchema = z.object({
  matchLabels: StringMap.optional(),
  matchExpressions: z.array(LabelSelectorRequirementSchema).optional(),
});

const ObjectLabelsSchema = z.object({
  labels: StringMap.optional(),
  annotations: StringMap.optional(),
});

/**
 * The pod template. Only what Rollway reads is typed (labels, annotations, container names and
 * images); everything else of the PodTemplateSpec is kept as written.
 */
const PodTemplateSchema = z
  .looseObject({
    metadata: z
      .looseObject({
        labels: StringMap.optional(),
        annotations: StringMap.optional(),
      })
      .optional(),
    spec: z
      .looseObject({
        containers: z
          .array(
            z.looseObject({
              name: z.string().optional(),
              image: z.string().optional(),
            }),
          )
          .optional(),
      })
      .optional(),
  })
  .describe('Pod template of the ReplicaSets, as in a Deployment.');

const WorkloadRefSchema = z
  .object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    name: z.string().optional(),
    scaleDown: z.string().optional(),
  })
  .describe('A Deployment (or other workload) whose pod template this Rollout uses instead of spec.template.');

// ---------------------------------------------------------------------------------------------
// Analysis references (used by steps, background analysis and blue-green promotion)

const AnalysisTemplateRefSchema = z.object({
  templateName: z.string().optional(),
  clusterScope: z.boolean().optional(),
});

const AnalysisArgSchema = z.object({
  name: z.string(),
  value: z.string().optional(),
  valueFrom: z
    .object({
      podTemplateHashValue: z.string().optional(),
      fieldRef: z.object({ fieldPath: z.string() }).optional(),
    })
    .optional(),
});

const RolloutAnalysisShape = {
  templates: z.array(AnalysisTemplateRefSchema).optional(),
  args: z.array(AnalysisArgSchema).optional(),
  dryRun: z.array(z.object({ metricName: z.string() })).optional(),
  measurementRetention: z.array(z.object({ metricName: z.string(), limit: int32() })).optional(),
  analysisRunMetadata: ObjectLabelsSchema.optional(),
};

const RolloutAnalysisSchema = z.object(RolloutAnalysisShape);

const RolloutAnalysisBackgroundSchema = z.object({
  ...RolloutAnalysisShape,
  startingStep: count().optional(),
});

const AntiAffinitySchema = z.object({
  preferredDuringSchedulingIgnoredDuringExecution: z.object({ weight: int32() }).optional(),
  requiredDuringSchedulingIgnoredDuringExecution: z.object({}).optional(),
});

// ---------------------------------------------------------------------------------------------
// Canary steps

/** How a string is matched: exactly one of exact, prefix or regex. */
const StringMatchSchema = z.object({
  exact: z.string().optional(),
  prefix: z.string().optional(),
  regex: z.string().optional(),
});

const SetHeaderRouteSchema = z.object({
  name: z.string().optional(),
  match: z.array(z.object({ headerName: z.string(), headerValue: StringMatchSchema })).optional(),
});

const SetMirrorRouteSchema = z.object({
  name: z.string(),
  percentage: int32().optional(),
  match: z
    .array(
      z.object({
        method: StringMatchSchema.optional(),
        path: StringMatchSchema.optional(),
        headers: z.record(z.string(), StringMatchSchema).optional(),
      }),
    )
    .optional(),
});

/** A canary `experiment` step (Argo's RolloutExperimentStep); its rules: api/experiment-step.ts. */
const ExperimentStepSchema = z.object({
  duration: IntOrString.optional().describe('How long the experiment runs once its pods are available ("1h", "30m"); absent: until its required analyses end.'),
  templates: z.array(
    z.object({
      name: z.string(),
      specRef: z.string().describe('stable or canary: the pod template the experiment runs.'),
      replicas: count().optional(),
      weight: z.number().optional().describe('Share of traffic (percent) sent to this template through the traffic router.'),
      metadata: ObjectLabelsSchema.optional(),
      selector: LabelSelectorSchema.optional(),
      service: z.object({ name: z.string().optional() }).optional(),
    }),
  ),
  analyses: z
    .array(
      z.object({
        name: z.string(),
        templateName: z.string().optional(),
        clusterScope: z.boolean().optional(),
        args: z.array(AnalysisArgSchema).optional(),
        requiredForCompletion: z.boolean().optional(),
      }),
    )
    .optional(),
});

export const CanaryStepSchema = z
  .object({
    setWeight: z
      .number()
      .optional()
      .describe('Canary share of traffic in percent (out of trafficRouting.maxTrafficWeight if set), in steps of 0.01.'),
    pause: z
      .object({
        duration: IntOrString.optional().describe('Seconds, or a duration such as "30s", "5m", "1h"; absent: wait for promotion.'),
      })
      .optional(),
    setCanaryScale: z
      .object({
        weight: int32().optional(),
        replicas: count().optional(),
        matchTrafficWeight: z.boolean().optional(),
      })
      .optional(),
    analysis: RolloutAnalysisSchema.optional(),
    experiment: ExperimentStepSchema.optional(),
    setHeaderRoute: SetHeaderRouteSchema.optional(),
    setMirrorRoute: SetMirrorRouteSchema.optional(),
    plugin: z.object({ name: z.string(), config: FreeForm.optional() }).optional(),
  })
  .describe('One canary step: at most one of setWeight, pause, analysis, experiment, with setCanaryScale or header/mirror routes if wanted.');

/** The step kinds of which a step sets at most one; the others (setCanaryScale, routes, plugin) may join it. */
export const EXCLUSIVE_STEP_KINDS: readonly CanaryStepKind[] = ['setWeight', 'pause', 'experiment', 'analysis'];

/** The fields of a canary step, at least one of which each step sets. */
export const CANARY_STEP_KINDS = [
  'setWeight',
  'pause',
  'setCanaryScale',
  'analysis',
  'experiment',
  'setHeaderRoute',
  'setMirrorRoute',
  'plugin',
] as const;
export type CanaryStepKind = (typeof CANARY_STEP_KINDS)[number];

// ---------------------------------------------------------------------------------------------
// Traffic routing

/** The built-in routers that can route by header, for messages: "istio, nginx or gatewayAPI". */
const headerRouters = (): string => {
  const keys = Object.values(BUILTIN_ROUTERS).filter((p) => p.capabilities.headerMatch.length > 0).map((p) => p.key);
  return keys.length > 1 ? `${keys.slice(0, -1).join(', ')} or ${keys.at(-1)}` : keys.join('');
};

// Each built-in router's configuration is its plugin's schema (routers/registry.ts).
const routerSchemas = Object.fromEntries(Object.entries(BUILTIN_ROUTERS).map(([key, plugin]) => [key, plugin.schema.optional()])) as {
  [K in keyof typeof BUILTIN_ROUTERS]: z.ZodOptional<(typeof BUILTIN_ROUTERS)[K]['schema']>;
};

export const TrafficRoutingSchema = z
  .object({
    ...routerSchemas,
    alb: z
      .object({
        ingress: z.string().optional(),
        ingresses: z.array(z.string()).optional(),
        servicePort: int32(),
        rootService: z.string().optional(),
        annotationPrefix: z.string().optional(),
        stickinessConfig: z.object({ enabled: z.boolean(), durationSeconds: z.int() }).optional(),
      })
      .optional(),
    ambassador: z.object({ mappings: z.array(z.string()) }).optional(),
    appMesh: z
      .object({
        virtualService: z.object({ name: z.string(), routes: z.array(z.string()).optional() }).optional(),
        virtualNodeGroup: z
          .object({
            canaryVirtualNodeRef: z.object({ name: z.string() }),
            stableVirtualNodeRef: z.object({ name: z.string() }),
          })
          .optional(),
      })
      .optional(),
    apisix: z
      .object({
        route: z.object({ name: z.string(), rules: z.array(z.string()).optional() }).optional(),
      })
      .optional(),
    plugins: FreeForm.optional(),
    managedRoutes: z
      .array(z.object({ name: z.string() }))
      .optional()
      .describe('Header and mirror routes the steps may create, in priority order.'),
    maxTrafficWeight: int32().optional().describe('Total weight setWeight is relative to; default 100.'),
  })
  .describe('Traffic routers that give the canary an exact share of traffic.');

// ---------------------------------------------------------------------------------------------
// Strategies

export const CanaryStrategySchema = z.object({
  canaryService: z.string().optional().describe('Service the controller points at the canary pods.'),
  stableService: z.string().optional().describe('Service the controller points at the stable pods.'),
  pingPong: z.object({ pingService: z.string(), pongService: z.string() }).optional(),
  trafficRouting: TrafficRoutingSchema.optional(),
  steps: z.array(CanaryStepSchema).optional(),
  maxSurge: IntOrString.default(DEFAULT_MAX_SURGE),
  maxUnavailable: IntOrString.default(DEFAULT_MAX_UNAVAILABLE),
  analysis: RolloutAnalysisBackgroundSchema.optional().describe('Analysis run in the background from startingStep on.'),
  scaleDownDelaySeconds: count().default(DEFAULT_SCALE_DOWN_DELAY_SECONDS),
  scaleDownDelayRevisionLimit: count().optional(),
  abortScaleDownDelaySeconds: count().optional(),
  dynamicStableScale: z.boolean().optional(),
  canaryMetadata: ObjectLabelsSchema.optional(),
  stableMetadata: ObjectLabelsSchema.optional(),
  antiAffinity: AntiAffinitySchema.optional(),
  minPodsPerReplicaSet: count().optional(),
  replicaProgressThreshold: z.object({ type: z.string(), value: int32() }).optional(),
});

export const BlueGreenStrategySchema = z.object({
  activeService: z.string(),
  previewService: z.string().optional(),
  autoPromotionEnabled: z.boolean().optional(),
  autoPromotionSeconds: count().optional(),
  scaleDownDelaySeconds: count().default(DEFAULT_SCALE_DOWN_DELAY_SECONDS),
  scaleDownDelayRevisionLimit: count().optional(),
  abortScaleDownDelaySeconds: count().default(DEFAULT_ABORT_SCALE_DOWN_DELAY_SECONDS),
  previewReplicaCount: count().optional(),
  prePromotionAnalysis: RolloutAnalysisSchema.optional(),
  postPromotionAnalysis: RolloutAnalysisSchema.optional(),
  previewMetadata: ObjectLabelsSchema.optional(),
  activeMetadata: ObjectLabelsSchema.optional(),
  maxUnavailable: IntOrString.optional(),
  antiAffinity: AntiAffinitySchema.optional(),
});

// ---------------------------------------------------------------------------------------------
// Spec

export const RolloutSpecSchema = z.object({
  replicas: int32().default(DEFAULT_REPLICAS).describe('Desired number of pods; default 1.'),
  selector: LabelSelectorSchema.optional().describe('Label selector of the pods; must match the template labels.'),
  template: PodTemplateSchema.optional(),
  workloadRef: WorkloadRefSchema.optional(),
  minReadySeconds: count().optional(),
  revisionHistoryLimit: count().default(DEFAULT_REVISION_HISTORY_LIMIT).describe('Old ReplicaSets to keep; default 10.'),
  paused: z.boolean().optional(),
  progressDeadlineSeconds: count().default(DEFAULT_PROGRESS_DEADLINE_SECONDS).describe('Seconds without progress before the rollout is Degraded; default 600.'),
  progressDeadlineAbort: z.boolean().optional(),
  restartAt: DateTime.optional().describe('Restart every pod created before this time.'),
  rollbackWindow: z.object({ revisions: count().optional() }).optional(),
  analysis: z
    .object({
      successfulRunHistoryLimit: count().optional(),
      unsuccessfulRunHistoryLimit: count().optional(),
    })
    .optional(),
  strategy: z
    .object({
      canary: CanaryStrategySchema.optional(),
      blueGreen: BlueGreenStrategySchema.optional(),
    })
    .optional()
    .describe('How an update proceeds: exactly one of canary or blueGreen.'),
});

// ---------------------------------------------------------------------------------------------
// Status (written by the controller)

const AnalysisRunStatusSchema = z.object({
  name: z.string(),
  status: z.string(),
  message: z.string().optional(),
});

const WeightDestinationSchema = z.object({
  weight: z.number().describe('Percent of traffic; may have two decimals.'),
  podTemplateHash: z.string().optional(),
  serviceName: z.string().optional(),
});

const PauseConditionSchema = z.object({
  reason: z.string(),
  startTime: DateTime,
});

const RolloutConditionSchema = z.object({
  type: z.string(),
  status: z.enum(['True', 'False', 'Unknown']),
  reason: z.string(),
  message: z.string(),
  lastUpdateTime: DateTime,
  lastTransitionTime: DateTime,
});

export const ROLLOUT_PHASES = ['Progressing', 'Paused', 'Healthy', 'Degraded'] as const;

export const RolloutStatusSchema = z.object({
  observedGeneration: z.string().optional(),
  phase: z.enum(ROLLOUT_PHASES).optional(),
  message: z.string().optional(),
  currentPodHash: z.string().optional(),
  currentStepHash: z.string().optional(),
  currentStepIndex: count().optional(),
  stableRS: z.string().optional(),
  replicas: count().optional(),
  updatedReplicas: count().optional(),
  readyReplicas: count().optional(),
  availableReplicas: count().optional(),
  HPAReplicas: count().optional(),
  selector: z.string().optional(),
  pauseConditions: z.array(PauseConditionSchema).optional(),
  controllerPause: z.boolean().optional(),
  abort: z.boolean().optional(),
  abortedAt: DateTime.optional(),
  promoteFull: z.boolean().optional(),
  restartedAt: DateTime.optional(),
  collisionCount: int32().optional(),
  conditions: z.array(RolloutConditionSchema).optional(),
  canary: z
    .object({
      weights: z
        .object({
          canary: WeightDestinationSchema,
          stable: WeightDestinationSchema,
          additional: z.array(WeightDestinationSchema).optional(),
          verified: z.boolean().optional(),
        })
        .optional(),
      currentStepAnalysisRunStatus: AnalysisRunStatusSchema.optional(),
      currentBackgroundAnalysisRunStatus: AnalysisRunStatusSchema.optional(),
      currentExperiment: z.string().optional(),
      stablePingPong: z.string().optional(),
    })
    .optional(),
  blueGreen: z
    .object({
      activeSelector: z.string().optional(),
      previewSelector: z.string().optional(),
      scaleUpPreviewCheckPoint: z.boolean().optional(),
      prePromotionAnalysisRunStatus: AnalysisRunStatusSchema.optional(),
      postPromotionAnalysisRunStatus: AnalysisRunStatusSchema.optional(),
    })
    .optional(),
  workloadObservedGeneration: z.string().optional(),
});

// ---------------------------------------------------------------------------------------------
// The whole object

export const RolloutSchema = z.object({
  apiVersion: z.literal(ROLLOUT_API_VERSION),
  kind: z.literal(ROLLOUT_KIND),
  metadata: z.looseObject({
    name: z.string().optional(),
    namespace: z.string().optional(),
    labels: StringMap.optional(),
    annotations: StringMap.optional(),
  }),
  spec: RolloutSpecSchema,
  status: RolloutStatusSchema.optional(),
});

export type Rollout = z.output<typeof RolloutSchema>;
export type RolloutSpec = z.output<typeof RolloutSpecSchema>;
export type RolloutStatus = z.output<typeof RolloutStatusSchema>;
export type CanaryStep = z.output<typeof CanaryStepSchema>;
export type CanaryStrategy = z.output<typeof CanaryStrategySchema>;
export type BlueGreenStrategy = z.output<typeof BlueGreenStrategySchema>;
export type TrafficRouting = z.output<typeof TrafficRoutingSchema>;
export type LabelSelector = z.output<typeof LabelSelectorSchema>;
export type RolloutCondition = z.output<typeof RolloutConditionSchema>;
export type PauseCondition = z.output<typeof PauseConditionSchema>;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];

// ---------------------------------------------------------------------------------------------
// Small parsers shared by validation and the controller

/** The kinds a step sets (a valid step sets exactly one). */
export function stepKinds(step: CanaryStep): CanaryStepKind[] {
  return CANARY_STEP_KINDS.filter((kind) => step[kind] !== undefined);
}

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A pause duration in milliseconds: a non-negative whole number of seconds (`30` or `"30"`), or a
 * string of number+unit parts with units ms, s, m, h (`"10s"`, `"5m"`, `"1h30m"`, `"1.5h"`).
 * undefined when the value is not a duration.
 */
export function parseDurationMs(value: string | number): number | undefined {
  if (typeof value === 'number') {
    return Number.isInteger(value) && value >= 0 ? value * 1000 : undefined;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!/^(\d+(\.\d+)?(ms|s|m|h))+$/.test(text)) return undefined;
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) {
    total += Number(part[1]) * (DURATION_UNIT_MS[part[2] ?? ''] ?? Number.NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** An IntOrString as used by maxSurge/maxUnavailable: a count or a percentage. */
export function parseIntOrPercent(value: number | string): { count: number } | { percent: number } | undefined {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? { count: value } : undefined;
  const match = /^(\d+)%$/.exec(value.trim());
  return match ? { percent: Number(match[1]) } : undefined;
}

/** True when `value` is a whole multiple of 0.01 (within floating-point noise). */
function isHundredth(value: number): boolean {
  const scaled = value * 100;
  return Math.abs(scaled - Math.round(scaled)) < 1e-7;
}

/** Whether a LabelSelector selects a set of labels (an empty selector selects everything). */
export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  return selectorMismatch(selector, labels) === undefined;
}

/** The first part of the selector the labels fail, described for a user; undefined if they match. */
function selectorMismatch(selector: LabelSelector, labels: Record<string, string>): string | undefined {
  for (const [key, want] of Object.entries(selector.matchLabels ?? {})) {
    const have = labels[key];
    if (have === undefined) return `matchLabels has ${key}: ${want} but the template has no label ${key}`;
    if (have !== want) return `matchLabels has ${key}: ${want} but the template has ${key}: ${have}`;
  }
  for (const [i, req] of (selector.matchExpressions ?? []).entries()) {
    const have = labels[req.key];
    const values = req.values ?? [];
    const ok =
      req.operator === 'In'
        ? have !== undefined && values.includes(have)
        : req.operator === 'NotIn'
          ? have === undefined || !values.includes(have)
          : req.operator === 'Exists'
            ? have !== undefined
            : have === undefined;
    if (!ok) {
      const shown = have === undefined ? `no label ${req.key}` : `${req.key}: ${have}`;
      return `matchExpressions[${i}] (${req.key} ${req.operator}${values.length ? ` [${values.join(', ')}]` : ''}) does not match the template, which has ${shown}`;
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Validation

export type ValidationResult =
  | { ok: true; rollout: Rollout; notImplemented: SpecIssue[] }
  | { ok: false; issues: SpecIssue[] };

/**
 * Validates a Rollout (as parsed from YAML/JSON or read from the API server): first the shape and
 * types, then, when those are right, the semantic rules. On success it also lists the fields that
 * are accepted but not implemented by the controller yet.
 */
export function validateRollout(object: unknown): ValidationResult {
  const parsed = RolloutSchema.safeParse(object, { reportInput: true });
  if (!parsed.success) {
    return { ok: false, issues: parsed.error.issues.map((issue) => zodIssueToSpecIssue(issue)) };
  }
  const issues = semanticIssues(parsed.data, object);
  if (issues.length > 0) return { ok: false, issues };
  return { ok: true, rollout: parsed.data, notImplemented: notImplementedFields(parsed.data.spec) };
}

// --- zod issues → SpecIssue -------------------------------------------------------------------

/** Per-field examples used in fixes for type errors. */
const FIELD_EXAMPLES: Record<string, string> = {
  setWeight: 'a number such as 20 (percent), or 0.5 for half a percent',
  replicas: 'a whole number such as 3',
  duration: 'a whole number of seconds such as 30, or a string such as "30s", "5m" or "1h"',
  maxSurge: 'a pod count such as 1 or a percentage string such as "25%"',
  maxUnavailable: 'a pod count such as 1 or a percentage string such as "25%"',
  restartAt: 'an RFC 3339 timestamp such as "2025-01-31T12:00:00Z"',
  matchLabels: 'a mapping of label names to string values, e.g. {app: web}',
  labels: 'a mapping of label names to string values, e.g. {app: web}',
  annotations: 'a mapping of names to string values (quote numbers and booleans)',
  steps: 'a list of steps, e.g. [{setWeight: 20}, {pause: {}}]',
  containers: 'a list of containers, each with a name and an image',
};

const TYPE_NAMES: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping of fields',
  record: 'a mapping of fields',
  array: 'a list',
};

/** `steps[3]` for [..., 'steps', 3], `setWeight` for [..., 'setWeight']: the name a user knows. */
function fieldName(path: readonly PropertyKey[]): string {
  let start = path.length - 1;
  while (start > 0 && typeof path[start] === 'number') start--;
  return formatPath(path.slice(Math.max(start, 0))) || 'the object';
}

function lastKey(path: readonly PropertyKey[]): string {
  for (let i = path.length - 1; i >= 0; i--) {
    const key = path[i];
    if (typeof key === 'string') return key;
  }
  return '';
}

/** A value as a user would recognise it in their YAML. */
function shown(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return 'a list';
  return 'a mapping';
}

function typeName(expected: string): string {
  return TYPE_NAMES[expected] ?? expected;
}

/** What an issue's message and fix name: where it is, the field as a user knows it, the value written. */
interface IssueField {
  path: string;
  field: string;
  example: string | undefined;
  input: unknown;
}

export function zodIssueToSpecIssue(issue: z.core.$ZodIssue): SpecIssue {
  const at: IssueField = {
    path: formatPath(issue.path) || '(document)',
    field: fieldName(issue.path),
    example: FIELD_EXAMPLES[lastKey(issue.path)],
    input: (issue as { input?: unknown }).input,
  };
  switch (issue.code) {
    case 'invalid_type':
      return invalidTypeIssue(issue, at);
    case 'invalid_union':
      return invalidUnionIssue(issue, at);
    case 'too_small':
    case 'too_big':
      return outOfBoundsIssue(issue, at);
    case 'invalid_value':
      return invalidValueIssue(issue, at);
    case 'invalid_format':
      return invalidFormatIssue(issue, at);
    default:
      return { path: at.path, message: `${at.field}: ${issue.message}`, fix: 'compare the field with the Rollout API (kubectl explain rollouts.spec)' };
  }
}

function invalidTypeIssue(issue: z.core.$ZodIssueInvalidType, { path, field, example, input }: IssueField): SpecIssue {
  const wanted = typeName(issue.expected);
  if (input === undefined) {
    return { path, message: `${field} is required`, fix: `add ${field}: ${example ?? wanted}` };
  }
  const numeric = issue.expected === 'number' || issue.expected === 'int';
  return {
    path,
    message: `${field} must be ${wanted}, got ${shown(input)}`,
    fix: `write ${field}${numeric ? ' without quotes' : ''} as ${example ?? wanted}`,
  };
}

function invalidUnionIssue(issue: z.core.$ZodIssueInvalidUnion, { path, field, example, input }: IssueField): SpecIssue {
  const wanted = new Set<string>();
  for (const branch of issue.errors) {
    // The only unions in the schema are int-or-string fields: their numbers are integers.
    for (const inner of branch) if (inner.code === 'invalid_type') wanted.add(typeName(inner.expected === 'number' ? 'int' : inner.expected));
  }
  const list = [...wanted].join(' or ') || 'another value';
  return { path, message: `${field} must be ${list}, got ${shown(input)}`, fix: `write ${field} as ${example ?? list}` };
}

/** too_small and too_big: a number out of range, or a list or string too short or too long. */
function outOfBoundsIssue(issue: z.core.$ZodIssueTooSmall | z.core.$ZodIssueTooBig, { path, field, example, input }: IssueField): SpecIssue {
  const small = issue.code === 'too_small';
  const bound = small ? issue.minimum : issue.maximum;
  const relation = issue.inclusive ? (small ? 'at least' : 'at most') : small ? 'more than' : 'less than';
  if (issue.origin === 'array') {
    return { path, message: `${field} must have ${relation} ${String(bound)} items`, fix: `${small ? 'add' : 'remove'} entries in ${field}` };
  }
  if (issue.origin === 'string') {
    return { path, message: `${field} must have ${relation} ${String(bound)} characters`, fix: `change ${field}` };
  }
  return {
    path,
    message: `${field} must be ${relation} ${String(bound)}, got ${shown(input)}`,
    fix: `use a value ${relation} ${String(bound)}${example ? `: ${example}` : ''}`,
  };
}

function invalidValueIssue(issue: z.core.$ZodIssueInvalidValue, { path, field, input }: IssueField): SpecIssue {
  const allowed = issue.values.map((v) => JSON.stringify(v));
  if (issue.path.length === 1 && issue.path[0] === 'apiVersion') {
    return {
      path,
      message: `apiVersion must be ${ROLLOUT_API_VERSION}, got ${shown(input)}`,
      fix: `set apiVersion: ${ROLLOUT_API_VERSION} (an Argo Rollouts manifest needs no other change)`,
    };
  }
  if (issue.path.length === 1 && issue.path[0] === 'kind') {
    return { path, message: `kind must be ${ROLLOUT_KIND}, got ${shown(input)}`, fix: `set kind: ${ROLLOUT_KIND}` };
  }
  return {
    path,
    message: `${field} must be ${allowed.length === 1 ? allowed[0] : `one of ${allowed.join(', ')}`}, got ${shown(input)}`,
    fix: `use ${allowed.join(' or ')}`,
  };
}

function invalidFormatIssue(issue: z.core.$ZodIssueInvalidStringFormat, { path, field, input }: IssueField): SpecIssue {
  if (issue.format === 'datetime') {
    return {
      path,
      message: `${field} must be an RFC 3339 timestamp, got ${shown(input)}`,
      fix: 'use a timestamp such as 2025-01-31T12:00:00Z',
    };
  }
  return { path, message: `${field} is not a valid ${issue.format}, got ${shown(input)}`, fix: `write ${field} as a ${issue.format}` };
}

// --- semantic rules ---------------------------------------------------------------------------

/** Reads a value from the raw (unparsed) object, to mention keys the schema dropped. */
function rawAt(raw: unknown, segments: readonly (string | number)[]): unknown {
  let node = raw;
  for (const segment of segments) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

const SPEC = 'spec';
const CANARY = 'spec.strategy.canary';
const STEPS = 'spec.strategy.canary.steps';
const ROUTING = 'spec.strategy.canary.trafficRouting';

/**
 * The semantic rules, on a Rollout whose shape is already valid. `raw` (the object as written) is
 * only used to name unknown keys in messages.
 */
export function semanticIssues(rollout: Rollout, raw?: unknown): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const add = (path: string, message: string, fix: string) => issues.push({ path, message, fix });
  const spec = rollout.spec;

  // --- replicas and timing
  if (spec.replicas !== undefined && spec.replicas < 0) {
    add(`${SPEC}.replicas`, `replicas must be 0 or more, got ${spec.replicas}`, 'use the number of pods you want, e.g. 3');
  }
  const minReady = spec.minReadySeconds ?? 0;
  const deadline = spec.progressDeadlineSeconds;
  if (deadline <= minReady) {
    const which = rawAt(raw, ['spec', 'progressDeadlineSeconds']) === undefined ? ` (the default)` : '';
    add(
      `${SPEC}.progressDeadlineSeconds`,
      `progressDeadlineSeconds (${deadline}${which}) must be greater than minReadySeconds (${minReady}): no pod could become available in time`,
      `set progressDeadlineSeconds above ${minReady}, e.g. ${minReady + DEFAULT_PROGRESS_DEADLINE_SECONDS}, or lower minReadySeconds`,
    );
  }

  // --- workload source, selector and template
  if (spec.workloadRef !== undefined && spec.template !== undefined) {
    add(`${SPEC}.workloadRef`, 'workloadRef and template are both set; a Rollout takes its pods from one of them', 'remove spec.template to use the referenced workload, or remove spec.workloadRef');
  } else if (spec.workloadRef === undefined && spec.template === undefined) {
    add(`${SPEC}.template`, 'the Rollout has no pod template: neither template nor workloadRef is set', 'add spec.template (as in a Deployment) or spec.workloadRef naming a Deployment');
  }
  if (spec.workloadRef !== undefined) issues.push(...workloadRefIssues(spec.workloadRef));
  checkSelector(spec, add);
  if (spec.template !== undefined) checkContainers(spec.template, add);

  // --- strategy
  const canary = spec.strategy?.canary;
  const blueGreen = spec.strategy?.blueGreen;
  if (canary === undefined && blueGreen === undefined) {
    add(`${SPEC}.strategy`, 'the strategy has neither canary nor blueGreen', 'add strategy.canary (with steps such as - setWeight: 20) or strategy.blueGreen (with activeService)');
  } else if (canary !== undefined && blueGreen !== undefined) {
    add(`${SPEC}.strategy`, 'the strategy has both canary and blueGreen; a Rollout uses one', 'keep strategy.canary or strategy.blueGreen, not both');
  }
  if (canary !== undefined) checkCanary(canary, add, raw);
  if (canary !== undefined) issues.push(...canaryFieldIssues(spec, canary, rawAt(raw, ['spec', 'revisionHistoryLimit']) !== undefined), ...experimentStepIssues(canary));
  if (blueGreen !== undefined) checkBlueGreen(blueGreen, add);
  issues.push(...rolloutMetricNameIssues(spec));
  return issues;
}

type Add = (path: string, message: string, fix: string) => void;

function checkSelector(spec: RolloutSpec, add: Add): void {
  const selector = spec.selector;
  const path = `${SPEC}.selector`;
  if (selector === undefined) {
    // With workloadRef the selector may come from the Deployment, as in Argo.
    if (spec.workloadRef === undefined) add(path, 'selector is missing', 'add spec.selector.matchLabels with the labels of spec.template.metadata.labels, e.g. {app: web}');
    return;
  }
  const matchLabels = Object.keys(selector.matchLabels ?? {});
  const expressions = selector.matchExpressions ?? [];
  if (matchLabels.length === 0 && expressions.length === 0) {
    add(path, 'selector is empty: it has neither matchLabels nor matchExpressions and would select every pod in the namespace', 'add spec.selector.matchLabels with the labels of the pod template, e.g. {app: web}');
    return;
  }
  for (const [i, req] of expressions.entries()) {
    const count = req.values?.length ?? 0;
    if ((req.operator === 'In' || req.operator === 'NotIn') && count === 0) {
      add(`${path}.matchExpressions[${i}].values`, `operator ${req.operator} needs at least one value, got none`, `list the values of ${req.key}, or use operator Exists`);
    }
    if ((req.operator === 'Exists' || req.operator === 'DoesNotExist') && count > 0) {
      add(`${path}.matchExpressions[${i}].values`, `operator ${req.operator} takes no values, got ${count}`, 'remove values, or use operator In');
    }
  }
  if (spec.template === undefined) return;
  const labels = spec.template.metadata?.labels ?? {};
  const mismatch = selectorMismatch(selector, labels);
  if (mismatch !== undefined) {
    add(
      path,
      `selector does not match the pod template labels: ${mismatch}`,
      'make spec.selector.matchLabels a subset of spec.template.metadata.labels (same keys and values)',
    );
  }
}

function checkContainers(template: NonNullable<RolloutSpec['template']>, add: Add): void {
  const path = `${SPEC}.template.spec.containers`;
  const containers = template.spec?.containers ?? [];
  if (containers.length === 0) {
    add(path, 'the pod template has no containers', 'add spec.template.spec.containers with at least one container (name and image)');
    return;
  }
  const seen = new Map<string, number>();
  for (const [i, container] of containers.entries()) {
    if (container.name === undefined || container.name === '') {
      add(`${path}[${i}].name`, `container ${i} has no name`, 'give each container a unique name, e.g. name: app');
    } else if (seen.has(container.name)) {
      add(`${path}[${i}].name`, `container name ${JSON.stringify(container.name)} is also used by containers[${String(seen.get(container.name))}]`, 'give each container a unique name');
    } else {
      seen.set(container.name, i);
    }
    if (container.image === undefined || container.image === '') {
      add(`${path}[${i}].image`, `container ${container.name ? JSON.stringify(container.name) : String(i)} has no image`, 'set image, e.g. image: registry.example.com/app:1.2.3');
    }
  }
}

function checkIntOrPercent(value: number | string | undefined, path: string, field: string, add: Add): { count: number } | { percent: number } | undefined {
  if (value === undefined) return undefined;
  const parsed = parseIntOrPercent(value);
  if (parsed === undefined) {
    add(path, `${field} must be a pod count (0 or more) or a percentage such as "25%", got ${shown(value)}`, `write ${field}: 1 or ${field}: "25%"`);
  } else if ('percent' in parsed && parsed.percent > 100) {
    add(path, `${field} must be at most 100%, got ${shown(value)}`, `use a percentage between 0% and 100%, e.g. "25%"`);
  }
  return parsed;
}

function isZero(value: { count: number } | { percent: number } | undefined): boolean {
  return value !== undefined && ('count' in value ? value.count === 0 : value.percent === 0);
}

function checkCanary(canary: CanaryStrategy, add: Add, raw: unknown): void {
  const routing = canary.trafficRouting;
  const steps = canary.steps ?? [];
  checkCanaryServices(canary, add);
  checkDynamicStableScale(canary, add, raw);
  // --- surge and unavailability
  const surge = checkIntOrPercent(canary.maxSurge, `${CANARY}.maxSurge`, 'maxSurge', add);
  const unavailable = checkIntOrPercent(canary.maxUnavailable, `${CANARY}.maxUnavailable`, 'maxUnavailable', add);
  if (isZero(surge) && isZero(unavailable)) {
    add(`${CANARY}.maxSurge`, 'maxSurge and maxUnavailable are both 0: no pod could ever be replaced', 'allow at least one, e.g. maxSurge: 1 or maxSurge: "25%"');
  }
  // --- traffic routing
  const routeNames = new Set<string>();
  if (routing !== undefined) checkRouting(routing, add, routeNames);
  for (const [i, step] of steps.entries()) checkCanaryStep(step, i, routing, routeNames, add, raw);
  // --- what the configured traffic router can express, and its own fields (routers/validation.ts)
  if (routing !== undefined) {
    for (const issue of trafficRoutingIssues(routing, steps as Record<string, unknown>[])) add(issue.path, issue.message, issue.fix);
  }
  checkStartingStep(canary.analysis?.startingStep, steps.length, add);
}

/** canaryService and stableService (two Services, both there when a router sends traffic to them), pingPong's pair. */
function checkCanaryServices(canary: CanaryStrategy, add: Add): void {
  const routing = canary.trafficRouting;
  if (canary.canaryService && canary.stableService && canary.canaryService === canary.stableService) {
    add(
      `${CANARY}.canaryService`,
      `canaryService and stableService are both ${JSON.stringify(canary.canaryService)}; the controller points them at different pods`,
      'use two Services, e.g. web-canary and web-stable, with the same ports',
    );
  }
  if (canary.pingPong !== undefined && canary.pingPong.pingService === canary.pingPong.pongService) {
    add(`${CANARY}.pingPong.pongService`, `pingService and pongService are both ${JSON.stringify(canary.pingPong.pingService)}`, 'use two different Services for ping and pong');
  }
  if (routing === undefined || canary.pingPong !== undefined || !needsCanaryStableServices(routing)) return;
  for (const field of ['canaryService', 'stableService'] as const) {
    if (canary[field]) continue;
    add(
      `${CANARY}.${field}`,
      `trafficRouting is set but ${field} is missing; the routers send the ${field === 'canaryService' ? 'canary' : 'stable'} share of traffic to it`,
      `add ${field}: the name of a Service${field === 'canaryService' ? ' for the canary pods' : ' for the stable pods'} (the controller manages its selector)`,
    );
  }
}

/** dynamicStableScale: Argo's rules (it shrinks the stable as traffic leaves it). */
function checkDynamicStableScale(canary: CanaryStrategy, add: Add, raw: unknown): void {
  if (canary.dynamicStableScale !== true) return;
  if (canary.trafficRouting === undefined) {
    add(`${CANARY}.dynamicStableScale`, 'dynamicStableScale needs trafficRouting: without a router the stable already shrinks as the canary grows', 'configure strategy.canary.trafficRouting, or remove dynamicStableScale');
  } else if (rawAt(raw, ['spec', 'strategy', 'canary', 'scaleDownDelaySeconds']) !== undefined) {
    // scaleDownDelaySeconds as written: the schema fills in its default.
    add(`${CANARY}.dynamicStableScale`, 'dynamicStableScale cannot be combined with scaleDownDelaySeconds: the old stable has no pods left to keep', 'remove scaleDownDelaySeconds, or remove dynamicStableScale to keep the stable at full size');
  }
}

/** One step: a known action, at most one main action, and each action's own fields. */
function checkCanaryStep(step: CanaryStep, i: number, routing: CanaryStrategy['trafficRouting'], routeNames: Set<string>, add: Add, raw: unknown): void {
  const stepPath = `${STEPS}[${i}]`;
  const kinds = stepKinds(step);
  if (kinds.length === 0) {
    const rawStep = rawAt(raw, ['spec', 'strategy', 'canary', 'steps', i]);
    const unknown = rawStep !== null && typeof rawStep === 'object' ? Object.keys(rawStep) : [];
    add(
      stepPath,
      unknown.length > 0
        ? `step ${i} has no known action (unknown field${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')})`
        : `step ${i} is empty`,
      `give the step one of ${CANARY_STEP_KINDS.join(', ')}, e.g. - setWeight: 20`,
    );
  }
  // Argo's rule: a step may add setCanaryScale and header/mirror routes to one main action.
  const main = kinds.filter((kind) => EXCLUSIVE_STEP_KINDS.includes(kind));
  if (main.length > 1) {
    add(
      stepPath,
      `step ${i} sets ${main.join(' and ')}; a step does at most one of ${EXCLUSIVE_STEP_KINDS.join(', ')}`,
      `split it into ${main.length} steps, e.g. - setWeight: 20 followed by - pause: {duration: 5m}`,
    );
  }
  if (step.setWeight !== undefined) checkSetWeight(step.setWeight, `${stepPath}.setWeight`, routing?.maxTrafficWeight, routing?.maxTrafficWeight ?? 100, add);
  if (step.pause?.duration !== undefined && parseDurationMs(step.pause.duration) === undefined) {
    add(
      `${stepPath}.pause.duration`,
      `pause duration must be a whole number of seconds or a duration such as "30s", "5m" or "1h30m", got ${shown(step.pause.duration)}`,
      'write duration: 30 (seconds), "10s", "5m" or "1h"; leave it out (pause: {}) to wait for a promote',
    );
  }
  if (step.setCanaryScale !== undefined) checkSetCanaryScale(step.setCanaryScale, `${stepPath}.setCanaryScale`, routing !== undefined, add);
  if (step.setHeaderRoute !== undefined) {
    const header = step.setHeaderRoute;
    checkManagedRouteName(header.name, `${stepPath}.setHeaderRoute`, 'setHeaderRoute', routing !== undefined, routeNames, add);
    for (const [k, match] of (header.match ?? []).entries()) {
      checkStringMatch(match.headerValue, `${stepPath}.setHeaderRoute.match[${k}].headerValue`, 'headerValue', add);
    }
  }
  if (step.setMirrorRoute !== undefined) checkMirrorStep(step.setMirrorRoute, `${stepPath}.setMirrorRoute`, routing !== undefined, routeNames, add);
}

/** A setMirrorRoute step: its managed route, its percentage, and each match's method, path and headers. */
function checkMirrorStep(mirror: NonNullable<CanaryStep['setMirrorRoute']>, path: string, routed: boolean, routeNames: Set<string>, add: Add): void {
  checkManagedRouteName(mirror.name, path, 'setMirrorRoute', routed, routeNames, add);
  if (mirror.percentage !== undefined && (mirror.percentage < 0 || mirror.percentage > 100)) {
    add(`${path}.percentage`, `percentage must be between 0 and 100, got ${mirror.percentage}`, 'use the share of matching requests to mirror, e.g. 50; leave it out for 100');
  }
  for (const [k, match] of (mirror.match ?? []).entries()) {
    const matchPath = `${path}.match[${k}]`;
    if (match.method !== undefined) checkStringMatch(match.method, `${matchPath}.method`, 'method', add);
    if (match.path !== undefined) checkStringMatch(match.path, `${matchPath}.path`, 'path', add);
    for (const [name, value] of Object.entries(match.headers ?? {})) {
      checkStringMatch(value, `${matchPath}.headers.${name}`, `header ${name}`, add);
    }
  }
}

/** Background analysis: startingStep names a step of the Rollout. */
function checkStartingStep(startingStep: number | undefined, stepCount: number, add: Add): void {
  if (startingStep === undefined || startingStep < stepCount) return;
  add(
    `${CANARY}.analysis.startingStep`,
    stepCount === 0
      ? `startingStep is ${startingStep} but the rollout has no steps`
      : `startingStep must be a step index from 0 to ${stepCount - 1} (the rollout has ${stepCount} steps), got ${startingStep}`,
    stepCount === 0 ? 'remove startingStep to start the analysis with the update' : `use the index of the step the analysis should start with, 0 to ${stepCount - 1}`,
  );
}

function checkSetWeight(weight: number, path: string, maxTrafficWeight: number | undefined, maxWeight: number, add: Add): void {
  if (weight < 0 || weight > maxWeight) {
    add(
      path,
      maxTrafficWeight === undefined
        ? `setWeight must be between 0 and 100, got ${weight}`
        : `setWeight must be between 0 and trafficRouting.maxTrafficWeight (${maxTrafficWeight}), got ${weight}`,
      maxTrafficWeight === undefined
        ? 'use a percentage such as 20, or 0.5 for half a percent'
        : `use a weight out of ${maxTrafficWeight}, or raise trafficRouting.maxTrafficWeight`,
    );
  } else if (!isHundredth(weight)) {
    add(
      path,
      `setWeight must be a multiple of ${WEIGHT_RESOLUTION} (two decimals at most), got ${weight}`,
      `round it to two decimals, e.g. ${Math.max(WEIGHT_RESOLUTION, Math.round(weight * 100) / 100)}; the smallest weight is ${WEIGHT_RESOLUTION}`,
    );
  }
}

function checkSetCanaryScale(scale: NonNullable<CanaryStep['setCanaryScale']>, path: string, hasRouting: boolean, add: Add): void {
  const set = [scale.weight !== undefined && 'weight', scale.replicas !== undefined && 'replicas', scale.matchTrafficWeight === true && 'matchTrafficWeight'].filter(
    (x): x is string => typeof x === 'string',
  );
  if (set.length === 0) {
    add(path, 'setCanaryScale sets none of weight, replicas or matchTrafficWeight', 'set one of them, e.g. setCanaryScale: {weight: 25} or {replicas: 2}');
  } else if (set.length > 1) {
    add(path, `setCanaryScale sets ${set.join(' and ')}; use one of them`, 'keep one, e.g. setCanaryScale: {replicas: 2}');
  }
  if (scale.weight !== undefined && (scale.weight < 0 || scale.weight > 100)) {
    add(`${path}.weight`, `setCanaryScale weight must be between 0 and 100 (percent of spec.replicas), got ${scale.weight}`, 'use a percentage such as 25');
  }
  if (!hasRouting) {
    add(path, 'setCanaryScale needs trafficRouting: without a router the canary share is the pod count itself', 'configure strategy.canary.trafficRouting, or use setWeight alone');
  }
}

function checkManagedRouteName(name: string | undefined, path: string, kind: string, hasRouting: boolean, managed: Set<string>, add: Add): void {
  if (!hasRouting) {
    add(path, `${kind} needs trafficRouting: only a traffic router can route by header or mirror requests`, `configure strategy.canary.trafficRouting (${headerRouters()}) with managedRoutes`);
    return;
  }
  if (name === undefined || name === '') {
    add(`${path}.name`, `${kind} has no name`, 'name the route and list the name in trafficRouting.managedRoutes');
  } else if (!managed.has(name)) {
    add(
      `${path}.name`,
      `${kind} route ${JSON.stringify(name)} is not listed in trafficRouting.managedRoutes`,
      `add - name: ${name} to strategy.canary.trafficRouting.managedRoutes`,
    );
  }
}

function checkStringMatch(match: z.output<typeof StringMatchSchema>, path: string, what: string, add: Add): void {
  const kinds = (['exact', 'prefix', 'regex'] as const).filter((k) => match[k] !== undefined);
  if (kinds.length !== 1) {
    add(
      path,
      kinds.length === 0 ? `${what} has none of exact, prefix or regex` : `${what} sets ${kinds.join(' and ')}; a match uses one`,
      'set exactly one of exact, prefix or regex, e.g. {exact: "true"}',
    );
  }
  const problem = match.regex === undefined ? undefined : regexProblem(match.regex, `${path}.regex`);
  if (problem !== undefined) add(problem.field, problem.reason, 'write an RE2 regular expression, as Istio and Envoy read it: no lookahead, lookbehind or backreferences');
}

function checkRouting(routing: TrafficRouting, add: Add, routeNames: Set<string>): void {
  const routers = (['istio', 'nginx', 'smi', 'gatewayAPI', 'alb', 'ambassador', 'appMesh', 'traefik', 'apisix', 'plugins'] as const).filter(
    (r) => routing[r] !== undefined,
  );
  if (routers.length === 0) {
    add(ROUTING, 'trafficRouting names no router', `add one of ${Object.keys(BUILTIN_ROUTERS).join(', ')} or plugins, or remove trafficRouting to use pod counts`);
  }
  if (routing.maxTrafficWeight !== undefined && routing.maxTrafficWeight <= 0) {
    add(`${ROUTING}.maxTrafficWeight`, `maxTrafficWeight must be more than 0, got ${routing.maxTrafficWeight}`, 'leave it out (100) or use a total such as 1000');
  }
  for (const [j, route] of (routing.managedRoutes ?? []).entries()) {
    if (routeNames.has(route.name)) {
      add(`${ROUTING}.managedRoutes[${j}].name`, `managed route ${JSON.stringify(route.name)} is listed twice`, 'give each managed route a unique name');
    }
    routeNames.add(route.name);
  }
  // Each router's own fields are its plugin's checks (routers/validation.ts, below).
}

function checkBlueGreen(blueGreen: BlueGreenStrategy, add: Add): void {
  const path = 'spec.strategy.blueGreen';
  if (blueGreen.activeService === '') {
    add(`${path}.activeService`, 'activeService is empty', 'name the Service that receives production traffic');
  }
  if (blueGreen.previewService !== undefined && blueGreen.previewService === blueGreen.activeService) {
    add(`${path}.previewService`, `previewService and activeService are both ${JSON.stringify(blueGreen.activeService)}`, 'use two Services, e.g. web-preview and web-active');
  }
  checkIntOrPercent(blueGreen.maxUnavailable, `${path}.maxUnavailable`, 'maxUnavailable', add);
}

// ---------------------------------------------------------------------------------------------
// Accepted but not implemented yet

export interface NotImplementedFeature {
  /** what the user asked for, as the message will say it */
  feature: string;
  /** the paths in a spec that use it (empty when unused) */
  find: (spec: RolloutSpec) => string[];
  /** what to do meanwhile */
  fix: string;
}

const when = (present: boolean, path: string): string[] => (present ? [path] : []);

/** Paths of the steps that use a kind: `spec.strategy.canary.steps[2].analysis`. */
function stepsUsing(kind: CanaryStepKind): (spec: RolloutSpec) => string[] {
  return (spec) =>
    (spec.strategy?.canary?.steps ?? []).flatMap((step, i) => (step[kind] !== undefined ? [`${STEPS}[${i}].${kind}`] : []));
}

function router(name: keyof TrafficRouting, label: string): NotImplementedFeature {
  return {
    feature: `the ${label} traffic router`,
    find: (spec) => when(spec.strategy?.canary?.trafficRouting?.[name] !== undefined, `${ROUTING}.${name}`),
    fix: 'leave trafficRouting out for now (weights are then approximated by pod counts)',
  };
}

/**
 * Fields the schema accepts (Argo manifests carry them) that the controller does not act on yet.
 * Delete an entry when its feature lands.
 */
export const NOT_YET_IMPLEMENTED: readonly NotImplementedFeature[] = [
  { feature: 'step plugins', find: stepsUsing('plugin'), fix: 'remove the step for now' },
  { feature: 'ping-pong services', find: (s) => when(s.strategy?.canary?.pingPong !== undefined, `${CANARY}.pingPong`), fix: 'use canaryService and stableService' },
  router('alb', 'AWS ALB'),
  router('ambassador', 'Ambassador'),
  router('appMesh', 'AWS App Mesh'),
  router('apisix', 'Apache APISIX'),
];

/** The fields of a spec that are accepted but not acted on by the controller yet. */
export function notImplementedFields(spec: RolloutSpec): SpecIssue[] {
  return NOT_YET_IMPLEMENTED.flatMap((entry) =>
    entry.find(spec).map((path) => ({
      path,
      message: `${entry.feature}: accepted, but not implemented by the controller yet`,
      fix: entry.fix,
    })),
  );
}
