/**
 * The public module of src/api/: what other layers and the tests import from this folder.
 * Modules inside src/api/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { ApiErrors } from './api-errors.ts';
export { ApiServer } from './api-server.ts';
export type { ApiServerOptions } from './api-server.ts';
export { requestHashOf } from './idempotency.ts';
