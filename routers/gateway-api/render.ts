// Gateway API rendering, pure: weights on the stable/canary backendRefs of an HTTPRoute's managed
// rules, header routes as extra rules with narrower matches, mirror routes as extra rules with a
// RequestMirror filter. Other rules, backendRefs and fields are carried over as they were.
//
// Everything written is written the way the API server stores it (its defaults filled in: the
// backendRef group and kind, match types), so reading back what we wrote shows no difference.
import type { GatewayApiConfig } from './index.ts';
import type { SpecIssue } from '../types.ts';
import type { HTTPRouteV1 } from '../../crds-types/httproute.ts';
import type { KubeObject } from '../../kube/client.ts';
import { clone, MANAGED_DESTINATIONS_ANNOTATION, managedRouteNames, matchValue, prefixAsRegex, setManagedRouteNames } from '../common.ts';
import type { DesiredTraffic, ExtraDestination, HeaderRoute, MirrorRoute, StringMatch, WeightRatio } from '../types.ts';
import { ratioOfWeights, splitWeights } from '../weights.ts';

type HTTPRouteSpec = HTTPRouteV1['spec'];
export type HTTPRouteRule = NonNullable<HTTPRouteSpec['rules']>[number];
type BackendRef = NonNullable<HTTPRouteRule['backendRefs']>[number];
type RouteMatch = HTTPRouteRule['matches'][number];
type HeaderMatch = NonNullable<RouteMatch['headers']>[number];
type Filter = NonNullable<HTTPRouteRule['filters']>[number];
type RouteStatus = NonNullable<HTTPRouteV1['status']>;

export type HTTPRoute = KubeObject & { spec?: HTTPRouteSpec; status?: RouteStatus };

/** trafficRouting.gatewayAPI.httpRoutes[i], as the plugin's schema types it */
export type HTTPRouteRef = GatewayApiConfig['httpRoutes'][number];

/** Most rules an HTTPRoute may have (the CRD's maxItems). */
export const MAX_RULES = 16;

export interface HTTPRouteRenderInput {
  route: HTTPRoute;
  ref: HTTPRouteRef;
  refPath: string;
  desired: DesiredTraffic;
  /** the Rollout's namespace: where its Services are */
  namespace: string;
  rolloutName: string;
  managedRoutes: readonly string[];
}

export interface RenderedRoute {
  object: HTTPRoute;
  issues: SpecIssue[];
  weight?: WeightRatio | undefined;
}

/** Whether a backendRef points at a Service of the Rollout's namespace. */
function refersTo(ref: BackendRef, service: string, routeNamespace: string, serviceNamespace: string): boolean {
  return (ref.group ?? '') === '' && (ref.kind ?? 'Service') === 'Service' && ref.name === service && (ref.namespace ?? routeNamespace) === serviceNamespace;
}

const headerMatchOf = (name: string, match: StringMatch): HeaderMatch =>
  'exact' in match ? { name, type: 'Exact', value: match.exact } : { name, type: 'RegularExpression', value: 'prefix' in match ? prefixAsRegex(match.prefix) : match.regex };

function pathMatchOf(match: StringMatch): RouteMatch['path'] {
  if ('exact' in match) return { type: 'Exact', value: match.exact };
  if ('prefix' in match) return { type: 'PathPrefix', value: match.prefix };
  return { type: 'RegularExpression', value: match.regex };
}

/** Header matches merged: ours replace a user's match on the same header (names are case-insensitive). */
function mergeHeaders(base: HeaderMatch[] | undefined, extra: HeaderMatch[]): HeaderMatch[] {
  const names = new Set(extra.map((h) => h.name.toLowerCase()));
  return [...(base ?? []).filter((h) => !names.has(h.name.toLowerCase())), ...extra];
}

export function renderHttpRoute(input: HTTPRouteRenderInput): RenderedRoute {
  const { route, ref, refPath, desired, rolloutName } = input;
  const draft = clone(route);
  const issues: SpecIssue[] = [];
  const issue = (path: string, message: string, fix: string): void => void issues.push({ path, message, fix });
  const routeNamespace = route.metadata.namespace ?? input.namespace;
  const routeName = route.metadata.name ?? ref.name;
  const spec: HTTPRouteSpec = draft.spec ?? { rules: [] };
  draft.spec = spec;

  const ours = new Set(managedRouteNames(route, rolloutName));
  const userRules = (spec.rules ?? []).filter((r) => !(r.name !== undefined && ours.has(r.name)));
  const isStable = (b: BackendRef): boolean => refersTo(b, desired.stableService, routeNamespace, input.namespace);
  const isCanary = (b: BackendRef): boolean => refersTo(b, desired.canaryService, routeNamespace, input.namespace);
  const isService = (b: BackendRef, service: string): boolean => refersTo(b, service, routeNamespace, input.namespace);
  const extras: RuleExtras = { weight: desired.weight, wanted: desired.extraDestinations ?? [], owned: managedRouteNames(route, rolloutName, MANAGED_DESTINATIONS_ANNOTATION) };
  const context: RenderContext = { ref, refPath, routeName, desired, userRules, issue, isStable, isCanary };

  const managed = managedRules(context);
  weighManagedRules(context, managed, extras, isService);

  // Header and mirror rules copy the managed rules: none while those are in error.
  const inserted = managed.length > 0 && issues.length === 0 ? routeRules(context, managed, input.managedRoutes) : [];
  spec.rules = [...inserted, ...userRules];
  if (spec.rules.length > MAX_RULES) {
    issue(`${refPath}.name`, `HTTPRoute "${routeName}" would have ${spec.rules.length} rules with the header and mirror routes, more than the ${MAX_RULES} an HTTPRoute may have`, 'use fewer rules or fewer managed routes at a time');
  }
  setManagedRouteNames(draft, rolloutName, inserted.map((r) => r.name ?? ''));

  const first = managed[0];
  const stable = first?.backendRefs?.find(isStable);
  const canary = first?.backendRefs?.find(isCanary);
  // Extra backendRefs stay marked as ours until a render that weighs the rules drops them.
  if (first && issues.length === 0) setManagedRouteNames(draft, rolloutName, extras.wanted.map((e) => e.service), MANAGED_DESTINATIONS_ANNOTATION);
  const extraWeight = (first?.backendRefs ?? []).filter((b) => extras.wanted.some((e) => isService(b, e.service))).reduce((sum, b) => sum + (b.weight ?? 1), 0);
  return { object: draft, issues, weight: stable && canary ? ratioOfWeights(canary.weight ?? 1, (stable.weight ?? 1) + extraWeight) : undefined };
}

/** What the steps of one renderHttpRoute share: the route, its user's rules, where issues go. */
interface RenderContext {
  ref: HTTPRouteRef;
  refPath: string;
  routeName: string;
  desired: DesiredTraffic;
  /** the route's rules without the header and mirror rules we inserted */
  userRules: HTTPRouteRule[];
  issue: (path: string, message: string, fix: string) => void;
  isStable: (b: BackendRef) => boolean;
  isCanary: (b: BackendRef) => boolean;
}

/** The rules whose weights we manage: those the ref names, else every rule sending to the stable Service. */
function managedRules(context: RenderContext): HTTPRouteRule[] {
  const { ref, refPath, routeName, desired, userRules, issue } = context;
  const managed: HTTPRouteRule[] = [];
  if (ref.rules && ref.rules.length > 0) {
    ref.rules.forEach((name, i) => {
      const rule = userRules.find((r) => r.name === name);
      if (!rule) {
        const names = userRules.map((r) => r.name).filter(Boolean);
        issue(`${refPath}.rules[${i}]`, `HTTPRoute "${routeName}" has no rule named "${name}"${names.length ? ` (its rules: ${names.join(', ')})` : ''}`, 'name an existing rule, or give the rule a name in the HTTPRoute');
      } else managed.push(rule);
    });
  } else {
    managed.push(...userRules.filter((r) => (r.backendRefs ?? []).some(context.isStable)));
    if (managed.length === 0) {
      issue(`${refPath}.name`, `HTTPRoute "${routeName}" has no rule with a backendRef to the stable Service "${desired.stableService}"`, `add a rule with backendRefs to ${desired.stableService} and ${desired.canaryService} (weight 0)`);
    }
  }
  return managed;
}

/** Weighs each managed rule; a rule without both the stable and the canary backendRef is an issue instead. */
function weighManagedRules(context: RenderContext, managed: HTTPRouteRule[], extras: RuleExtras, isService: (b: BackendRef, service: string) => boolean): void {
  const { ref, refPath, routeName, desired, userRules, issue } = context;
  managed.forEach((rule) => {
    const backends = rule.backendRefs ?? [];
    const stable = backends.find(context.isStable);
    const canary = backends.find(context.isCanary);
    if (!stable || !canary) {
      const missing = [!stable && `the stable Service "${desired.stableService}"`, !canary && `the canary Service "${desired.canaryService}"`].filter(Boolean).join(' and ');
      const label = rule.name ? `rule "${rule.name}"` : `rule ${userRules.indexOf(rule)} (unnamed)`;
      // The ref's own entry for a rule it names; a rule found by its stable backendRef has none.
      const named = ref.rules && rule.name !== undefined ? ref.rules.indexOf(rule.name) : -1;
      issue(named >= 0 ? `${refPath}.rules[${named}]` : `${refPath}.name`, `HTTPRoute "${routeName}": ${label} has no backendRef to ${missing}`, 'add both backendRefs to the rule (the canary one with weight 0)');
      return;
    }
    weighRule(rule, { stable, canary, extras, isService });
  });
}

/** The header and mirror rules wanted, in trafficRouting.managedRoutes order: their priority. */
function routeRules(context: RenderContext, managed: HTTPRouteRule[], managedRoutes: readonly string[]): HTTPRouteRule[] {
  const { refPath, routeName, desired, userRules, issue, isCanary } = context;
  const inserted: HTTPRouteRule[] = [];
  for (const r of [...desired.headerRoutes, ...desired.mirrorRoutes]) {
    if (userRules.some((u) => u.name === r.name)) {
      issue(`${refPath}.name`, `HTTPRoute "${routeName}" already has a rule named "${r.name}" that Rollway did not create`, `rename that rule or the managed route "${r.name}"`);
      continue;
    }
    inserted.push('percentage' in r ? mirrorRule(r, managed, isCanary) : headerRule(r, managed, isCanary));
  }
  const order = new Map(managedRoutes.map((name, i) => [name, i]));
  inserted.sort((a, b) => (order.get(a.name ?? '') ?? Infinity) - (order.get(b.name ?? '') ?? Infinity));
  return inserted;
}

/** The canary share, and the weighted experiment backends wanted now and added before. */
interface RuleExtras {
  weight: WeightRatio;
  wanted: readonly ExtraDestination[];
  owned: readonly string[];
}

/**
 * Sets the canary, stable and experiment backendRef weights of one managed rule; the user's other
 * backendRefs keep their share. Experiment backendRefs we added that are no longer wanted go.
 */
function weighRule(rule: HTTPRouteRule, parts: { stable: BackendRef; canary: BackendRef; extras: RuleExtras; isService: (b: BackendRef, service: string) => boolean }): void {
  const { stable, canary, extras, isService } = parts;
  const gone = extras.owned.filter((s) => !extras.wanted.some((e) => e.service === s));
  const backends = (rule.backendRefs ?? []).filter((b) => !gone.some((s) => isService(b, s)));
  const extraRefs = extras.wanted.map((e) => {
    let found = backends.find((b) => isService(b, e.service));
    if (!found) {
      // Like the canary backendRef (group, kind, port, namespace), to the experiment's Service.
      const { filters: _filters, ...like } = clone(canary);
      found = { ...like, name: e.service, weight: 0 };
      backends.push(found);
    }
    return found;
  });
  rule.backendRefs = backends;
  const others = backends.filter((b) => b !== stable && b !== canary && !extraRefs.includes(b));
  const current = { canary: canary.weight ?? 1, stable: stable.weight ?? 1, extras: extraRefs.map((b) => b.weight ?? 1) };
  const next = splitWeights(extras.weight, extras.wanted.map((e) => e.weight), current, others.map((b) => b.weight ?? 1));
  canary.weight = next.canary;
  stable.weight = next.stable;
  extraRefs.forEach((b, i) => (b.weight = next.extras[i]!));
  if (next.othersScale !== 1) for (const b of others) b.weight = (b.weight ?? 1) * next.othersScale;
}

/** The canary backendRef as the managed rules have it (port, namespace), sending all it gets. */
function canaryBackend(managed: HTTPRouteRule[], isCanary: (b: BackendRef) => boolean): BackendRef {
  for (const rule of managed) {
    const found = (rule.backendRefs ?? []).find(isCanary);
    if (found) {
      const { filters: _filters, ...ref } = clone(found);
      return { ...ref, weight: 1 };
    }
  }
  throw new Error('no canary backendRef in the managed rules');
}

/** A rule derived from the managed rules: their settings, and their matches narrowed by `narrow`. */
function derivedRule(name: string, managed: HTTPRouteRule[], narrow: (m: RouteMatch) => RouteMatch[]): HTTPRouteRule {
  const { name: _name, matches: _matches, backendRefs: _backends, ...settings } = clone(managed[0]!);
  const matches = managed.flatMap((rule) => rule.matches.flatMap((m) => narrow(clone(m))));
  return { name, ...settings, matches };
}

function headerRule(r: HeaderRoute, managed: HTTPRouteRule[], isCanary: (b: BackendRef) => boolean): HTTPRouteRule {
  const headers = r.match.map((m) => headerMatchOf(m.headerName, m.headerValue));
  const rule = derivedRule(r.name, managed, (m) => [{ ...m, headers: mergeHeaders(m.headers, headers) }]);
  rule.backendRefs = [canaryBackend(managed, isCanary)];
  return rule;
}

function mirrorRule(r: MirrorRoute, managed: HTTPRouteRule[], isCanary: (b: BackendRef) => boolean): HTTPRouteRule {
  const rule = derivedRule(r.name, managed, (base) =>
    r.match.map((m) => {
      const narrowed: RouteMatch = { ...base };
      if (m.path) narrowed.path = pathMatchOf(m.path);
      if (m.method) narrowed.method = matchValue(m.method).toUpperCase() as RouteMatch['method'];
      if (m.headers) narrowed.headers = mergeHeaders(base.headers, Object.entries(m.headers).map(([name, value]) => headerMatchOf(name, value)));
      return narrowed;
    }),
  );
  // Served as the managed rule serves it (current weights), and copied to the canary.
  rule.backendRefs = clone(managed[0]!.backendRefs ?? []);
  const { weight: _weight, ...mirrorTarget } = canaryBackend(managed, isCanary);
  const filter: Filter = { type: 'RequestMirror', requestMirror: { backendRef: mirrorTarget, ...(r.percentage < 100 ? { percent: r.percentage } : {}) } };
  rule.filters = [...(rule.filters ?? []), filter];
  return rule;
}

export type Acceptance = 'accepted' | 'rejected' | 'pending';

/**
 * What the gateway controllers say about the route's current generation: accepted when every
 * parent reports Accepted=True (and no ResolvedRefs=False) for it, rejected when one reports
 * Accepted=False or ResolvedRefs=False for it, pending otherwise (no report for it yet).
 */
export function acceptance(route: HTTPRoute): { state: Acceptance; message?: string } {
  const generation = route.metadata.generation;
  const parents = route.status?.parents ?? [];
  if (parents.length === 0) return { state: 'pending', message: 'no gateway controller has reported on the route' };
  let pending: string | undefined;
  for (const parent of parents) {
    const forGeneration = (parent.conditions ?? []).filter((c) => Number(c.observedGeneration) === generation);
    const accepted = forGeneration.find((c) => c.type === 'Accepted');
    const refs = forGeneration.find((c) => c.type === 'ResolvedRefs');
    const who = `${parent.controllerName} (parent ${parent.parentRef.name})`;
    if (accepted?.status === 'False') return { state: 'rejected', message: `${who} did not accept generation ${generation}: ${accepted.reason}: ${accepted.message}` };
    if (refs?.status === 'False') return { state: 'rejected', message: `${who} cannot resolve the backends of generation ${generation}: ${refs.reason}: ${refs.message}` };
    if (accepted?.status !== 'True') pending ??= `${who} has not reported on generation ${generation} yet`;
  }
  return pending ? { state: 'pending', message: pending } : { state: 'accepted' };
}
