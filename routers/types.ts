// The traffic router extension point. The controller decides WHAT traffic should look like (a
// pure plan); a router makes its routing objects say exactly that, writing nothing when they
// already do. Every router passes the same conformance suite (routers/conformance.ts).
import type { KubeApi } from './kube-api.ts';

/** A problem with a user's spec: where it is, what is wrong, and how to fix it (api/issues.ts re-exports it). */
export interface SpecIssue {
  /** JSON-ish path from the object root: `spec.strategy.canary.steps[2].setWeight` */
  path: string;
  /** what is wrong, in the user's terms: `must be between 0 and 100, got 120` */
  message: string;
  /** what to do about it: `use a percentage such as 20 or 0.5` */
  fix: string;
}

/**
 * A canary share as an exact ratio, never a rounded percent: 0.01% is {canary: 1, total: 10000}.
 * Routers render it in their own terms (Istio relative weights, NGINX weight + weight-total, ...).
 */
export interface WeightRatio {
  canary: number;
  total: number;
}

/**
 * What a routing object carries, read back for `get rollout`, the dashboard and the checks: the
 * canary's share of everything the object sends to stable, canary and `extras`.
 */
export interface RoutingRead extends WeightRatio {
  /** routers with weightedDestinations: the experiment destinations we added, weights in the units of total */
  extras?: { service: string; weight: number }[] | undefined;
}

/** A RoutingRead from the weights as written (one unit): canary, stable and our experiment destinations. */
export function routingRead(canary: number, stable: number, extras: readonly { service: string; weight: number }[] = []): RoutingRead {
  const total = canary + stable + extras.reduce((sum, e) => sum + e.weight, 0);
  return extras.length > 0 ? { canary, total, extras: [...extras] } : { canary, total };
}

export const FULL_STABLE: WeightRatio = { canary: 0, total: 100 };

/** A percentage with up to two decimals as an exact ratio over 10000 (reduced). */
export function ratioFromPercent(percent: number): WeightRatio {
  const basisPoints = Math.round(Math.min(100, Math.max(0, percent)) * 100);
  if (basisPoints % 100 === 0) return { canary: basisPoints / 100, total: 100 };
  const divisor = gcd(basisPoints, 10000);
  return { canary: basisPoints / divisor, total: 10000 / divisor };
}

export function percentOf(ratio: WeightRatio): number {
  return ratio.total === 0 ? 0 : Math.round((ratio.canary / ratio.total) * 10000) / 100;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

export type StringMatch = { exact: string } | { prefix: string } | { regex: string };

export interface HeaderRoute {
  /** the managedRoutes name it is placed under */
  name: string;
  match: { headerName: string; headerValue: StringMatch }[];
}

export interface MirrorRoute {
  name: string;
  /** share of matching requests copied to the canary, 0..100 */
  percentage: number;
  match: { method?: StringMatch; path?: StringMatch; headers?: Record<string, StringMatch> }[];
}

/**
 * A weighted destination beside canary and stable: an experiment template's Service during a
 * canary `experiment` step whose templates have a `weight`.
 */
export interface ExtraDestination {
  /** the Service in the Rollout's namespace that selects the template's pods */
  service: string;
  podTemplateHash: string;
  /** its share of all traffic, in percent (whole numbers, as Argo Rollouts takes them) */
  weight: number;
}

/** What the routing objects should say after this reconcile. */
export interface DesiredTraffic {
  /** the canary's share of all traffic; stable gets what canary and extraDestinations leave */
  weight: WeightRatio;
  stableService: string;
  canaryService: string;
  stableHash: string;
  canaryHash: string;
  headerRoutes: HeaderRoute[];
  mirrorRoutes: MirrorRoute[];
  /** weighted experiment destinations (only for routers with capabilities.weightedDestinations) */
  extraDestinations?: ExtraDestination[] | undefined;
}

export interface RouterReconcileResult {
  /** API writes this reconcile made (0 when everything already matched) */
  writes: number;
  /**
   * true: the data plane reports the weight in effect; false: not yet (the step waits);
   * undefined: this router cannot tell (treated as in effect).
   */
  verified: boolean | undefined;
  /** what the routing objects carry now, for status and the CLI's "actual weight" */
  actualWeight: WeightRatio;
}

export interface RouterCapabilities {
  /** smallest expressible canary share, in percent: 0.01 for exact routers */
  weightResolutionPercent: number;
  headerMatch: ('exact' | 'prefix' | 'regex')[];
  /** most headers one header route can match on together (undefined: no limit) */
  maxHeadersPerRoute?: number;
  /** most header routes in force at once (undefined: no limit) */
  maxHeaderRoutes?: number;
  mirror: boolean;
  /** how a mirror route may match the method (undefined: like headerMatch) */
  mirrorMethodMatch?: ('exact' | 'prefix' | 'regex')[];
  /** the router reads the data plane's acknowledgement (for example Gateway API route status) */
  verification: boolean;
  /** true when the weight is realised by pod counts, not by a routing object */
  replicaBased: boolean;
  /** can send a share to extra destinations (weighted experiment templates); undefined: no */
  weightedDestinations?: boolean;
}

/** A reference error found while reconciling (route not found, service not in route...). */
export class RouterSpecError extends Error {
  readonly issues: SpecIssue[];
  constructor(issues: SpecIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
    this.name = 'RouterSpecError';
    this.issues = issues;
  }
}

export interface TrafficRouter {
  /** the trafficRouting key it implements: 'istio', 'nginx', 'smi', 'gatewayAPI', or 'replicaRatio' */
  readonly name: string;
  readonly capabilities: RouterCapabilities;
  /** Make the routing objects carry `desired`. Idempotent; throws RouterSpecError for reference errors. */
  reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult>;
  /**
   * Back to 100% stable with our routes and marks removed, objects we created deleted (Rollout
   * deleted or router removed). Objects that no longer exist are not an error.
   */
  release(stable: ReleaseTarget): Promise<void>;
}

export interface ReleaseTarget {
  stableService: string;
  stableHash: string;
  /** needed by routers that set the canary destination back to 0 */
  canaryService?: string | undefined;
}

/** Controller-wide router settings (flags of `rollway controller`). */
export interface RouterOptions {
  /** SMI TrafficSplit API version (v1alpha1..v1alpha4); default: the newest the cluster serves */
  smiApiVersion?: string | undefined;
}

/** What a router is made from: the Rollout it serves and where it writes. */
export interface RouterContext {
  client: KubeApi;
  namespace: string;
  rollout: { name: string; uid: string; apiVersion: string; kind: string };
  /** trafficRouting.managedRoutes by name, in priority order: where header and mirror routes go */
  managedRoutes: string[];
  /** where the router's configuration sits, for messages: spec.strategy.canary.trafficRouting.istio */
  path: string;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
  /** asks for another reconcile of this Rollout later (a router waiting for its data plane) */
  requeue?: ((afterMs: number) => void) | undefined;
  options?: RouterOptions | undefined;
}

/**
 * Checks, before any reconcile, that a router can express every step of a spec: weights finer
 * than its resolution, header match kinds it lacks, mirroring where it has none.
 */
export function capabilityIssues(
  routerName: string,
  capabilities: RouterCapabilities,
  steps: readonly Record<string, unknown>[],
  /** the routers that can do what this one cannot, for the fixes: "istio, gatewayAPI" */
  alternatives: Alternatives = { header: 'another router', multiHeader: 'another router', mirror: 'another router' },
): SpecIssue[] {
  const issues: SpecIssue[] = [];
  steps.forEach((step, index) => {
    const path = `spec.strategy.canary.steps[${index}]`;
    issues.push(
      ...weightedTemplateIssues(routerName, capabilities, step, path, alternatives.weighted ?? 'another router'),
      ...weightIssues(routerName, capabilities, step.setWeight, `${path}.setWeight`),
      ...headerRouteIssues(routerName, capabilities, step.setHeaderRoute as HeaderRouteStep | undefined, `${path}.setHeaderRoute`, alternatives),
      ...mirrorIssues(routerName, capabilities, step.setMirrorRoute as MirrorRouteStep | undefined, `${path}.setMirrorRoute`, alternatives.mirror),
    );
  });
  issues.push(...headerRouteCountIssues(routerName, capabilities, steps));
  return issues;
}

interface Alternatives {
  header: string;
  multiHeader: string;
  mirror: string;
  weighted?: string;
}
type HeaderRouteStep = { name?: string; match?: { headerValue?: Record<string, unknown> }[] };
type MirrorRouteStep = { match?: { method?: Record<string, unknown> }[] };

/** A weight finer than the router's resolution (a replica-based router approximates any weight). */
function weightIssues(routerName: string, capabilities: RouterCapabilities, weight: unknown, path: string): SpecIssue[] {
  if (typeof weight !== 'number' || weight <= 0 || weight >= 100 || capabilities.replicaBased) return [];
  const resolution = capabilities.weightResolutionPercent;
  const units = weight / resolution;
  if (Math.abs(units - Math.round(units)) <= 1e-9) return [];
  return [{ path, message: `${routerName} can only express weights in steps of ${resolution}%, got ${weight}`, fix: `round to a multiple of ${resolution}, or use a router with finer weights` }];
}

/** Header routing the router lacks, match kinds it lacks, more headers per route than it holds. */
function headerRouteIssues(routerName: string, capabilities: RouterCapabilities, header: HeaderRouteStep | undefined, path: string, alternatives: Alternatives): SpecIssue[] {
  if (!header) return [];
  if (capabilities.headerMatch.length === 0) return [{ path, message: `${routerName} cannot route by header`, fix: `remove the step or use ${alternatives.header}` }];
  const issues: SpecIssue[] = [];
  (header.match ?? []).forEach((m, i) => {
    for (const kind of Object.keys(m.headerValue ?? {})) {
      if (capabilities.headerMatch.includes(kind as 'exact')) continue;
      issues.push({ path: `${path}.match[${i}].headerValue.${kind}`, message: `${routerName} cannot match headers by ${kind}`, fix: `use one of: ${capabilities.headerMatch.join(', ')}` });
    }
  });
  const count = header.match?.length ?? 0;
  if (capabilities.maxHeadersPerRoute !== undefined && count > capabilities.maxHeadersPerRoute) {
    issues.push({
      path: `${path}.match`,
      message: `${routerName} can match at most ${capabilities.maxHeadersPerRoute} header per route, got ${count}`,
      fix: `match on a single header, or use ${alternatives.multiHeader}`,
    });
  }
  return issues;
}

/** Mirroring where the router has none, or a method match kind it lacks. */
function mirrorIssues(routerName: string, capabilities: RouterCapabilities, mirror: MirrorRouteStep | undefined, path: string, alternative: string): SpecIssue[] {
  if (!mirror) return [];
  if (!capabilities.mirror) return [{ path, message: `${routerName} cannot mirror traffic`, fix: `remove the step or use ${alternative}` }];
  const methodKinds = capabilities.mirrorMethodMatch;
  if (!methodKinds) return [];
  const issues: SpecIssue[] = [];
  (mirror.match ?? []).forEach((m, i) => {
    for (const kind of Object.keys(m.method ?? {})) {
      if (methodKinds.includes(kind as 'exact')) continue;
      issues.push({
        path: `${path}.match[${i}].method.${kind}`,
        message: `${routerName} can only match the method by ${methodKinds.join(', ')}, got ${kind}`,
        fix: 'match one method exactly, e.g. method: {exact: GET}',
      });
    }
  });
  return issues;
}

/** More header routes (by name) than the router holds at a time. */
function headerRouteCountIssues(routerName: string, capabilities: RouterCapabilities, steps: readonly Record<string, unknown>[]): SpecIssue[] {
  if (capabilities.maxHeaderRoutes === undefined) return [];
  const names = new Set<string>();
  for (const step of steps) {
    const header = step.setHeaderRoute as HeaderRouteStep | undefined;
    if (header?.match && header.match.length > 0) names.add(header.name ?? '');
  }
  if (names.size <= capabilities.maxHeaderRoutes) return [];
  return [
    {
      path: 'spec.strategy.canary.steps',
      message: `${routerName} can hold ${capabilities.maxHeaderRoutes} header route at a time, the steps set ${names.size} (${[...names].join(', ')})`,
      fix: 'use one setHeaderRoute name for all header steps',
    },
  ];
}

/** An experiment step's templates with a weight need a router that can add destinations. */
function weightedTemplateIssues(routerName: string, capabilities: RouterCapabilities, step: Record<string, unknown>, path: string, alternative: string): SpecIssue[] {
  if (capabilities.weightedDestinations === true) return [];
  const templates = (step.experiment as { templates?: { weight?: unknown }[] } | undefined)?.templates ?? [];
  return templates.flatMap((template, i) =>
    typeof template.weight === 'number' && template.weight > 0
      ? [{
          path: `${path}.experiment.templates[${i}].weight`,
          message: `${routerName} cannot send a share of traffic to an experiment template (it has no extra weighted destinations)`,
          fix: `remove weight (the template then runs without traffic), or use ${alternative}`,
        }]
      : [],
  );
}
