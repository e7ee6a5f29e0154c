// Picks the router a Rollout's spec.strategy.canary.trafficRouting asks for. Several routers may
// be configured at once (an Ingress in front of a mesh, say): they then all carry the same weight.
import { commonCapabilities, configuredRouters } from './capabilities.ts';
import { GatewayApiRouter, type GatewayApiRouting } from './gateway-api/router.ts';
import { IstioRouter, type IstioRouting } from './istio/router.ts';
import { NginxRouter, type NginxRouting } from './nginx/router.ts';
import { ReplicaRatioRouter } from './replica-ratio/router.ts';
import { SmiRouter, type SmiRouting } from './smi/router.ts';
import type { DesiredTraffic, ReleaseTarget, RouterCapabilities, RouterContext, RouterReconcileResult, TrafficRouter } from './types.ts';
import { needsCanaryStableServices } from './validation.ts';

export type { RouterContext } from './types.ts';
export { commonCapabilities, configuredRouters } from './capabilities.ts';

export function createRouter(ctx: RouterContext): TrafficRouter {
  const routing = ctx.trafficRouting;
  // `rollway controller` passes its flags as options; the environment is the fallback.
  if (!ctx.options && process.env.ROLLWAY_SMI_API_VERSION) ctx = { ...ctx, options: { smiApiVersion: process.env.ROLLWAY_SMI_API_VERSION } };
  const routers = configuredRouters(routing).map((key): TrafficRouter => {
    switch (key) {
      case 'istio':
        return new IstioRouter(ctx, routing!.istio as IstioRouting);
      case 'nginx':
        return new NginxRouter(ctx, routing!.nginx as NginxRouting);
      case 'smi':
        return new SmiRouter(ctx, routing!.smi as SmiRouting);
      case 'gatewayAPI':
        return new GatewayApiRouter(ctx, routing!.gatewayAPI as GatewayApiRouting);
    }
  });
  if (routers.length === 0) return new ReplicaRatioRouter(); // no router, or only ones not implemented yet
  return routers.length === 1 ? routers[0]! : new CombinedRouter(routers);
}

/** Several routers as one: each gets the same traffic; verified only when all are. */
export class CombinedRouter implements TrafficRouter {
  readonly name: string;
  readonly capabilities: RouterCapabilities;
  readonly routers: TrafficRouter[];

  constructor(routers: TrafficRouter[]) {
    this.routers = routers;
    this.name = routers.map((r) => r.name).join('+');
    this.capabilities = commonCapabilities(routers.map((r) => r.capabilities));
  }

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    let writes = 0;
    let verified: boolean | undefined;
    let first: RouterReconcileResult | undefined;
    for (const router of this.routers) {
      const result = await router.reconcile(desired);
      first ??= result;
      writes += result.writes;
      if (result.verified === false) verified = false;
      else if (result.verified === true && verified === undefined) verified = true;
    }
    return { writes, verified, actualWeight: first?.actualWeight ?? desired.weight };
  }

  async release(target: ReleaseTarget): Promise<void> {
    for (const router of this.routers) await router.release(target);
  }
}

/**
 * The routing a Rollout last had applied, remembered on the Rollout (an annotation) so that its
 * routing objects can still be released after trafficRouting was removed or pointed elsewhere,
 * and across a controller restart.
 */
export interface AppliedRouting {
  trafficRouting: Record<string, unknown>;
  stableService: string;
  canaryService: string;
}

/** What a canary strategy routes through, or undefined when no implemented router is configured. */
export function appliedRoutingOf(canary: { trafficRouting?: unknown; stableService?: string; canaryService?: string } | undefined): AppliedRouting | undefined {
  const trafficRouting = canary?.trafficRouting as Record<string, unknown> | undefined;
  if (!trafficRouting || configuredRouters(trafficRouting).length === 0) return undefined;
  if (needsCanaryStableServices(trafficRouting) && (!canary?.stableService || !canary.canaryService)) return undefined;
  // Istio subset-level splitting may name no Services: '' then.
  return { trafficRouting, stableService: canary?.stableService ?? '', canaryService: canary?.canaryService ?? '' };
}

/**
 * The routing objects an applied routing edits or owns, as comparable strings: when a new routing
 * no longer names one of them, the old routing is released first.
 */
export function routingObjects(applied: AppliedRouting): string[] {
  const r = applied.trafficRouting;
  const out: string[] = [`services:${applied.stableService}/${applied.canaryService}`];
  const istio = r.istio as IstioRouting | undefined;
  if (istio) {
    for (const vs of istio.virtualService ? [istio.virtualService] : (istio.virtualServices ?? [])) out.push(`istio-vs:${vs.name}:${JSON.stringify(vs.routes ?? [])}`);
    if (istio.destinationRule) out.push(`istio-dr:${istio.destinationRule.name}:${istio.destinationRule.stableSubsetName}/${istio.destinationRule.canarySubsetName}`);
  }
  const nginx = r.nginx as NginxRouting | undefined;
  if (nginx) for (const name of nginx.stableIngress ? [nginx.stableIngress] : (nginx.stableIngresses ?? [])) out.push(`nginx:${name}`);
  const smi = r.smi as SmiRouting | undefined;
  if (smi) out.push(`smi:${smi.trafficSplitName ?? ''}`);
  const gateway = r.gatewayAPI as GatewayApiRouting | undefined;
  if (gateway) for (const route of gateway.httpRoutes) out.push(`gateway:${route.namespace ?? ''}/${route.name}:${JSON.stringify(route.rules ?? [])}`);
  return out.sort();
}
