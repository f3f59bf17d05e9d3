import type { Collection, Db, ObjectId } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { holdersOf, renewDestinations } from '../protocol/destination-locks.ts';
import { renewMessages } from '../protocol/message-leases.ts';
import { Collections } from '../store/collections.ts';
import type { LockDocument, SmsDocument } from '../domain/sms-document.ts';

export interface LeaseManagerOptions {
  leaseMs: number;
  /** Where lost leases are counted (`smsc_leases_lost_total`). */
  metrics: Metrics;
  /** How often every held lease is renewed. Default lease/3: two renewals can fail before a lease is at risk. */
  renewEveryMs?: number;
  /**
   * A holder stops sending this long before its lease could end: the time between the check and
   * the bytes leaving, and a pause of the process in between. Default lease/10, at least 50 ms.
   */
  marginMs?: number;
}

/**
 * One destination a batch holds (with its message locks). It knows how long it is still safe to
 * send: from the start of its last successful renewal (or of its acquisition), on the monotonic
 * clock, plus the lease, minus the margin. The database's lease ends no earlier than that, so a
 * holder that checks `ensure` before each submit never sends once another worker may have taken
 * over, whatever the wall clocks say and however long the process was paused.
 */
export class Lease {
  readonly destKey: string;
  readonly token: string;
  /** The messages whose locks this batch holds; renewed with the destination. */
  messageIds: ObjectId[] = [];
  /** Set once outcomes are being written: messages then leave our lock one by one, which is not a loss. */
  writing = false;
  /** Messages (hex ids) whose outcome is being written now: leaving our lock is not a loss for them either. */
  readonly pendingWrites = new Set<string>();
  readonly #manager: LeaseManager;
  readonly #lost = new AbortController();
  #safeUntil: number;

  constructor(manager: LeaseManager, destKey: string, token: string, safeUntil: number) {
    this.#manager = manager;
    this.destKey = destKey;
    this.token = token;
    this.#safeUntil = safeUntil;
  }

  /** Aborted when the lease is known to be lost (taken over): the batch must stop. */
  get signal(): AbortSignal {
    return this.#lost.signal;
  }

  get lost(): boolean {
    return this.#lost.signal.aborted;
  }

  /** Monotonic ms after which nothing may be sent under this lease (until it is renewed). */
  get safeUntil(): number {
    return this.#safeUntil;
  }

  remainingMs(): number {
    return this.lost ? 0 : this.#safeUntil - this.#manager.clock.monotonic();
  }

  /**
   * True when at least `ms` of safe time is left, renewing first when less is. False: lost, or
   * the renewal failed (the database unreachable): the caller sends nothing more now.
   */
  async ensure(ms: number): Promise<boolean> {
    if (this.lost) return false;
    if (this.remainingMs() >= ms) return true;
    await this.#manager.renewNow();
    return !this.lost && this.remainingMs() >= ms;
  }

  /** @internal the manager's renewal succeeded: it started at `startedAt` (monotonic). */
  renewed(startedAt: number, leaseMs: number, marginMs: number): void {
    this.#safeUntil = Math.max(this.#safeUntil, startedAt + leaseMs - marginMs);
  }

  /** @internal */
  markLost(reason: string): void {
    if (!this.lost) this.#lost.abort(new Error(reason));
  }
}

/**
 * One lease manager per worker process: it holds every destination lease the process's batches
 * hold and renews them all in two commands (destination locks, message locks) on one timer, at a
 * third of the lease; a failed renewal is retried at once and then with a short backoff. A
 * renewal that matches fewer documents than held is read back, and each lease that is no longer
 * ours is marked lost.
 */
export class LeaseManager {
  readonly clock: Clock;
  readonly #locks: Collection<LockDocument>;
  readonly #sms: Collection<SmsDocument>;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #leaseMs: number;
  readonly #renewEveryMs: number;
  readonly #marginMs: number;
  readonly #held = new Set<Lease>();
  #timer: NodeJS.Timeout | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #failures = 0;
  #closed = false;
  readonly stats = { renewals: 0, failures: 0, lost: 0 };

  constructor(db: Db, clock: Clock, logger: Logger, options: LeaseManagerOptions) {
    this.clock = clock;
    this.#locks = db.collection<LockDocument>(Collections.locks);
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#logger = logger;
    this.#metrics = options.metrics;
    this.#leaseMs = options.leaseMs;
    this.#renewEveryMs = Math.max(
      1,
      Math.min(options.renewEveryMs ?? Math.floor(options.leaseMs / 3), Math.floor(options.leaseMs / 3) || 1),
    );
    this.#marginMs = options.marginMs ?? Math.max(50, Math.floor(options.leaseMs / 10));
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** How long after a renewal's start a holder may still send. */
  get safeSpanMs(): number {
    return this.#leaseMs - this.#marginMs;
  }

  start(): void {
    if (this.#timer || this.#closed) return;
    this.#timer = setInterval(() => {
      if (this.#held.size > 0) void this.renewNow();
    }, this.#renewEveryMs);
    this.#timer.unref?.();
  }

  /** Registers a destination just acquired; `startedAt`: monotonic time before the acquiring command was sent. */
  hold(destKey: string, token: string, startedAt: number): Lease {
    const lease = new Lease(this, destKey, token, startedAt + this.#leaseMs - this.#marginMs);
    this.#held.add(lease);
    return lease;
  }

  /** Stops renewing it (after its release, or when it was lost). */
  drop(lease: Lease): void {
    this.#held.delete(lease);
  }

  /** Renews every held lease now (a renewal already running is shared). */
  renewNow(): Promise<void> {
    this.#running ??= this.#renew().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #renew(): Promise<void> {
    const leases = [...this.#held].filter((lease) => !lease.lost);
    if (leases.length === 0 || this.#closed) return;
    const startedAt = this.clock.monotonic();
    const dbNow = this.clock.dbNow();
    try {
      const held = leases.map((lease) => ({ destKey: lease.destKey, token: lease.token }));
      const matched = await renewDestinations(this.#locks, held, this.#leaseMs, dbNow);
      const lost = new Map<Lease, string>();
      if (matched < leases.length) {
        const holders = await holdersOf(
          this.#locks,
          held.map((h) => h.destKey),
        );
        for (const lease of leases) if (holders.get(lease.destKey) !== lease.token) lost.set(lease, 'destination lease lost');
      }
      const live = leases.filter((lease) => !lost.has(lease));
      const ids = live.flatMap((lease) => lease.messageIds);
      const renewedMessages = await renewMessages(
        this.#sms,
        ids,
        live.map((lease) => lease.token),
        this.#leaseMs,
        dbNow,
      );
      if (renewedMessages < ids.length) {
        const docs = await this.#sms.find({ _id: { $in: ids } }, { projection: { 'lock.token': 1 } }).toArray();
        const tokenOf = new Map(docs.map((doc) => [doc._id.toHexString(), doc.lock?.token]));
        for (const lease of live) {
          if (lease.writing) continue;
          const taken = lease.messageIds.some(
            (id) => !lease.pendingWrites.has(id.toHexString()) && tokenOf.get(id.toHexString()) !== lease.token,
          );
          if (taken) lost.set(lease, 'message lease lost');
        }
      }
      for (const lease of leases) {
        const reason = lost.get(lease);
        if (reason) {
          this.stats.lost++;
          this.#metrics.leasesLostTotal.inc({ kind: reason.startsWith('destination') ? 'destination' : 'message' });
          this.#logger.warn({ reason }, 'lease lost: the batch stops sending');
          lease.markLost(reason);
        } else {
          lease.renewed(startedAt, this.#leaseMs, this.#marginMs);
        }
      }
      this.stats.renewals++;
      this.#failures = 0;
    } catch (error) {
      this.stats.failures++;
      this.#failures++;
      this.#logger.warn({ err: error, failures: this.#failures }, 'lease renewal failed; retrying');
      this.#scheduleRetry();
    }
  }

  /** A failed renewal is tried again at once-ish, backing off to a third of the renewal period. */
  #scheduleRetry(): void {
    if (this.#retryTimer || this.#closed) return;
    const delay = Math.min(25 * 2 ** Math.min(this.#failures - 1, 8), Math.max(25, Math.floor(this.#renewEveryMs / 3)));
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      if (this.#held.size > 0) void this.renewNow();
    }, delay);
    this.#retryTimer.unref?.();
  }

  /** Stops renewing (the leases then run out by themselves and others may take over). Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    clearTimeout(this.#retryTimer);
    await this.#running;
  }
}
