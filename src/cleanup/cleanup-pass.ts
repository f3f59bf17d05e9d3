import type { Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { releaseExpiredDestinations } from '../protocol/destination-locks.ts';
import { releaseExpiredMessages } from '../protocol/message-leases.ts';
import { expireOverdue, markAttemptLimit, purgeFinal } from '../protocol/cleanup.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { Collections } from '../store/collections.ts';
import { finaliseUnanswered } from '../receipts/receipt-finaliser.ts';
import { type AttemptRecord, type LockDocument, type SmsDocument } from '../domain/sms-document.ts';

export interface CleanupOptions {
  /** Final messages older than this are deleted. Default 7 days. */
  retentionMs: number;
  /** Attempt limit (same as the deliverers'). */
  maxAttempts: number;
  /** How long after a lease ran out (on the database's clock) it is released. Default 2 s, as the deliverers'. */
  leaseGraceMs: number;
  historyLimit: number;
  /** `submitted` messages without a downstream receipt are finalised (stat UNKNOWN) this long after their validity. Default 10 min. */
  receiptGraceMs: number;
}

export const DEFAULT_CLEANUP_OPTIONS: Readonly<CleanupOptions> = Object.freeze({
  retentionMs: 7 * 24 * 3600_000,
  maxAttempts: 30,
  leaseGraceMs: 2000,
  historyLimit: 20,
  receiptGraceMs: 10 * 60_000,
});

export interface CleanupCounts {
  messageLocksReleased: number;
  destinationLocksReleased: number;
  expired: number;
  attemptLimit: number;
  purged: number;
  /** Finalised without a receipt from the downstream (receipts component). */
  unanswered: number;
}

/**
 * One cleanup pass. Every step is a single multi-document update or delete whose filter
 * re-checks the condition per document, so concurrent cleanups and renewing workers are safe.
 */
export class CleanupPass {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #options: CleanupOptions;
  readonly #by: string;
  readonly #metrics: Metrics;

  constructor(db: Db, clock: Clock, by: string, metrics: Metrics, options: Partial<CleanupOptions> = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#by = by;
    this.#metrics = metrics;
    this.#options = { ...DEFAULT_CLEANUP_OPTIONS, ...options };
  }

  async run(): Promise<CleanupCounts> {
    const { leaseGraceMs: graceMs, historyLimit } = this.#options;
    const dbNow = this.#clock.dbNow();
    const messageLocksReleased = await releaseExpiredMessages(this.#db.collection<SmsDocument>(Collections.sms), {
      by: this.#by,
      graceMs,
      historyLimit,
      now: this.#clock.now(),
      dbNow,
    });
    const destinationLocksReleased = await releaseExpiredDestinations(this.#db.collection<LockDocument>(Collections.locks), graceMs, dbNow);
    const expired = await this.expireOverdue();
    const attemptLimit = await this.markAttemptLimit();
    const unanswered = await finaliseUnanswered(this.#db, this.#clock, {
      by: this.#by,
      graceMs: this.#options.receiptGraceMs,
      historyLimit: this.#options.historyLimit,
    });
    const purged = await this.purgeFinal();
    this.#metrics.locksReleasedTotal.inc({ kind: 'message' }, messageLocksReleased);
    this.#metrics.locksReleasedTotal.inc({ kind: 'destination' }, destinationLocksReleased);
    this.#metrics.expiredTotal.inc(expired);
    this.#metrics.purgedTotal.inc(purged);
    return { messageLocksReleased, destinationLocksReleased, expired, attemptLimit, purged, unanswered };
  }

  #record(outcome: string): AttemptRecord {
    return { at: this.#clock.now(), by: this.#by, outcome };
  }

  /** Queued messages past validUntil become `expired` (the receipts component answers the ESME); see src/protocol/cleanup.ts. */
  async expireOverdue(): Promise<number> {
    const now = this.#clock.now();
    return expireOverdue(this.#db.collection<SmsDocument>(Collections.sms), now, this.#record('expired'), this.#options.historyLimit);
  }

  /** Queued messages that used up their attempts (e.g. after the limit was lowered) become undeliverable. */
  async markAttemptLimit(): Promise<number> {
    const now = this.#clock.now();
    return markAttemptLimit(
      this.#db.collection<SmsDocument>(Collections.sms),
      this.#options.maxAttempts,
      now,
      this.#record('attempt-limit'),
      this.#options.historyLimit,
    );
  }

  /** Deletes final messages whose final state is older than the retention. */
  async purgeFinal(): Promise<number> {
    const cutoff = new Date(this.#clock.now().getTime() - this.#options.retentionMs);
    return purgeFinal(this.#db.collection<SmsDocument>(Collections.sms), cutoff);
  }
}
