/**
 * The public module of src/domain/: what other layers and the tests import from this folder.
 * Modules inside src/domain/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { ManualClock, sleep, systemClock } from './clock.ts';
export type { Clock, DbNow } from './clock.ts';
export { ConfigError, SmscError, StoreErrorCode } from './errors.ts';
export type { StoreErrorCodeName } from './errors.ts';
export { combineParts, effectOfReceipt, messageStateOf } from './message-state.ts';
export type { MessageStateValue } from './message-state.ts';
export { receiptDueSet } from './receipt-hooks.ts';
export { wantsAnyReceipt, wantsFinalReceipt, wantsIntermediate } from './receipt-request.ts';
export { FINAL_STATES, RECEIPT_ACCOUNT, SmsDirection, SmsState, messageIdOf } from './sms-document.ts';
export type {
  AttemptRecord,
  ConcatInfo,
  EventDocument,
  LockDocument,
  PartProgress,
  SmppAddress,
  SmsDocument,
  SmsHlrField,
  SmsStateName,
  SmsTarget,
} from './sms-document.ts';
export { isSession } from './submit-outcome.ts';
export type { OutboundSession, SelectFailure, Sender, SubmitContext, SubmitOutcome } from './submit-outcome.ts';
