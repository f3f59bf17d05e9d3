import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { Collections } from '../store/collections.ts';
import { isDuplicateKeyError } from '../store/mongo-errors.ts';

/** The jobs that run under a lease; names are `_id`s operators see in `leases`. */
export const LeaseNames = Object.freeze({
  /** Publishes the smsc_queue_* metrics for the deployment (src/observability/queue-depth-sampler.ts). */
  queueSampler: 'queue-sampler',
} as const);

/** A `leases` document: the process that runs job `_id` until `leaseUntil`. */
export interface LeaseDocument {
  _id: string;
  /** Readable holder (its node name), for `smsc status` and mongosh. */
  owner: string;
  /** Unique per process, so two processes with one node name never both hold it. */
  token: string;
  since: Date;
  leaseUntil: Date;
}

export interface SingletonLeaseOptions {
  /** The job: the lease document's `_id`, e.g. `queue-sampler`. */
  name: string;
  owner: string;
  /** How long a holder keeps the job without renewing; a holder renews more often than this. */
  leaseMs: number;
  clock: Clock;
}

/**
 * A job that one process of the deployment runs at a time (the queue sampler): every candidate
 * calls hold() on its own period; the holder renews its lease, the others take over once it ran
 * out (a holder that stopped or lost MongoDB). Lease times are this host's clock: a skew between
 * hosts can let two processes run the job for as long as the skew, which is harmless for a job
 * that only reads (that is what it is for; a job that writes needs fencing).
 */
export class SingletonLease {
  readonly #leases: Collection<LeaseDocument>;
  readonly #options: SingletonLeaseOptions;
  readonly #token = randomUUID();
  #since: Date | undefined;

  constructor(db: Db, options: SingletonLeaseOptions) {
    this.#leases = db.collection<LeaseDocument>(Collections.leases);
    this.#options = options;
  }

  /** Whether the last hold() got the lease. */
  get held(): boolean {
    return this.#since !== undefined;
  }

  /** Takes or renews the lease; false when another process holds a live one. */
  async hold(): Promise<boolean> {
    const { name, owner, leaseMs, clock } = this.#options;
    const now = clock.now();
    const since = this.#since ?? now;
    try {
      // filter: {_id: name, $or: [{token: ours}, {leaseUntil <= now}]} (ours, or one that ran out)
      // update: {$set: {owner, token, since, leaseUntil: now + leaseMs}}, upsert (the first candidate creates it)
      // returns: ack; duplicate key (E11000) = the filter missed because another process holds a
      //          live lease, and the upsert's insert met its document: not ours.
      // safe:    one single-document update decides between candidates: of racing ones, one
      //          matches (or inserts), the others meet the duplicate `_id`. `now` is this host's
      //          clock, so a skew lets two hold it for as long as the skew (see the class note:
      //          only for jobs that read).
      await this.#leases.updateOne(
        { _id: name, $or: [{ token: this.#token }, { leaseUntil: { $lte: now } }] },
        { $set: { owner, token: this.#token, since, leaseUntil: new Date(now.getTime() + leaseMs) } },
        { upsert: true },
      );
      this.#since = since;
      return true;
    } catch (error) {
      if (!isDuplicateKeyError(error)) throw error;
      this.#since = undefined;
      return false;
    }
  }

  /** Lets another candidate take over at once rather than after the lease; idempotent. */
  async release(): Promise<void> {
    if (!this.#since) return;
    this.#since = undefined;
    // filter:  {_id: name, token: ours}
    // delete:  the lease; 0 deleted = it was no longer ours (taken over): leave it.
    // safe:    fenced on the token: a successor's lease is never deleted; a repeat deletes nothing.
    await this.#leases.deleteOne({ _id: this.#options.name, token: this.#token });
  }

  /** Who holds the job now, if anyone (read-only, for status). */
  static async holder(db: Db, name: string, now: Date): Promise<LeaseDocument | null> {
    return db.collection<LeaseDocument>(Collections.leases).findOne({ _id: name, leaseUntil: { $gt: now } });
  }
}
