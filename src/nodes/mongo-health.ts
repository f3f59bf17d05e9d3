import { ServerType, type MongoClient, type TopologyDescription, type TopologyDescriptionChangedEvent } from 'mongodb';
import { processHealth, type ProcessHealth } from './health.ts';

/** Server types a write can go to: without one of them, no message can be stored or delivered. */
const WRITABLE: ReadonlySet<string> = new Set([ServerType.Standalone, ServerType.RSPrimary, ServerType.Mongos, ServerType.LoadBalancer]);

/**
 * Keeps the `mongodb` check of a process's health in step with the driver's own view of the
 * deployment (SDAM `topologyDescriptionChanged` events): unhealthy while no writable server is
 * known — the server is down, restarting, or a replica set has no primary — healthy again as soon
 * as the driver's monitor reaches one. Returns a function that stops watching.
 */
export function watchMongoHealth(client: MongoClient, health: ProcessHealth = processHealth, check = 'mongodb'): () => void {
  const onChange = (event: TopologyDescriptionChangedEvent) => health.set(check, problemOf(event.newDescription));
  client.on('topologyDescriptionChanged', onChange);
  return () => {
    client.off('topologyDescriptionChanged', onChange);
    health.clear(check);
  };
}

/** Undefined when a writable server is known; else why not, in one line. */
export function problemOf(description: TopologyDescription): string | undefined {
  const servers = [...description.servers.values()];
  if (servers.some((server) => WRITABLE.has(server.type))) return undefined;
  const error = servers.find((server) => server.error)?.error;
  const detail = error ? error.message.replace(/\s+/g, ' ').slice(0, 200) : `no writable server (${description.type})`;
  return `MongoDB unreachable: ${detail}`;
}
