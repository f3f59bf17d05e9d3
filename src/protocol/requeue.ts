import type { Collection, Filter } from 'mongodb';
import { SmsState, type AttemptRecord, type SmsDocument } from '../domain/sms-document.ts';

export interface RequeueRound {
  /** The operator's selection (already limited to requeueable states). */
  selected: Filter<SmsDocument>;
  now: Date;
  record: AttemptRecord;
  historyLimit: number;
  /** How much more validity a message whose validity has passed gets. */
  extendValidityMs: number;
}

/**
 * One round of a requeue: the selected messages back to `queued`, due now, attempts reset, a new
 * receipt generation (`requeues` + 1).
 *
 * filter:  four updateMany per round: selector, state ∈ REQUEUEABLE_STATES, receiptDue ≠ true,
 *          state = 'queued' or not (queued ones keep `progress`), and validUntil > now (still valid)
 *          or validUntil <= now (gets a new validUntil)
 * update:  {$set: {state: 'queued', nextAttemptAt: now, attempts: 0, validUntil?}, $unset: {lock,
 *          finalAt, finalStat, remoteReceipts, progress (final ones only), earlyReceipt, error},
 *          $inc: {requeues: 1},
 *          $push: history (bounded)}
 * returns: modifiedCount of each, summed: requeued, and of those validityExtended; 0 = nothing (more)
 *          to do, or a receipt flag appeared meanwhile (the next round takes those).
 * safe:    per document a CAS on a requeueable state: never 'locked' or 'submitted', so no holder
 *          or downstream has it; a claim that locks it first makes it miss; a cleanup that
 *          finalises it first also flags its receipt, which keeps it out until the next round. The
 *          two writes cannot both take one message (validUntil is on either side of now and only
 *          the second moves it). Not idempotent for 'queued': a repeat requeues again (attempts 0,
 *          a new receipt generation); nextAttemptAt is set to now even for a message scheduled
 *          later (its scheduledAt is kept: a deliverer that claims it early gives it back due at
 *          its schedule, see postponeToSchedule).
 */
export async function requeueRound(
  sms: Collection<SmsDocument>,
  round: RequeueRound,
): Promise<{ requeued: number; validityExtended: number }> {
  const { selected, now, record, historyLimit, extendValidityMs } = round;
  const update = (extra: Partial<SmsDocument>, keepProgress: boolean) => ({
    $set: { state: SmsState.queued, nextAttemptAt: now, attempts: 0, ...extra },
    // What the last outcome left that would mislead the next one: its receipt's stat and error,
    // the part receipts of the old submission, and the parts it got accepted (`progress`): a final
    // message is sent whole again, since receipts for those parts went unheard while it was final
    // (`earlyReceipt`: the field older versions parked receipts in). A message still queued keeps
    // its progress: the handset has those parts and waits for the rest, which alone go out.
    $unset: {
      lock: '',
      finalAt: '',
      finalStat: '',
      remoteReceipts: '',
      earlyReceipt: '',
      error: '',
      ...(keepProgress ? {} : { progress: '' as const }),
    } as const,
    $inc: { requeues: 1 },
    $push: { history: { $each: [record], $slice: -historyLimit } },
  });
  let requeued = 0;
  let validityExtended = 0;
  // Still valid. Filter: selector, requeueable state (never locked), no receipt in the outbox, validUntil > now.
  // Update: queued, due now, attempts 0, next receipt generation, last outcome's fields removed, history entry.
  // No match: nothing (more) to do, or a receipt flag appeared meanwhile (the next round).
  // Queued and final messages apart: only final ones lose their part progress.
  for (const queued of [true, false]) {
    const unflagged = {
      $and: [selected, { receiptDue: { $ne: true } }, { state: queued ? SmsState.queued : { $ne: SmsState.queued } }],
    } as Filter<SmsDocument>;
    const valid = await sms.updateMany({ ...unflagged, validUntil: { $gt: now } } as Filter<SmsDocument>, update({}, queued));
    // Validity passed: the same, plus a new validUntil so cleanup does not expire it again at once.
    const extended = await sms.updateMany(
      { ...unflagged, validUntil: { $lte: now } } as Filter<SmsDocument>,
      update({ validUntil: new Date(now.getTime() + extendValidityMs) }, queued),
    );
    requeued += valid.modifiedCount + extended.modifiedCount;
    validityExtended += extended.modifiedCount;
  }
  return { requeued, validityExtended };
}
