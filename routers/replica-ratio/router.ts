// The "no router" strategy: the canary share is the ratio of canary to stable pods, so there is
// no routing object to write. It is the first user of the router interface, and the reference
// for what a router that cannot express a weight declares.
import type { DesiredTraffic, RouterCapabilities, RouterReconcileResult, TrafficRouter } from '../types.ts';

export const replicaRatioCapabilities: RouterCapabilities = {
  weightResolutionPercent: 100, // one pod of `replicas`: the planner computes the real resolution
  headerMatch: [],
  mirror: false,
  verification: false,
  replicaBased: true,
};

export class ReplicaRatioRouter implements TrafficRouter {
  readonly name = 'replicaRatio';
  readonly capabilities = replicaRatioCapabilities;

  reconcile(desired: DesiredTraffic): Promise<RouterReconcileResult> {
    // Pod counts carry the weight; the planner already sized the ReplicaSets for it.
    return Promise.resolve({ writes: 0, verified: undefined, actualWeight: desired.weight });
  }

  release(): Promise<void> {
    return Promise.resolve();
  }
}
