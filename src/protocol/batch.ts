import type { AnyBulkWriteOperation, Collection, Filter, ObjectId } from 'mongodb';
import type { DbNow } from '../domain/clock.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';
import { lockExpression } from './expressions.ts';

/** The `destKey_state_arrivedAt` index (store/collections.ts): a destination's messages in arrival order. */
const DEST_INDEX_KEY = Object.freeze({ destKey: 1, state: 1, arrivedAt: 1 } as const);

/**
 * Read-only, step c: for each destination, its oldest messages still to be sent (queued, or
 * locked by anyone), in arrival order, at most `limit` each, whether due or not: the batch is the
 * due prefix of this list (`duePrefix`), so a message backing off holds everything behind it.
 * Messages waiting for their scheduled time are not in the list: a schedule is a later arrival.
 * One query for all destinations; one that the overall limit may have cut short is read again alone.
 */
export async function readPending(
  sms: Collection<SmsDocument>,
  request: { destKeys: readonly string[]; limit: number; claimFilter: Filter<SmsDocument>; now: Date },
): Promise<SmsDocument[][]> {
  const { destKeys, limit, claimFilter, now } = request;
  const query = (keys: readonly string[], max: number) => {
    const cursor = sms
      .find({
        ...claimFilter,
        destKey: keys.length === 1 ? keys[0] : { $in: [...keys] },
        state: { $in: [SmsState.queued, SmsState.locked] },
        $or: [{ scheduledAt: { $exists: false } }, { scheduledAt: { $lte: now } }],
      } as Filter<SmsDocument>)
      .sort({ arrivedAt: 1, _id: 1 })
      .limit(max);
    // Several destinations: name the index on destKey, as a planner without trial runs (the
    // stand-in) would otherwise take `claim` for the state range and read every queued message.
    if (keys.length > 1) cursor.hint(DEST_INDEX_KEY);
    return cursor.toArray();
  };
  if (destKeys.length === 0) return [];
  const overall = destKeys.length === 1 ? limit : limit * destKeys.length * 2;
  const docs = await query(destKeys, overall);
  const byKey = new Map<string, SmsDocument[]>(destKeys.map((key) => [key, []]));
  for (const doc of docs) {
    const list = byKey.get(doc.destKey);
    // The global order restricted to one destination is that destination's arrival order.
    if (list && list.length < limit) list.push(doc);
  }
  if (docs.length === overall && destKeys.length > 1) {
    await Promise.all(
      destKeys.filter((key) => byKey.get(key)!.length < limit).map(async (key) => byKey.set(key, await query([key], limit))),
    );
  }
  return destKeys.map((key) => byKey.get(key)!);
}

/**
 * Which of a destination's pending messages (in arrival order) may go now: the longest prefix of
 * due ones. A message not due yet (backing off, or deferred behind one that is) blocks the rest,
 * which is what keeps the order of a destination across retries, requeues and ESME binds whoever
 * pulls a later message forward. `blockedUntil`: when the head falls due, if it blocks the whole list.
 */
export function duePrefix(pending: readonly SmsDocument[], now: Date): { batch: SmsDocument[]; blockedUntil?: Date } {
  const batch: SmsDocument[] = [];
  for (const doc of pending) {
    if (doc.nextAttemptAt.getTime() > now.getTime()) return batch.length === 0 ? { batch, blockedUntil: doc.nextAttemptAt } : { batch };
    batch.push(doc);
  }
  return { batch };
}

/** Step c's lock of a holder's batch members it has not claimed itself. */
export interface LockBatchRequest {
  destKey: string;
  /** The documents as read: each is locked only if its content is still what was read (`rev`). */
  docs: Pick<SmsDocument, '_id' | 'rev'>[];
  owner: string;
  token: string;
}

/**
 * Step c, holding the destination lock, for several destinations' batches in one command.
 *
 * filter:  each updateOne: {_id, destKey, state ∈ [queued, locked], rev: as read (absent: absent)}
 * update:  pipeline {$set: {state: 'locked', lock: {owner, token, at: NOW, leaseUntil: NOW + lease}}}
 *          (one bulkWrite, unordered, default write concern)
 * returns: per request, the ids (hex) that now carry its token; when some did not match, they are
 *          read back by token, so "matched nothing" = that message is not ours to send.
 * safe:    only the destination's holder locks its messages, so overruling another worker's claim
 *          (one that could not get the destination) is safe: that worker's fenced release then
 *          misses. `rev` changes with replace_sm, so content older than an acknowledged replace
 *          is never sent; a message cancelled or finished meanwhile no longer matches.
 */
export async function lockBatch(
  sms: Collection<SmsDocument>,
  requests: readonly LockBatchRequest[],
  leaseMs: number,
  dbNow: DbNow,
): Promise<Set<string>[]> {
  const operations: AnyBulkWriteOperation<SmsDocument>[] = requests.flatMap(({ destKey, docs, owner, token }) =>
    docs.map((doc) => ({
      updateOne: {
        filter: {
          _id: doc._id,
          destKey,
          state: { $in: [SmsState.queued, SmsState.locked] },
          rev: doc.rev === undefined ? { $exists: false } : doc.rev,
        } as Filter<SmsDocument>,
        update: [{ $set: { state: SmsState.locked, lock: lockExpression(owner, token, leaseMs, dbNow) } }],
      },
    })),
  );
  if (operations.length === 0) return requests.map(() => new Set());
  const result = await sms.bulkWrite(operations, { ordered: false });
  if (result.matchedCount >= operations.length) return requests.map(({ docs }) => new Set(docs.map((doc) => doc._id.toHexString())));
  // Some left those states or changed meanwhile: read back which carry whose token.
  const held = await sms
    .find(
      { _id: { $in: requests.flatMap((r) => r.docs.map((d) => d._id)) }, 'lock.token': { $in: requests.map((r) => r.token) } },
      { projection: { _id: 1, 'lock.token': 1 } },
    )
    .toArray();
  return requests.map(({ docs, token }) => {
    const mine = new Set(docs.map((doc) => doc._id.toHexString()));
    return new Set(held.filter((doc) => doc.lock?.token === token && mine.has(doc._id.toHexString())).map((doc) => doc._id.toHexString()));
  });
}

/**
 * After a temporary failure, or when the head of a destination is not due: the destination's
 * other waiting messages get the head's due time, so they are not claimed again and again only to
 * find the head still blocking them (their order is kept by `duePrefix` either way).
 *
 * filter:  {...claimFilter, destKey, state ∈ [queued, locked], nextAttemptAt < until, not ids ∈ except}
 * update:  {$set: {nextAttemptAt: until}}
 * returns: modifiedCount; 0 = nothing else was waiting.
 * safe:    only the destination's holder calls it, while its lease is safe; it moves due times
 *          only later, never changes state or lock, so a racing claim or fenced write is unaffected.
 */
export async function holdDestination(
  sms: Collection<SmsDocument>,
  request: { destKey: string; until: Date; claimFilter: Filter<SmsDocument>; except?: readonly ObjectId[] },
): Promise<number> {
  const { destKey, until, claimFilter, except = [] } = request;
  const result = await sms.updateMany(
    {
      ...claimFilter,
      destKey,
      state: { $in: [SmsState.queued, SmsState.locked] },
      nextAttemptAt: { $lt: until },
      ...(except.length > 0 ? { _id: { $nin: [...except] } } : {}),
    } as Filter<SmsDocument>,
    { $set: { nextAttemptAt: until } },
  );
  return result.modifiedCount;
}
