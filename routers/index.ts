// Picks the router a Rollout's spec.strategy.canary.trafficRouting asks for.
import type { KubeClient } from '../kube/client.ts';
import { ReplicaRatioRouter } from './replica-ratio/router.ts';
import type { TrafficRouter } from './types.ts';

export interface RouterContext {
  client: KubeClient;
  namespace: string;
  rollout: { name: string; uid: string; apiVersion: string; kind: string };
  /** spec.strategy.canary.trafficRouting as written (validated) */
  trafficRouting: Record<string, unknown> | undefined;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void;
}

export function createRouter(ctx: RouterContext): TrafficRouter {
  // The real routers (Istio, NGINX, SMI, Gateway API) plug in here.
  void ctx;
  return new ReplicaRatioRouter();
}
