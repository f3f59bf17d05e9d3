import { Binary, type Collection, type Db, type Filter, type ObjectId, type WriteConcernSettings } from 'mongodb';
import { formatSmppAbsolute } from '../codec/index.ts';
import type { AccountLimits } from '../accounts/account.ts';
import { CommandStatus } from '../smpp/command-status.ts';
import type { CancelSm, QuerySm, QuerySmResult, ReplaceSm } from '../smpp/domain.ts';
import { SmppError } from '../smpp/errors.ts';
import { Collections } from '../store/collections.ts';
import { messageStateOf } from '../domain/message-state.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';
import { prepareMessage, type SubmitPolicy } from '../submission/submit-validation.ts';

const MESSAGE_ID = /^[0-9a-f]{24}$/;

function checkMessageId(messageId: string, status: number): void {
  if (!MESSAGE_ID.test(messageId)) throw new SmppError(status, 'message_id is not one this SMSC issued');
}

/**
 * query_sm, cancel_sm and replace_sm against the store. An ESME only ever sees its own messages
 * (every filter carries `account`); changes are CAS on `state: 'queued'`, so a message a
 * deliverer has locked (or already finished) is never changed under it.
 */
export class MessageOps {
  readonly #sms: Collection<SmsDocument>;
  readonly #writeConcern: WriteConcernSettings | undefined;

  /** `writeConcern`: what a change must reach before the ESME is told it succeeded (the store's). */
  constructor(db: Db, writeConcern?: WriteConcernSettings) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#writeConcern = writeConcern;
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
  async replaceIfPresent(doc: SmsDocument): Promise<string | null> {
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
    const before = await this.#sms.findOneAndUpdate(
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
      { sort: { arrivedAt: -1 }, projection: { messageId: 1 }, ...(this.#writeConcern ? { writeConcern: this.#writeConcern } : {}) },
    );
    return before?.messageId ?? null;
  }

  async query(req: QuerySm, account: AccountLimits): Promise<QuerySmResult> {
    checkMessageId(req.messageId, CommandStatus.ESME_RINVMSGID);
    const doc = await this.#sms.findOne(
      { messageId: req.messageId, account: account.systemId },
      { projection: { state: 1, finalAt: 1, error: 1, source: 1 } },
    );
    if (!doc || (req.source.addr !== '' && doc.source.addr !== req.source.addr)) {
      throw new SmppError(CommandStatus.ESME_RQUERYFAIL, 'no such message for this account');
    }
    return {
      messageId: req.messageId,
      finalDate: doc.finalAt ? formatSmppAbsolute(doc.finalAt) : '',
      messageState: messageStateOf(doc.state),
      errorCode: Math.min(255, Math.max(0, doc.error?.networkErrorCode ?? 0)),
    };
  }

  /**
   * Takes back the stored parts of a message that could not be stored whole, before the ESME is
   * told to resubmit it (ESME_RSYSERR): otherwise the resubmission would deliver those parts twice.
   *
   * filter:  {_id ∈ ids, state: 'queued'} (a part a deliverer already locked is left alone)
   * delete:  those parts, with the store's write concern
   * returns: how many parts could not be taken back (0 = all of them).
   * safe:    a CAS on 'queued' per document: a part a claim or batch locked first is not deleted
   *          under it (and is counted as not taken back); a repeat deletes nothing more.
   */
  async withdraw(ids: readonly ObjectId[]): Promise<number> {
    if (ids.length === 0) return 0;
    const result = await this.#sms.deleteMany({ _id: { $in: [...ids] }, state: SmsState.queued }, this.#wc());
    return ids.length - result.deletedCount;
  }

  /**
   * cancel_sm: the named message (and the other queued parts of its long message), or every queued
   * message of the account from source_addr to destination_addr.
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
   */
  async cancel(req: CancelSm, account: AccountLimits, now: Date): Promise<void> {
    // receiptDue: the receipt outbox sends DELETED to ESMEs that asked for receipts.
    const cancel = { $set: { state: SmsState.cancelled, finalAt: now, receiptDue: true } };
    if (req.messageId !== '') {
      checkMessageId(req.messageId, CommandStatus.ESME_RCANCELFAIL);
      // CAS queued -> cancelled on the named message (of this account; source/dest when given).
      // Returns the document before; null means it is not ours, not found, or past queued.
      const filter: Filter<SmsDocument> = { messageId: req.messageId, account: account.systemId, state: SmsState.queued };
      if (req.source.addr !== '') filter['source.addr'] = req.source.addr;
      if (req.dest.addr !== '') filter['dest.addr'] = req.dest.addr;
      const before = await this.#sms.findOneAndUpdate(filter, cancel, { projection: { concat: 1 }, ...this.#wc() });
      if (!before) throw new SmppError(CommandStatus.ESME_RCANCELFAIL, 'message is not queued (or not found)');
      if (before.concat) {
        // The other parts of the same long message that are still queued go with it.
        await this.#sms.updateMany(
          { account: account.systemId, 'concat.groupId': before.concat.groupId, state: SmsState.queued },
          cancel,
          this.#wc(),
        );
      }
      return;
    }
    // No message_id: every queued message of this account from source_addr to destination_addr.
    if (req.source.addr === '' || req.dest.addr === '') {
      throw new SmppError(CommandStatus.ESME_RCANCELFAIL, 'without message_id, source_addr and destination_addr are required');
    }
    const filter: Filter<SmsDocument> = {
      account: account.systemId,
      state: SmsState.queued,
      'source.addr': req.source.addr,
      'dest.addr': req.dest.addr,
    };
    if (req.serviceType !== '') filter['payload.serviceType'] = req.serviceType;
    const result = await this.#sms.updateMany(filter, cancel, this.#wc());
    if (result.modifiedCount === 0) throw new SmppError(CommandStatus.ESME_RCANCELFAIL, 'no queued message matched');
  }

  async replace(req: ReplaceSm, account: AccountLimits, now: Date, policy: SubmitPolicy): Promise<void> {
    checkMessageId(req.messageId, CommandStatus.ESME_RREPLACEFAIL);
    const current = await this.#sms.findOne({ messageId: req.messageId, account: account.systemId });
    if (!current || current.state !== SmsState.queued)
      throw new SmppError(CommandStatus.ESME_RREPLACEFAIL, 'message is not queued (or not found)');
    if (req.source.addr !== '' && current.source.addr !== req.source.addr)
      throw new SmppError(CommandStatus.ESME_RREPLACEFAIL, 'source_addr does not match');
    // The rest of a long message whose first parts the downstream took would go out with the new
    // text: the handset would put together a message nobody sent.
    if (current.progress)
      throw new SmppError(CommandStatus.ESME_RREPLACEFAIL, 'parts of it were already delivered; it can no longer be replaced');
    // Same checks as a submit for the fields replace_sm carries (times, registered_delivery, length).
    const prepared = prepareMessage(
      {
        serviceType: '',
        source: req.source.addr !== '' ? req.source : current.source,
        esmClass: current.payload.esmClass,
        protocolId: 0,
        priority: 0,
        scheduleDeliveryTime: req.scheduleDeliveryTime,
        validityPeriod: req.validityPeriod,
        registeredDelivery: req.registeredDelivery,
        replaceIfPresent: 0,
        dataCoding: current.payload.dataCoding,
        smDefaultMsgId: req.smDefaultMsgId,
        shortMessage: req.shortMessage,
        tlvs: {},
        unknownTlvs: [],
      },
      'submit_sm',
      { ...account, sourceAllow: [] },
      now,
      policy,
    );
    const set: Record<string, unknown> = {
      'payload.shortMessage': new Binary(req.shortMessage),
      registeredDelivery: req.registeredDelivery,
    };
    if (req.validityPeriod !== '') set.validUntil = prepared.validUntil;
    if (prepared.scheduledAt) {
      set.scheduledAt = prepared.scheduledAt;
      set.nextAttemptAt = prepared.scheduledAt;
    }
    // filter: {_id, state: 'queued', attempts: as read} — a deliverer that locked it in the meantime
    //         wins, and the ESME hears ESME_RREPLACEFAIL (parts delivered since the read, `progress`,
    //         come with an attempt, so the same fence covers them).
    // update: the new content, and a new revision (`rev`): a batch that read the old content
    //         before this write cannot lock it any more (its lock is a CAS on the revision it read),
    //         so content older than an acknowledged replace is never sent.
    // returns: matchedCount; 0 = it left the queue first.
    // safe:    a CAS on 'queued' and `attempts`: a claim or batch lock (or a whole attempt) since the
    //          read makes it miss. Two replace_sm racing on one message both match and the later
    //          write's content stands, as if they had come one after the other.
    const result = await this.#sms.updateOne(
      { _id: current._id, state: SmsState.queued, attempts: current.attempts },
      { $set: set, $inc: { rev: 1 } },
      this.#wc(),
    );
    if (result.matchedCount === 0) {
      throw new SmppError(CommandStatus.ESME_RREPLACEFAIL, 'message left the queue before it could be replaced');
    }
  }

  #wc(): { writeConcern?: WriteConcernSettings } {
    return this.#writeConcern ? { writeConcern: this.#writeConcern } : {};
  }
}
