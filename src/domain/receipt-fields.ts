import type { ObjectId } from 'mongodb';
import type { SmsDocument } from './sms-document.ts';

/**
 * Fields the receipts component adds to `sms` documents (all optional, so documents written
 * before it existed stay valid):
 * - `receiptDue: true` on a message whose state just changed in a way an ESME may need to hear
 *   about (final, or a temporary failure when intermediate notifications were asked for). Every
 *   code path that finalises a message sets it in the same write; the ReceiptEmitter turns it into
 *   a receipt document and unsets it. This is the outbox that makes "exactly one receipt" hold
 *   across workers, cleanups and crashes.
 * - `finalStat`: the message_state a receipt reports when the state alone does not say it
 *   (UNKNOWN after validity without a receipt, SKIPPED, …).
 * - `remoteReceipts`: per downstream part, what its receipt said (a stored message that left as
 *   several submits is final only when every part is).
 * - on receipt documents, `receipt: {smsId, messageId, stat, final}` links back to the message.
 */
export interface ReceiptFields {
  receiptDue?: boolean;
  finalStat?: number;
  remoteReceipts?: { id: string; state: number; err?: number; at: Date }[];
  remote?: SmsDocument['remote'] & { otherIds?: string[] };
  receipt?: ReceiptLink;
}

export interface ReceiptLink {
  smsId: ObjectId;
  messageId: string;
  stat: string;
  final: boolean;
}

export type SmsWithReceipt = SmsDocument & ReceiptFields;

/** `account` of the receipt documents the SMSC itself generates (kept apart from ESME backlogs). */
export const RECEIPT_ACCOUNT = '@smsc';
