// The Gateway API router: weights on the backendRefs of HTTPRoute rules, header and mirror
// routes as extra rules, and verification: a step waits until every route's gateway controllers
// report Accepted for the generation that carries the weight (or, configurably, gives up waiting
// after a timeout, or does not verify at all).
import type { SpecIssue } from '../types.ts';
import { patchToRendered } from '../common.ts';
import { isNotFound, pickVersion, type ResourceRef } from '../kube-api.ts';
import { releasedTraffic, RouterBase } from '../sdk.ts';
import { RouterSpecError, type DesiredTraffic, type ReleaseTarget, type RouterCapabilities, type RouterContext, type RouterReconcileResult, type WeightRatio } from '../types.ts';
import type { GatewayApiConfig } from './index.ts';
import { acceptance, renderHttpRoute, type HTTPRoute, type HTTPRouteRef, type RenderedRoute } from './render.ts';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
export const GATEWAY_VERSIONS = ['v1', 'v1beta1'] as const;

/** trafficRouting.gatewayAPI, typed by the plugin's schema (./index.ts) */
export type GatewayApiRouting = GatewayApiConfig;

/** How long to wait before looking at route status again: quick at first, then every 2 s. */
export function recheckDelayMs(attempt: number): number {
  return Math.min(2000, 100 * 2 ** attempt);
}

export class GatewayApiRouter extends RouterBase<GatewayApiRouting> {
  readonly name = 'gatewayAPI';
  private readonly managedRoutes = this.ctx.managedRoutes;
  private readonly now: () => number;
  /** per route: the generation we wait on, since when, and how often we looked */
  private readonly waiting = new Map<string, { generation: number; since: number; attempts: number; logged: boolean; gaveUp: boolean }>();

  constructor(ctx: RouterContext, config: GatewayApiRouting, capabilities: RouterCapabilities, now: () => number = Date.now) {
    super(ctx, config, capabilities);
    this.now = now;
  }

  private async ref(route: HTTPRouteRef): Promise<ResourceRef> {
    const version = await pickVersion(this.ctx.client, GATEWAY_GROUP, GATEWAY_VERSIONS);
    if (!version) {
      throw new RouterSpecError([{ path: this.ctx.path, message: `the cluster does not serve ${GATEWAY_GROUP} (the Gateway API CRDs are not installed)`, fix: 'install the Gateway API CRDs and a gateway controller, or choose another router' }]);
    }
    return { group: GATEWAY_GROUP, version, plural: 'httproutes', namespace: route.namespace ?? this.ctx.namespace, name: route.name };
  }

  private render(route: HTTPRoute, ref: HTTPRouteRef, index: number, desired: DesiredTraffic): RenderedRoute {
    return renderHttpRoute({
      route,
      ref,
      refPath: `${this.ctx.path}.httpRoutes[${index}]`,
      desired,
      namespace: this.ctx.namespace,
      rolloutName: this.ctx.rollout.name,
      managedRoutes: this.managedRoutes,
    });
  }

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    const issues: SpecIssue[] = [];
    const plans: { ref: ResourceRef; routeRef: HTTPRouteRef; index: number; read: HTTPRoute }[] = [];
    for (const [index, routeRef] of this.config.httpRoutes.entries()) {
      const ref = await this.ref(routeRef);
      const read = await this.ctx.client.getOptional<HTTPRoute>(ref);
      if (!read) {
        issues.push({ path: `${this.ctx.path}.httpRoutes[${index}].name`, message: `HTTPRoute "${routeRef.name}" not found in namespace ${ref.namespace}`, fix: 'create the HTTPRoute or correct the name' });
        continue;
      }
      issues.push(...this.render(read, routeRef, index, desired).issues);
      plans.push({ ref, routeRef, index, read });
    }
    if (issues.length > 0) throw new RouterSpecError(issues);

    let writes = 0;
    let actual: WeightRatio | undefined;
    const states: { key: string; route: HTTPRoute }[] = [];
    for (const plan of plans) {
      const done = await patchToRendered<HTTPRoute, RenderedRoute>(
        this.ctx.client,
        plan.ref,
        (current) => {
          const r = this.render(current, plan.routeRef, plan.index, desired);
          return { object: r.issues.length > 0 ? current : r.object, result: r };
        },
        { read: plan.read },
      );
      if (done.result.issues.length > 0) throw new RouterSpecError(done.result.issues);
      if (done.wrote) writes++;
      actual ??= done.result.weight;
      states.push({ key: `${plan.ref.namespace}/${plan.ref.name}`, route: done.object });
    }
    return { writes, verified: this.verify(states), actualWeight: actual ?? desired.weight };
  }

  /** true: every route accepted for its generation; false: wait (a recheck is queued); undefined: not verified. */
  private verify(states: { key: string; route: HTTPRoute }[]): boolean | undefined {
    const mode = this.config.verify?.mode ?? 'wait';
    if (mode === 'off') return undefined;
    const timeoutMs = this.config.verify?.timeoutSeconds !== undefined ? this.config.verify.timeoutSeconds * 1000 : undefined;
    let verified: boolean | undefined = true;
    let recheckAttempt: number | undefined;
    for (const { key, route } of states) {
      const generation = route.metadata.generation ?? 0;
      const { state, message } = acceptance(route);
      if (state === 'accepted') {
        this.waiting.delete(key);
        continue;
      }
      let wait = this.waiting.get(key);
      if (!wait || wait.generation !== generation) {
        wait = { generation, since: this.now(), attempts: 0, logged: false, gaveUp: false };
        this.waiting.set(key, wait);
      }
      if (state === 'pending' && timeoutMs !== undefined && this.now() - wait.since >= timeoutMs) {
        // No controller reports on this route: carry on unverified, as configured.
        if (!wait.gaveUp) this.ctx.log('warn', 'HTTPRoute not verified within verify.timeoutSeconds; continuing unverified', { route: key, generation, reason: message });
        wait.gaveUp = true;
        if (verified === true) verified = undefined;
        continue;
      }
      if (!wait.logged) this.ctx.log(state === 'rejected' ? 'warn' : 'info', 'waiting for the gateway to accept the HTTPRoute', { route: key, generation, reason: message });
      wait.logged = true;
      wait.attempts++;
      recheckAttempt = Math.min(recheckAttempt ?? Infinity, wait.attempts);
      verified = false;
    }
    if (verified === false && recheckAttempt !== undefined) this.ctx.requeue?.(recheckDelayMs(recheckAttempt));
    return verified;
  }

  async release(target: ReleaseTarget): Promise<void> {
    const desired = releasedTraffic(target);
    for (const [index, routeRef] of this.config.httpRoutes.entries()) {
      try {
        await patchToRendered<HTTPRoute, undefined>(this.ctx.client, await this.ref(routeRef), (route) => ({ object: this.render(route, routeRef, index, desired).object, result: undefined }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
      this.waiting.delete(`${routeRef.namespace ?? this.ctx.namespace}/${routeRef.name}`);
    }
  }
}
