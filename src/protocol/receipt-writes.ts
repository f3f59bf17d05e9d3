import type { Collection, Document, Filter, ObjectId } from 'mongodb';
import { MessageState } from '../domain/message-state.ts';
import { SmsDirection, SmsState, type AttemptRecord, type SmsDocument, type SmsStateName } from '../domain/sms-document.ts';

/**
 * State changes driven by downstream receipts, each a CAS on `state: 'submitted'`: of all the
 * receipts, workers and cleanups that race to finish a message, exactly one write makes it final
 * (and flags it for its ESME receipt in that same write); the others match nothing.
 */

/** The submission a receipt is about, as read: every receipt write is fenced on it, not only on the state. */
export type SubmissionFence = Filter<SmsDocument>;

/**
 * The fence for the submission read: were the message finalised, requeued and submitted anew
 * meanwhile, a receipt about the old submission matches nothing.
 */
export function submissionFence(smsId: ObjectId, remote: SmsDocument['remote']): SubmissionFence {
  return {
    _id: smsId,
    state: SmsState.submitted,
    'remote.submittedAt': remote ? remote.submittedAt : { $exists: false },
  };
}

function pushHistory(record: AttemptRecord, historyLimit: number): Document {
  return { history: { $each: [record], $slice: -historyLimit } };
}

/**
 * An intermediate receipt (ENROUTE/ACCEPTD keep it submitted): noted in the history.
 *
 * filter: {_id, state: 'submitted', remote.submittedAt: as read}; update: history only (ENROUTE/ACCEPTD keep it submitted).
 * returns: matchedCount; 0 = finished (or submitted anew) meanwhile: nothing to note.
 * safe:    only appends to the history of the submission it is about; a repeat adds a second entry, nothing else.
 */
export async function noteIntermediateReceipt(
  sms: Collection<SmsDocument>,
  submission: SubmissionFence,
  record: AttemptRecord,
  historyLimit: number,
): Promise<number> {
  const result = await sms.updateOne(submission, { $push: pushHistory(record, historyLimit) });
  return result.matchedCount;
}

/**
 * The receipt for one part of a message that left as several submits.
 *
 * filter:  {_id, state: 'submitted', remote.submittedAt: as read, this part not yet recorded}
 * update:  {$push: {remoteReceipts: {id, state, err, at}, history}}
 * returns: the document after ({remoteReceipts} only); null = finished meanwhile, or this part's receipt came twice.
 * safe:    the `$ne` makes each part's receipt land once, and the document after shows every
 *          part recorded so far, so of two parts' receipts racing the later write sees both
 *          and finalises; a repeat matches nothing; a new submission meanwhile does not match.
 */
export function recordPartReceipt(
  sms: Collection<SmsDocument>,
  submission: SubmissionFence,
  receipt: { remoteId: string; messageState: number; networkErrorCode: number | null; at: Date },
  record: AttemptRecord,
  historyLimit: number,
): Promise<Pick<SmsDocument, '_id' | 'remoteReceipts'> | null> {
  return sms.findOneAndUpdate(
    { ...submission, 'remoteReceipts.id': { $ne: receipt.remoteId } },
    {
      $push: {
        remoteReceipts: {
          id: receipt.remoteId,
          state: receipt.messageState,
          ...(receipt.networkErrorCode !== null ? { err: receipt.networkErrorCode } : {}),
          at: receipt.at,
        },
        ...pushHistory(record, historyLimit),
      },
    },
    { returnDocument: 'after', projection: { remoteReceipts: 1 } },
  );
}

export interface ReceiptFinal {
  state: SmsStateName;
  /** The final message_state (finalStat). */
  messageState: number;
  finalAt: Date;
  /** The ESME asked for a receipt: flag it in this same write. */
  receiptDue: boolean;
  /** Set on `error.networkErrorCode` (a failed final state with a network error), else null. */
  networkErrorCode: number | null;
  /** Pushed to the history, unless the part receipt already recorded it (undefined). */
  record: AttemptRecord | undefined;
  historyLimit: number;
}

/**
 * The receipt's final write.
 *
 * filter: {_id, state: 'submitted', remote.submittedAt: as read} — the CAS that lets exactly one finaliser win
 * update: {$set: {state: <final>, finalAt, finalStat, receiptDue (when the ESME asked), error.networkErrorCode}, $push: history}
 * returns: the document after; null = someone else finalised it first: this receipt is a duplicate.
 * safe:    one findAndModify: of racing receipts, the unanswered sweep and a repeat of this one,
 *          exactly one moves it out of 'submitted'; were the message finalised, requeued and
 *          submitted anew since the read above, the submission time differs and this older
 *          receipt leaves the new submission alone.
 */
export function finaliseByReceipt(
  sms: Collection<SmsDocument>,
  submission: SubmissionFence,
  final: ReceiptFinal,
): Promise<SmsDocument | null> {
  return sms.findOneAndUpdate(
    submission,
    {
      $set: {
        state: final.state,
        finalAt: final.finalAt,
        finalStat: final.messageState,
        ...(final.receiptDue ? { receiptDue: true } : {}),
        ...(final.networkErrorCode !== null ? { 'error.networkErrorCode': final.networkErrorCode } : {}),
      },
      ...(final.record ? { $push: pushHistory(final.record, final.historyLimit) } : {}),
    },
    { returnDocument: 'after' },
  );
}

/**
 * Messages the downstream accepted but never sent a receipt for are finalised once their validity
 * (plus the grace) is over: state `expired`, reported to the ESME as UNKNOWN.
 *
 * filter: {state: 'submitted', validUntil <= now - grace} (index validUntil; state re-checked per document)
 * update: {$set: {state: 'expired', finalAt, finalStat: UNKNOWN, receiptDue, error}, $push: history}
 * returns: modifiedCount; 0 = nothing overdue. A receipt that wins the race first leaves it unmatched.
 * safe:    a CAS on 'submitted' per document, as every receipt's final write: exactly one of them
 *          finalises a message; a repeat or a second cleanup finds nothing. `now` is this host's
 *          clock (validUntil is a due time, not a lease).
 */
export async function expireUnanswered(
  sms: Collection<SmsDocument>,
  now: Date,
  graceMs: number,
  record: AttemptRecord,
  historyLimit: number,
): Promise<number> {
  const result = await sms.updateMany(
    { state: SmsState.submitted, validUntil: { $lte: new Date(now.getTime() - graceMs) }, direction: SmsDirection.mt },
    {
      $set: {
        state: SmsState.expired,
        finalAt: now,
        finalStat: MessageState.UNKNOWN,
        receiptDue: true,
        'error.message': 'no receipt from the downstream before the validity ended',
      },
      $push: { history: { $each: [record], $slice: -historyLimit } },
    },
  );
  return result.modifiedCount;
}
