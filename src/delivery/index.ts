/**
 * The public module of src/delivery/: what other layers and the tests import from this folder.
 * Modules inside src/delivery/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { Coalescer } from './coalescer.ts';
export { DEFAULT_DELIVERY_OPTIONS, backoffMs, resolveDeliveryOptions } from './delivery-options.ts';
export type { DeliveryOptions } from './delivery-options.ts';
export { DeliveryRound, emptyStats, newToken, retryAt } from './delivery-round.ts';
export type { AcceptedMessage, RoundStats } from './delivery-round.ts';
export { DeliveryWorker, defaultOwner } from './delivery-worker.ts';
export type { DeliveryWorkerOptions } from './delivery-worker.ts';
export { LeaseManager } from './lease-manager.ts';
export { OutcomeWriter } from './outcome-writer.ts';
export { Wakeup } from './wakeup.ts';
