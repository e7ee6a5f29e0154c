// `rollway controller`: runs the Rollout controller with its /metrics and /healthz endpoints.
import type { RequestListener, Server } from 'node:http';
import { KubeClient } from '../kube/client.ts';
import { setRouterDefaults } from '../routers/index.ts';
import { describeRouterPlugins, loadRouterPlugins } from '../routers/load.ts';
import { RolloutController } from './controller.ts';
import { LeaderElector } from './leader.ts';
import { EventRecorder } from '../kube/events.ts';
import { Notifier } from '../notifications/notifier.ts';
import { controllerMetrics, type ControllerMetrics } from './metrics.ts';
import { createLogger, type LogFormat, type Logger, type LogLevel } from '../lib/log.ts';
import { nodeHttp } from '../lib/node-http.ts';

export interface ControllerFlags {
  kubeconfig?: string | undefined;
  context?: string | undefined;
  namespace?: string | undefined;
  instanceId?: string | undefined;
  metricsPort: number;
  healthzPort: number;
  /** where /metrics and /healthz listen (default loopback; 0.0.0.0 in a pod) */
  bindAddress?: string | undefined;
  /** default: text on a terminal, else JSON */
  logFormat?: LogFormat | undefined;
  /** the most detailed level logged; default info */
  logLevel?: LogLevel | undefined;
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

export async function runController(flags: ControllerFlags): Promise<void> {
  const log = createLogger({ level: flags.logLevel, format: flags.logFormat, base: flags.instanceId ? { instance: flags.instanceId } : {} });
  // Routers first: a plugin that does not load or check out stops the start, saying why.
  setRouterDefaults({ smiApiVersion: flags.smiApiVersion });
  await loadRouterPlugins(flags.routerPlugins ?? []); // those `rollway` loaded already are kept
  for (const p of describeRouterPlugins()) log('info', 'router plugin loaded', { plugin: p.name, label: p.label, source: p.source });
  const client = KubeClient.fromKubeconfig({ path: flags.kubeconfig, context: flags.context, userAgent: 'rollway-controller' });
  const elector = flags.leaderElect ? leaderElector(flags, client, log) : undefined;
  // Every write of this process is fenced by the lease, except the lease renewals themselves.
  if (elector) client.writeGuard = (_method, path) => /\/leases(\/|$)/.test(path) || elector.isLeader();
  const canWrite = (): boolean => elector === undefined || elector.isLeader();
  const controller = new RolloutController({
    client,
    namespace: flags.namespace,
    instanceId: flags.instanceId,
    log,
    workers: flags.workers,
    canWrite,
    onReconciled: (seconds) => metrics.observeReconcile(seconds), // reconciles start after `metrics` is set
    onTimedPauseEnded: (lateSeconds) => metrics.observePauseEnd(lateSeconds),
  });
  const notifier = startNotifier(flags, client, controller, canWrite, log);
  const metrics: ControllerMetrics = controllerMetrics({
    rollouts: () => controller.rollouts.list(),
    reconcileErrors: () => controller.stats.errors,
    apiCalls: () => client.calls.counts,
    queueDepth: () => controller.queue.length,
    routerPlugins: () => describeRouterPlugins(),
    notifications: () => notifier.stats,
  });
  // A standby replica is healthy while it waits for the Lease: its caches start when it leads.
  const servers = await serveHttp(flags, metrics, () => (elector !== undefined && !elector.isLeader()) || controller.synced(), log);

  const stopping = stopOnSignals(log, async () => {
    notifier.stop();
    await controller.stop();
    await elector?.release();
    for (const server of servers) server.close();
    client.close();
  });
  log('info', 'starting', { namespace: flags.namespace ?? '(all)', server: client.server, leaderElection: flags.leaderElect });
  try {
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
  } catch (err) {
    // A SIGTERM while waiting for the lease or the caches (a rollout of the controller itself):
    // the start-up it cut short is not a failure.
    if (!stopping()) throw err;
  }
}

/** SIGTERM and SIGINT run `stopAll` once; answers whether one came. */
function stopOnSignals(log: Logger, stopAll: () => Promise<void>): () => boolean {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log('info', 'stopping', { signal });
    void stopAll();
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
  return () => stopping;
}

/** The Lease this controller holds while it writes (--leader-elect), timed from --lease-duration. */
function leaderElector(flags: ControllerFlags, client: KubeClient, log: Logger): LeaderElector {
  return new LeaderElector({
    client,
    namespace: flags.leaderElectionNamespace ?? flags.namespace ?? 'kube-system',
    name: flags.instanceId ? `rollway-controller-${flags.instanceId}` : 'rollway-controller',
    leaseDurationMs: flags.leaseDurationMs,
    renewDeadlineMs: Math.floor(flags.leaseDurationMs * (2 / 3)),
    retryPeriodMs: Math.max(200, Math.floor(flags.leaseDurationMs / 7)),
    log,
  });
}

/** Notifications: evaluated from each change of a Rollout the informer sees, off the reconcile path. */
function startNotifier(flags: ControllerFlags, client: KubeClient, controller: RolloutController, canWrite: () => boolean, log: Logger): Notifier {
  const events = new EventRecorder(client, 'rollway-notifications', flags.instanceId ?? 'rollway');
  const notifier = new Notifier({
    client,
    namespace: flags.notificationsNamespace ?? flags.namespace ?? process.env.POD_NAMESPACE ?? 'rollway',
    selfService: flags.selfServiceNotifications === true,
    log,
    get: (ns, name) => controller.rollouts.get(ns, name),
    recordEvent: (ro, event) => events.record({ apiVersion: ro.apiVersion ?? '', kind: ro.kind ?? '', name: ro.metadata.name ?? '', namespace: ro.metadata.namespace ?? '', uid: ro.metadata.uid ?? '' }, event),
    canWrite,
  });
  controller.rollouts.on((e) => e.type !== 'deleted' && notifier.observe(e.object));
  return notifier;
}

/**
 * /metrics and /healthz on their ports; answers the servers listening. One port given to both
 * (`--metrics-port 8080 --healthz-port 8080`) is one server answering both paths; port 0 picks a
 * free port for each.
 */
export async function serveHttp(flags: Pick<ControllerFlags, 'metricsPort' | 'healthzPort' | 'bindAddress'>, metrics: ControllerMetrics, healthy: () => boolean, log: Logger): Promise<Server[]> {
  const servers: Server[] = [];
  const listen = (port: number, handler: RequestListener, what: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const server = nodeHttp().createServer(handler);
      server.on('error', reject);
      const host = flags.bindAddress ?? '127.0.0.1';
      server.listen(port, host, () => {
        const address = server.address();
        log('info', `${what} listening`, { address: typeof address === 'object' && address ? `${host}:${address.port}` : String(address) });
        resolve();
      });
      servers.push(server);
    });
  const metricsHandler: RequestListener = (req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    metrics.registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': metrics.registry.contentType }).end(text),
      (err: unknown) => {
        log('error', 'metrics scrape failed', { error: String(err) });
        res.writeHead(500).end();
      },
    );
  };
  const healthz: RequestListener = (_req, res) => {
    const ok = healthy();
    res.writeHead(ok ? 200 : 503, { 'Content-Type': 'text/plain' }).end(ok ? 'ok\n' : 'caches not synced\n');
  };
  try {
    if (flags.metricsPort > 0 && flags.healthzPort === flags.metricsPort) {
      await listen(flags.metricsPort, (req, res) => (req.url === '/healthz' ? healthz : metricsHandler)(req, res), 'metrics and healthz');
    } else {
      if (flags.metricsPort >= 0) await listen(flags.metricsPort, metricsHandler, 'metrics');
      if (flags.healthzPort >= 0) await listen(flags.healthzPort, healthz, 'healthz');
    }
  } catch (err) {
    for (const server of servers) server.close(); // a port taken: none of them stays open
    throw err;
  }
  return servers;
}
