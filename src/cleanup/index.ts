/**
 * The public module of src/cleanup/: what other layers and the tests import from this folder.
 * Modules inside src/cleanup/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { CleanupPass } from './cleanup-pass.ts';
export type { CleanupOptions } from './cleanup-pass.ts';
