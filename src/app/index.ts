/**
 * The public module of src/app/: what other layers and the tests import from this folder.
 * Modules inside src/app/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { DEMO_ACCOUNT, runAllInOne } from './all-in-one.ts';
export { runApiProcess } from './api-process.ts';
export { buildCdrJournal, cdrRecordOptions, cdrUploader, runCdrJournalProcess } from './cdr-process.ts';
export { runCleanupProcess } from './cleanup-process.ts';
export { runDelivererProcess } from './deliverer-process.ts';
export { runInserterProcess } from './inserter-process.ts';
export { isSupervised } from './parent-tether.ts';
export { answerSupervisorProbes } from './supervised-child.ts';
export { Supervisor } from './supervisor.ts';
export type { ChildSpec } from './supervisor.ts';
export { UP_LOCK_FILE, acquireUpLock } from './up-lock.ts';
