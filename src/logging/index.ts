/**
 * The public module of src/logging/: what other layers and the tests import from this folder.
 * Modules inside src/logging/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { configureLogging } from './log-settings.ts';
export type { LogSettings } from './log-settings.ts';
export { createLogger, silentLogger } from './logger.ts';
export type { Logger } from './logger.ts';
