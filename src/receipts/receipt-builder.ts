import { createHash } from 'node:crypto';
import { Binary, ObjectId } from 'mongodb';
import { decodeText, encodeGsm7, formatReceipt, isGsm7, MessageState, messageStateToStatWord, parseInboundPart } from '../codec/index.ts';
import { messageIdOf, SmsDirection, SmsState, type SmsDocument, RECEIPT_ACCOUNT } from '../domain/sms-document.ts';

/** esm_class of an SMSC delivery receipt (SMPP 3.4 5.2.12, bits 2-5 = 0001). */
export const ESM_CLASS_RECEIPT = 0x04;
/** esm_class of an intermediate delivery notification (bits 2-5 = 1000). */
export const ESM_CLASS_INTERMEDIATE = 0x20;
/** network_error_code network type: GSM (SMPP 3.4 5.3.2.31). */
const NETWORK_TYPE_GSM = 3;

export interface ReceiptBuildOptions {
  now: Date;
  /** How long a receipt waits for its ESME to bind before it expires. */
  validityMs: number;
}

/**
 * Lock key (and `destKey`) of traffic to an ESME: one lane per ESME and subscriber, so receipts
 * and MO to one ESME flow in parallel across subscribers, in order per subscriber, and never
 * share a lock with MT traffic (whose destKeys are plain numbers).
 */
export function esmeLockKey(systemId: string, subscriberKey: string): string {
  return `esme:${systemId}:${subscriberKey}`;
}

/**
 * Receipt ids are derived from the message's `_id`, so whoever creates a message's final
 * receipt — any worker, cleanup, a process that crashed after inserting it — inserts the same
 * `_id`, and the unique `_id` index lets exactly one of them in. Layout: the message's timestamp
 * (4 bytes) and counter (3 bytes), then 5 bytes of a hash of kind and message: receipts created
 * together sort (by `_id`, the batch order's tie-break) like their messages did.
 */
export function receiptIdFor(smsId: ObjectId, kind: string): ObjectId {
  const source = Buffer.from(smsId.id);
  const bytes = Buffer.alloc(12);
  source.copy(bytes, 0, 0, 4);
  source.copy(bytes, 4, 9, 12);
  createHash('sha256').update(`${kind}:${smsId.toHexString()}`).digest().copy(bytes, 7, 0, 5);
  return new ObjectId(bytes);
}

/** The first 20 characters of the message text, or '' when it is not text we decode. */
export function textSnippet(sms: Pick<SmsDocument, 'payload'>): string {
  try {
    const raw = Buffer.from(sms.payload.shortMessage.buffer);
    const part = parseInboundPart({ shortMessage: raw, esmClass: sms.payload.esmClass, messagePayload: null });
    return Array.from(decodeText(part.payload, sms.payload.dataCoding)).slice(0, 20).join('');
  } catch {
    return '';
  }
}

/** GSM 03.38 for data_coding 0; characters outside it become '?', so every ESME reads the receipt. */
function gsmSafe(text: string): string {
  return Array.from(text, (ch) => (isGsm7(ch) ? ch : '?')).join('');
}

/** The network error code a receipt reports: the downstream's when known, else our SMPP status (capped). */
export function errorCodeOf(sms: Pick<SmsDocument, 'error'>, messageState: number): number {
  if (messageState === MessageState.DELIVERED) return 0;
  const code = sms.error?.networkErrorCode ?? sms.error?.status ?? 0;
  return Math.max(0, Math.min(999, code));
}

export interface ReceiptSpec {
  messageState: number;
  /** Final receipt (esm_class 0x04) or intermediate notification (0x20). */
  final: boolean;
  /** Distinguishes several intermediate notifications of one message (its attempt count). */
  kind: string;
}

/** The `sms` document carrying one receipt to the ESME that submitted `sms`. */
export function buildReceiptDocument(sms: SmsDocument, spec: ReceiptSpec, options: ReceiptBuildOptions): SmsDocument {
  const { now } = options;
  const stat = messageStateToStatWord(spec.messageState);
  const err = errorCodeOf(sms, spec.messageState);
  const text = formatReceipt({
    id: sms.messageId,
    sub: 1,
    dlvrd: spec.messageState === MessageState.DELIVERED ? 1 : 0,
    submitDate: sms.arrivedAt,
    doneDate: sms.finalAt ?? now,
    stat: spec.messageState,
    err,
    text: textSnippet(sms),
  });
  const _id = receiptIdFor(sms._id, spec.kind);
  return {
    _id,
    messageId: messageIdOf(_id),
    direction: SmsDirection.receipt,
    account: RECEIPT_ACCOUNT,
    arrivedAt: now,
    // A receipt travels back: from the original destination to the original source.
    source: { ...sms.dest },
    dest: { ...sms.source },
    destKey: esmeLockKey(sms.account, sms.destKey),
    priority: 0,
    registeredDelivery: 0,
    validUntil: new Date(now.getTime() + options.validityMs),
    nextAttemptAt: now,
    attempts: 0,
    state: SmsState.queued,
    target: { kind: 'esme', systemId: sms.account },
    payload: {
      dataCoding: 0,
      esmClass: spec.final ? ESM_CLASS_RECEIPT : ESM_CLASS_INTERMEDIATE,
      shortMessage: new Binary(encodeGsm7(gsmSafe(text))),
      tlvs: {
        receiptedMessageId: sms.messageId,
        messageState: spec.messageState,
        networkErrorCode: new Binary(Buffer.from([NETWORK_TYPE_GSM, (err >> 8) & 0xff, err & 0xff])),
      },
    },
    history: [],
    receipt: { smsId: sms._id, messageId: sms.messageId, stat, final: spec.final },
  };
}
