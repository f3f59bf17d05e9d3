import { MessageState } from '../codec/index.ts';
import { SmsState, type SmsStateName } from './sms-document.ts';

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

/** The message_state a receipt reports for a final state (unless the message names its own `finalStat`). */
export function messageStateOfFinal(state: SmsStateName): number {
  switch (state) {
    case SmsState.delivered:
      return MessageState.DELIVERED;
    case SmsState.expired:
      return MessageState.EXPIRED;
    case SmsState.cancelled:
      return MessageState.DELETED;
    case SmsState.rejected:
      return MessageState.REJECTED;
    case SmsState.undeliverable:
      return MessageState.UNDELIVERABLE;
    default:
      return MessageState.ENROUTE;
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
