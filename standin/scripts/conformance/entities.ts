import { MongoClient, type Collection, type Db } from 'mongodb';
import { EventRecorder } from './events.ts';

/** Thrown for a problem in the test file or the runner itself, never for a driver/server error. */
export class RunnerError extends Error {
  readonly code = 'CONFORMANCE_RUNNER';
}

/** A test needs something this runner does not implement: the test is skipped with this reason. */
export class UnsupportedError extends Error {
  readonly code = 'CONFORMANCE_UNSUPPORTED';
}

export interface ClientEntity {
  kind: 'client';
  client: MongoClient;
  recorder?: EventRecorder;
}

export type Entity =
  | ClientEntity
  | { kind: 'database'; db: Db; client: string }
  | { kind: 'collection'; collection: Collection; client: string }
  | { kind: 'value'; value: unknown };

/** The per-test entity map: unique names, typed look-ups. */
export class EntityMap {
  private readonly entities = new Map<string, Entity>();

  set(id: string, entity: Entity): void {
    if (this.entities.has(id)) throw new RunnerError(`entity ${id} already exists`);
    this.entities.set(id, entity);
  }

  get<K extends Entity['kind']>(id: string, kind: K): Extract<Entity, { kind: K }> {
    const entity = this.entities.get(id);
    if (!entity) throw new RunnerError(`no entity named ${id}`);
    if (entity.kind !== kind) throw new RunnerError(`entity ${id} is a ${entity.kind}, not a ${kind}`);
    return entity as Extract<Entity, { kind: K }>;
  }

  kindOf(id: string): Entity['kind'] | undefined {
    return this.entities.get(id)?.kind;
  }

  /** For `$$matchesEntity`: BSON values saved with saveResultAsEntity. */
  value(id: string): unknown {
    return this.get(id, 'value').value;
  }

  clients(): [string, ClientEntity][] {
    return [...this.entities].filter((e): e is [string, ClientEntity] => e[1].kind === 'client');
  }

  /** Closes the clients (which ends their sessions and cursors); errors are collected, not thrown. */
  async close(): Promise<string[]> {
    const problems: string[] = [];
    for (const [id, e] of this.clients()) {
      e.recorder?.stop();
      await e.client.close().catch((err: Error) => problems.push(`closing client ${id}: ${err.message}`));
    }
    this.entities.clear();
    return problems;
  }
}

const SUPPORTED_CLIENT_KEYS = new Set([
  'id',
  'uriOptions',
  'useMultipleMongoses',
  'observeEvents',
  'ignoreCommandMonitoringEvents',
  'observeSensitiveCommands',
]);

/** Creates the entities of `createEntities` in order; clients connect to `uri`. */
export async function createEntities(defs: Record<string, Record<string, unknown>>[], uri: string, map: EntityMap): Promise<void> {
  for (const def of defs) {
    const [type] = Object.keys(def);
    const spec = def[type];
    const id = String(spec.id);
    switch (type) {
      case 'client': {
        const unknown = Object.keys(spec).filter((k) => !SUPPORTED_CLIENT_KEYS.has(k));
        if (unknown.length) throw new UnsupportedError(`client option(s) ${unknown.join(', ')}`);
        const observe = new Set((spec.observeEvents as string[] | undefined) ?? []);
        const unsupportedEvents = [...observe].filter((e) => !e.startsWith('command'));
        if (unsupportedEvents.length) throw new UnsupportedError(`observing ${unsupportedEvents.join(', ')}`);
        const uriOptions = (spec.uriOptions as Record<string, unknown> | undefined) ?? {};
        const client = new MongoClient(uri, {
          serverSelectionTimeoutMS: 10_000,
          ...uriOptions,
          monitorCommands: observe.size > 0,
        });
        const recorder =
          observe.size > 0
            ? new EventRecorder(
                client,
                observe,
                new Set((spec.ignoreCommandMonitoringEvents as string[] | undefined) ?? []),
                spec.observeSensitiveCommands === true,
              )
            : undefined;
        map.set(id, { kind: 'client', client, recorder });
        break;
      }
      case 'database': {
        const clientId = String(spec.client);
        const { client } = map.get(clientId, 'client');
        map.set(id, { kind: 'database', db: client.db(String(spec.databaseName), spec.databaseOptions as never), client: clientId });
        break;
      }
      case 'collection': {
        const dbEntity = map.get(String(spec.database), 'database');
        const options = (spec.collectionOptions as Record<string, unknown> | undefined) ?? {};
        map.set(id, {
          kind: 'collection',
          collection: dbEntity.db.collection(String(spec.collectionName), options),
          client: dbEntity.client,
        });
        break;
      }
      default:
        throw new UnsupportedError(`entity type ${type}`);
    }
  }
}
