// `rollway controller`: runs the Rollout controller with its /metrics and /healthz endpoints.
import http from 'node:http';
import { readdirSync } from 'node:fs';
import { KubeClient } from '../kube/client.ts';
import { setRouterDefaults } from '../routers/index.ts';
import { describeRouterPlugins, loadRouterPlugins } from '../routers/load.ts';
import { RolloutController } from './controller.ts';
import { LeaderElector } from './leader.ts';
import { EventRecorder } from '../kube/events.ts';
import { Notifier, renderNotificationMetrics } from '../notifications/notifier.ts';
import type { Logger } from '../kube/informer.ts';

export interface ControllerFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  instanceId?: string | undefined;
  metricsPort: number;
  healthzPort: number;
  /** where /metrics and /healthz listen (default loopback; 0.0.0.0 in a pod) */
  bindAddress?: string | undefined;
  logFormat: 'json' | 'text';
  workers: number;
  leaderElect: boolean;
  leaderElectionNamespace?: string | undefined;
  leaseDurationMs: number;
  /** third-party router plugins to load: files or npm packages (--router-plugin) */
  routerPlugins?: string[] | undefined;
  /** SMI TrafficSplit API version (--smi-api-version); default: the newest the cluster serves */
  smiApiVersion?: string | undefined;
  /** where the notification ConfigMap and Secret are (--notifications-namespace) */
  notificationsNamespace?: string | undefined;
  /** also read them in each Rollout's namespace (--self-service-notifications) */
  selfServiceNotifications?: boolean | undefined;
}

export function makeLogger(format: 'json' | 'text', base: Record<string, unknown> = {}): Logger {
  return (level, msg, fields) => {
    const time = new Date().toISOString();
    if (format === 'json') {
      process.stderr.write(`${JSON.stringify({ time, level, msg, ...base, ...fields })}\n`);
    } else {
      const extra = Object.entries({ ...base, ...fields })
        .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
        .join(' ');
      process.stderr.write(`${time} ${level.toUpperCase().padEnd(5)} ${msg}${extra ? ` ${extra}` : ''}\n`);
    }
  };
}

export async function runController(flags: ControllerFlags): Promise<void> {
  const log = makeLogger(flags.logFormat, flags.instanceId ? { instance: flags.instanceId } : {});
  // Routers first: a plugin that does not load or check out stops the start, saying why.
  setRouterDefaults({ smiApiVersion: flags.smiApiVersion });
  await loadRouterPlugins(flags.routerPlugins ?? []); // those `rollway` loaded already are kept
  for (const p of describeRouterPlugins()) log('info', 'router plugin loaded', { plugin: p.name, label: p.label, source: p.source });
  const client = KubeClient.fromKubeconfig({ path: flags.kubeconfig, context: flags.context, userAgent: 'rollway-controller' });
  const elector = flags.leaderElect
    ? new LeaderElector({
        client,
        namespace: flags.leaderElectionNamespace ?? flags.namespace ?? 'kube-system',
        name: flags.instanceId ? `rollway-controller-${flags.instanceId}` : 'rollway-controller',
        leaseDurationMs: flags.leaseDurationMs,
        renewDeadlineMs: Math.floor(flags.leaseDurationMs * (2 / 3)),
        retryPeriodMs: Math.max(200, Math.floor(flags.leaseDurationMs / 7)),
        log,
      })
    : undefined;
  // Every write of this process is fenced by the lease, except the lease renewals themselves.
  if (elector) client.writeGuard = (_method, path) => /\/leases(\/|$)/.test(path) || elector.isLeader();
  const controller = new RolloutController({
    client,
    namespace: flags.namespace,
    instanceId: flags.instanceId,
    log,
    workers: flags.workers,
    canWrite: () => elector === undefined || elector.isLeader(),
  });
  // Notifications: evaluated from each change of a Rollout the informer sees, off the reconcile path.
  const events = new EventRecorder(client, 'rollway-notifications', flags.instanceId ?? 'rollway');
  const notifier = new Notifier({
    client,
    namespace: flags.notificationsNamespace ?? flags.namespace ?? process.env.POD_NAMESPACE ?? 'rollway',
    selfService: flags.selfServiceNotifications === true,
    log,
    get: (ns, name) => controller.rollouts.get(ns, name),
    recordEvent: (ro, event) => events.record({ apiVersion: ro.apiVersion ?? '', kind: ro.kind ?? '', name: ro.metadata.name ?? '', namespace: ro.metadata.namespace ?? '', uid: ro.metadata.uid ?? '' }, event),
    canWrite: () => elector === undefined || elector.isLeader(),
  });
  controller.rollouts.on((e) => e.type !== 'deleted' && notifier.observe(e.object));

  const servers: http.Server[] = [];
  const listen = (port: number, handler: http.RequestListener, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const server = http.createServer(handler);
      server.on('error', reject);
      const host = flags.bindAddress ?? '127.0.0.1';
      server.listen(port, host, () => {
        const address = server.address();
        log('info', `${what} listening`, { address: typeof address === 'object' && address ? `${host}:${address.port}` : String(address) });
        resolve();
      });
      servers.push(server);
    });

  const metrics: http.RequestListener = (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4' }).end(renderMetrics(controller, client) + renderNotificationMetrics(notifier));
  };
  const healthz: http.RequestListener = (req, res) => {
    // A standby replica is healthy while it waits for the Lease: its caches start when it leads.
    const ok = (elector !== undefined && !elector.isLeader()) || controller.synced();
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'caches not synced\n');
  };
  if (flags.metricsPort >= 0) await listen(flags.metricsPort, metrics, 'metrics');
  if (flags.healthzPort >= 0) await listen(flags.healthzPort, flags.healthzPort === flags.metricsPort ? metrics : healthz, 'healthz');

  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping', { signal });
    notifier.stop();
    await controller.stop();
    await elector?.release();
    for (const server of servers) server.close();
    client.close();
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  log('info', 'starting', { namespace: flags.namespace ?? '(all)', server: client.server, leaderElection: flags.leaderElect });
  if (elector) {
    await elector.acquire(
      () => {
        // Deposed: stop at once; the process exits so its supervisor restarts it as a candidate.
        void controller.stop().finally(() => process.exit(1));
      },
      // The lease lapsed during an outage and is ours again: plan every Rollout afresh.
      () => controller.requeueAll(),
    );
  }
  await controller.start();
}

function renderMetrics(controller: RolloutController, client: KubeClient): string {
  const lines: string[] = [];
  const esc = (v: string): string => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  lines.push('# HELP rollway_rollout_phase Phase of each Rollout (1 for its current phase).', '# TYPE rollway_rollout_phase gauge');
  for (const ro of controller.rollouts.list()) {
    const labels = `namespace="${esc(ro.metadata.namespace ?? '')}",name="${esc(ro.metadata.name ?? '')}"`;
    for (const phase of ['Progressing', 'Paused', 'Healthy', 'Degraded']) {
      lines.push(`rollway_rollout_phase{${labels},phase="${phase}"} ${ro.status?.phase === phase ? 1 : 0}`);
    }
  }
  lines.push('# HELP rollway_rollout_canary_weight Canary traffic weight in percent.', '# TYPE rollway_rollout_canary_weight gauge');
  for (const ro of controller.rollouts.list()) {
    lines.push(`rollway_rollout_canary_weight{namespace="${esc(ro.metadata.namespace ?? '')}",name="${esc(ro.metadata.name ?? '')}"} ${ro.status?.canary?.weights?.canary.weight ?? 0}`);
  }
  lines.push('# HELP rollway_rollout_step Current step index.', '# TYPE rollway_rollout_step gauge');
  for (const ro of controller.rollouts.list()) {
    lines.push(`rollway_rollout_step{namespace="${esc(ro.metadata.namespace ?? '')}",name="${esc(ro.metadata.name ?? '')}"} ${ro.status?.currentStepIndex ?? 0}`);
  }
  const latencies = [...controller.stats.latencies].sort((a, b) => a - b);
  const q = (p: number): number => (latencies.length === 0 ? 0 : (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0));
  lines.push('# HELP rollway_reconcile_duration_seconds Reconcile latency over the last 1000 reconciles.', '# TYPE rollway_reconcile_duration_seconds summary');
  for (const p of [0.5, 0.9, 0.99]) lines.push(`rollway_reconcile_duration_seconds{quantile="${p}"} ${q(p)}`);
  lines.push(`rollway_reconcile_duration_seconds_count ${controller.stats.reconciles}`);
  lines.push('# TYPE rollway_reconcile_errors_total counter', `rollway_reconcile_errors_total ${controller.stats.errors}`);
  lines.push('# HELP rollway_api_calls_total Kubernetes API calls by verb and HTTP status.', '# TYPE rollway_api_calls_total counter');
  for (const [key, n] of client.calls.counts) {
    const [verb, status] = key.split(' ');
    lines.push(`rollway_api_calls_total{verb="${verb}",status="${status}"} ${n}`);
  }
  lines.push('# TYPE rollway_workqueue_depth gauge', `rollway_workqueue_depth ${controller.queue.length}`);
  lines.push('# HELP rollway_router_plugin_info Third-party router plugins loaded (1 each).', '# TYPE rollway_router_plugin_info gauge');
  for (const p of describeRouterPlugins()) lines.push(`rollway_router_plugin_info{name="${esc(p.name)}",source="${esc(p.source)}"} 1`);
  let fds = 0;
  try {
    fds = readdirSync('/proc/self/fd').length;
  } catch {
    // not on Linux
  }
  lines.push('# TYPE process_open_fds gauge', `process_open_fds ${fds}`);
  lines.push('# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${process.memoryUsage.rss()}`);
  return `${lines.join('\n')}\n`;
}
