/**
 * The public module of src/callbacks/: what other layers and the tests import from this folder.
 * Modules inside src/callbacks/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { EVENT_ID_HEADER, SIGNATURE_HEADER, verifyCallbackSignature } from './callback-event.ts';
export { CallbackService } from './callback-service.ts';
