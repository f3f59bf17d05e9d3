import type { Collection } from 'mongodb';
import { FINAL_STATES, SmsState, type AttemptRecord, type SmsDocument } from '../domain/sms-document.ts';

/**
 * Queued messages past validUntil become `expired` (the receipts component answers the ESME).
 *
 * filter: {state: 'queued', validUntil <= now}
 * update: {$set: {state: 'expired', finalAt: now, receiptDue: true}, $push: {history: expired (bounded)}}
 *         (`now` is this host's clock: validUntil is a due time, not a lease)
 * returns: modifiedCount; 0 = nothing overdue. Locked ones are left to their holder (it expires them itself).
 * safe:    a CAS on 'queued' per document: a claim, a batch lock or a cancel that got there first
 *          makes it miss, and once expired the message matches none of theirs (they too need
 *          'queued', or 'locked' with its token). A second cleanup, or a repeat, finds nothing.
 */
export async function expireOverdue(sms: Collection<SmsDocument>, now: Date, record: AttemptRecord, historyLimit: number): Promise<number> {
  const result = await sms.updateMany(
    { state: SmsState.queued, validUntil: { $lte: now } },
    // receiptDue: the receipt outbox decides whether its ESME asked for an EXPIRED receipt.
    {
      $set: { state: SmsState.expired, finalAt: now, receiptDue: true },
      $push: { history: { $each: [record], $slice: -historyLimit } },
    },
  );
  return result.modifiedCount;
}

/**
 * Queued messages that used up their attempts (e.g. after the limit was lowered) become undeliverable.
 *
 * filter: {state: 'queued', attempts >= maxAttempts}
 * update: {$set: {state: 'undeliverable', finalAt: now, error, receiptDue: true}, $push: {history: attempt-limit (bounded)}}
 * returns: modifiedCount; 0 = none over the limit.
 * safe:    as expireOverdue: a CAS on 'queued' per document, so a message a deliverer holds is
 *          left to it and one finalised here is never claimed again; a repeat finds nothing.
 */
export async function markAttemptLimit(
  sms: Collection<SmsDocument>,
  maxAttempts: number,
  now: Date,
  record: AttemptRecord,
  historyLimit: number,
): Promise<number> {
  const result = await sms.updateMany(
    { state: SmsState.queued, attempts: { $gte: maxAttempts } },
    {
      $set: {
        state: SmsState.undeliverable,
        finalAt: now,
        error: { message: `attempt limit reached (${maxAttempts})` },
        receiptDue: true,
      },
      $push: { history: { $each: [record], $slice: -historyLimit } },
    },
  );
  return result.modifiedCount;
}

/**
 * Deletes final messages whose final state is older than the retention.
 *
 * filter: {state ∈ final states, finalAt <= now - retention}
 * delete: every such message
 * returns: deletedCount; 0 = nothing old enough.
 * safe:    final states have no writer but a requeue (protocol/requeue.ts), which leaves them and unsets
 *          finalAt; per document, either the requeue comes first (no longer matches here) or the
 *          delete does (the requeue misses it). Receipts arriving later for a purged message go
 *          to the orphans. A repeat deletes nothing more.
 */
export async function purgeFinal(sms: Collection<SmsDocument>, cutoff: Date): Promise<number> {
  const result = await sms.deleteMany({ state: { $in: [...FINAL_STATES] }, finalAt: { $lte: cutoff } });
  return result.deletedCount;
}
