/**
 * The public module of src/throttle/: what other layers and the tests import from this folder.
 * Modules inside src/throttle/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { createRateLimiter, defaultLeaseSize } from './rate-limiter.ts';
export type { RateLimiter } from './rate-limiter.ts';
