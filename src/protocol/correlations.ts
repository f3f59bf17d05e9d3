import type { Collection, ObjectId } from 'mongodb';
import { documentWriteErrors, DUPLICATE_KEY } from '../store/mongo-errors.ts';

/** downstream message_id -> our sms `_id`; receipts are matched through it. */
export interface CorrelationDocument {
  connector: string;
  remoteId: string;
  smsId: ObjectId;
  createdAt: Date;
}

/**
 * Stores correlations as each submit_sm_resp arrives (several in one command), so a receipt finds
 * its message however early it comes and even if this worker dies before its outcome write.
 *
 * filter:  each updateOne: {connector, remoteId, smsId ≠ ours}, upsert (one unordered bulkWrite)
 * update:  {$set: {smsId, createdAt}} (an insert of the whole correlation when none exists)
 * returns: the remote ids that named another message before (a downstream reusing its ids after a
 *          restart): they now resolve to the newest submission, which is what a new receipt is about.
 * safe:    the unique {connector, remoteId} index keeps one correlation per remote id; the upsert's
 *          duplicate key means ours is already stored (a write sent again after a lost answer: the
 *          filter's `smsId ≠ ours` does not match it, so the upsert tries to insert). A racing
 *          upsert of the same remote id for another message also ends in a duplicate key here and
 *          is not reported (a downstream reusing an id within one instant). Other errors are thrown.
 */
export async function recordCorrelations(
  correlations: Collection<CorrelationDocument>,
  docs: readonly CorrelationDocument[],
): Promise<string[]> {
  if (docs.length === 0) return [];
  let upserted: Record<number, unknown>;
  const duplicates = new Set<number>();
  try {
    upserted = (
      await correlations.bulkWrite(
        docs.map(({ connector, remoteId, smsId, createdAt }) => ({
          updateOne: { filter: { connector, remoteId, smsId: { $ne: smsId } }, update: { $set: { smsId, createdAt } }, upsert: true },
        })),
        { ordered: false },
      )
    ).upsertedIds;
  } catch (error) {
    const failed = documentWriteErrors(error);
    if (!failed || failed.some((e) => e.code !== DUPLICATE_KEY)) throw error;
    for (const e of failed) duplicates.add(e.index);
    upserted = (error as { result?: { upsertedIds?: Record<number, unknown> } }).result?.upsertedIds ?? {};
  }
  // Neither inserted nor already ours: it matched a correlation that named another message.
  return docs.filter((_, i) => !duplicates.has(i) && !(i in upserted)).map((doc) => doc.remoteId);
}
