/**
 * The public module of src/nodes/: what other layers and the tests import from this folder.
 * Modules inside src/nodes/ import each other directly, never this file (an ESM cycle through it would
 * leave bindings uninitialised at load).
 */
export { HealthStatus, ProcessHealth, healthJson, processHealth } from './health.ts';
export type { HealthProblem, HealthReport } from './health.ts';
export { HeartbeatWriter, defaultNodeName } from './heartbeat.ts';
export type { NodeDocument } from './heartbeat.ts';
export { watchMongoHealth } from './mongo-health.ts';
export { OpenedResources } from './opened-resources.ts';
export { Shutdown, stopSignal } from './shutdown.ts';
export { LeaseNames, SingletonLease } from './singleton-lease.ts';
