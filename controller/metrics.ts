// The controller's /metrics, through prom-client: the Rollout gauges read from the informer cache
// at scrape time, counters copied from the components that count (API client, notifier, work
// queue errors), the reconcile duration as a histogram, and the library's process and Node.js
// metrics (CPU, memory, open fds, event-loop lag, GC). Metric names are the ones the README
// documents and the e2e tests and benchmarks read.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RolloutObject } from '../api/views.ts';

export const PHASES = ['Progressing', 'Paused', 'Healthy', 'Degraded'] as const;

/** Where each metric's value comes from; read at every scrape. */
export interface MetricSources {
  rollouts: () => readonly RolloutObject[];
  reconcileErrors: () => number;
  /** Kubernetes API calls, keyed "verb status" (KubeClient.calls.counts) */
  apiCalls: () => ReadonlyMap<string, number>;
  queueDepth: () => number;
  routerPlugins: () => readonly { name: string; source: string }[];
  /** notification deliveries by service (Notifier.stats) */
  notifications?: (() => { sent: ReadonlyMap<string, number>; failed: ReadonlyMap<string, number> }) | undefined;
}

export interface ControllerMetrics {
  registry: Registry;
  /** record one reconcile's duration */
  observeReconcile: (seconds: number) => void;
}

// Reconciles take milliseconds when nothing changes and seconds when the API server is slow.
const RECONCILE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function controllerMetrics(sources: MetricSources, options: { processMetrics?: boolean } = {}): ControllerMetrics {
  const registry = new Registry();
  if (options.processMetrics !== false) collectDefaultMetrics({ register: registry });
  rolloutGauges(registry, sources);
  const duration = new Histogram({ name: 'rollway_reconcile_duration_seconds', help: 'Time one reconcile of a Rollout took.', buckets: RECONCILE_BUCKETS, registers: [registry] });
  counterFrom(registry, 'rollway_reconcile_errors_total', 'Reconciles that failed and were retried with backoff.', [], () => [[{}, sources.reconcileErrors()]]);
  counterFrom(registry, 'rollway_api_calls_total', 'Kubernetes API calls by verb and HTTP status.', ['verb', 'status'], () =>
    [...sources.apiCalls()].map(([key, n]) => {
      const [verb = '', status = ''] = key.split(' ');
      return [{ verb, status }, n];
    }),
  );
  counterFrom(registry, 'rollway_notifications_deliveries_total', 'Notification delivery attempts by service and result.', ['service', 'result'], () => {
    const stats = sources.notifications?.();
    if (!stats) return [];
    return [...[...stats.sent].map(([service, n]) => [{ service, result: 'success' }, n] as const), ...[...stats.failed].map(([service, n]) => [{ service, result: 'failure' }, n] as const)];
  });
  new Gauge({ name: 'rollway_workqueue_depth', help: 'Rollouts waiting for a worker.', registers: [registry], collect() { this.set(sources.queueDepth()); } });
  new Gauge({
    name: 'rollway_router_plugin_info',
    help: 'Third-party router plugins loaded (1 each).',
    labelNames: ['name', 'source'],
    registers: [registry],
    collect() {
      this.reset();
      for (const p of sources.routerPlugins()) this.set({ name: p.name, source: p.source }, 1);
    },
  });
  return { registry, observeReconcile: (seconds) => duration.observe(seconds) };
}

function rolloutGauges(registry: Registry, sources: MetricSources): void {
  const ids = (ro: RolloutObject): { namespace: string; name: string } => ({ namespace: ro.metadata.namespace ?? '', name: ro.metadata.name ?? '' });
  const perRollout = (name: string, help: string, labelNames: string[], fill: (g: Gauge, ro: RolloutObject) => void): void => {
    new Gauge({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset(); // a deleted Rollout's series goes away
        for (const ro of sources.rollouts()) fill(this, ro);
      },
    });
  };
  perRollout('rollway_rollout_phase', 'Phase of each Rollout (1 for its current phase).', ['namespace', 'name', 'phase'], (g, ro) => {
    for (const phase of PHASES) g.set({ ...ids(ro), phase }, ro.status?.phase === phase ? 1 : 0);
  });
  perRollout('rollway_rollout_canary_weight', 'Canary traffic weight in percent.', ['namespace', 'name'], (g, ro) => g.set(ids(ro), ro.status?.canary?.weights?.canary.weight ?? 0));
  perRollout('rollway_rollout_step', 'Current step index.', ['namespace', 'name'], (g, ro) => g.set(ids(ro), ro.status?.currentStepIndex ?? 0));
}

/** A counter whose totals another component keeps: copied in at each scrape. */
function counterFrom(registry: Registry, name: string, help: string, labelNames: string[], read: () => readonly (readonly [Record<string, string>, number])[]): void {
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      for (const [labels, n] of read()) this.inc(labels, n);
    },
  });
}
