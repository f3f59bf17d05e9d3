import type { Collection, Filter, ObjectId, WriteConcernSettings } from 'mongodb';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';

/**
 * query_sm, cancel_sm and replace_sm writes on the store. An ESME only ever sees its own messages
 * (every filter carries `account`); changes are CAS on `state: 'queued'`, so a message a
 * deliverer has locked (or already finished) is never changed under it.
 */

function wc(writeConcern: WriteConcernSettings | undefined): { writeConcern?: WriteConcernSettings } {
  return writeConcern ? { writeConcern } : {};
}

/**
 * replace_if_present_flag = 1: the newest queued single-part message of this account with the
 * same source, destination and service_type takes the new content (CAS on state 'queued').
 *
 * filter:  {account, state: 'queued', destKey, source.addr, payload.serviceType (or absent),
 *          no concat, no parts delivered yet (progress)}, sort {arrivedAt: -1}: the newest such message
 * update:  {$set: {payload, priority, registeredDelivery, validUntil, nextAttemptAt, scheduledAt?},
 *          $inc: {rev: 1}}, with the store's write concern
 * returns: its message_id (the document before), or null when none is queued (the submit is then
 *          stored as new).
 * safe:    one findAndModify is atomic: a message a claim or a batch locked first is no longer
 *          'queued' and is left alone; a batch that read it before this write carries the old
 *          `rev`, so its lock misses and the old content is not sent. Not a repeatable write: a
 *          submit sent again replaces again, with the same content.
 */
export async function replaceIfPresent(
  sms: Collection<SmsDocument>,
  doc: SmsDocument,
  writeConcern: WriteConcernSettings | undefined,
): Promise<string | null> {
  const filter: Filter<SmsDocument> = {
    account: doc.account,
    state: SmsState.queued,
    destKey: doc.destKey,
    'source.addr': doc.source.addr,
    'payload.serviceType': doc.payload.serviceType ?? { $exists: false },
    concat: { $exists: false },
    // Some of its parts already went downstream: new content would finish as a mix of both.
    progress: { $exists: false },
  };
  const before = await sms.findOneAndUpdate(
    filter,
    {
      $set: {
        payload: doc.payload,
        priority: doc.priority,
        registeredDelivery: doc.registeredDelivery,
        validUntil: doc.validUntil,
        nextAttemptAt: doc.nextAttemptAt,
        ...(doc.scheduledAt ? { scheduledAt: doc.scheduledAt } : {}),
      },
      // A new revision: a batch that read the old content no longer locks it (src/protocol/batch.ts).
      $inc: { rev: 1 },
    },
    { sort: { arrivedAt: -1 }, projection: { messageId: 1 }, ...wc(writeConcern) },
  );
  return before?.messageId ?? null;
}

/**
 * Takes back the stored parts of a message that could not be stored whole, before the ESME is
 * told to resubmit it (ESME_RSYSERR): otherwise the resubmission would deliver those parts twice.
 *
 * filter:  {_id ∈ ids, state: 'queued'} (a part a deliverer already locked is left alone)
 * delete:  those parts, with the store's write concern
 * returns: how many parts were deleted (the caller counts those not taken back).
 * safe:    a CAS on 'queued' per document: a part a claim or batch locked first is not deleted
 *          under it (and is counted as not taken back); a repeat deletes nothing more.
 */
export async function withdrawQueued(
  sms: Collection<SmsDocument>,
  ids: readonly ObjectId[],
  writeConcern: WriteConcernSettings | undefined,
): Promise<number> {
  const result = await sms.deleteMany({ _id: { $in: [...ids] }, state: SmsState.queued }, wc(writeConcern));
  return result.deletedCount;
}

/** The cancel_sm update. receiptDue: the receipt outbox sends DELETED to ESMEs that asked for receipts. */
function cancelUpdate(now: Date) {
  return { $set: { state: SmsState.cancelled, finalAt: now, receiptDue: true } };
}

/**
 * cancel_sm: the named message (and the other queued parts of its long message, see
 * `cancelQueuedParts`), or every queued message of the account from source_addr to destination_addr
 * (`cancelQueuedFromTo`).
 *
 * filter:  by message_id: {messageId, account, state: 'queued', source.addr?, dest.addr?}, then
 *          {account, concat.groupId, state: 'queued'} for the other parts; without one:
 *          {account, state: 'queued', source.addr, dest.addr, payload.serviceType?}
 * update:  {$set: {state: 'cancelled', finalAt: now, receiptDue: true}}, with the store's write concern
 * returns: nothing; ESME_RCANCELFAIL when the named message matched nothing (not this account's,
 *          not found, or past 'queued') or when no queued message matched the addresses.
 * safe:    each write is a CAS on 'queued': a message (or part) a deliverer locked first is not
 *          cancelled under it and goes out; a repeat matches nothing and fails as above. A long
 *          message's parts are not cancelled atomically together: a part already locked is sent.
 *
 * This one: CAS queued -> cancelled on the named message (of this account; source/dest when given).
 * Returns the document before ({concat} only); null means it is not ours, not found, or past queued.
 */
export function cancelQueuedById(
  sms: Collection<SmsDocument>,
  target: { messageId: string; account: string; sourceAddr: string; destAddr: string },
  now: Date,
  writeConcern: WriteConcernSettings | undefined,
): Promise<Pick<SmsDocument, '_id' | 'concat'> | null> {
  const filter: Filter<SmsDocument> = { messageId: target.messageId, account: target.account, state: SmsState.queued };
  if (target.sourceAddr !== '') filter['source.addr'] = target.sourceAddr;
  if (target.destAddr !== '') filter['dest.addr'] = target.destAddr;
  return sms.findOneAndUpdate(filter, cancelUpdate(now), { projection: { concat: 1 }, ...wc(writeConcern) });
}

/**
 * cancel_sm, after `cancelQueuedById` took a part of a long message: the other parts of the same
 * long message that are still queued go with it.
 *
 * filter:  {account, concat.groupId, state: 'queued'}
 * update:  {$set: {state: 'cancelled', finalAt: now, receiptDue: true}}, with the store's write concern
 * returns: nothing.
 * safe:    a CAS on 'queued' per part: a part a deliverer locked first is not cancelled under it and
 *          goes out (the parts are not cancelled atomically together); a repeat matches nothing.
 */
export async function cancelQueuedParts(
  sms: Collection<SmsDocument>,
  account: string,
  groupId: string,
  now: Date,
  writeConcern: WriteConcernSettings | undefined,
): Promise<void> {
  await sms.updateMany({ account, 'concat.groupId': groupId, state: SmsState.queued }, cancelUpdate(now), wc(writeConcern));
}

/**
 * cancel_sm without message_id: every queued message of this account from source_addr to
 * destination_addr.
 *
 * filter:  {account, state: 'queued', source.addr, dest.addr, payload.serviceType?}
 * update:  {$set: {state: 'cancelled', finalAt: now, receiptDue: true}}, with the store's write concern
 * returns: how many were cancelled (0: the caller answers ESME_RCANCELFAIL).
 * safe:    a CAS on 'queued': a message a deliverer locked first is not cancelled under it and goes
 *          out; a repeat matches nothing.
 */
export async function cancelQueuedFromTo(
  sms: Collection<SmsDocument>,
  target: { account: string; sourceAddr: string; destAddr: string; serviceType: string },
  now: Date,
  writeConcern: WriteConcernSettings | undefined,
): Promise<number> {
  const filter: Filter<SmsDocument> = {
    account: target.account,
    state: SmsState.queued,
    'source.addr': target.sourceAddr,
    'dest.addr': target.destAddr,
  };
  if (target.serviceType !== '') filter['payload.serviceType'] = target.serviceType;
  const result = await sms.updateMany(filter, cancelUpdate(now), wc(writeConcern));
  return result.modifiedCount;
}

/**
 * replace_sm: the new content on the message the caller read and checked.
 *
 * filter: {_id, state: 'queued', attempts: as read} — a deliverer that locked it in the meantime
 *         wins, and the ESME hears ESME_RREPLACEFAIL (parts delivered since the read, `progress`,
 *         come with an attempt, so the same fence covers them).
 * update: the new content, and a new revision (`rev`): a batch that read the old content
 *         before this write cannot lock it any more (its lock is a CAS on the revision it read),
 *         so content older than an acknowledged replace is never sent.
 * returns: matchedCount; 0 = it left the queue first.
 * safe:    a CAS on 'queued' and `attempts`: a claim or batch lock (or a whole attempt) since the
 *          read makes it miss. Two replace_sm racing on one message both match and the later
 *          write's content stands, as if they had come one after the other.
 */
export async function replaceQueuedContent(
  sms: Collection<SmsDocument>,
  read: Pick<SmsDocument, '_id' | 'attempts'>,
  set: Record<string, unknown>,
  writeConcern: WriteConcernSettings | undefined,
): Promise<number> {
  const result = await sms.updateOne(
    { _id: read._id, state: SmsState.queued, attempts: read.attempts },
    { $set: set, $inc: { rev: 1 } },
    wc(writeConcern),
  );
  return result.matchedCount;
}
