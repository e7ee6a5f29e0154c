// The notification controller: it watches Rollouts through the controller's informer (never
// inside a reconcile), claims each due notification in the Rollout's notified annotation before
// sending it, and marks it sent afterwards. A claim survives a restart or a change of leader: the
// next leader sends what is still pending, so each notification goes out once (a crash in the
// instant between a send and its mark is the only way to send one twice).
import { Redactor } from '../analysis/redact.ts';
import { KubeApiError, type KubeClient } from '../kube/client.ts';
import type { PlannedEvent } from '../api/views.ts';
// The parser (YAML, Liquid) and the senders (SMTP) are imported when first needed: a controller
// whose Rollouts subscribe to nothing never loads them (about 110 modules off its start).
import type { NotificationConfig, NotificationTemplate } from './config.ts';
import { CONFIGMAP_NAME, SECRET_NAME } from './names.ts';
import { DeliveryQueue } from './queue.ts';
import { evaluateSubscriptions, NOTIFIED_ANNOTATION, readRecord, SUBSCRIBE_PREFIXES, type NotifiedRecord, type RecordEntry, type RolloutLike } from './triggers.ts';

type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
type RolloutObj = RolloutLike & { apiVersion?: string; kind?: string; metadata: RolloutLike['metadata'] & { uid?: string | undefined; resourceVersion?: string | undefined } };

export interface NotifierOptions {
  client: KubeClient;
  /** where rollway-notification-configmap and -secret are read */
  namespace: string;
  /** also read them in each Rollout's namespace, on top of the controller's (self-service) */
  selfService?: boolean;
  log: Log;
  /** the informer's copy of a Rollout */
  get: (namespace: string, name: string) => RolloutObj | undefined;
  recordEvent: (rollout: RolloutObj, event: PlannedEvent) => Promise<unknown>;
  canWrite?: () => boolean;
  queue?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  configTtlMs?: number;
}

interface Job {
  id: string;
  namespace: string;
  name: string;
  key: string;
  /** what the record said when the job was queued (for messages about it) */
  entry: RecordEntry;
}

const ROLLOUT_REF = { group: 'rollway.dev', version: 'v1alpha1', plural: 'rollouts' };

export class Notifier {
  readonly stats = { sent: new Map<string, number>(), failed: new Map<string, number>() };
  private readonly o: NotifierOptions;
  private readonly queue: DeliveryQueue<Job>;
  private readonly configs = new Map<string, { at: number; config: NotificationConfig }>();
  private readonly scheduled = new Set<string>();
  private readonly issuesSaid = new Map<string, string>();
  /** per Rollout, its annotation writes one after another */
  private readonly writes = new Map<string, Promise<unknown>>();
  private stopped = false;

  constructor(options: NotifierOptions) {
    this.o = options;
    this.queue = new DeliveryQueue<Job>({ ...options.queue, deliver: (job) => this.deliver(job), groupOf: (job) => `${job.namespace}/${job.name}`, onFailure: (job, err, attempt, final) => this.failed(job, err, attempt, final) });
  }

  /** A Rollout changed: evaluate its subscriptions soon, once for a burst of changes. */
  observe(rollout: RolloutLike): void {
    const key = `${rollout.metadata.namespace ?? ''}/${rollout.metadata.name ?? ''}`;
    if (this.stopped || this.scheduled.has(key)) return;
    // Rollouts nobody subscribed cost nothing: not even a read of the configuration.
    const annotations = Object.keys(rollout.metadata.annotations ?? {});
    if (!annotations.some((a) => a === NOTIFIED_ANNOTATION || SUBSCRIBE_PREFIXES.some((p) => a.startsWith(p)))) return;
    this.scheduled.add(key);
    setImmediate(() => {
      this.scheduled.delete(key);
      void this.evaluate(rollout.metadata.namespace ?? '', rollout.metadata.name ?? '').catch((err: unknown) => this.o.log('warn', 'notification evaluation failed', { rollout: key, error: String(err) }));
    });
  }

  stop(): void {
    this.stopped = true;
    this.queue.stop();
  }

  drained(): Promise<void> {
    return this.queue.drained();
  }

  /** The configuration for Rollouts of a namespace (cached a few seconds). */
  async config(namespace: string): Promise<NotificationConfig> {
    const cached = this.configs.get(namespace);
    if (cached && Date.now() - cached.at < (this.o.configTtlMs ?? 3000)) return cached.config;
    const namespaces = this.o.selfService && namespace !== this.o.namespace ? [this.o.namespace, namespace] : [this.o.namespace];
    const data: Record<string, string> = {};
    const secret: Record<string, string> = {};
    for (const ns of namespaces) {
      const loaded = await loadConfigObjects(this.o.client, ns);
      Object.assign(data, loaded.data);
      Object.assign(secret, loaded.secret);
    }
    const { parseConfig } = await import('./config.ts');
    const { config, issues } = parseConfig(data, secret);
    // Said when the problems change, not at every reload.
    const said = JSON.stringify(issues);
    if (said !== this.issuesSaid.get(namespace)) for (const issue of issues) this.o.log('warn', `notification configuration: ${issue.key} ${issue.message}`, { configmap: CONFIGMAP_NAME });
    this.issuesSaid.set(namespace, said);
    this.configs.set(namespace, { at: Date.now(), config });
    return config;
  }

  private async evaluate(namespace: string, name: string): Promise<void> {
    const rollout = this.o.get(namespace, name);
    if (!rollout || (this.o.canWrite && !this.o.canWrite())) return;
    const config = await this.config(namespace);
    const result = evaluateSubscriptions(rollout, config, new Date());
    for (const problem of result.problems) this.o.log('warn', `notifications: ${problem}`, { rollout: `${namespace}/${name}` });
    const before = readRecord(rollout.metadata.annotations);
    let record: NotifiedRecord = before;
    if (JSON.stringify(result.record) !== JSON.stringify(before)) {
      await this.pinRevision(rollout, before, result.record);
      // Claimed against the copy evaluated: a newer Rollout (maybe our own claim) re-evaluates.
      const written = await this.writeRecord(rollout, result.record).catch((err: unknown) => {
        if (err instanceof KubeApiError && (err.isConflict || err.isNotFound)) return false;
        throw err;
      });
      if (!written) return;
      record = result.record;
    }
    for (const [key, entry] of Object.entries(record)) if (entry.state === 'pending') this.queue.add({ id: `${namespace}/${name}/${key}`, namespace, name, key, entry });
  }

  /** Newly claimed entries carry the revision they are about (read once, only when one fires). */
  private async pinRevision(rollout: RolloutObj, before: NotifiedRecord, after: NotifiedRecord): Promise<void> {
    const fresh = Object.entries(after).filter(([key, entry]) => entry.state === 'pending' && before[key]?.at !== entry.at);
    if (fresh.length === 0) return;
    const revision = await revisionOf(this.o.client, rollout);
    for (const [, entry] of fresh) entry.revision = revision;
  }

  private writeRecord(rollout: RolloutObj, record: NotifiedRecord): Promise<boolean> {
    const patch = { metadata: { resourceVersion: rollout.metadata.resourceVersion, annotations: { [NOTIFIED_ANNOTATION]: JSON.stringify(record) } } };
    return this.serial(`${rollout.metadata.namespace}/${rollout.metadata.name}`, async () => {
      await this.o.client.patch({ ...ROLLOUT_REF, namespace: rollout.metadata.namespace, name: rollout.metadata.name }, 'merge', patch);
      return true;
    });
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const run = (this.writes.get(key) ?? Promise.resolve()).catch(() => undefined).then(fn);
    this.writes.set(key, run);
    return run;
  }

  private async deliver(job: Job): Promise<void> {
    if (this.o.canWrite && !this.o.canWrite()) return; // a deposed leader leaves pending ones to the next
    const rollout = (await this.o.client.get({ ...ROLLOUT_REF, namespace: job.namespace, name: job.name })) as RolloutObj;
    const entry = readRecord(rollout.metadata.annotations)[job.key];
    if (entry?.state !== 'pending') return; // sent meanwhile (by a previous leader), or forgotten
    const config = await this.config(job.namespace);
    const redactor = new Redactor(config.secretValues);
    const { send } = await import('./services.ts');
    try {
      for (const message of await this.messages(rollout, config, entry)) await send(config.services.get(entry.service) as NonNullable<ReturnType<typeof config.services.get>>, message, entry.recipient);
    } catch (err) {
      // eslint-disable-next-line preserve-caught-error -- the cause could carry Secret values; only the redacted text leaves
      throw new Error(redactor.text(err instanceof Error ? err.message : String(err)));
    }
    count(this.stats.sent, entry.service);
    await this.mark(job, 'sent');
    this.o.log('info', 'notification sent', { rollout: `${job.namespace}/${job.name}`, trigger: entry.trigger, service: entry.service });
  }

  /** The rendered templates of the entry's trigger condition. */
  async messages(rollout: RolloutObj, config: NotificationConfig, entry: Pick<RecordEntry, 'trigger' | 'condition' | 'service' | 'recipient' | 'revision'>): Promise<NotificationTemplate[]> {
    const service = config.services.get(entry.service);
    const condition = config.triggers.get(entry.trigger)?.[entry.condition];
    if (!service || !condition) throw new Error(`the ${!service ? `service "${entry.service}"` : `trigger "${entry.trigger}"`} is no longer configured`);
    const revision = entry.revision ?? (await revisionOf(this.o.client, rollout));
    const { renderTree, valuesFor } = await import('./render.ts');
    const values = valuesFor(rollout as Parameters<typeof valuesFor>[0], config.context, { type: service.type, recipient: entry.recipient, revision });
    const out: NotificationTemplate[] = [];
    for (const name of condition.send) {
      const template = config.templates.get(name);
      if (!template) throw new Error(`template "${name}" is not configured`);
      out.push(await renderTree(template, values));
    }
    return out;
  }

  /** Records the outcome on the Rollout, from a fresh copy, retrying write conflicts. */
  private async mark(job: Job, state: 'sent' | 'failed'): Promise<void> {
    await this.serial(`${job.namespace}/${job.name}`, async () => {
      for (let attempt = 0; ; attempt++) {
        const fresh = (await this.o.client.get({ ...ROLLOUT_REF, namespace: job.namespace, name: job.name })) as RolloutObj;
        const record = readRecord(fresh.metadata.annotations);
        const entry = record[job.key];
        if (!entry) return;
        record[job.key] = { ...entry, state, at: new Date().toISOString() };
        try {
          await this.o.client.patch({ ...ROLLOUT_REF, namespace: job.namespace, name: job.name }, 'merge', { metadata: { resourceVersion: fresh.metadata.resourceVersion, annotations: { [NOTIFIED_ANNOTATION]: JSON.stringify(record) } } });
          return;
        } catch (err) {
          if (!(err instanceof KubeApiError && err.isConflict) || attempt >= 10) throw err;
        }
      }
    });
  }

  private async failed(job: Job, err: unknown, attempt: number, final: boolean): Promise<void> {
    const entry = this.o.get(job.namespace, job.name);
    const { trigger, service, recipient } = job.entry;
    count(this.stats.failed, service);
    const what = `${trigger} to ${service}${recipient ? ` (${recipient})` : ''}`;
    const message = `Notification ${what} failed (attempt ${attempt}): ${err instanceof Error ? err.message : String(err)}${final ? '; giving up' : '; will retry'}`;
    this.o.log('warn', message, { rollout: `${job.namespace}/${job.name}` });
    // A Warning Event for the first failure and for giving up, not for every retry in between.
    if (entry && (attempt === 1 || final)) await this.o.recordEvent(entry, { type: 'Warning', reason: 'NotificationFailed', message });
    if (final) await this.mark(job, 'failed').catch(() => undefined);
  }
}

function count(map: Map<string, number>, key: string): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

/** The ConfigMap's data and the Secret's decoded data in a namespace (empty when absent). */
export async function loadConfigObjects(client: KubeClient, namespace: string): Promise<{ data: Record<string, string>; secret: Record<string, string> }> {
  const cm = await client.getOptional<{ metadata: object; data?: Record<string, string> }>({ group: '', version: 'v1', plural: 'configmaps', namespace, name: CONFIGMAP_NAME });
  const sec = await client.getOptional<{ metadata: object; data?: Record<string, string> }>({ group: '', version: 'v1', plural: 'secrets', namespace, name: SECRET_NAME });
  const secret = Object.fromEntries(Object.entries(sec?.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
  return { data: cm?.data ?? {}, secret };
}

/** The revision of the Rollout's current pod template: its ReplicaSet carries it (rollway.dev/revision). */
export async function revisionOf(client: KubeClient, rollout: RolloutObj): Promise<string | undefined> {
  const hash = (rollout.status as { currentPodHash?: string } | undefined)?.currentPodHash;
  if (!hash || !rollout.metadata.namespace) return undefined;
  const list = await client.list({ group: 'apps', version: 'v1', plural: 'replicasets', namespace: rollout.metadata.namespace }, { labelSelector: `rollouts-pod-template-hash=${hash}` }).catch(() => undefined);
  const rs = list?.items.find((r) => r.metadata.ownerReferences?.some((o) => o.uid === rollout.metadata.uid));
  return rs?.metadata.annotations?.['rollway.dev/revision'];
}
