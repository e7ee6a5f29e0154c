// The SMI router as a plugin: its configuration (trafficRouting.smi), what it can express, the
// TrafficSplit it owns, and how a TrafficSplit's backend weights are read.
import { z } from 'zod';
import { definePlugin, type RoutingObject } from '../plugin.ts';
import { routingRead, type RouterCapabilities, type RoutingRead, type SpecIssue } from '../types.ts';
import { quantityMilli, SMI_GROUP, SMI_VERSIONS, type TrafficSplit } from './render.ts';
import { SmiRouter } from './router.ts';

export const SmiConfigSchema = z.object({
  rootService: z.string().optional(),
  trafficSplitName: z.string().optional(),
});
export type SmiConfig = z.output<typeof SmiConfigSchema>;

export const smiCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // relative backend weights (v1alpha1 as quantities)
  headerMatch: [],
  mirror: false,
  verification: false,
  replicaBased: false,
  weightedDestinations: true, // extra backends (experiment Services)
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** The canary share of a TrafficSplit's backends; quantities ("500m") are kept exact. */
export function readTrafficSplit(object: TrafficSplit, where: { canaryService: string; stableService: string }): RoutingRead | undefined {
  const backends = object.spec?.backends ?? [];
  const c = backends.find((b) => b.service === where.canaryService);
  const s = backends.find((b) => b.service === where.stableService);
  if (!c && !s) return undefined;
  const cm = c ? (quantityMilli(c.weight) ?? 0) : 0;
  const sm = s ? (quantityMilli(s.weight) ?? 0) : 0;
  // The split is ours: every other backend is an experiment template's Service.
  const others = backends.filter((b) => b !== c && b !== s).map((b) => ({ service: b.service, weight: quantityMilli(b.weight) ?? 0 }));
  const scale = [cm, sm, ...others.map((o) => o.weight)].every((w) => w % 1000 === 0) ? 1000 : 1;
  return routingRead(cm / scale, sm / scale, others.map((o) => ({ service: o.service, weight: o.weight / scale })));
}

export const smiPlugin = definePlugin({
  key: 'smi',
  label: 'the SMI router',
  schema: SmiConfigSchema,
  capabilities: smiCapabilities,
  kinds: [{ kind: 'TrafficSplit', group: SMI_GROUP, plural: 'trafficsplits', versions: SMI_VERSIONS, editedInPlace: false, crdTypes: { source: 'crds/third-party/smi-trafficsplit.yaml', output: 'crds-types/trafficsplit.ts' } }],
  validate: (config, path): SpecIssue[] =>
    config.trafficSplitName !== undefined && !DNS_SUBDOMAIN.test(config.trafficSplitName)
      ? [{ path: `${path}.trafficSplitName`, message: `trafficSplitName ${JSON.stringify(config.trafficSplitName)} is not a valid object name`, fix: 'use lower-case letters, digits, - and .' }]
      : [],
  routingObjects: (config, where): RoutingObject[] => [
    { kind: 'TrafficSplit', group: SMI_GROUP, plural: 'trafficsplits', namespace: where.namespace, name: config.trafficSplitName ?? where.rolloutName, carriesWeight: true, access: 'owns' },
    // The root Service the split stands for (default: the stable Service).
    ...(config.rootService ? [{ kind: 'Service', group: '', plural: 'services', namespace: where.namespace, name: config.rootService, carriesWeight: false, access: 'reads' as const, field: 'rootService' }] : []),
  ],
  read: (object, _config, where) => readTrafficSplit(object as TrafficSplit, where),
  create: (ctx, config) => new SmiRouter(ctx, config, smiCapabilities),
});
