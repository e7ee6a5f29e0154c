// The NGINX Ingress canary annotations, typed: build them from values, or read them back from an
// Ingress, under any annotation prefix (nginx.ingress.kubernetes.io by default). Values are
// checked with zod, so the router never writes, and `lint` never accepts, a combination NGINX
// would ignore or misread (a weight above its total, a header value without a header...).
import { z } from 'zod';
import { regexProblem } from '../../lib/safe-regex.ts';

export const DEFAULT_ANNOTATION_PREFIX = 'nginx.ingress.kubernetes.io';

/** The annotation names (after `<prefix>/`) of each canary setting. */
export const CANARY_ANNOTATION_NAMES = {
  canary: 'canary',
  weight: 'canary-weight',
  weightTotal: 'canary-weight-total',
  byHeader: 'canary-by-header',
  byHeaderValue: 'canary-by-header-value',
  byHeaderPattern: 'canary-by-header-pattern',
  byCookie: 'canary-by-cookie',
} as const;

export type CanarySetting = keyof typeof CANARY_ANNOTATION_NAMES;

/** The settings the router itself owns: `additionalIngressAnnotations` may not set them. */
export const ROUTER_OWNED_SETTINGS: readonly CanarySetting[] = ['canary', 'weight', 'weightTotal'];

// A DNS subdomain, as the prefix part of an annotation key must be.
const PREFIX_PATTERN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const AnnotationPrefixSchema = z.string().max(253).regex(PREFIX_PATTERN, 'must be a DNS subdomain such as nginx.ingress.kubernetes.io');

const HeaderName = z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'must be an HTTP header name');

export const CanaryAnnotationsSchema = z
  .object({
    canary: z.boolean(),
    weight: z.int().nonnegative().optional(),
    weightTotal: z.int().positive().optional(),
    byHeader: HeaderName.optional(),
    byHeaderValue: z.string().min(1).optional(),
    byHeaderPattern: z.string().min(1).optional(),
    byCookie: z.string().min(1).optional(),
  })
  .superRefine((value, ctx) => {
    const total = value.weightTotal ?? 100;
    if (value.weight !== undefined && value.weight > total) {
      ctx.addIssue({ code: 'custom', path: ['weight'], message: `canary-weight ${value.weight} is above canary-weight-total ${total}` });
    }
    for (const key of ['byHeaderValue', 'byHeaderPattern'] as const) {
      if (value[key] !== undefined && value.byHeader === undefined) {
        ctx.addIssue({ code: 'custom', path: [key], message: `${CANARY_ANNOTATION_NAMES[key]} needs canary-by-header (the header it applies to)` });
      }
    }
    if (value.byHeaderValue !== undefined && value.byHeaderPattern !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['byHeaderPattern'], message: 'canary-by-header-value and canary-by-header-pattern are both set; NGINX ignores the pattern' });
    }
    const problem = value.byHeaderPattern === undefined ? undefined : regexProblem(value.byHeaderPattern, 'canary-by-header-pattern');
    if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['byHeaderPattern'], message: problem.message });
  });

export type CanaryAnnotations = z.infer<typeof CanaryAnnotationsSchema>;

export const annotationKey = (setting: CanarySetting, prefix = DEFAULT_ANNOTATION_PREFIX): string => `${prefix}/${CANARY_ANNOTATION_NAMES[setting]}`;

/** The setting an annotation key stands for under `prefix`, if it is a canary annotation. */
export function settingOf(key: string, prefix = DEFAULT_ANNOTATION_PREFIX): CanarySetting | undefined {
  if (!key.startsWith(`${prefix}/`)) return undefined;
  const name = key.slice(prefix.length + 1);
  return (Object.keys(CANARY_ANNOTATION_NAMES) as CanarySetting[]).find((s) => CANARY_ANNOTATION_NAMES[s] === name);
}

/** The annotations for `values` (validated first: throws on a combination NGINX would misread). */
export function canaryAnnotations(values: CanaryAnnotations, prefix = DEFAULT_ANNOTATION_PREFIX): Record<string, string> {
  AnnotationPrefixSchema.parse(prefix);
  const valid = CanaryAnnotationsSchema.parse(values);
  const out: Record<string, string> = {};
  for (const setting of Object.keys(CANARY_ANNOTATION_NAMES) as CanarySetting[]) {
    const value = valid[setting];
    if (value !== undefined) out[annotationKey(setting, prefix)] = String(value);
  }
  return out;
}

export type ParseResult = { ok: true; value: CanaryAnnotations } | { ok: false; issues: { setting: CanarySetting | undefined; annotation: string; message: string }[] };

/** Reads the canary settings from an Ingress's annotations (other annotations are ignored). */
export function parseCanaryAnnotations(annotations: Record<string, string> | undefined, prefix = DEFAULT_ANNOTATION_PREFIX): ParseResult {
  const raw: Record<string, unknown> = {};
  const issues: { setting: CanarySetting | undefined; annotation: string; message: string }[] = [];
  for (const [key, text] of Object.entries(annotations ?? {})) {
    const setting = settingOf(key, prefix);
    if (!setting) continue;
    if (setting === 'canary') {
      if (text !== 'true' && text !== 'false') issues.push({ setting, annotation: key, message: `must be "true" or "false", got ${JSON.stringify(text)}` });
      raw.canary = text === 'true';
    } else if (setting === 'weight' || setting === 'weightTotal') {
      if (!/^\d+$/.test(text)) issues.push({ setting, annotation: key, message: `must be a whole number, got ${JSON.stringify(text)}` });
      raw[setting] = Number(text);
    } else {
      raw[setting] = text;
    }
  }
  raw.canary ??= false;
  if (issues.length > 0) return { ok: false, issues };
  const parsed = CanaryAnnotationsSchema.safeParse(raw);
  if (parsed.success) return { ok: true, value: parsed.data };
  return {
    ok: false,
    issues: parsed.error.issues.map((issue) => {
      const setting = issue.path[0] as CanarySetting | undefined;
      return { setting, annotation: setting ? annotationKey(setting, prefix) : prefix, message: issue.message };
    }),
  };
}

/**
 * The annotation key of an `additionalIngressAnnotations` name: the prefix goes in front, unless
 * the name already carries it (kept as it is, as Argo Rollouts does).
 */
export function additionalAnnotationKey(name: string, prefix = DEFAULT_ANNOTATION_PREFIX): string {
  return name.startsWith(`${prefix}/`) ? name : `${prefix}/${name}`;
}

/**
 * Checks `additionalIngressAnnotations` (names with or without the prefix, as in the Rollout
 * spec) and answers problems as [annotation name as given, message].
 */
export function additionalAnnotationProblems(additional: Record<string, string>, prefix = DEFAULT_ANNOTATION_PREFIX): [string, string][] {
  const problems: [string, string][] = [];
  const prefixed: Record<string, string> = {};
  const givenAs = new Map<CanarySetting, string>();
  for (const [name, value] of Object.entries(additional)) {
    const key = additionalAnnotationKey(name, prefix);
    const setting = settingOf(key, prefix);
    if (setting && ROUTER_OWNED_SETTINGS.includes(setting)) {
      problems.push([name, `${CANARY_ANNOTATION_NAMES[setting]} is set by the router from the steps and cannot be given here`]);
      continue;
    }
    if (setting) givenAs.set(setting, name);
    prefixed[key] = value;
  }
  const parsed = parseCanaryAnnotations({ ...prefixed, [annotationKey('canary', prefix)]: 'true' }, prefix);
  if (!parsed.ok) for (const issue of parsed.issues) problems.push([issue.setting ? (givenAs.get(issue.setting) ?? CANARY_ANNOTATION_NAMES[issue.setting]) : issue.annotation, issue.message]);
  return problems;
}
