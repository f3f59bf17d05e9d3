/**
 * The public module of src/util/: what other layers and the tests import from this folder.
 * Modules inside src/util/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { compiledEntry, packageRoot } from './package-root.ts';
export { withConsoleWarnMuted } from './quiet-console.ts';
