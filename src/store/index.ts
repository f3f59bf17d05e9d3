/**
 * The public module of src/store/: what other layers and the tests import from this folder.
 * Modules inside src/store/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { CORRELATION_TTL_SECONDS, Collections, INDEXES, ensureSchema } from './collections.ts';
export type { CollectionName } from './collections.ts';
export { countCommands } from './command-counter.ts';
export type { CommandCounts } from './command-counter.ts';
export { GroupCommitWriter, StoreWriteError } from './group-commit.ts';
export type { GroupCommitOptions } from './group-commit.ts';
export { connectConfiguredMongo, connectMongo, redactUri } from './mongo-client.ts';
export { DUPLICATE_KEY, documentWriteErrors, isDuplicateKeyError } from './mongo-errors.ts';
export { ClockGuard } from './server-clock.ts';
