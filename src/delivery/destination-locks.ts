import { MongoServerError, type Collection, type Db } from 'mongodb';
import type { Clock } from '../clock.ts';
import { Collections } from '../store/collections.ts';
import type { LockDocument } from '../store/sms-document.ts';

export type AcquireResult = 'acquired' | 'stolen' | 'busy';

const DUPLICATE_KEY = 11000;

export function isDuplicateKeyError(error: unknown): boolean {
  return error instanceof MongoServerError && error.code === DUPLICATE_KEY;
}

/**
 * The per-destination lock: a document in `locks` whose `_id` is the destKey. Uniqueness of
 * `_id` is the lock; `leaseUntil` bounds how long a dead holder can block the destination.
 */
export class DestinationLocks {
  readonly #locks: Collection<LockDocument>;
  readonly #clock: Clock;
  readonly #leaseMs: number;

  constructor(db: Db, clock: Clock, options: { leaseMs: number }) {
    this.#locks = db.collection<LockDocument>(Collections.locks);
    this.#clock = clock;
    this.#leaseMs = options.leaseMs;
  }

  /** Takes the destination for `owner`/`token`, stealing it only from a holder whose lease ran out. */
  async acquire(destKey: string, owner: string, token: string): Promise<AcquireResult> {
    for (let tries = 0; tries < 2; tries++) {
      const now = this.#clock.now();
      const mine: LockDocument = { _id: destKey, owner, token, at: now, leaseUntil: new Date(now.getTime() + this.#leaseMs) };
      try {
        // insert locks{_id: destKey, owner, token, at, leaseUntil}
        // returns: ack; duplicate key (E11000) = someone holds the destination.
        await this.#locks.insertOne(mine);
        return 'acquired';
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const held = await this.#locks.findOne({ _id: destKey });
      if (!held) continue; // released between our insert and our read: insert again
      if (held.leaseUntil.getTime() > now.getTime()) return 'busy';
      // filter: {_id: destKey, token: <holder's token>, leaseUntil: <holder's leaseUntil>} (an expired lease, unchanged since we read it)
      // update: {$set: {owner, token, at, leaseUntil}} (ours)
      // returns: matchedCount; 0 = the holder renewed or another worker stole it first: busy.
      const stolen = await this.#locks.updateOne(
        { _id: destKey, token: held.token, leaseUntil: held.leaseUntil },
        { $set: { owner, token, at: now, leaseUntil: mine.leaseUntil } },
      );
      return stolen.matchedCount === 1 ? 'stolen' : 'busy';
    }
    return 'busy';
  }

  /** Extends our lease; false means we lost the destination (stolen after expiry or cleaned up). */
  async renew(destKey: string, token: string): Promise<boolean> {
    // filter: {_id: destKey, token} (still ours)
    // update: {$set: {leaseUntil: now + lease}}
    // returns: matchedCount; 0 = the lease was lost: stop delivering to this destination.
    const result = await this.#locks.updateOne(
      { _id: destKey, token },
      { $set: { leaseUntil: new Date(this.#clock.now().getTime() + this.#leaseMs) } },
    );
    return result.matchedCount === 1;
  }

  /** Lets the destination go; false means it was no longer ours (nothing deleted). */
  async release(destKey: string, owner: string, token: string): Promise<boolean> {
    // filter: {_id: destKey, owner, token}
    // delete: the lock document
    // returns: deletedCount; 0 = someone took it over after our lease ran out; leave theirs alone.
    const result = await this.#locks.deleteOne({ _id: destKey, owner, token });
    return result.deletedCount === 1;
  }

  /**
   * Deletes locks whose lease ended more than `graceMs` ago. Safe with concurrent cleanups (each
   * document is deleted once) and with a renewing holder (a renewed lease no longer matches).
   */
  async releaseExpired(graceMs = 0): Promise<number> {
    // filter: {leaseUntil: {$lte: now - grace}}
    // delete: every such lock
    // returns: deletedCount; 0 = no stale destination lock.
    const cutoff = new Date(this.#clock.now().getTime() - graceMs);
    const result = await this.#locks.deleteMany({ leaseUntil: { $lte: cutoff } });
    return result.deletedCount;
  }
}
