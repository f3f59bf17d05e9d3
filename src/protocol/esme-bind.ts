import type { Collection } from 'mongodb';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';

/**
 * An ESME bound: the messages waiting for it that were backing off become due now.
 *
 * filter: {target: esme systemId, state: 'queued', nextAttemptAt > now} (backing off after failed deliveries)
 * update: {$set: {nextAttemptAt: now}} — a new bind is a new chance for all of them
 * returns: modifiedCount; 0 = nothing was backing off.
 * safe:    moves due times only and only of 'queued' messages, so a claim or a lock that
 *          raced it is unaffected; order per destination is kept by the round's due prefix; a
 *          repeat finds nothing more. It also pulls forward messages scheduled for later
 *          (nextAttemptAt = scheduledAt): claims then take them but batches leave them out.
 */
export async function pullForwardEsmeTraffic(sms: Collection<SmsDocument>, systemId: string, now: Date): Promise<number> {
  const result = await sms.updateMany(
    { 'target.kind': 'esme', 'target.systemId': systemId, state: SmsState.queued, nextAttemptAt: { $gt: now } },
    { $set: { nextAttemptAt: now } },
  );
  return result.modifiedCount;
}
