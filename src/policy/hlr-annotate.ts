import type { Db } from 'mongodb';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';
import type { IntakePolicy } from './intake-policy.ts';

/**
 * After the ack (`hlr.routing` without a lookup before it): looks the destination up and stores
 * the answer on the messages, for routing on the serving network. Best effort and never throws:
 * a message a deliverer has already claimed is left as it is.
 */
export async function annotateWithHlr(policy: IntakePolicy, db: Db, docs: readonly SmsDocument[], logger: Logger): Promise<void> {
  try {
    const hlr = await policy.lookupForRouting(docs[0].destKey);
    if (!hlr) return;
    // filter:  {_id ∈ these messages, state: 'queued', no hlr}
    // update:  {$set: {hlr}}
    // returns: nothing (modifiedCount 0 = a deliverer took them first; fine). Errors only logged.
    // safe:    beside the deliverers: their claims CAS on state 'queued' and this sets no field a
    //          claim, a batch lock (rev) or a fenced write uses; a batch that read a message before
    //          this write routes it without the answer, as if the lookup had come late. A repeat
    //          matches nothing (hlr exists).
    await db
      .collection<SmsDocument>(Collections.sms)
      .updateMany({ _id: { $in: docs.map((d) => d._id) }, state: SmsState.queued, hlr: { $exists: false } }, { $set: { hlr } });
  } catch (error) {
    logger.debug({ err: (error as Error).message }, 'could not store the HLR answer for routing');
  }
}
