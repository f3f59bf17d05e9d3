import type { AnyBulkWriteOperation, Collection } from 'mongodb';
import type { DbNow } from '../domain/clock.ts';
import { documentWriteErrors, DUPLICATE_KEY } from '../store/mongo-errors.ts';
import type { LockDocument } from '../domain/sms-document.ts';
import { later, literal, ranOut } from './expressions.ts';

/** The per-destination lock: a `locks` document whose `_id` is the destKey; uniqueness of `_id` is the lock. */
export type AcquireResult = 'acquired' | 'stolen' | 'busy';

export interface AcquireRequest {
  destKey: string;
  owner: string;
  token: string;
}

export interface LockTiming {
  leaseMs: number;
  /** How long after a lease's end it may be taken over (a margin for a holder on its way out). */
  graceMs: number;
  dbNow: DbNow;
}

/**
 * Step b for several destinations in one command (lanes of one process, distinct destKeys).
 *
 * filter:  each updateOne: {_id: destKey}, upsert (one unordered bulkWrite)
 * update:  pipeline {$set: owner, token, at: NOW, leaseUntil: NOW + lease — each only if the lock
 *          is free: absent, or its leaseUntil + grace <= NOW; otherwise every field keeps its value}
 * returns: per request, in order: 'acquired' (no lock existed: upserted), 'stolen' (the lease
 *          and its grace had run out: taken over), 'busy' (a live lock: left unchanged), or an
 *          Error of that request alone. Which of the existing ones we took is read back (only
 *          when some were not upserted), by token.
 * safe:    the unique `_id` lets exactly one of racing acquirers insert; the takeover is decided
 *          inside one single-document update, on the database's clock, so a holder renewing at
 *          the same moment either renews first (the lease is then live) or finds its token gone.
 *          (MongoDB allows no $expr in an upsert's query, so the condition lives in the pipeline.)
 */
export async function acquireDestinations(
  locks: Collection<LockDocument>,
  requests: readonly AcquireRequest[],
  timing: LockTiming,
): Promise<(AcquireResult | Error)[]> {
  if (requests.length === 0) return [];
  const { leaseMs, graceMs, dbNow } = timing;
  const free = { $lte: [{ $add: [{ $ifNull: ['$leaseUntil', new Date(0)] }, graceMs] }, dbNow] };
  const ifFree = (ours: unknown, field: string) => ({ $cond: [free, ours, `$${field}`] });
  const operations: AnyBulkWriteOperation<LockDocument>[] = requests.map(({ destKey, owner, token }) => ({
    updateOne: {
      filter: { _id: destKey },
      update: [
        {
          $set: {
            owner: ifFree(literal(owner), 'owner'),
            token: ifFree(literal(token), 'token'),
            at: ifFree(dbNow, 'at'),
            leaseUntil: ifFree(later(dbNow, leaseMs), 'leaseUntil'),
          },
        },
      ],
      upsert: true,
    },
  }));
  const results: (AcquireResult | Error)[] = requests.map(() => 'busy');
  let upserted: Record<number, unknown> = {};
  try {
    upserted = (await locks.bulkWrite(operations, { ordered: false })).upsertedIds;
  } catch (error) {
    const failed = documentWriteErrors(error);
    // Not per-operation write errors (network, write concern): every request fails alike.
    if (!failed) throw error;
    upserted = (error as { result?: { upsertedIds?: Record<number, unknown> } }).result?.upsertedIds ?? {};
    for (const { index, code, errmsg } of failed) {
      // Two upserts of one new _id at once: the other won the insert, so the lock is theirs.
      results[index] = code === DUPLICATE_KEY ? 'busy' : new Error(`destination lock failed: ${errmsg ?? 'write error'}`);
    }
  }
  for (const index of Object.keys(upserted)) results[Number(index)] = 'acquired';
  const unsure = requests.map((_, i) => i).filter((i) => results[i] === 'busy');
  if (unsure.length > 0) {
    const holders = await holdersOf(
      locks,
      unsure.map((i) => requests[i].destKey),
    );
    for (const i of unsure) if (holders.get(requests[i].destKey) === requests[i].token) results[i] = 'stolen';
  }
  return results;
}

/**
 * Step f for the batches a flush finished.
 *
 * filter:  {_id ∈ destKeys, token ∈ tokens} (tokens are unique per batch and each batch holds one
 *          destKey, so a lock matches only its own holder)
 * delete:  those locks
 * returns: deletedCount; fewer = a lease was taken over meanwhile; the new holder's lock stays.
 * safe:    fenced on the token, so a holder whose lock was taken over cannot delete the new
 *          holder's; a repeat (answer lost) deletes nothing more.
 */
export async function releaseDestinations(
  locks: Collection<LockDocument>,
  held: readonly { destKey: string; token: string }[],
): Promise<number> {
  if (held.length === 0) return 0;
  const result = await locks.deleteMany({ _id: { $in: held.map((h) => h.destKey) }, token: { $in: held.map((h) => h.token) } });
  return result.deletedCount;
}

/**
 * Lease renewal of every destination a process holds, in one command.
 *
 * filter:  {_id ∈ destKeys, token ∈ tokens}
 * update:  pipeline {$set: {leaseUntil: NOW + lease}}
 * returns: matchedCount; fewer than held = some were taken over (read back which with `holdersOf`).
 * safe:    fenced on the token (tokens are unique per batch, one destKey per batch), so a lock
 *          taken over is not renewed for its new holder's lease by the old one; a repeat only
 *          moves leaseUntil to a later NOW + lease, which the holder is entitled to.
 */
export async function renewDestinations(
  locks: Collection<LockDocument>,
  held: readonly { destKey: string; token: string }[],
  leaseMs: number,
  dbNow: DbNow,
): Promise<number> {
  if (held.length === 0) return 0;
  const result = await locks.updateMany({ _id: { $in: held.map((h) => h.destKey) }, token: { $in: held.map((h) => h.token) } }, [
    { $set: { leaseUntil: later(dbNow, leaseMs) } },
  ]);
  return result.matchedCount;
}

/** Read-only: the token each destination's lock carries now (absent: no lock). */
export async function holdersOf(locks: Collection<LockDocument>, destKeys: readonly string[]): Promise<Map<string, string>> {
  const docs = await locks.find({ _id: { $in: [...destKeys] } }, { projection: { token: 1 } }).toArray();
  return new Map(docs.map((doc) => [doc._id, doc.token]));
}

/**
 * The sweep: deletes locks whose lease and grace ran out (their holder died or stalled).
 *
 * filter:  {$expr: leaseUntil + grace <= NOW}
 * delete:  every such lock
 * returns: deletedCount; 0 = no stale destination lock.
 * safe:    judged on the database's clock; a holder that renewed no longer matches, and one that
 *          did not has stopped sending by its safe deadline (lease − margin, monotonic) before this.
 */
export async function releaseExpiredDestinations(locks: Collection<LockDocument>, graceMs: number, dbNow: DbNow): Promise<number> {
  const result = await locks.deleteMany(ranOut('leaseUntil', graceMs, dbNow));
  return result.deletedCount;
}
