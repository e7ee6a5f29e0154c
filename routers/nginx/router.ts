// The NGINX Ingress router: one canary Ingress per stable Ingress, owned by the Rollout, whose
// canary annotations carry the weight (canary-weight over canary-weight-total) and the header
// route. The stable Ingresses are only read.
import type { SpecIssue } from '../types.ts';
import { FIELD_MANAGER, isOwnedBy, patchToRendered } from '../common.ts';
import { isNotFound, KubeApiError, type ResourceRef } from '../kube-api.ts';
import { RouterBase } from '../sdk.ts';
import { RouterSpecError, type DesiredTraffic, type ReleaseTarget, type RouterReconcileResult, type WeightRatio } from '../types.ts';
import { DEFAULT_ANNOTATION_PREFIX } from './annotations.ts';
import type { NginxConfig } from './index.ts';
import { canaryIngressName, renderCanaryIngress, type Ingress, type RenderedIngress } from './render.ts';

/** trafficRouting.nginx, typed by the plugin's schema (./index.ts) */
export type NginxRouting = NginxConfig;

export class NginxRouter extends RouterBase<NginxRouting> {
  readonly name = 'nginx';
  private stableIngresses(): { name: string; path: string }[] {
    const base = this.ctx.path;
    if (this.config.stableIngress) return [{ name: this.config.stableIngress, path: `${base}.stableIngress` }];
    return (this.config.stableIngresses ?? []).map((name, i) => ({ name, path: `${base}.stableIngresses[${i}]` }));
  }

  private ref(name?: string): ResourceRef {
    return { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', namespace: this.ctx.namespace, name };
  }

  private render(stable: Ingress, existing: Ingress | undefined, desired: DesiredTraffic, refPath: string): RenderedIngress {
    return renderCanaryIngress({
      stable,
      existing,
      desired,
      rollout: this.ctx.rollout,
      namespace: this.ctx.namespace,
      prefix: this.config.annotationPrefix ?? DEFAULT_ANNOTATION_PREFIX,
      additionalAnnotations: this.config.additionalIngressAnnotations ?? {},
      canaryIngressAnnotations: this.config.canaryIngressAnnotations ?? {},
      refPath,
    });
  }

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    const issues: SpecIssue[] = [];
    const plans: { stable: Ingress; canaryName: string; existing: Ingress | undefined; path: string }[] = [];
    for (const { name, path } of this.stableIngresses()) {
      const stable = await this.ctx.client.getOptional<Ingress>(this.ref(name));
      if (!stable) {
        issues.push({ path, message: `Ingress "${name}" not found in namespace ${this.ctx.namespace}`, fix: 'create the stable Ingress or correct the name' });
        continue;
      }
      const canaryName = canaryIngressName(this.ctx.rollout.name, name);
      const existing = await this.ctx.client.getOptional<Ingress>(this.ref(canaryName));
      issues.push(...this.render(stable, existing, desired, path).issues);
      plans.push({ stable, canaryName, existing, path });
    }
    if (issues.length > 0) throw new RouterSpecError(issues);

    let writes = 0;
    let actual: WeightRatio | undefined;
    for (const plan of plans) {
      let existing = plan.existing;
      if (!existing) {
        const created = this.render(plan.stable, undefined, desired, plan.path);
        try {
          await this.ctx.client.create(this.ref(), created.object, { fieldManager: FIELD_MANAGER });
          writes++;
          actual ??= created.weight;
          continue;
        } catch (err) {
          if (!(err instanceof KubeApiError && err.isConflict)) throw err;
          existing = await this.ctx.client.get<Ingress>(this.ref(plan.canaryName)); // created meanwhile: update it below
        }
      }
      const done = await patchToRendered<Ingress, RenderedIngress>(
        this.ctx.client,
        this.ref(plan.canaryName),
        (current) => {
          const r = this.render(plan.stable, current, desired, plan.path);
          return { object: r.issues.length > 0 ? current : r.object, result: r };
        },
        { read: existing },
      );
      if (done.result.issues.length > 0) throw new RouterSpecError(done.result.issues);
      if (done.wrote) writes++;
      actual ??= done.result.weight;
    }
    return { writes, verified: undefined, actualWeight: actual ?? desired.weight };
  }

  /** Deletes the canary Ingresses this Rollout owns; the stable Ingresses were never changed. */
  async release(_target: ReleaseTarget): Promise<void> {
    for (const { name } of this.stableIngresses()) {
      const ref = this.ref(canaryIngressName(this.ctx.rollout.name, name));
      const canary = await this.ctx.client.getOptional<Ingress>(ref);
      if (!canary || !isOwnedBy(canary, this.ctx.rollout)) continue;
      try {
        await this.ctx.client.delete(ref, { preconditions: { uid: canary.metadata.uid } });
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
