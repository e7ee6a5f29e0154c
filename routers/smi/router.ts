// The SMI router: a TrafficSplit owned by the Rollout (name: trafficSplitName, default the
// Rollout's name; root service: rootService, default the stable Service) whose backends carry the
// weights. The API version is a controller option, or the newest the cluster serves.
import { FIELD_MANAGER, isOwnedBy, patchToRendered } from '../common.ts';
import { isNotFound, KubeApiError, pickVersion, type ResourceRef } from '../kube-api.ts';
import { RouterBase } from '../sdk.ts';
import { RouterSpecError, type DesiredTraffic, type ReleaseTarget, type RouterReconcileResult } from '../types.ts';
import type { SmiConfig } from './index.ts';
import { renderTrafficSplit, SMI_GROUP, SMI_VERSIONS, type SmiVersion, type TrafficSplit } from './render.ts';

/** trafficRouting.smi, typed by the plugin's schema (./index.ts) */
export type SmiRouting = SmiConfig;

export class SmiRouter extends RouterBase<SmiRouting> {
  readonly name = 'smi';
  private get splitName(): string {
    return this.config.trafficSplitName ?? this.ctx.rollout.name;
  }

  private get refPath(): string {
    return `${this.ctx.path}${this.config.trafficSplitName ? '.trafficSplitName' : ''}`;
  }

  /** The API version: the controller option if given (it must be served), else the newest served. */
  async apiVersion(): Promise<SmiVersion> {
    const wanted = this.ctx.options?.smiApiVersion;
    const preference = wanted ? [wanted] : SMI_VERSIONS;
    const version = await pickVersion(this.ctx.client, SMI_GROUP, preference);
    if (!version) {
      throw new RouterSpecError([
        {
          path: this.ctx.path,
          message: wanted ? `the cluster does not serve ${SMI_GROUP}/${wanted} (the controller's SMI API version)` : `the cluster does not serve ${SMI_GROUP} (the SMI CRDs are not installed)`,
          fix: wanted ? 'install that version of the TrafficSplit CRD or change the controller option' : 'install a service mesh with SMI support, or choose another router',
        },
      ]);
    }
    return version as SmiVersion;
  }

  private ref(version: string, name?: string): ResourceRef {
    return { group: SMI_GROUP, version, plural: 'trafficsplits', namespace: this.ctx.namespace, name };
  }

  async reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    const version = await this.apiVersion();
    const render = (existing: TrafficSplit | undefined) =>
      renderTrafficSplit({
        existing,
        desired,
        rollout: this.ctx.rollout,
        namespace: this.ctx.namespace,
        name: this.splitName,
        rootService: this.config.rootService ?? desired.stableService,
        apiVersion: version,
        refPath: this.refPath,
      });
    let existing = await this.ctx.client.getOptional<TrafficSplit>(this.ref(version, this.splitName));
    const first = render(existing);
    if (first.issues.length > 0) throw new RouterSpecError(first.issues);
    if (!existing) {
      try {
        await this.ctx.client.create(this.ref(version), first.object, { fieldManager: FIELD_MANAGER });
        return { writes: 1, verified: undefined, actualWeight: first.weight };
      } catch (err) {
        if (!(err instanceof KubeApiError && err.isConflict)) throw err;
        existing = await this.ctx.client.get<TrafficSplit>(this.ref(version, this.splitName));
      }
    }
    const done = await patchToRendered<TrafficSplit, ReturnType<typeof render>>(
      this.ctx.client,
      this.ref(version, this.splitName),
      (current) => {
        const r = render(current);
        return { object: r.issues.length > 0 ? current : r.object, result: r };
      },
      { read: existing },
    );
    if (done.result.issues.length > 0) throw new RouterSpecError(done.result.issues);
    return { writes: done.wrote ? 1 : 0, verified: undefined, actualWeight: done.result.weight };
  }

  /** Deletes the TrafficSplit if this Rollout owns it: the root Service then reaches its own pods. */
  async release(_target: ReleaseTarget): Promise<void> {
    const version = await this.apiVersion();
    const ref = this.ref(version, this.splitName);
    const split = await this.ctx.client.getOptional<TrafficSplit>(ref);
    if (!split || !isOwnedBy(split, this.ctx.rollout)) return;
    try {
      await this.ctx.client.delete(ref, { preconditions: { uid: split.metadata.uid } });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
