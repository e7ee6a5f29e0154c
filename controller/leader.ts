// Leader election on a coordination.k8s.io Lease, so two controller replicas never both write.
// Fencing by time: a leader that cannot renew within renewDeadline stops writing, and that
// deadline is shorter than the lease duration a successor must wait out before taking over.
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import { isConflict, isNotFound, type KubeClient, type KubeObject, type ResourceRef } from '../kube/client.ts';

interface Lease extends KubeObject {
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity?: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  log: (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields: Record<string, unknown>) => void;
  now?: () => number;
}

/** MicroTime with microseconds, as the API server expects for Lease times. */
const microTime = (ms: number): string => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export class LeaderElector {
  readonly identity: string;
  private readonly options: Required<Omit<LeaderElectionOptions, 'identity'>>;
  private readonly ref: ResourceRef;
  private leading = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(options: LeaderElectionOptions) {
    this.identity = options.identity ?? `${os.hostname()}_${randomBytes(4).toString('hex')}`;
    this.options = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000, now: Date.now, ...options };
    if (this.options.renewDeadlineMs >= this.options.leaseDurationMs) throw new Error('leader election: renew deadline must be shorter than the lease duration');
    this.ref = { group: 'coordination.k8s.io', version: 'v1', plural: 'leases', namespace: options.namespace, name: options.name };
  }

  /** True while this process holds the lease and renewed it within renewDeadline. */
  isLeader(): boolean {
    return this.leading && this.options.now() - this.lastRenew < this.options.renewDeadlineMs;
  }

  /**
   * Resolves once the lease is ours; then keeps renewing. `onLost` runs once if leadership is
   * lost (renew failed past the deadline, or another holder took the lease): stop writing.
   */
  async acquire(onLost: () => void): Promise<void> {
    for (;;) {
      if (this.stopped) throw new Error('leader election stopped');
      if (await this.tryAcquireOrRenew()) break;
      await new Promise((resolve) => setTimeout(resolve, this.options.retryPeriodMs));
    }
    this.options.log('info', 'became leader', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.identity });
    const renewLoop = async (): Promise<void> => {
      if (this.stopped) return;
      const ok = await this.tryAcquireOrRenew().catch(() => false);
      if (!ok && this.options.now() - this.lastRenew >= this.options.renewDeadlineMs) {
        this.leading = false;
        this.options.log('error', 'lost leadership: stopping all writes', { identity: this.identity });
        onLost();
        return;
      }
      this.timer = setTimeout(() => void renewLoop(), this.options.retryPeriodMs);
    };
    this.timer = setTimeout(() => void renewLoop(), this.options.retryPeriodMs);
  }

  /** Gives the lease up (on a clean shutdown) so a successor need not wait for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    try {
      const lease = await this.options.client.get<Lease>(this.ref);
      if (lease.spec.holderIdentity !== this.identity) return;
      await this.options.client.replace(this.ref, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.options.now()) } });
    } catch {
      // the lease expires by itself
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { client, now } = this.options;
    const t = now();
    const durationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    let lease: Lease | undefined;
    try {
      lease = await client.get<Lease>(this.ref);
    } catch (err) {
      if (!isNotFound(err)) return false;
    }
    try {
      if (!lease) {
        await client.create(this.ref, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.ref.name!, namespace: this.ref.namespace! },
          spec: { holderIdentity: this.identity, leaseDurationSeconds: durationSeconds, acquireTime: microTime(t), renewTime: microTime(t), leaseTransitions: 0 },
        });
      } else {
        const holder = lease.spec.holderIdentity ?? '';
        const renewed = lease.spec.renewTime ? Date.parse(lease.spec.renewTime) : 0;
        const expires = renewed + (lease.spec.leaseDurationSeconds ?? durationSeconds) * 1000;
        if (holder !== '' && holder !== this.identity && t < expires) {
          this.leading = false;
          return false;
        }
        const takingOver = holder !== this.identity;
        // PUT with the resourceVersion we read: two candidates cannot both win.
        await client.replace(this.ref, {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: this.identity,
            leaseDurationSeconds: durationSeconds,
            renewTime: microTime(t),
            ...(takingOver ? { acquireTime: microTime(t), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 } : {}),
          },
        });
      }
      this.leading = true;
      this.lastRenew = t;
      return true;
    } catch (err) {
      if (isConflict(err) || (err instanceof Error && /409|AlreadyExists/.test(err.message))) return false;
      this.options.log('warn', 'lease update failed', { error: String(err) });
      return false;
    }
  }
}
