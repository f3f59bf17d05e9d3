/**
 * The public module of src/hlr/: what other layers and the tests import from this folder.
 * Modules inside src/hlr/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { MemoryHlrCache, RedisHlrCache } from './hlr-cache.ts';
export { HlrError, HlrHttpClient, valueList } from './hlr-client.ts';
export { HlrStatus, hlrFieldOf } from './hlr-result.ts';
export type { HlrLookup, SmsHlrField } from './hlr-result.ts';
export { HlrService } from './hlr-service.ts';
export { HlrSim, simulatedAnswer } from './hlr-sim.ts';
export type { HlrSimOptions } from './hlr-sim.ts';
