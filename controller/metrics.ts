// The controller's /metrics: the Rollout gauges read from the informer cache at scrape time,
// counters copied from the components that count (API client, notifier, work queue errors), the
// reconcile duration as a histogram, and the process and Node.js metrics (CPU, memory, open fds,
// event-loop lag, GC). Metric names are the ones the README documents and the e2e tests and
// benchmarks read.
import type { RolloutObject } from '../api/views.ts';
import { processMetrics } from '../lib/process-metrics.ts';
import { EXPOSITION_CONTENT_TYPE, exposition, Histogram, type Family, type Labels, type Sample } from '../lib/prometheus.ts';

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

/** What /metrics serves: the exposition text of every family, read now. */
export interface MetricsRegistry {
  metrics: () => Promise<string>;
  contentType: string;
}

export interface ControllerMetrics {
  registry: MetricsRegistry;
  /** record one reconcile's duration */
  observeReconcile: (seconds: number) => void;
  /** record how late (seconds after its deadline) a timed pause's end was written */
  observePauseEnd: (lateSeconds: number) => void;
}

// Reconciles take milliseconds when nothing changes and seconds when the API server is slow.
const RECONCILE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// A timed pause should end within tens of milliseconds of its deadline; seconds mean an outage.
const PAUSE_END_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function controllerMetrics(sources: MetricSources, options: { processMetrics?: boolean } = {}): ControllerMetrics {
  const duration = new Histogram(RECONCILE_BUCKETS);
  const pauseEnd = new Histogram(PAUSE_END_BUCKETS);
  const families: Family[] = [
    ...(options.processMetrics === false ? [] : processMetrics()),
    ...rolloutGauges(sources),
    { name: 'rollway_reconcile_duration_seconds', help: 'Time one reconcile of a Rollout took.', type: 'histogram', samples: () => duration.samples() },
    {
      name: 'rollway_timed_pause_end_delay_seconds',
      help: "Time from a timed pause step's deadline until the status that ends it was written (acknowledged by the API server).",
      type: 'histogram',
      samples: () => pauseEnd.samples(),
    },
    counter('rollway_reconcile_errors_total', 'Reconciles that failed and were retried with backoff.', () => [[{}, sources.reconcileErrors()]]),
    counter('rollway_api_calls_total', 'Kubernetes API calls by verb and HTTP status.', () =>
      [...sources.apiCalls()].map(([key, n]) => {
        const [verb = '', status = ''] = key.split(' ');
        return [{ verb, status }, n];
      }),
    ),
    counter('rollway_notifications_deliveries_total', 'Notification delivery attempts by service and result.', () => {
      const stats = sources.notifications?.();
      if (!stats) return [];
      return [...[...stats.sent].map(([service, n]) => [{ service, result: 'success' }, n] as const), ...[...stats.failed].map(([service, n]) => [{ service, result: 'failure' }, n] as const)];
    }),
    { name: 'rollway_workqueue_depth', help: 'Rollouts waiting for a worker.', type: 'gauge', samples: () => [{ value: sources.queueDepth() }] },
    {
      name: 'rollway_router_plugin_info',
      help: 'Third-party router plugins loaded (1 each).',
      type: 'gauge',
      samples: () => sources.routerPlugins().map((p) => ({ labels: { name: p.name, source: p.source }, value: 1 })),
    },
  ];
  return { registry: { metrics: () => exposition(families), contentType: EXPOSITION_CONTENT_TYPE }, observeReconcile: (seconds) => duration.observe(seconds), observePauseEnd: (late) => pauseEnd.observe(late) };
}

/** Per-Rollout gauges, from the cache at each scrape: a deleted Rollout's series goes away. */
function rolloutGauges(sources: MetricSources): Family[] {
  const ids = (ro: RolloutObject): Labels => ({ namespace: ro.metadata.namespace ?? '', name: ro.metadata.name ?? '' });
  const perRollout = (name: string, help: string, fill: (ro: RolloutObject) => Sample[]): Family => ({ name, help, type: 'gauge', samples: () => sources.rollouts().flatMap(fill) });
  return [
    perRollout('rollway_rollout_phase', 'Phase of each Rollout (1 for its current phase).', (ro) => PHASES.map((phase) => ({ labels: { ...ids(ro), phase }, value: ro.status?.phase === phase ? 1 : 0 }))),
    perRollout('rollway_rollout_canary_weight', 'Canary traffic weight in percent.', (ro) => [{ labels: ids(ro), value: ro.status?.canary?.weights?.canary.weight ?? 0 }]),
    perRollout('rollway_rollout_step', 'Current step index.', (ro) => [{ labels: ids(ro), value: ro.status?.currentStepIndex ?? 0 }]),
  ];
}

/** A counter whose totals another component keeps: copied in at each scrape. */
function counter(name: string, help: string, read: () => readonly (readonly [Labels, number])[]): Family {
  return { name, help, type: 'counter', samples: () => read().map(([labels, value]) => ({ labels, value })) };
}
