import { Binary, type Collection, type Db, type ObjectId, type WriteConcernSettings } from 'mongodb';
import { formatSmppAbsolute } from '../codec/index.ts';
import type { AccountLimits } from '../accounts/account.ts';
import { CommandStatus } from '../smpp/command-status.ts';
import type { CancelSm, QuerySm, QuerySmResult, ReplaceSm } from '../smpp/domain.ts';
import { SmppError } from '../smpp/errors.ts';
import { Collections } from '../store/collections.ts';
import {
  cancelQueuedById,
  cancelQueuedFromTo,
  cancelQueuedParts,
  replaceIfPresent,
  replaceQueuedContent,
  withdrawQueued,
} from '../protocol/index.ts';
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

  /** replace_if_present_flag = 1: see `replaceIfPresent` in src/protocol/cancel-replace.ts. */
  replaceIfPresent(doc: SmsDocument): Promise<string | null> {
    return replaceIfPresent(this.#sms, doc, this.#writeConcern);
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
   * Returns how many parts could not be taken back (0 = all of them); see `withdrawQueued`.
   */
  async withdraw(ids: readonly ObjectId[]): Promise<number> {
    if (ids.length === 0) return 0;
    const deleted = await withdrawQueued(this.#sms, ids, this.#writeConcern);
    return ids.length - deleted;
  }

  /**
   * cancel_sm: the named message (and the other queued parts of its long message), or every queued
   * message of the account from source_addr to destination_addr (the writes and why they are safe:
   * `cancelQueuedById` and the functions after it in src/protocol/cancel-replace.ts).
   * ESME_RCANCELFAIL when the named message matched nothing (not this account's, not found, or past
   * 'queued') or when no queued message matched the addresses.
   */
  async cancel(req: CancelSm, account: AccountLimits, now: Date): Promise<void> {
    if (req.messageId !== '') {
      checkMessageId(req.messageId, CommandStatus.ESME_RCANCELFAIL);
      const before = await cancelQueuedById(
        this.#sms,
        { messageId: req.messageId, account: account.systemId, sourceAddr: req.source.addr, destAddr: req.dest.addr },
        now,
        this.#writeConcern,
      );
      if (!before) throw new SmppError(CommandStatus.ESME_RCANCELFAIL, 'message is not queued (or not found)');
      if (before.concat) {
        await cancelQueuedParts(this.#sms, account.systemId, before.concat.groupId, now, this.#writeConcern);
      }
      return;
    }
    // No message_id: every queued message of this account from source_addr to destination_addr.
    if (req.source.addr === '' || req.dest.addr === '') {
      throw new SmppError(CommandStatus.ESME_RCANCELFAIL, 'without message_id, source_addr and destination_addr are required');
    }
    const cancelled = await cancelQueuedFromTo(
      this.#sms,
      { account: account.systemId, sourceAddr: req.source.addr, destAddr: req.dest.addr, serviceType: req.serviceType },
      now,
      this.#writeConcern,
    );
    if (cancelled === 0) throw new SmppError(CommandStatus.ESME_RCANCELFAIL, 'no queued message matched');
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
    // The write and why it is safe: `replaceQueuedContent` (src/protocol/cancel-replace.ts).
    const matched = await replaceQueuedContent(this.#sms, current, set, this.#writeConcern);
    if (matched === 0) {
      throw new SmppError(CommandStatus.ESME_RREPLACEFAIL, 'message left the queue before it could be replaced');
    }
  }
}
