// Our states and SMPP's message_state, in one place: the message_state values, what each of our
// states reports (query_sm_resp, receipts, CDRs), and what a downstream receipt's message_state
// does to a message.
import { SmsState, type SmsStateName } from './sms-document.ts';

/** message_state TLV values (SMPP 3.4 §5.3.2.35; 0 and 9 from SMPP 5.0). */
export const MessageState = Object.freeze({
  SCHEDULED: 0,
  ENROUTE: 1,
  DELIVERED: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIVERABLE: 5,
  ACCEPTED: 6,
  UNKNOWN: 7,
  REJECTED: 8,
  SKIPPED: 9,
} as const);

export type MessageStateName = keyof typeof MessageState;
export type MessageStateValue = (typeof MessageState)[MessageStateName];

/**
 * The message_state each of our states reports: query_sm_resp (SMPP 3.4 5.2.28) says it, and a
 * receipt or CDR for a final state says it unless the message names its own `finalStat`. Not
 * final yet (queued, locked, submitted): ENROUTE.
 */
export const MessageStateOf: Readonly<Record<SmsStateName, MessageStateValue>> = Object.freeze({
  queued: MessageState.ENROUTE,
  locked: MessageState.ENROUTE,
  submitted: MessageState.ENROUTE,
  delivered: MessageState.DELIVERED,
  expired: MessageState.EXPIRED,
  cancelled: MessageState.DELETED,
  undeliverable: MessageState.UNDELIVERABLE,
  rejected: MessageState.REJECTED,
});

/** MessageStateOf for a state read from a document; one no version of ours wrote reports UNKNOWN. */
export function messageStateOf(state: string): MessageStateValue {
  return (MessageStateOf as Readonly<Record<string, MessageStateValue>>)[state] ?? MessageState.UNKNOWN;
}

/** What a downstream receipt's message_state means for our message. */
export type ReceiptEffect = { kind: 'final'; state: SmsStateName; messageState: number } | { kind: 'intermediate'; messageState: number };

/**
 * DELIVERED, UNDELIVERABLE, EXPIRED, REJECTED, DELETED are final with the matching state; UNKNOWN
 * and SKIPPED are final failures reported as such; ENROUTE, ACCEPTED and SCHEDULED keep the
 * message `submitted` (the final receipt is still to come).
 */
export function effectOfReceipt(messageState: number): ReceiptEffect {
  switch (messageState) {
    case MessageState.DELIVERED:
      return { kind: 'final', state: SmsState.delivered, messageState };
    case MessageState.EXPIRED:
      return { kind: 'final', state: SmsState.expired, messageState };
    case MessageState.DELETED:
      return { kind: 'final', state: SmsState.cancelled, messageState };
    case MessageState.REJECTED:
      return { kind: 'final', state: SmsState.rejected, messageState };
    case MessageState.UNDELIVERABLE:
    case MessageState.UNKNOWN:
    case MessageState.SKIPPED:
      return { kind: 'final', state: SmsState.undeliverable, messageState };
    default:
      return { kind: 'intermediate', messageState };
  }
}

/**
 * When a stored message left as several downstream submits, it is final once every part has a
 * final receipt: delivered when all were delivered, else the first part's failure.
 */
export function combineParts(states: readonly number[], total: number): ReceiptEffect | null {
  const finals = states.map(effectOfReceipt).filter((e): e is Extract<ReceiptEffect, { kind: 'final' }> => e.kind === 'final');
  if (finals.length < total) return null;
  return finals.find((e) => e.state !== SmsState.delivered) ?? finals[0];
}
