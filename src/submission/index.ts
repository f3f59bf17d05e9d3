/**
 * The public module of src/submission/: what other layers and the tests import from this folder.
 * Modules inside src/submission/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { DEFAULT_SUBMIT_POLICY, buildSmsDocuments, prepareMessage, validateDestination } from './submit-validation.ts';
export type { SubmitCommand, SubmitPolicy, ValidDestination } from './submit-validation.ts';
