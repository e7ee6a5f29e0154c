// The Traefik router as a plugin: Argo Rollouts' trafficRouting.traefik.weightedTraefikServiceName,
// a user's weighted TraefikService (traefik.io) in the Rollout's namespace whose canary and stable
// entries carry the weights. Traefik's weighted round robin has no header or mirror routes here
// (as in Argo), so validation and lint reject those steps for it.
import { z } from 'zod';
import { definePlugin, type RoutingObject } from '../plugin.ts';
import type { RouterCapabilities, SpecIssue } from '../types.ts';
import { readTraefikService, shapeIssues, TRAEFIK_GROUP, TRAEFIK_VERSIONS, type TraefikService } from './render.ts';
import { TraefikRouter } from './router.ts';

// As Argo has it (the name of a weighted TraefikService in the Rollout's namespace).
export const TraefikConfigSchema = z.object({ weightedTraefikServiceName: z.string() });
export type TraefikConfig = z.output<typeof TraefikConfigSchema>;

export const traefikCapabilities: RouterCapabilities = {
  weightResolutionPercent: 0.01, // relative integer weights (1 and 9999)
  headerMatch: [], // Argo's Traefik router sets weights only
  mirror: false,
  verification: false,
  replicaBased: false,
};

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function validate(config: TraefikConfig, path: string): SpecIssue[] {
  const name = config.weightedTraefikServiceName;
  if (name.length <= 253 && DNS_SUBDOMAIN.test(name)) return [];
  return [{ path: `${path}.weightedTraefikServiceName`, message: `${JSON.stringify(name)} is not a valid TraefikService name`, fix: 'name the TraefikService in the Rollout\'s namespace: lower-case letters, digits, - and .' }];
}

export const traefikPlugin = definePlugin({
  key: 'traefik',
  label: 'the Traefik router',
  schema: TraefikConfigSchema,
  capabilities: traefikCapabilities,
  kinds: [{ kind: 'TraefikService', group: TRAEFIK_GROUP, plural: 'traefikservices', versions: TRAEFIK_VERSIONS, editedInPlace: true, crdTypes: { source: 'crds/third-party/traefik-traefikservices.yaml', output: 'crds-types/traefikservice.ts' } }],
  validate,
  routingObjects: (config, where): RoutingObject[] => [
    { kind: 'TraefikService', group: TRAEFIK_GROUP, plural: 'traefikservices', namespace: where.namespace, name: config.weightedTraefikServiceName, carriesWeight: true, access: 'edits', field: 'weightedTraefikServiceName' },
  ],
  checkObject: (object, _named, where, path) => shapeIssues(object as TraefikService, where, path),
  read: (object, _config, where) => readTraefikService(object as TraefikService, where),
  create: (ctx, config) => new TraefikRouter(ctx, config, traefikCapabilities),
});
