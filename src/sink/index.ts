/**
 * The public module of src/sink/: what other layers and the tests import from this folder.
 * Modules inside src/sink/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { ReceiptStat } from './outcomes.ts';
export type { DestinationRule, OutcomeRef, ReceiptStatName } from './outcomes.ts';
export { Sink, startSink } from './sink.ts';
export type { ReceivedMessage, SinkOptions } from './sink.ts';
