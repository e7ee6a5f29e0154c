// The pods' processes for the data-plane scenarios. KWOK pods have IPs but run nothing; this one
// process watches every Pod of the cluster and, for each Ready pod, listens on podIP:containerPort
// and answers JSON {pod, rsHash, image} (rsHash: the rollouts-pod-template-hash label). A pod annotated e2e.rollway.dev/http-status answers with
// that status, e2e.rollway.dev/latency-ms answers after that delay. When a pod becomes unready its
// listeners close (open keep-alive connections too), so a request sent to it fails as it would
// against a real pod. A deleted pod serves on until its grace period ends, as kubelet keeps a real
// pod's process running (drainingUntil). Runs inside the data-plane network namespace, where the
// pod CIDR is local (hack/netns.sh).
//   node e2e/dataplane/pod-server.ts --kubeconfig FILE
import http from 'node:http';
import { parseArgs } from 'node:util';
import { KubeClient, type KubeObject } from '../../kube/client.ts';
import { Informer } from '../../kube/informer.ts';

export const STATUS_ANNOTATION = 'e2e.rollway.dev/http-status';
export const LATENCY_ANNOTATION = 'e2e.rollway.dev/latency-ms';

export interface PodObject extends KubeObject {
  metadata: KubeObject['metadata'] & { deletionTimestamp?: string };
  spec?: { terminationGracePeriodSeconds?: number; containers?: { image?: string; ports?: { containerPort: number; protocol?: string }[] }[] };
  status?: { podIP?: string; conditions?: { type: string; status: string }[] };
}

/** What one listener answers, read from the pod each time (annotations may change). */
export interface Endpoint {
  key: string; // ip:port
  ip: string;
  port: number;
  podKey: string; // namespace/name
  image: string;
}

const isReady = (pod: PodObject): boolean => pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

/**
 * The listeners a pod should have now: none unless it has an IP and is Ready. A pod being deleted
 * serves while it is still Ready and there, as a real one does until its process exits.
 */
export function endpointsOf(pod: PodObject): Endpoint[] {
  const ip = pod.status?.podIP;
  if (!ip || !isReady(pod)) return [];
  const podKey = `${pod.metadata.namespace}/${pod.metadata.name}`;
  return (pod.spec?.containers ?? []).flatMap((container) =>
    (container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP').map((p) => ({ key: `${ip}:${p.containerPort}`, ip, port: p.containerPort, podKey, image: container.image ?? '' })),
  );
}

/**
 * Until when a deleted pod keeps serving: its grace period (spec.terminationGracePeriodSeconds,
 * 30 by default) counted from when we first saw it deleting. Kubelet keeps a real pod's process
 * running that long (SIGTERM, then SIGKILL at the end) while the endpoint controller takes the
 * pod out of its Services' endpoints at once. KWOK instead force-deletes the pod right away
 * (its deletionTimestamp shortened to now), so without this a proxy that still holds the
 * endpoint for a moment meets a closed port that no real pod would have. What we model is an
 * app that serves until it is killed (or sleeps in a preStop hook); one that exits at SIGTERM
 * would fail such requests in a real cluster too. Undefined: it was not serving.
 */
export function drainingUntil(pod: PodObject, deletingSince: number): number | undefined {
  if (endpointsOf(pod).length === 0) return undefined;
  return deletingSince + (pod.spec?.terminationGracePeriodSeconds ?? 30) * 1000;
}

/** The answer for one request: status, delay and body, from the pod's labels and annotations. */
export function answerFor(pod: PodObject, image: string): { status: number; delayMs: number; body: string } {
  const annotations = pod.metadata.annotations ?? {};
  const labels = pod.metadata.labels ?? {}; // a Rollout's pods carry Argo's label, a Deployment's the plain one
  const status = Number(annotations[STATUS_ANNOTATION] ?? 200);
  const delayMs = Number(annotations[LATENCY_ANNOTATION] ?? 0);
  const body = JSON.stringify({ pod: pod.metadata.name, rsHash: labels['rollouts-pod-template-hash'] ?? labels['pod-template-hash'] ?? '', image });
  return { status: Number.isInteger(status) && status >= 100 && status < 600 ? status : 200, delayMs: Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0, body };
}

/** Keeps one HTTP server per ip:port of every Ready pod. */
export class PodServer {
  private readonly pods = new Map<string, PodObject>();
  private readonly servers = new Map<string, { server: http.Server; endpoint: Endpoint }>();
  /** when we first saw each pod with a deletionTimestamp (KWOK shortens it to the deletion itself) */
  private readonly deletingSince = new Map<string, number>();

  private readonly log: (msg: string) => void;

  constructor(log: (msg: string) => void = () => {}) {
    this.log = log;
  }

  /** Brings the listeners in line with the pod's state (`undefined`: the pod is gone). */
  update(podKey: string, pod: PodObject | undefined, now = Date.now()): void {
    if (pod) this.pods.set(podKey, pod);
    else this.pods.delete(podKey);
    if (pod?.metadata.deletionTimestamp && !this.deletingSince.has(podKey)) this.deletingSince.set(podKey, now);
    if (!pod) this.deletingSince.delete(podKey);
    const wanted = new Map(pod ? endpointsOf(pod).map((e) => [e.key, e]) : []);
    for (const [key, { endpoint }] of this.servers) {
      // Another pod's listener on this address is a drained pod's: KWOK gave its IP away.
      if ((endpoint.podKey === podKey && !wanted.has(key)) || (endpoint.podKey !== podKey && wanted.has(key))) this.close(key);
    }
    for (const [key, endpoint] of wanted) if (!this.servers.has(key)) this.listen(endpoint);
  }

  /** The pod object is gone: a pod deleted within its grace period serves until the period ends. */
  deleted(podKey: string, last: PodObject, now = Date.now()): void {
    const until = drainingUntil(last, this.deletingSince.get(podKey) ?? now);
    if (until === undefined || until <= now) return this.update(podKey, undefined);
    this.pods.set(podKey, last);
    this.log(`draining ${podKey} until ${new Date(until).toISOString()}`);
    const timer = setTimeout(() => {
      if (this.pods.get(podKey) === last) this.update(podKey, undefined);
    }, until - now);
    timer.unref();
  }

  listening(): string[] {
    return [...this.servers.keys()];
  }

  closeAll(): void {
    for (const key of [...this.servers.keys()]) this.close(key);
  }

  private listen(endpoint: Endpoint): void {
    const server = http.createServer((req, res) => {
      const pod = this.pods.get(endpoint.podKey);
      if (!pod) return void res.destroy();
      const answer = answerFor(pod, endpoint.image);
      const send = () => res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
      if (answer.delayMs > 0) setTimeout(send, answer.delayMs);
      else send();
    });
    server.keepAliveTimeout = 60_000;
    server.on('error', (err) => this.log(`listen ${endpoint.key} (${endpoint.podKey}): ${err.message}`));
    server.listen(endpoint.port, endpoint.ip);
    this.servers.set(endpoint.key, { server, endpoint });
    this.log(`up ${endpoint.key} ${endpoint.podKey}`);
  }

  private close(key: string): void {
    const entry = this.servers.get(key);
    if (!entry) return;
    this.servers.delete(key);
    entry.server.close();
    entry.server.closeAllConnections();
    this.log(`down ${key} ${entry.endpoint.podKey}`);
  }
}

function main(): void {
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' }, verbose: { type: 'boolean', default: false } } });
  const client = KubeClient.fromKubeconfig({ path: values.kubeconfig, userAgent: 'rollway-e2e-pod-server' });
  const podServer = new PodServer(values.verbose ? (msg) => console.log(`${new Date().toISOString()} pod-server: ${msg}`) : () => {});
  const informer = new Informer<PodObject>(client, { group: '', version: 'v1', plural: 'pods' }, { log: () => {} });
  const keyOf = (pod: PodObject) => `${pod.metadata.namespace}/${pod.metadata.name}`;
  informer.on((event) => (event.type === 'deleted' ? podServer.deleted(keyOf(event.object), event.object) : podServer.update(keyOf(event.object), event.object)));
  informer.start();
  const stop = () => {
    informer.stop();
    podServer.closeAll();
    client.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log('pod-server: watching pods');
}

if (import.meta.main) main();
