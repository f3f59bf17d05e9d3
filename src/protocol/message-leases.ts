import type { Collection, ObjectId } from 'mongodb';
import type { DbNow } from '../domain/clock.ts';
import { SmsState, type AttemptRecord, type SmsDocument } from '../domain/sms-document.ts';
import { later, ranOut } from './expressions.ts';

/**
 * Gives claims back to the queue untouched (same nextAttemptAt), several claims in one command.
 *
 * filter:  each updateMany: {_id ∈ ids, lock.token: token} (one unordered bulkWrite)
 * update:  {$set: {state: 'queued'}, $unset: {lock}}
 * returns: modifiedCount; a miss = the destination's holder overruled that claim: fine.
 * safe:    fenced on the claim's token: a message another worker locked since (its batch, or a
 *          claim after the sweep) is not released; a repeat misses, as the lock is gone.
 */
export async function releaseClaims(
  sms: Collection<SmsDocument>,
  claims: readonly { ids: readonly ObjectId[]; token: string }[],
): Promise<number> {
  const wanted = claims.filter((claim) => claim.ids.length > 0);
  if (wanted.length === 0) return 0;
  const result = await sms.bulkWrite(
    wanted.map(({ ids, token }) => ({
      updateMany: {
        filter: { _id: { $in: [...ids] }, 'lock.token': token },
        update: { $set: { state: SmsState.queued }, $unset: { lock: '' } },
      },
    })),
    { ordered: false },
  );
  return result.modifiedCount;
}

/**
 * Gives back a claim on a message that is due but scheduled later (an operator's requeue or an
 * ESME's bind made it due early; the destination's read leaves it out until its schedule), due at
 * its schedule: otherwise it is claimed again at once, round after round, until then.
 *
 * filter:  {_id, lock.token: token}
 * update:  {$set: {state: 'queued', nextAttemptAt: scheduledAt}, $unset: {lock}}
 * returns: whether it matched; a miss = the destination's holder overruled the claim: fine.
 * safe:    fenced on the claim's token, like releaseClaims; it only moves a due time later, to
 *          when the message may go anyway.
 */
export async function postponeToSchedule(
  sms: Collection<SmsDocument>,
  claim: { id: ObjectId; token: string; scheduledAt: Date },
): Promise<boolean> {
  const result = await sms.updateOne(
    { _id: claim.id, 'lock.token': claim.token },
    { $set: { state: SmsState.queued, nextAttemptAt: claim.scheduledAt }, $unset: { lock: '' } },
  );
  return result.matchedCount === 1;
}

/**
 * Lease renewal of every message a process holds, in one command.
 *
 * filter:  {_id ∈ ids, lock.token ∈ tokens}
 * update:  pipeline {$set: {lock.leaseUntil: NOW + lease}}
 * returns: matchedCount; fewer than held = some were taken over or already finished.
 * safe:    fenced on the tokens: a message whose lock now carries another holder's token (or none)
 *          does not match, so the old holder never extends a lease it lost. Tokens are unique per
 *          batch, so `_id ∈ ids` with `token ∈ tokens` matches only a process's own holdings.
 */
export async function renewMessages(
  sms: Collection<SmsDocument>,
  ids: readonly ObjectId[],
  tokens: readonly string[],
  leaseMs: number,
  dbNow: DbNow,
): Promise<number> {
  if (ids.length === 0) return 0;
  const result = await sms.updateMany({ _id: { $in: [...ids] }, 'lock.token': { $in: [...tokens] } }, [
    { $set: { 'lock.leaseUntil': later(dbNow, leaseMs) } },
  ]);
  return result.matchedCount;
}

/**
 * The sweep: puts messages whose holder's lease and grace ran out back in the queue.
 *
 * filter:  {state: 'locked', $expr: lock.leaseUntil + grace <= NOW}
 * update:  {$set: {state: 'queued'}, $unset: {lock}, $push: {history: lease-expired (bounded)}}
 * returns: modifiedCount; 0 = no stranded claim.
 * safe:    judged on the database's clock; a renewed lease no longer matches; a holder that could
 *          not renew stopped sending at its safe deadline, and its fenced writes then miss.
 */
export async function releaseExpiredMessages(
  sms: Collection<SmsDocument>,
  request: { by: string; graceMs: number; historyLimit: number; now: Date; dbNow: DbNow },
): Promise<number> {
  const record: AttemptRecord = { at: request.now, by: request.by, outcome: 'lease-expired' };
  const result = await sms.updateMany(
    { state: SmsState.locked, ...ranOut('lock.leaseUntil', request.graceMs, request.dbNow) },
    { $set: { state: SmsState.queued }, $unset: { lock: '' }, $push: { history: { $each: [record], $slice: -request.historyLimit } } },
  );
  return result.modifiedCount;
}

/** Read-only: when the earliest message lease (among `filter`'s) ends, or null when none is locked. */
export async function earliestLeaseEnd(sms: Collection<SmsDocument>, filter: object): Promise<Date | null> {
  const doc = await sms.findOne(
    { ...filter, state: SmsState.locked },
    { sort: { 'lock.leaseUntil': 1 }, projection: { 'lock.leaseUntil': 1 } },
  );
  return doc?.lock?.leaseUntil ?? null;
}
