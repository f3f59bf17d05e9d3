import type { Collection, Db, Document, Filter, ObjectId } from 'mongodb';
import type { Clock } from '../clock.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type AttemptRecord, type LeaseLock, type SmsDocument } from '../store/sms-document.ts';

export interface MessageLocksOptions {
  leaseMs: number;
  historyLimit: number;
  /**
   * Narrows which messages this kind of worker serves, e.g. `{'target.kind': 'connector'}` for
   * deliverers or ESME-bound traffic for inserters. Added to every claim query.
   */
  claimFilter?: Filter<SmsDocument>;
}

/** What a claim returns: enough to take the destination and collect the batch, which reads the documents. */
export type ClaimedMessage = Pick<SmsDocument, '_id' | 'destKey' | 'state' | 'lock'>;

/** A fenced write: applies only while the message still carries our lock token. */
export interface FencedUpdate {
  id: ObjectId;
  update: Document;
}

/**
 * The message side of the delivery protocol: claims on `sms` documents with owner, token and
 * lease, and every later write fenced on `{_id, lock.token}`.
 */
export class MessageLocks {
  readonly #sms: Collection<SmsDocument>;
  readonly #clock: Clock;
  readonly #options: MessageLocksOptions;

  constructor(db: Db, clock: Clock, options: MessageLocksOptions) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#clock = clock;
    this.#options = options;
  }

  lockFor(owner: string, token: string): LeaseLock {
    const at = this.#clock.now();
    return { owner, token, at, leaseUntil: new Date(at.getTime() + this.#options.leaseMs) };
  }

  /** Step a: CAS-lock the most urgent due message outside the excluded destinations. */
  async claimOne(excluded: Iterable<string>, owner: string, token: string): Promise<ClaimedMessage | null> {
    const lock = this.lockFor(owner, token);
    const skip = [...excluded];
    // filter: {state: 'queued', nextAttemptAt <= now, destKey ∉ excluded, ...claimFilter}
    // update: {$set: {state: 'locked', lock: {owner, token, at, leaseUntil}}}
    // sort:   {priority: -1, nextAttemptAt: 1} (index `claim`)
    // returns: the claimed document (after the update), only {_id, destKey, state, lock}: the
    //          batch read that follows returns it whole; null = nothing due outside `excluded`.
    return this.#sms.findOneAndUpdate(
      {
        ...this.#options.claimFilter,
        state: SmsState.queued,
        nextAttemptAt: { $lte: lock.at },
        ...(skip.length > 0 ? { destKey: { $nin: skip } } : {}),
      },
      { $set: { state: SmsState.locked, lock } },
      { sort: { priority: -1, nextAttemptAt: 1 }, returnDocument: 'after', projection: { _id: 1, destKey: 1, state: 1, lock: 1 } },
    ) as Promise<ClaimedMessage | null>;
  }

  /**
   * Step c, holding the destination lock: the batch is the destination's oldest due messages
   * (at most `limit`), queued or locked by anyone — a worker that locked one but could not get
   * the destination is overruled, and its release CAS then fails harmlessly.
   * `first` (claimed in step a) is kept when it is among them, else released (fenced: a no-op
   * when it is no longer ours).
   */
  async collectBatch(first: ClaimedMessage, lock: LeaseLock, limit: number): Promise<SmsDocument[]> {
    const now = this.#clock.now();
    // Read-only: the due messages of this destination in arrival order.
    const candidates = await this.#sms
      .find({
        ...this.#options.claimFilter,
        destKey: first.destKey,
        state: { $in: [SmsState.queued, SmsState.locked] },
        nextAttemptAt: { $lte: now },
      } as Filter<SmsDocument>)
      .sort({ arrivedAt: 1, _id: 1 })
      .limit(limit)
      .toArray();
    const firstId = first._id.toHexString();
    const includesFirst = candidates.some((doc) => doc._id.toHexString() === firstId && doc.lock?.token === lock.token);
    // Not among them: older messages come first (order wins), or it is not due any more (a holder
    // pushed it back while we waited for the destination), or it is no longer ours (a miss).
    if (!includesFirst) await this.release([first._id], lock.token);
    const others = candidates.filter((doc) => doc.lock?.token !== lock.token);
    if (others.length === 0) return includesFirst ? candidates.filter((doc) => doc.lock?.token === lock.token) : [];
    const ids = others.map((doc) => doc._id);
    // filter: {_id ∈ ids, destKey, state ∈ [queued, locked]} (unchanged since we read them; we hold the destination)
    // update: {$set: {state: 'locked', lock: ours}}
    // returns: matchedCount; fewer than ids = some left those states meanwhile (cancelled, taken
    //          by an expired holder): we then read back which ones carry our token.
    const claimed = await this.#sms.updateMany(
      { _id: { $in: ids }, destKey: first.destKey, state: { $in: [SmsState.queued, SmsState.locked] } },
      { $set: { state: SmsState.locked, lock } },
    );
    let ours = new Set(ids.map((id) => id.toHexString()));
    if (claimed.matchedCount < ids.length) {
      const held = await this.#sms.find({ _id: { $in: ids }, 'lock.token': lock.token }, { projection: { _id: 1 } }).toArray();
      ours = new Set(held.map((doc) => doc._id.toHexString()));
    }
    return candidates
      .filter((doc) => (doc._id.toHexString() === firstId ? includesFirst : ours.has(doc._id.toHexString())))
      .map((doc) => ({ ...doc, state: SmsState.locked, lock }));
  }

  /** Gives messages back to the queue untouched (same nextAttemptAt), fenced on our token. */
  async release(ids: ObjectId[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    // filter: {_id ∈ ids, lock.token: token}
    // update: {$set: {state: 'queued'}, $unset: {lock}}
    // returns: modifiedCount; 0 = another worker overruled our claim (it holds the destination): fine.
    const result = await this.#sms.updateMany(
      { _id: { $in: ids }, 'lock.token': token },
      { $set: { state: SmsState.queued }, $unset: { lock: '' } },
    );
    return result.modifiedCount;
  }

  /** Extends the lease of our messages; returns how many are still ours. */
  async renew(ids: ObjectId[], token: string): Promise<number> {
    if (ids.length === 0) return 0;
    // filter: {_id ∈ ids, lock.token: token}
    // update: {$set: {lock.leaseUntil: now + lease}}
    // returns: matchedCount; fewer than ids = some claims were taken over (their writes will be fenced off).
    const result = await this.#sms.updateMany(
      { _id: { $in: ids }, 'lock.token': token },
      { $set: { 'lock.leaseUntil': new Date(this.#clock.now().getTime() + this.#options.leaseMs) } },
    );
    return result.matchedCount;
  }

  /**
   * Writes a batch's outcomes in one command. Each update is fenced on `{_id, lock.token}`;
   * returns how many matched (fewer = our lease was lost on some and their writes were dropped).
   */
  async applyFenced(token: string, updates: FencedUpdate[]): Promise<number> {
    if (updates.length === 0) return 0;
    // filter (each): {_id, lock.token: token}
    // update (each): the outcome's $set/$unset/$inc/$push (see outcome-writes.ts)
    // returns: matchedCount; a miss = a stale holder: it writes nothing.
    const result = await this.#sms.bulkWrite(
      updates.map(({ id, update }) => ({ updateOne: { filter: { _id: id, 'lock.token': token }, update } })),
      { ordered: false },
    );
    return result.matchedCount;
  }

  /** Like applyFenced for updates of several batches, each fenced on its own token; one command. */
  async applyFencedMany(updates: (FencedUpdate & { token: string })[]): Promise<number> {
    if (updates.length === 0) return 0;
    // filter (each): {_id, lock.token: <its batch's token>}
    // update (each): the outcome (see outcome-writes.ts)
    // returns: matchedCount; a miss = that batch's lease was lost: it writes nothing.
    const result = await this.#sms.bulkWrite(
      updates.map(({ id, token, update }) => ({ updateOne: { filter: { _id: id, 'lock.token': token }, update } })),
      { ordered: false },
    );
    return result.matchedCount;
  }

  /**
   * After a temporary failure: the destination's other due-earlier messages wait until the
   * retry, so nothing overtakes the failed one. Only the destination's holder calls this. It
   * includes messages another worker claimed (step a) but could not take the destination for:
   * their release keeps `nextAttemptAt`, so they too wait.
   */
  async holdDestination(destKey: string, until: Date): Promise<number> {
    // filter: {destKey, state ∈ [queued, locked], nextAttemptAt < until, ...claimFilter}
    // update: {$set: {nextAttemptAt: until}}
    // returns: modifiedCount; 0 = nothing else was waiting for this destination.
    const result = await this.#sms.updateMany(
      { ...this.#options.claimFilter, destKey, state: { $in: [SmsState.queued, SmsState.locked] }, nextAttemptAt: { $lt: until } } as Filter<SmsDocument>,
      { $set: { nextAttemptAt: until } },
    );
    return result.modifiedCount;
  }

  /** When the next queued message falls due (possibly in the past), or null when none is queued. */
  async earliestDue(): Promise<Date | null> {
    const next = await this.#sms.findOne(
      { ...this.#options.claimFilter, state: SmsState.queued } as Filter<SmsDocument>,
      { sort: { nextAttemptAt: 1 }, projection: { nextAttemptAt: 1 } },
    );
    return next?.nextAttemptAt ?? null;
  }

  /**
   * Puts messages whose lease ended more than `graceMs` ago back in the queue. Safe with
   * concurrent cleanups and with a holder renewing at the same moment (a renewed lease no
   * longer matches; a cleared one makes the holder's fenced writes miss).
   */
  async releaseExpired(by: string, graceMs = 0): Promise<number> {
    const now = this.#clock.now();
    const record: AttemptRecord = { at: now, by, outcome: 'lease-expired' };
    // filter: {state: 'locked', lock.leaseUntil <= now - grace}
    // update: {$set: {state: 'queued'}, $unset: {lock}, $push: {history: lease-expired (bounded)}}
    // returns: modifiedCount; 0 = no stranded claim.
    const result = await this.#sms.updateMany(
      { state: SmsState.locked, 'lock.leaseUntil': { $lte: new Date(now.getTime() - graceMs) } },
      {
        $set: { state: SmsState.queued },
        $unset: { lock: '' },
        $push: { history: { $each: [record], $slice: -this.#options.historyLimit } },
      },
    );
    return result.modifiedCount;
  }
}
