// Istio rendering, pure: from a VirtualService or DestinationRule as read and the traffic we
// want, the object as it should be. Only the destinations, subset labels and routes we manage
// change; every other destination, route, subset and field is carried over as it was.
import type { IstioConfig } from './index.ts';
import type { SpecIssue } from '../types.ts';
import type { DestinationRuleV1 } from '../../crds-types/destinationrule.ts';
import type { VirtualServiceV1 } from '../../crds-types/virtualservice.ts';
import type { KubeObject } from '../../kube/client.ts';
import { clone, hostIsService, MANAGED_DESTINATIONS_ANNOTATION, managedRouteNames, POD_TEMPLATE_HASH_LABEL, setManagedRouteNames } from '../common.ts';
import type { DesiredTraffic, ExtraDestination, HeaderRoute, MirrorRoute, StringMatch, WeightRatio } from '../types.ts';
import { ratioOfWeights, splitWeights } from '../weights.ts';

type VirtualServiceSpec = NonNullable<VirtualServiceV1['spec']>;
export type HttpRoute = NonNullable<VirtualServiceSpec['http']>[number];
type TlsRoute = NonNullable<VirtualServiceSpec['tls']>[number];
type TcpRoute = NonNullable<VirtualServiceSpec['tcp']>[number];
type HttpMatch = NonNullable<HttpRoute['match']>[number];
export type RouteDestination = NonNullable<HttpRoute['route']>[number];
type Destination = RouteDestination['destination'];
type DestinationRuleSpec = NonNullable<DestinationRuleV1['spec']>;

export type VirtualService = KubeObject & { spec?: VirtualServiceSpec };
export type DestinationRule = KubeObject & { spec?: DestinationRuleSpec };

/** trafficRouting.istio.virtualService(s)[i], as the plugin's schema types it */
export type VirtualServiceRef = NonNullable<IstioConfig['virtualService']>;

/** trafficRouting.istio.destinationRule */
export type DestinationRuleRef = NonNullable<IstioConfig['destinationRule']>;

export interface VirtualServiceRenderInput {
  vs: VirtualService;
  ref: VirtualServiceRef;
  /** where ref sits in the Rollout, for messages: spec.strategy.canary.trafficRouting.istio.virtualService */
  refPath: string;
  desired: DesiredTraffic;
  namespace: string;
  rolloutName: string;
  /** subset-level routing: destinations are told apart by subset, not by host */
  subsets?: { canary: string; stable: string; host?: string | undefined } | undefined;
  /** trafficRouting.managedRoutes names, highest priority first */
  managedRoutes: readonly string[];
}

export interface Rendered<T> {
  object: T;
  issues: SpecIssue[];
  /** the canary share the first managed route carries after rendering */
  weight?: WeightRatio | undefined;
}

interface DestinationRoles {
  isStable: (d: Destination) => boolean;
  isCanary: (d: Destination) => boolean;
  describeStable: string;
  describeCanary: string;
}

function rolesOf(input: VirtualServiceRenderInput): DestinationRoles {
  const { desired, namespace, subsets } = input;
  if (subsets) {
    const sameHost = (d: Destination): boolean => subsets.host === undefined || sameService(d.host, subsets.host, namespace);
    return {
      isStable: (d) => d.subset === subsets.stable && sameHost(d),
      isCanary: (d) => d.subset === subsets.canary && sameHost(d),
      describeStable: `subset "${subsets.stable}"`,
      describeCanary: `subset "${subsets.canary}"`,
    };
  }
  return {
    isStable: (d) => hostIsService(d.host, desired.stableService, namespace),
    isCanary: (d) => hostIsService(d.host, desired.canaryService, namespace),
    describeStable: `stable Service "${desired.stableService}"`,
    describeCanary: `canary Service "${desired.canaryService}"`,
  };
}

/** Two hosts name the same Service (short and qualified forms alike). */
function sameService(a: string, b: string, namespace: string): boolean {
  const [name, ns] = b.split('.');
  return hostIsService(a, name ?? '', ns ?? namespace) || hostIsService(b, a.split('.')[0] ?? '', a.split('.')[1] ?? namespace);
}

type WeightedRoute = { route?: { destination: Destination; weight?: number }[] };

/** The weighted experiment destinations wanted now, and the Services of those we added before. */
interface Extras {
  wanted: readonly ExtraDestination[];
  owned: ReadonlySet<string>;
  namespace: string;
}

/**
 * Sets the canary, stable and extra (experiment) weights of one route's destinations; other
 * destinations keep their share. Extra destinations we added that are no longer wanted go.
 * Answers an issue text when the route lacks the canary or stable destination.
 */
function weighRoute(route: WeightedRoute, roles: DestinationRoles, weight: WeightRatio, routeLabel: string, extras: Extras): string | undefined {
  const problem = missingDestinations(route, roles, routeLabel);
  if (problem) return problem;
  const isService = (d: Destination, service: string): boolean => d.subset === undefined && hostIsService(d.host, service, extras.namespace);
  const wantedNames = new Set(extras.wanted.map((e) => e.service));
  route.route = (route.route ?? []).filter((d) => !([...extras.owned].some((s) => isService(d.destination, s)) && ![...wantedNames].some((s) => isService(d.destination, s))));
  const destinations = route.route;
  const stable = destinations.find((d) => roles.isStable(d.destination))!;
  const canary = destinations.find((d) => roles.isCanary(d.destination))!;
  const extraDests = extras.wanted.map((e) => {
    let found = destinations.find((d) => isService(d.destination, e.service));
    if (!found) {
      // The experiment's Service listens where the canary does.
      found = { destination: { host: e.service, ...(canary.destination.port ? { port: clone(canary.destination.port) } : {}) }, weight: 0 };
      destinations.push(found);
    }
    return found;
  });
  const others = destinations.filter((d) => d !== stable && d !== canary && !extraDests.includes(d));
  const current = { canary: canary.weight ?? 0, stable: stable.weight ?? 0, extras: extraDests.map((d) => d.weight ?? 0) };
  const next = splitWeights(weight, extras.wanted.map((e) => e.weight), current, others.map((d) => d.weight ?? 0));
  canary.weight = next.canary;
  stable.weight = next.stable;
  extraDests.forEach((d, i) => (d.weight = next.extras[i]!));
  if (next.othersScale !== 1) for (const d of others) if (d.weight !== undefined) d.weight *= next.othersScale;
  return undefined;
}

/** Which of the two destinations a route lacks, as an issue text (undefined: it has both). */
function missingDestinations(route: WeightedRoute, roles: DestinationRoles, routeLabel: string): string | undefined {
  const destinations = route.route ?? [];
  const stable = destinations.some((d) => roles.isStable(d.destination));
  const canary = destinations.some((d) => roles.isCanary(d.destination));
  if (stable && canary) return undefined;
  const missing = [!stable && roles.describeStable, !canary && roles.describeCanary].filter(Boolean).join(' and ');
  return `${routeLabel} has no destination for the ${missing}`;
}

/** The canary's share of what the route sends to stable, canary and the experiment destinations. */
function routeWeight(route: WeightedRoute, roles: DestinationRoles, extras: Extras): WeightRatio | undefined {
  const destinations = route.route ?? [];
  const stable = destinations.find((d) => roles.isStable(d.destination));
  const canary = destinations.find((d) => roles.isCanary(d.destination));
  const extra = destinations
    .filter((d) => d.destination.subset === undefined && extras.wanted.some((e) => hostIsService(d.destination.host, e.service, extras.namespace)))
    .reduce((sum, d) => sum + (d.weight ?? 0), 0);
  return stable && canary ? ratioOfWeights(canary.weight ?? 0, (stable.weight ?? 0) + extra) : undefined;
}

const routeLabelOf = (name: string | undefined, index: number): string => (name ? `http route "${name}"` : `http route ${index} (unnamed)`);

function toIstioMatch(match: StringMatch): { exact?: string; prefix?: string; regex?: string } {
  return { ...match };
}

const ADD_BOTH = 'add both destinations to the route (the canary one with weight 0)';

/** One kind of route (http, tls, tcp) as the selection sees it. */
interface RouteKind<R extends WeightedRoute, S> {
  /** the selector field of the VirtualService reference */
  field: 'routes' | 'tlsRoutes' | 'tcpRoutes';
  name: 'http' | 'tls' | 'tcp';
  /** the VirtualService's routes of this kind (for http: the user's, not ours) */
  routes: R[];
  selectors: readonly S[];
  matching: (selector: S) => R[];
  /** the issue when a selector matches nothing */
  noMatch: (selector: S, vsName: string) => { message: string; fix: string };
  label: (route: R) => string;
  /** the fix when the kind has several routes and no selectors */
  choose: string;
}

interface Selection {
  vsName: string;
  refPath: string;
  roles: DestinationRoles;
  weight: WeightRatio;
  extras: Extras;
  issues: SpecIssue[];
  /** why a kind without selectors carries nothing: reported only if no route carries the weight */
  unselected: SpecIssue[];
}

/**
 * The routes of one kind whose weights we manage, weighed on the draft. A kind the VirtualService
 * lacks is skipped with its selectors (as Argo Rollouts does: `routes: [primary]` on a VirtualService
 * with only TLS routes manages its TLS route); selectors manage what they match; without
 * selectors, the kind's only route is managed if it has both destinations.
 */
function selectKind<R extends WeightedRoute, S>(kind: RouteKind<R, S>, sel: Selection): R[] {
  const { vsName, refPath } = sel;
  const managed: R[] = [];
  const weigh = (route: R, path: string): void => {
    if (managed.includes(route)) return;
    const problem = weighRoute(route, sel.roles, sel.weight, kind.label(route), sel.extras);
    if (problem) sel.issues.push({ path, message: `VirtualService "${vsName}": ${problem}`, fix: ADD_BOTH });
    else managed.push(route);
  };
  if (kind.routes.length === 0) return managed;
  if (kind.selectors.length > 0) {
    kind.selectors.forEach((selector, i) => {
      const path = `${refPath}.${kind.field}[${i}]`;
      const found = kind.matching(selector);
      if (found.length === 0) sel.issues.push({ path, ...kind.noMatch(selector, vsName) });
      for (const route of found) weigh(route, path);
    });
  } else if (kind.routes.length > 1) {
    sel.unselected.push({
      path: `${refPath}.${kind.field}`,
      message: `VirtualService "${vsName}" has ${kind.routes.length} ${kind.name} routes and ${kind.field} does not say which to manage`,
      fix: kind.choose,
    });
  } else {
    const only = kind.routes[0]!;
    const problem = missingDestinations(only, sel.roles, kind.label(only));
    if (problem) sel.unselected.push({ path: `${refPath}.name`, message: `VirtualService "${vsName}": ${problem}`, fix: ADD_BOTH });
    else weigh(only, `${refPath}.name`);
  }
  return managed;
}

/**
 * Whether a tls or tcp route is the one a selector means, compared as Argo Rollouts compares
 * them: all the route's match blocks together name one port (0 when none names one), the
 * selector's port (0 when left out), and their SNI hosts together are the selector's sniHosts.
 */
function l4RouteMatches(route: { match?: { port?: number; sniHosts?: string[] }[] }, selector: { port?: number; sniHosts?: string[] }): boolean {
  const blocks = route.match ?? [];
  const ports = new Set(blocks.map((m) => m.port ?? 0));
  if (ports.size > 1 || (ports.values().next().value ?? 0) !== (selector.port ?? 0)) return false;
  const hosts = new Set(blocks.flatMap((m) => m.sniHosts ?? []));
  const wanted = new Set(selector.sniHosts ?? []);
  return hosts.size === wanted.size && [...wanted].every((h) => hosts.has(h));
}

/** The http, tls and tcp routes that carry the weight (see selectKind), weighed on the draft. */
function selectRoutes(input: VirtualServiceRenderInput, spec: VirtualServiceSpec, userHttp: HttpRoute[], sel: Selection): { http: HttpRoute[]; tls: TlsRoute[]; tcp: TcpRoute[] } {
  const { ref } = input;
  const before = sel.issues.length;
  const http = selectKind<HttpRoute, string>(
    {
      field: 'routes',
      name: 'http',
      routes: userHttp,
      selectors: ref.routes ?? [],
      matching: (name) => userHttp.filter((r) => r.name === name).slice(0, 1),
      noMatch: (name, vsName) => {
        const names = userHttp.map((r) => r.name).filter(Boolean);
        return { message: `VirtualService "${vsName}" has no http route named "${name}"${names.length ? ` (its routes: ${names.join(', ')})` : ''}`, fix: 'name an existing http route, or give the route a name in the VirtualService' };
      },
      label: (r) => routeLabelOf(r.name, userHttp.indexOf(r)),
      choose: `list the route names in routes, e.g. routes: [${userHttp.find((r) => r.name)?.name ?? 'primary'}]`,
    },
    sel,
  );
  const tlsRoutes: TlsRoute[] = spec.tls ?? [];
  const tls = selectKind(
    {
      field: 'tlsRoutes',
      name: 'tls',
      routes: tlsRoutes,
      selectors: ref.tlsRoutes ?? [],
      matching: (selector) => tlsRoutes.filter((r) => l4RouteMatches(r, selector)),
      noMatch: (selector, vsName) => ({ message: `VirtualService "${vsName}" has no tls route matching ${JSON.stringify(selector)}`, fix: 'give the port and all the sniHosts of an existing tls route' }),
      label: () => 'tls route',
      choose: 'select the tls routes to manage with tlsRoutes: [{port, sniHosts}]',
    },
    sel,
  );
  const tcpRoutes: TcpRoute[] = spec.tcp ?? [];
  const tcp = selectKind(
    {
      field: 'tcpRoutes',
      name: 'tcp',
      routes: tcpRoutes,
      selectors: ref.tcpRoutes ?? [],
      matching: (selector) => tcpRoutes.filter((r) => l4RouteMatches(r, selector)),
      noMatch: (selector, vsName) => ({ message: `VirtualService "${vsName}" has no tcp route ${selector.port !== undefined ? `on port ${selector.port}` : 'without a port'}`, fix: 'match the port of an existing tcp route' }),
      label: () => 'tcp route',
      choose: 'select the tcp routes to manage with tcpRoutes: [{port}]',
    },
    sel,
  );
  if (http.length + tls.length + tcp.length === 0 && sel.issues.length === before) {
    if (sel.unselected.length > 0) sel.issues.push(...sel.unselected);
    else sel.issues.push({ path: `${input.refPath}.name`, message: `VirtualService "${sel.vsName}" has no http, tls or tcp routes`, fix: 'add a route with the stable and canary destinations (the canary one with weight 0)' });
  }
  return { http, tls, tcp };
}

export function renderVirtualService(input: VirtualServiceRenderInput): Rendered<VirtualService> {
  const { vs, ref, refPath, desired, rolloutName } = input;
  const draft = clone(vs);
  const spec: VirtualServiceSpec = draft.spec ?? {};
  draft.spec = spec;
  const issues: SpecIssue[] = [];
  const issue = (path: string, message: string, fix: string): void => void issues.push({ path, message, fix });
  const roles = rolesOf(input);
  const vsName = vs.metadata.name ?? ref.name;

  // Routes we inserted earlier come out first; what remains is the user's.
  const ours = new Set(managedRouteNames(vs, rolloutName));
  const userHttp = (spec.http ?? []).filter((r) => !(r.name !== undefined && ours.has(r.name)));
  const extras: Extras = { wanted: desired.extraDestinations ?? [], owned: new Set(managedRouteNames(vs, rolloutName, MANAGED_DESTINATIONS_ANNOTATION)), namespace: input.namespace };
  const selected = selectRoutes(input, spec, userHttp, { vsName, refPath, roles, weight: desired.weight, extras, issues, unselected: [] });
  const managedHttp = selected.http;

  // --- header and mirror routes, above the user's routes in managedRoutes order
  const wanted = [...desired.headerRoutes, ...desired.mirrorRoutes];
  const inserted: HttpRoute[] = [];
  if (wanted.length > 0) {
    const base = managedHttp[0];
    if (!base || issues.length > 0) {
      if (!base) issue(`${refPath}.routes`, `VirtualService "${vsName}" has no managed http route to derive header and mirror routes from`, 'manage an http route (routes: [...]) in this VirtualService');
    } else {
      for (const r of wanted) {
        const clash = userHttp.find((u) => u.name === r.name);
        if (clash) {
          issue(`${refPath}.name`, `VirtualService "${vsName}" already has an http route named "${r.name}" that Rollway did not create`, `rename that route or the managed route "${r.name}"`);
          continue;
        }
        inserted.push('percentage' in r ? mirrorRoute(r, managedHttp, roles) : headerRoute(r, managedHttp, roles));
      }
    }
  }
  const order = new Map(input.managedRoutes.map((name, i) => [name, i]));
  inserted.sort((a, b) => (order.get(a.name ?? '') ?? Infinity) - (order.get(b.name ?? '') ?? Infinity));
  if (spec.http !== undefined || inserted.length > 0) spec.http = [...inserted, ...userHttp];
  setManagedRouteNames(draft, rolloutName, inserted.map((r) => r.name ?? ''));

  const first = managedHttp[0] ?? selected.tls[0] ?? selected.tcp[0];
  // Extra destinations stay marked as ours until a render that weighs the routes drops them.
  if (first) setManagedRouteNames(draft, rolloutName, extras.wanted.map((e) => e.service), MANAGED_DESTINATIONS_ANNOTATION);
  return { object: draft, issues, weight: first ? routeWeight(first, roles, extras) : undefined };
}

/** The destination the canary (or stable) gets in routes we derive, from the first managed route. */
function destinationOf(routes: HttpRoute[], pick: (d: Destination) => boolean): Destination | undefined {
  for (const route of routes) {
    const found = (route.route ?? []).find((d) => pick(d.destination));
    if (found) return clone(found.destination);
  }
  return undefined;
}

/**
 * A route derived from the managed ones: their settings (timeouts, retries, rewrites...) and their
 * matches narrowed by `extra`, so it only catches traffic the managed routes would have served.
 */
function derivedRoute(name: string, base: HttpRoute[], extra: HttpMatch[]): HttpRoute {
  const { name: _name, match: _match, route: _route, mirror: _mirror, mirrors: _mirrors, mirrorPercentage: _mp, mirrorPercent: _mpc, mirror_percent: _mpu, ...settings } = clone(base[0]!);
  const baseMatches = base.flatMap((r) => (r.match && r.match.length > 0 ? r.match : [{}]));
  const match: HttpMatch[] = [];
  for (const bm of baseMatches) {
    for (const em of extra) {
      const combined: HttpMatch = { ...clone(bm), ...em };
      if (bm.headers || em.headers) combined.headers = { ...(bm.headers ?? {}), ...(em.headers ?? {}) };
      delete combined.name;
      match.push(combined);
    }
  }
  return { name, match, ...settings };
}

function headerRoute(r: HeaderRoute, base: HttpRoute[], roles: DestinationRoles): HttpRoute {
  const headers = Object.fromEntries(r.match.map((m) => [m.headerName, toIstioMatch(m.headerValue)]));
  const route = derivedRoute(r.name, base, [{ headers }]);
  route.route = [{ destination: destinationOf(base, roles.isCanary)!, weight: 100 }];
  return route;
}

function mirrorRoute(r: MirrorRoute, base: HttpRoute[], roles: DestinationRoles): HttpRoute {
  const extra: HttpMatch[] = r.match.map((m) => ({
    ...(m.method ? { method: toIstioMatch(m.method) } : {}),
    ...(m.path ? { uri: toIstioMatch(m.path) } : {}),
    ...(m.headers ? { headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, toIstioMatch(v)])) } : {}),
  }));
  const route = derivedRoute(r.name, base, extra);
  // Served as the managed route serves it (current weights), and copied to the canary.
  route.route = clone(base[0]!.route ?? []);
  route.mirror = destinationOf(base, roles.isCanary)!;
  route.mirrorPercentage = { value: r.percentage };
  return route;
}

export interface DestinationRuleRenderInput {
  dr: DestinationRule;
  ref: DestinationRuleRef;
  refPath: string;
  /** the hashes the two subsets select; undefined: release (our labels removed) */
  hashes: { canary: string; stable: string } | undefined;
}

export function renderDestinationRule(input: DestinationRuleRenderInput): Rendered<DestinationRule> {
  const { dr, ref, refPath, hashes } = input;
  const draft = clone(dr);
  const issues: SpecIssue[] = [];
  const subsets = draft.spec?.subsets ?? [];
  for (const [field, subsetName, hash] of [
    ['canarySubsetName', ref.canarySubsetName, hashes?.canary],
    ['stableSubsetName', ref.stableSubsetName, hashes?.stable],
  ] as const) {
    const subset = subsets.find((s) => s.name === subsetName);
    if (!subset) {
      issues.push({
        path: `${refPath}.${field}`,
        message: `DestinationRule "${dr.metadata.name ?? ref.name}" has no subset named "${subsetName}"${subsets.length ? ` (its subsets: ${subsets.map((s) => s.name).join(', ')})` : ''}`,
        fix: `add a subset named ${subsetName} to the DestinationRule (Rollway sets its ${POD_TEMPLATE_HASH_LABEL} label)`,
      });
      continue;
    }
    if (hash !== undefined) {
      subset.labels = { ...(subset.labels ?? {}), [POD_TEMPLATE_HASH_LABEL]: hash };
    } else if (subset.labels && POD_TEMPLATE_HASH_LABEL in subset.labels) {
      delete subset.labels[POD_TEMPLATE_HASH_LABEL];
      if (Object.keys(subset.labels).length === 0) delete subset.labels;
    }
  }
  return { object: draft, issues };
}
