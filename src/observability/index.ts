/**
 * The public module of src/observability/: what other layers and the tests import from this folder.
 * Modules inside src/observability/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { startMetricsServer } from './metrics-server.ts';
export type { MetricsServer } from './metrics-server.ts';
export { startProcessObservability } from './process-observability.ts';
export type { ProcessObservability } from './process-observability.ts';
export { QUEUE_SAMPLER_LEASE, QueueDepthSampler } from './queue-depth-sampler.ts';
export { queuedByTarget } from './queue-targets.ts';
