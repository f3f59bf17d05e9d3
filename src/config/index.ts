/**
 * The public module of src/config/: what other layers and the tests import from this folder.
 * Modules inside src/config/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { CONFIG_FIELDS } from './fields.ts';
export { ConfigValidationError, loadConfig } from './load-config.ts';
export { addressOptionsOf, mongoUriOf, writeConcernOf } from './slices.ts';
export type { ChargingConfig, HlrFailurePolicy, HlrPolicyMode, InserterConfig, MongoConfig, SmscConfig } from './types.ts';
