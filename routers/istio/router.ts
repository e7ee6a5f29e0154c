// The Istio router: weights on the stable/canary destinations of VirtualService routes (by
// Service host, or by DestinationRule subset whose hash labels we set), header and mirror routes
// inserted above the user's routes. Reads, renders (render.ts), writes only the difference.
import type { SpecIssue } from '../types.ts';
import { namespacedName, patchToRendered } from '../common.ts';
import type { IstioConfig } from './index.ts';
import { isNotFound, pickVersion, type ResourceRef } from '../kube-api.ts';
import { releasedTraffic, RouterBase } from '../sdk.ts';
import { RouterSpecError, type DesiredTraffic, type ReleaseTarget, type RouterReconcileResult, type WeightRatio } from '../types.ts';
import {
  renderDestinationRule,
  renderVirtualService,
  type DestinationRule,
  type DestinationRuleRef,
  type Rendered,
  type VirtualService,
  type VirtualServiceRef,
} from './render.ts';

export const ISTIO_GROUP = 'networking.istio.io';
export const ISTIO_VERSIONS = ['v1', 'v1beta1', 'v1alpha3'] as const;

/** trafficRouting.istio, typed by the plugin's schema (./index.ts) */
export type IstioRouting = IstioConfig;

/** A DestinationRule read and checked, to be written once everything is checked. */
interface DestinationRulePlan {
  ref: ResourceRef;
  read: DestinationRule;
}

/** A VirtualService read and checked, to be written once everything is checked. */
interface VirtualServicePlan {
  ref: ResourceRef;
  read: VirtualService;
  render: (vs: VirtualService) => Rendered<VirtualService>;
}

export class IstioRouter extends RouterBase<IstioRouting> {
  readonly name = 'istio';
  private readonly managedRoutes = this.ctx.managedRoutes;

  /** The VirtualServices with where each sits in the spec. */
  private virtualServiceRefs(): { ref: VirtualServiceRef; path: string }[] {
    const base = this.ctx.path;
    if (this.config.virtualService) return [{ ref: this.config.virtualService, path: `${base}.virtualService` }];
    return (this.config.virtualServices ?? []).map((ref, i) => ({ ref, path: `${base}.virtualServices[${i}]` }));
  }

  /** `name.namespace` names an object in another namespace, as in Argo Rollouts. */
  private async resource(plural: 'virtualservices' | 'destinationrules', reference: string): Promise<ResourceRef> {
    const version = await pickVersion(this.ctx.client, ISTIO_GROUP, ISTIO_VERSIONS);
    if (!version) {
      throw new RouterSpecError([{ path: this.ctx.path, message: `the cluster does not serve ${ISTIO_GROUP} (Istio's CRDs are not installed)`, fix: 'install Istio, or choose another router' }]);
    }
    return { group: ISTIO_GROUP, version, plural, ...namespacedName(reference, this.ctx.namespace) };
  }

  /** A VirtualService as it should be for `desired`; `subsetHost` is the DestinationRule's host, if any. */
  private renderVs(vs: VirtualService, ref: VirtualServiceRef, refPath: string, desired: DesiredTraffic, subsetHost: string | undefined): Rendered<VirtualService> {
    const rule = this.config.destinationRule;
    return renderVirtualService({
      vs,
      ref,
      refPath,
      desired,
      namespace: this.ctx.namespace,
      rolloutName: this.ctx.rollout.name,
      subsets: rule ? { canary: rule.canarySubsetName, stable: rule.stableSubsetName, host: subsetHost } : undefined,
      managedRoutes: this.managedRoutes,
    });
  }

  /** The DestinationRule with its subsets selecting the canary and stable hashes; without hashes (a release), our labels off them. */
  private renderDr(dr: DestinationRule, rule: DestinationRuleRef, desired: DesiredTraffic | undefined): Rendered<DestinationRule> {
    const hashes = desired && { canary: desired.canaryHash, stable: desired.stableHash };
    return renderDestinationRule({ dr, ref: rule, refPath: `${this.ctx.path}.destinationRule`, hashes });
  }

  /** Reads the DestinationRule and adds its issues; undefined when it is not found. */
  private async readDestinationRule(rule: DestinationRuleRef, desired: DesiredTraffic, issues: SpecIssue[]): Promise<DestinationRulePlan | undefined> {
    const ref = await this.resource('destinationrules', rule.name);
    const read = await this.ctx.client.getOptional<DestinationRule>(ref);
    if (!read) {
      issues.push({ path: `${this.ctx.path}.destinationRule.name`, message: `DestinationRule "${ref.name}" not found in namespace ${ref.namespace}`, fix: 'create the DestinationRule or correct the name' });
      return undefined;
    }
    issues.push(...this.renderDr(read, rule, desired).issues);
    return { ref, read };
  }

  /** Reads the VirtualServices and adds their issues; those not found get no plan. */
  private async readVirtualServices(desired: DesiredTraffic, subsetHost: string | undefined, issues: SpecIssue[]): Promise<VirtualServicePlan[]> {
    const plans: VirtualServicePlan[] = [];
    for (const { ref: vsRef, path } of this.virtualServiceRefs()) {
      const ref = await this.resource('virtualservices', vsRef.name);
      const read = await this.ctx.client.getOptional<VirtualService>(ref);
      if (!read) {
        issues.push({ path: `${path}.name`, message: `VirtualService "${ref.name}" not found in namespace ${ref.namespace}`, fix: 'create the VirtualService or correct the name' });
        continue;
      }
      const render = (vs: VirtualService): Rendered<VirtualService> => this.renderVs(vs, vsRef, path, desired, subsetHost);
      issues.push(...render(read).issues);
      plans.push({ ref, read, render });
    }
    return plans;
  }

  /** Writes the difference to the DestinationRule; whether it wrote. */
  private async writeDestinationRule(plan: DestinationRulePlan, rule: DestinationRuleRef, desired: DesiredTraffic): Promise<boolean> {
    const done = await patchToRendered<DestinationRule, SpecIssue[]>(
      this.ctx.client,
      plan.ref,
      (dr) => {
        const r = this.renderDr(dr, rule, desired);
        return { object: r.issues.length > 0 ? dr : r.object, result: r.issues };
      },
      { read: plan.read },
    );
    if (done.result.length > 0) throw new RouterSpecError(done.result);
    return done.wrote;
  }

  /** Writes the difference to one VirtualService; whether it wrote, and the canary share it carries. */
  private async writeVirtualService(plan: VirtualServicePlan): Promise<{ wrote: boolean; weight: WeightRatio | undefined }> {
    const done = await patchToRendered<VirtualService, Rendered<VirtualService>>(
      this.ctx.client,
      plan.ref,
      (vs) => {
        const r = plan.render(vs);
        return { object: r.issues.length > 0 ? vs : r.object, result: r };
      },
      { read: plan.read },
    );
    if (done.result.issues.length > 0) throw new RouterSpecError(done.result.issues);
    return { wrote: done.wrote, weight: done.result.weight };
  }

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    const issues: SpecIssue[] = [];
    const rule = this.config.destinationRule;

    // Read everything and render it before the first write: a reference error writes nothing.
    const drPlan = rule ? await this.readDestinationRule(rule, desired, issues) : undefined;
    const vsPlans = await this.readVirtualServices(desired, drPlan?.read.spec?.host, issues);
    if (issues.length > 0) throw new RouterSpecError(issues);

    // Subset labels first, so a subset selects the right pods before weights send traffic to it.
    let writes = 0;
    if (drPlan && rule && (await this.writeDestinationRule(drPlan, rule, desired))) writes++;
    let actual: WeightRatio | undefined;
    for (const plan of vsPlans) {
      const done = await this.writeVirtualService(plan);
      if (done.wrote) writes++;
      actual ??= done.weight;
    }
    return { writes, verified: undefined, actualWeight: actual ?? desired.weight };
  }

  async release(target: ReleaseTarget): Promise<void> {
    const desired = releasedTraffic(target);
    const rule = this.config.destinationRule;
    let subsetHost: string | undefined;
    // Weights back to stable and our routes out first, then our labels off the subsets.
    if (rule) {
      const dr = await this.ctx.client.getOptional<DestinationRule>(await this.resource('destinationrules', rule.name));
      subsetHost = dr?.spec?.host;
    }
    for (const { ref: vsRef, path } of this.virtualServiceRefs()) {
      const ref = await this.resource('virtualservices', vsRef.name);
      try {
        // Routes that can no longer be found are left alone; everything we can undo is undone.
        await patchToRendered<VirtualService, undefined>(this.ctx.client, ref, (vs) => ({ object: this.renderVs(vs, vsRef, path, desired, subsetHost).object, result: undefined }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
    if (rule) {
      try {
        await patchToRendered<DestinationRule, undefined>(this.ctx.client, await this.resource('destinationrules', rule.name), (dr) => ({
          object: this.renderDr(dr, rule, undefined).object,
          result: undefined,
        }));
      } catch (err) {
        if (!isNotFound(err)) throw err;
      }
    }
  }
}
