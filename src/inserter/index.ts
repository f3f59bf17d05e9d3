/**
 * The public module of src/inserter/: what other layers and the tests import from this folder.
 * Modules inside src/inserter/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { BacklogTracker } from './backlog.ts';
export { BindGuard, bindGuardKeys } from './bind-guard.ts';
export type { BindGuardOptions } from './bind-guard.ts';
export { createBindSlots } from './bind-slots.ts';
export type { BindSlots } from './bind-slots.ts';
export { Inserter } from './inserter.ts';
export type { InserterDeps, InserterOptions } from './inserter.ts';
export { MessageOps } from './message-ops.ts';
export { DEFAULT_SMPP_TLS_PORT, readTlsFiles } from './tls-files.ts';
