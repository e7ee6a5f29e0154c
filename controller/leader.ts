// Leader election on a coordination.k8s.io Lease, so two controller replicas never both write.
// Fencing by time: a leader that cannot renew within renewDeadline stops writing, and that
// deadline is shorter than the lease duration a successor must wait out before taking over.
// Every duration is measured on this process's own clock: a candidate judges a lease expired
// when it has not seen the lease change for leaseDuration, never by the holder's renewTime, so
// clocks that disagree between nodes cannot make two leaders.
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

/** ours: held and renewed; held-by-other: another live holder; unreachable: could not tell (retry) */
type LeaseOutcome = 'ours' | 'held-by-other' | 'unreachable';

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
  /** the renewal in flight, which release() waits out: it would otherwise undo or fail the release */
  private renewal: Promise<LeaseOutcome> | undefined;
  /** the lease record last read and when (our clock) it was first seen so */
  private observed: { record: string; at: number } | undefined;

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
   * Resolves once the lease is ours; then keeps renewing. A renewal that fails past renewDeadline
   * (the API server is down or slow) only stops writes: the elector keeps trying and, when the
   * lease is ours again, calls `onRegained`. `onDeposed` runs once another holder is seen with a
   * live lease: then this process must not write again.
   */
  async acquire(onDeposed: () => void, onRegained: () => void = () => {}): Promise<void> {
    for (;;) {
      if (this.stopped) throw new Error('leader election stopped');
      if ((await this.tryAcquireOrRenew()) === 'ours') break;
      await this.waitForRelease(this.options.retryPeriodMs);
    }
    this.options.log('info', 'became leader', { lease: `${this.options.namespace}/${this.options.name}`, identity: this.identity });
    let lapsed = false;
    const renewLoop = async (): Promise<void> => {
      if (this.stopped) return;
      // Writes may have stopped without a failed renewal too: a renewal slower than the deadline.
      const wasWriting = this.isLeader();
      this.renewal = this.tryAcquireOrRenew().catch((): LeaseOutcome => 'unreachable');
      const outcome = await this.renewal;
      if (this.stopped) return;
      if (outcome === 'held-by-other') {
        this.leading = false;
        this.options.log('error', 'deposed: another controller holds the lease; stopping all writes', { identity: this.identity });
        onDeposed();
        return;
      }
      if (outcome === 'ours' && (lapsed || !wasWriting)) {
        lapsed = false;
        this.options.log('info', 'lease renewed again: writes resume', { identity: this.identity });
        onRegained();
      } else if (outcome === 'unreachable' && !lapsed && this.options.now() - this.lastRenew >= this.options.renewDeadlineMs) {
        lapsed = true;
        this.leading = false;
        this.options.log('warn', 'lease not renewed within the deadline: writes stop until it is renewed', { identity: this.identity });
      }
      this.timer = setTimeout(() => void renewLoop(), this.options.retryPeriodMs);
    };
    this.timer = setTimeout(() => void renewLoop(), this.options.retryPeriodMs);
  }

  /**
   * A standby's wait between tries: the retry period, cut short when a watch on the Lease shows it
   * released (a leader stopping cleanly), so the standby takes over at once instead of up to a
   * retry period later. Without a watch (it failed, or a test client lacks one) it just waits.
   */
  private async waitForRelease(ms: number): Promise<void> {
    const abort = new AbortController();
    const waited = new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      abort.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    const { client } = this.options;
    if (typeof client.watch === 'function') {
      const query = { fieldSelector: `metadata.name=${this.options.name}` };
      client
        .watch<Lease>(this.ref, query, (event) => {
          const released = (event.type === 'ADDED' || event.type === 'MODIFIED') && (event.object.spec?.holderIdentity ?? '') === '';
          if (released || event.type === 'DELETED') abort.abort();
        }, { signal: abort.signal })
        .catch(() => {}); // the timer still ends the wait
    }
    await waited;
    abort.abort();
  }

  /** Gives the lease up (on a clean shutdown) so a successor need not wait for it to expire. */
  async release(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    // A renewal in flight would land after our write (and hold the lease again) or make it conflict.
    await this.renewal;
    if (!this.leading) return;
    this.leading = false;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const lease = await this.options.client.get<Lease>(this.ref);
        if (lease.spec.holderIdentity !== this.identity) return;
        await this.options.client.replace(this.ref, { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.options.now()) } });
        return;
      } catch (err) {
        if (!isConflict(err)) return; // the lease expires by itself
      }
    }
  }

  /** When (our clock) the lease was first seen as it is now: a holder that renews changes it. */
  private observe(lease: Lease, now: number): number {
    const { holderIdentity, renewTime, acquireTime, leaseDurationSeconds, leaseTransitions } = lease.spec;
    const record = JSON.stringify([holderIdentity, renewTime, acquireTime, leaseDurationSeconds, leaseTransitions]);
    if (this.observed?.record !== record) this.observed = { record, at: now };
    return this.observed.at;
  }

  private async tryAcquireOrRenew(): Promise<LeaseOutcome> {
    const { client, now } = this.options;
    const t = now();
    const durationSeconds = Math.ceil(this.options.leaseDurationMs / 1000);
    let lease: Lease | undefined;
    try {
      lease = await client.get<Lease>(this.ref);
    } catch (err) {
      if (!isNotFound(err)) return 'unreachable';
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
        const expires = this.observe(lease, t) + (lease.spec.leaseDurationSeconds ?? durationSeconds) * 1000;
        if (holder !== '' && holder !== this.identity && t < expires) {
          this.leading = false;
          return 'held-by-other';
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
      return 'ours';
    } catch (err) {
      // Someone else wrote the lease between our read and our write: read it again next round.
      if (isConflict(err) || (err instanceof Error && /409|AlreadyExists/.test(err.message))) return 'unreachable';
      this.options.log('warn', 'lease update failed', { error: String(err) });
      return 'unreachable';
    }
  }
}
