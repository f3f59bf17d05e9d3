/**
 * The public module of src/receipts/: what other layers and the tests import from this folder.
 * Modules inside src/receipts/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { CorrelationWriter } from './correlation-writer.ts';
export { isReceipt, readInboundReceipt, userDataText } from './inbound-receipt.ts';
export { buildReceiptDocument, esmeLockKey, receiptIdFor, textSnippet } from './receipt-builder.ts';
export { ESME_EVENT_KEY, ReceiptEmitter, receiptKindOf, receiptSpecOf } from './receipt-emitter.ts';
export type { ReceiptEmitterOptions } from './receipt-emitter.ts';
export { ReceiptFinaliser, finaliseUnanswered } from './receipt-finaliser.ts';
export { ReceiptIntake } from './receipt-intake.ts';
export type { MoSink, ReceiptIntakeOptions } from './receipt-intake.ts';
export { ORPHAN_RECEIPTS, ensureReceiptSchema } from './receipt-schema.ts';
export { remoteIdKey } from './remote-ids.ts';
export type { MessageIdForms } from './remote-ids.ts';
