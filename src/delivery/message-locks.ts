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

/** The `destKey_state_arrivedAt` index (store/collections.ts): a destination's messages in arrival order. */
const DEST_INDEX_KEY = Object.freeze({ destKey: 1, state: 1, arrivedAt: 1 } as const);

/** Step c's lock of a holder's other candidates (see MessageLocks.lockOthers). */
export interface LockOthersRequest {
  destKey: string;
  ids: ObjectId[];
  lock: LeaseLock;
}

/** How collectBatch reads and locks: alone, or shared with other lanes (DeliveryRound). */
export interface BatchIo {
  readDue(destKey: string, limit: number): Promise<SmsDocument[]>;
  lockOthers(request: LockOthersRequest): Promise<Set<string>>;
}

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
   * when it is no longer ours). `via` lets the lanes of a process share the read and the lock
   * with other lanes' batches (see DeliveryRound); by default each is a command of its own.
   */
  async collectBatch(first: ClaimedMessage, lock: LeaseLock, limit: number, via?: BatchIo): Promise<SmsDocument[]> {
    const io: BatchIo = via ?? {
      readDue: async (destKey, n) => (await this.readDue([destKey], n))[0],
      lockOthers: async (request) => (await this.lockOthers([request]))[0],
    };
    const candidates = await io.readDue(first.destKey, limit);
    const firstId = first._id.toHexString();
    const includesFirst = candidates.some((doc) => doc._id.toHexString() === firstId && doc.lock?.token === lock.token);
    // Not among them: older messages come first (order wins), or it is not due any more (a holder
    // pushed it back while we waited for the destination), or it is no longer ours (a miss).
    if (!includesFirst) await this.release([first._id], lock.token);
    const others = candidates.filter((doc) => doc.lock?.token !== lock.token);
    if (others.length === 0) return includesFirst ? candidates.filter((doc) => doc.lock?.token === lock.token) : [];
    const ours = await io.lockOthers({ destKey: first.destKey, ids: others.map((doc) => doc._id), lock });
    return candidates
      .filter((doc) => (doc._id.toHexString() === firstId ? includesFirst : ours.has(doc._id.toHexString())))
      .map((doc) => ({ ...doc, state: SmsState.locked, lock }));
  }

  /**
   * Read-only: for each destination, its due messages (queued or locked) in arrival order, at
   * most `limit` each. One query for all of them; a destination that may have been cut short by
   * the query's overall limit is read again on its own.
   */
  async readDue(destKeys: readonly string[], limit: number): Promise<SmsDocument[][]> {
    const now = this.#clock.now();
    const query = (keys: readonly string[], max: number) => {
      const cursor = this.#sms
        .find({
          ...this.#options.claimFilter,
          destKey: keys.length === 1 ? keys[0] : { $in: [...keys] },
          state: { $in: [SmsState.queued, SmsState.locked] },
          nextAttemptAt: { $lte: now },
        } as Filter<SmsDocument>)
        .sort({ arrivedAt: 1, _id: 1 })
        .limit(max);
      // Several destinations: the index on destKey, named, as a planner without trial runs (the
      // stand-in) would otherwise take `claim` for the state range and read every queued message.
      if (keys.length > 1) cursor.hint(DEST_INDEX_KEY);
      return cursor.toArray();
    };
    const overall = destKeys.length === 1 ? limit : limit * destKeys.length * 2;
    const docs = await query(destKeys, overall);
    const byKey = new Map<string, SmsDocument[]>(destKeys.map((key) => [key, []]));
    for (const doc of docs) {
      const list = byKey.get(doc.destKey);
      // The global order restricted to one destination is that destination's arrival order.
      if (list && list.length < limit) list.push(doc);
    }
    if (docs.length === overall && destKeys.length > 1) {
      // The overall limit was reached: a destination short of `limit` may have more beyond it.
      await Promise.all(
        destKeys.filter((key) => byKey.get(key)!.length < limit).map(async (key) => byKey.set(key, await query([key], limit))),
      );
    }
    return destKeys.map((key) => byKey.get(key)!);
  }

  /**
   * Step c's lock, for several destinations' batches in one command: each holder's other
   * candidates get its lock. Answers with the ids (hex) that now carry each request's token.
   */
  async lockOthers(requests: readonly LockOthersRequest[]): Promise<Set<string>[]> {
    const wanted = requests.reduce((n, r) => n + r.ids.length, 0);
    // filter (each): {_id ∈ ids, destKey, state ∈ [queued, locked]} (unchanged since we read them; we hold the destination)
    // update (each): {$set: {state: 'locked', lock: that holder's lock}}
    // returns: matchedCount; fewer than all ids = some left those states meanwhile (cancelled, taken
    //          by an expired holder): we then read back which ones carry whose token.
    const result = await this.#sms.bulkWrite(
      requests.map(({ destKey, ids, lock }) => ({
        updateMany: {
          filter: { _id: { $in: ids }, destKey, state: { $in: [SmsState.queued, SmsState.locked] } } as Filter<SmsDocument>,
          update: { $set: { state: SmsState.locked, lock } },
        },
      })),
      { ordered: false },
    );
    if (result.matchedCount >= wanted) return requests.map(({ ids }) => new Set(ids.map((id) => id.toHexString())));
    const held = await this.#sms
      .find(
        { _id: { $in: requests.flatMap((r) => r.ids) }, 'lock.token': { $in: requests.map((r) => r.lock.token) } },
        { projection: { _id: 1, 'lock.token': 1 } },
      )
      .toArray();
    return requests.map(({ ids, lock }) => {
      const mine = new Set(ids.map((id) => id.toHexString()));
      return new Set(held.filter((doc) => doc.lock?.token === lock.token && mine.has(doc._id.toHexString())).map((doc) => doc._id.toHexString()));
    });
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

  /** `release` of several claims (each its own token) in one command; the count is of them all. */
  async releaseMany(requests: readonly { ids: ObjectId[]; token: string }[]): Promise<number> {
    const wanted = requests.filter((r) => r.ids.length > 0);
    if (wanted.length === 0) return 0;
    // filter (each): {_id ∈ ids, lock.token: token}
    // update (each): {$set: {state: 'queued'}, $unset: {lock}}
    // returns: modifiedCount; a miss = another worker overruled that claim (it holds the destination): fine.
    const result = await this.#sms.bulkWrite(
      wanted.map(({ ids, token }) => ({
        updateMany: { filter: { _id: { $in: ids }, 'lock.token': token }, update: { $set: { state: SmsState.queued }, $unset: { lock: '' } } },
      })),
      { ordered: false },
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
