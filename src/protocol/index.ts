/**
 * The public module of src/protocol/: what other layers and the tests import from this folder.
 * Modules inside src/protocol/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { duePrefix, holdDestination, lockBatch, readPending } from './batch.ts';
export type { LockBatchRequest } from './batch.ts';
export {
  cancelQueuedById,
  cancelQueuedFromTo,
  cancelQueuedParts,
  replaceIfPresent,
  replaceQueuedContent,
  withdrawQueued,
} from './cancel-replace.ts';
export { claimOne } from './claim.ts';
export { expireOverdue, markAttemptLimit, purgeFinal } from './cleanup.ts';
export { recordCorrelations } from './correlations.ts';
export type { CorrelationDocument } from './correlations.ts';
export { acquireDestinations, holdersOf, releaseDestinations, releaseExpiredDestinations, renewDestinations } from './destination-locks.ts';
export type { AcquireRequest, AcquireResult } from './destination-locks.ts';
export { pullForwardEsmeTraffic } from './esme-bind.ts';
export { later, literal, ranOut } from './expressions.ts';
export { earliestLeaseEnd, postponeToSchedule, releaseClaims, releaseExpiredMessages, renewMessages } from './message-leases.ts';
export { assignMoRoute } from './mo-routing.ts';
export type { MoRoute } from './mo-routing.ts';
export { applyOutcomes, updateFor } from './outcomes.ts';
export type { BatchDecision, FencedUpdate } from './outcomes.ts';
export { expireUnanswered, finaliseByReceipt, noteIntermediateReceipt, recordPartReceipt, submissionFence } from './receipt-writes.ts';
export type { ReceiptFinal, SubmissionFence } from './receipt-writes.ts';
export { requeueRound } from './requeue.ts';
export type { RequeueRound } from './requeue.ts';
