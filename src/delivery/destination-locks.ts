import type { Collection, Db } from 'mongodb';
import type { Clock } from '../clock.ts';
import { Collections } from '../store/collections.ts';
import { documentWriteErrors, DUPLICATE_KEY, isDuplicateKeyError, type DocumentWriteError } from '../store/mongo-errors.ts';
import type { LockDocument } from '../store/sms-document.ts';

export type AcquireResult = 'acquired' | 'stolen' | 'busy';

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
      const stolen = await this.#stealExpired(destKey, owner, token, now, mine.leaseUntil);
      if (stolen !== 'gone') return stolen;
    }
    return 'busy';
  }

  /**
   * `acquire` for several destinations at once (different lanes of one process, different
   * destKeys): one unordered insert of all their lock documents; each duplicate key then goes
   * its own way as in `acquire`. Answers each request in order: its result, or an Error.
   */
  async acquireMany(requests: readonly { destKey: string; owner: string; token: string }[]): Promise<(AcquireResult | Error)[]> {
    const now = this.#clock.now();
    const leaseUntil = new Date(now.getTime() + this.#leaseMs);
    const results: (AcquireResult | Error)[] = requests.map(() => 'acquired');
    let failed: DocumentWriteError[] = [];
    try {
      // insert (each) locks{_id: destKey, owner, token, at, leaseUntil}, unordered
      // returns: ack; a write error on document i with duplicate key (E11000) = someone holds that destination.
      await this.#locks.insertMany(
        requests.map(({ destKey, owner, token }) => ({ _id: destKey, owner, token, at: now, leaseUntil })),
        { ordered: false },
      );
    } catch (error) {
      // Not per-document write errors (network, or the write concern not met): as insertOne would, fail.
      failed = documentWriteErrors(error) ?? [];
      if (failed.length === 0) throw error;
    }
    const duplicates: number[] = [];
    for (const { index: i, code, errmsg } of failed) {
      if (code === DUPLICATE_KEY) duplicates.push(i);
      else results[i] = new Error(`lock insert for a destination failed: ${errmsg ?? 'write error'}`);
    }
    if (duplicates.length === 0) return results;
    // One read of every holder that beat us (usually all live: busy); only expired ones go on to the steal CAS.
    const holders = new Map(
      (await this.#locks.find({ _id: { $in: duplicates.map((i) => requests[i].destKey) } }).toArray()).map((held) => [held._id, held]),
    );
    await Promise.all(
      duplicates.map(async (i) => {
        const { destKey, owner, token } = requests[i];
        const held = holders.get(destKey);
        try {
          if (!held) results[i] = await this.acquire(destKey, owner, token); // released meanwhile: insert again
          else if (held.leaseUntil.getTime() > now.getTime()) results[i] = 'busy';
          else results[i] = await this.#steal(held, owner, token, now, leaseUntil);
        } catch (stealError) {
          results[i] = stealError instanceof Error ? stealError : new Error(String(stealError));
        }
      }),
    );
    return results;
  }

  /** After a duplicate key: 'gone' when the holder let go meanwhile (insert again). */
  async #stealExpired(destKey: string, owner: string, token: string, now: Date, leaseUntil: Date): Promise<AcquireResult | 'gone'> {
    const held = await this.#locks.findOne({ _id: destKey });
    if (!held) return 'gone'; // released between our insert and our read: insert again
    if (held.leaseUntil.getTime() > now.getTime()) return 'busy';
    return this.#steal(held, owner, token, now, leaseUntil);
  }

  async #steal(held: LockDocument, owner: string, token: string, now: Date, leaseUntil: Date): Promise<AcquireResult> {
    const destKey = held._id;
    // filter: {_id: destKey, token: <holder's token>, leaseUntil: <holder's leaseUntil>} (an expired lease, unchanged since we read it)
    // update: {$set: {owner, token, at, leaseUntil}} (ours)
    // returns: matchedCount; 0 = the holder renewed or another worker stole it first: busy.
    const stolen = await this.#locks.updateOne(
      { _id: destKey, token: held.token, leaseUntil: held.leaseUntil },
      { $set: { owner, token, at: now, leaseUntil } },
    );
    return stolen.matchedCount === 1 ? 'stolen' : 'busy';
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
