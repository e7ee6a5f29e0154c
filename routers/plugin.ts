// A traffic router as a plugin: one object that says everything the rest of Rollway needs to know
// about it. The controller, validation, `rollway lint`, the CLI, the dashboard and the CRD
// generators only ever iterate over plugins (routers/registry.ts); nothing else names a router.
import { z } from 'zod';
import type { KubeObject } from './kube-api.ts';
import type { RouterCapabilities, RouterContext, RoutingRead, SpecIssue, TrafficRouter } from './types.ts';

/** A kind of routing object a router writes or reads, watched so others' edits reach the Rollout. */
export interface RoutingKind {
  kind: string;
  group: string;
  plural: string;
  /** the versions the router speaks, preferred first: the first one the cluster serves is used */
  versions: readonly string[];
  /** true when the router edits users' objects of this kind in place (they keep our marks if a Rollout vanishes unreleased) */
  editedInPlace: boolean;
  /** built-in routers: the upstream CRD in crds/third-party/ and the file its TypeScript types are generated to (make crds-types) */
  crdTypes?: { source: string; output: string };
}

/** One object a router's configuration refers to. */
export interface RoutingObject {
  kind: string;
  group: string;
  plural: string;
  namespace: string;
  name: string;
  /** true when the object carries the canary weight (what `get rollout` and the dashboard read) */
  carriesWeight: boolean;
  /** 'edits': a user's object changed in place; 'owns': created and owned by the Rollout; 'reads': only read */
  access: 'edits' | 'owns' | 'reads';
  /** where the configuration names it, below the router's configuration: `virtualServices[1].name` (none for a name it derives) */
  field?: string;
  /** the part of the object the configuration manages (routes, rules): a change of it releases the old part first */
  part?: unknown;
}

/** Where a configuration is read: the Rollout's namespace, name and Services. */
export interface ReadContext {
  namespace: string;
  rolloutName: string;
  canaryService: string;
  stableService: string;
}

export interface RouterPlugin<S extends z.ZodType = z.ZodType> {
  /** where its configuration sits: trafficRouting.<key> (built-in) or trafficRouting.plugins.<key> */
  key: string;
  /** for messages: "the Istio router" */
  label: string;
  /** its configuration; composed into the Rollout schema and its CRD */
  schema: S;
  capabilities: RouterCapabilities;
  kinds: readonly RoutingKind[];
  /** whether it sends traffic to canaryService and stableService (then both are required); default true */
  needsServices?: (config: z.output<S>) => boolean;
  /** checks of a configuration beyond its schema, with paths below `path` */
  validate?: (config: z.output<S>, path: string, routing: { managedRoutes?: { name: string }[] | undefined }) => SpecIssue[];
  /** the objects a configuration refers to */
  routingObjects: (config: z.output<S>, where: ReadContext) => RoutingObject[];
  /**
   * The canary share an object of routingObjects carries (undefined: it says nothing readable);
   * with weightedDestinations, also the experiment destinations' shares (`extras`, in `total`).
   */
  read: (object: KubeObject, config: z.output<S>, where: ReadContext) => RoutingRead | undefined;
  create: (ctx: RouterContext, config: z.output<S>) => TrafficRouter;
  /**
   * `rollway lint`: what an object the configuration names must contain (a route, a rule), checked
   * against that object as written in a file (any shape). `path` is where the object is named.
   */
  checkObject?: (object: KubeObject, named: RoutingObject, where: ReadContext, path: string) => SpecIssue[];
  /**
   * Argo Rollouts traffic-router plugins (trafficRouting.plugins.<name>) this router carries out,
   * with how their configuration becomes this router's.
   */
  argoPlugins?: Record<string, (config: unknown, path: string) => { config: unknown; issues: SpecIssue[] }>;
}

/** Types a plugin object from its schema (no runtime effect). */
export function definePlugin<S extends z.ZodType>(plugin: RouterPlugin<S>): RouterPlugin<S> {
  return plugin;
}

const MatchKinds = z.array(z.enum(['exact', 'prefix', 'regex']));

/** What a plugin's capabilities must look like (third-party plugins are checked against it when loaded). */
export const RouterCapabilitiesSchema = z.strictObject({
  weightResolutionPercent: z.number().positive().max(100),
  headerMatch: MatchKinds,
  maxHeadersPerRoute: z.int().positive().optional(),
  maxHeaderRoutes: z.int().positive().optional(),
  mirror: z.boolean(),
  mirrorMethodMatch: MatchKinds.optional(),
  verification: z.boolean(),
  replicaBased: z.boolean(),
  weightedDestinations: z.boolean().optional(),
});

const fn = z.custom<(...args: never[]) => unknown>((v) => typeof v === 'function', 'must be a function');

/** The shape of a plugin object, for checking one loaded from a file or package. */
export const RouterPluginShape = z.object({
  key: z.string().regex(/^[A-Za-z0-9][-A-Za-z0-9_./]*$/, 'must be a name such as example.com/my-router (letters, digits, - _ . /)'),
  label: z.string().min(1),
  schema: z.custom<z.ZodType>((v) => typeof (v as { safeParse?: unknown } | null)?.safeParse === 'function', 'must be a zod schema (an object with safeParse)'),
  capabilities: RouterCapabilitiesSchema,
  kinds: z.array(
    z.strictObject({
      kind: z.string().min(1),
      group: z.string(),
      plural: z.string().min(1),
      versions: z.array(z.string().min(1)).min(1),
      editedInPlace: z.boolean(),
      crdTypes: z.strictObject({ source: z.string(), output: z.string() }).optional(),
    }),
  ),
  needsServices: fn.optional(),
  validate: fn.optional(),
  routingObjects: fn,
  read: fn,
  create: fn,
  checkObject: fn.optional(),
  argoPlugins: z.record(z.string(), fn).optional(),
});
