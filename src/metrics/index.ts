/**
 * The public module of src/metrics/: what other layers and the tests import from this folder.
 * Modules inside src/metrics/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { Metrics, createMetrics } from './metrics.ts';
