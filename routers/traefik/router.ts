// The Traefik router: the canary and stable weights of a user's weighted TraefikService in the
// Rollout's namespace, written as one guarded JSON patch when they differ. Release puts 100% back
// on stable. The router adds nothing else to the object (the controller's traffic-routed-by mark,
// common to every object edited in place, is added and removed by the controller).
import { patchToRendered } from '../common.ts';
import { isNotFound, pickVersion, type ResourceRef } from '../kube-api.ts';
import { releasedTraffic, RouterBase } from '../sdk.ts';
import { RouterSpecError, type DesiredTraffic, type ReleaseTarget, type RouterReconcileResult } from '../types.ts';
import type { TraefikConfig } from './index.ts';
import { renderTraefikService, TRAEFIK_GROUP, TRAEFIK_VERSIONS, type RenderedTraefikService, type TraefikService } from './render.ts';

export class TraefikRouter extends RouterBase<TraefikConfig> {
  readonly name = 'traefik';
  private get refPath(): string {
    return `${this.ctx.path}.weightedTraefikServiceName`;
  }

  private async ref(): Promise<ResourceRef> {
    const version = await pickVersion(this.ctx.client, TRAEFIK_GROUP, TRAEFIK_VERSIONS);
    if (!version) {
      throw new RouterSpecError([{ path: this.ctx.path, message: `the cluster does not serve ${TRAEFIK_GROUP}/${TRAEFIK_VERSIONS.join(', ')} (the Traefik CRDs are not installed)`, fix: 'install the Traefik CRDs (TraefikService), or choose another router' }]);
    }
    return { group: TRAEFIK_GROUP, version, plural: 'traefikservices', namespace: this.ctx.namespace, name: this.config.weightedTraefikServiceName };
  }

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    const ref = await this.ref();
    const read = await this.ctx.client.getOptional<TraefikService>(ref);
    if (!read) {
      throw new RouterSpecError([{ path: this.refPath, message: `TraefikService "${ref.name}" not found in namespace ${ref.namespace}`, fix: 'create the weighted TraefikService or correct the name' }]);
    }
    const done = await patchToRendered<TraefikService, RenderedTraefikService>(
      this.ctx.client,
      ref,
      (current) => {
        const r = renderTraefikService(current, desired, this.refPath);
        return { object: r.issues.length > 0 ? current : r.object, result: r };
      },
      { read },
    );
    if (done.result.issues.length > 0) throw new RouterSpecError(done.result.issues);
    return { writes: done.wrote ? 1 : 0, verified: undefined, actualWeight: done.result.weight ?? desired.weight };
  }

  /** All traffic back to stable; a TraefikService that is gone or no longer names the Services is left alone. */
  async release(target: ReleaseTarget): Promise<void> {
    const desired = releasedTraffic(target);
    try {
      await patchToRendered<TraefikService, undefined>(this.ctx.client, await this.ref(), (current) => ({ object: renderTraefikService(current, desired, this.refPath).object, result: undefined }));
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
