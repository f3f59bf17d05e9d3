import type { Db, ObjectId } from 'mongodb';
import { ConfigError } from '../domain/errors.ts';
import { Collections } from '../store/collections.ts';
import { certificateSummary, validateConnector, type ConnectorDocument } from './connector-document.ts';
import { isDuplicateKeyError } from '../store/mongo-errors.ts';
import type { RouteDocument } from '../routing/route-document.ts';

/** A connector as listings show it: no password, no private key, certificates summarised. */
export type ConnectorView = Omit<ConnectorDocument, 'password' | 'tlsKey'> & { tlsKey?: 'set' };

function view(doc: ConnectorDocument): ConnectorView {
  const { password: _p, tlsKey, ...rest } = doc;
  return {
    ...rest,
    ...(rest.tlsCa !== undefined ? { tlsCa: certificateSummary(rest.tlsCa) } : {}),
    ...(rest.tlsCert !== undefined ? { tlsCert: certificateSummary(rest.tlsCert) } : {}),
    ...(tlsKey !== undefined ? { tlsKey: 'set' as const } : {}),
  };
}

/** Fields set to `undefined` are removed (e.g. `--no-tls` clears the TLS settings). */
function withoutUndefined<T extends object>(doc: T): T {
  return Object.fromEntries(Object.entries(doc).filter(([, value]) => value !== undefined)) as T;
}

/**
 * filter:  none: an insert; the unique index on `name` is the fence
 * insert:  the validated connector with createdAt/updatedAt
 * returns: its view; ConfigError when one by that name exists (duplicate key).
 * safe:    of two racing adds of one name exactly one inserts; a repeat is refused the same way.
 */
export async function addConnector(db: Db, input: Partial<ConnectorDocument>, now: Date): Promise<ConnectorView> {
  const doc = validateConnector(withoutUndefined({ ...input, createdAt: now, updatedAt: now }));
  try {
    await db.collection<ConnectorDocument>(Collections.connectors).insertOne({ ...doc });
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new ConfigError(`A connector named ${doc.name} already exists; use \`smsc connector set\`.`);
    throw error;
  }
  return view(doc);
}

export async function setConnector(db: Db, name: string, changes: Partial<ConnectorDocument>, now: Date): Promise<ConnectorView> {
  const collection = db.collection<ConnectorDocument>(Collections.connectors);
  const current = await collection.findOne({ name }, { projection: { _id: 0 } });
  if (!current) throw new ConfigError(`No connector named ${name}.`);
  const next = validateConnector(withoutUndefined({ ...current, ...changes, name, updatedAt: now }));
  // filter:  {name} (unique index)
  // update:  replace with the whole validated document (read above, merged with the changes)
  // returns: nothing; matching nothing = removed meanwhile (the next list shows it gone).
  // safe:    one atomic replace, and no upsert, so a removed connector is not brought back. Last
  //          writer wins, as with any two operators editing one record: a change another `set`
  //          made between this read and this write is lost. Deliverers read connectors, never
  //          write them.
  await collection.replaceOne({ name }, next);
  return view(next);
}

export interface ConnectorRemoval {
  name: string;
  /** Routes that sent only to this connector: removed with it (with --force). */
  removedRoutes: string[];
  /** Routes that named it beside others: it was taken out of their list. */
  changedRoutes: string[];
}

type RouteRow = RouteDocument & { _id: ObjectId };

function routeLine(route: RouteRow): string {
  return `${route._id.toHexString()} (prefix "${route.prefix}" -> ${route.connectors.join(',')})`;
}

/**
 * Removes a connector. While routes name it, refuses unless `force`: then routes that send only
 * to it are removed and it is taken out of the others' connector lists (their backups move up).
 */
export async function removeConnector(db: Db, name: string, options: { force?: boolean } = {}): Promise<ConnectorRemoval> {
  const connectors = db.collection(Collections.connectors);
  const routes = db.collection<RouteRow>(Collections.routes);
  if (!(await connectors.findOne({ name }, { projection: { _id: 1 } }))) throw new ConfigError(`No connector named ${name}.`);
  const using = await routes.find({ connectors: name }).toArray();
  if (using.length > 0 && !options.force) {
    throw new ConfigError(
      `Connector ${name} is used by ${using.length} route(s): ${using.map(routeLine).join('; ')}. Change or remove them first, or use --force (removes the routes that use only ${name} and takes it out of the others).`,
    );
  }
  const removal: ConnectorRemoval = { name, removedRoutes: [], changedRoutes: [] };
  for (const route of using) {
    if (route.connectors.every((c) => c === name)) {
      // filter:  {_id, connectors: name} (still naming it)
      // delete:  the route; returns deletedCount: 0 = changed or removed meanwhile.
      // safe:    the filter re-checks that it still names the connector; a repeat deletes nothing.
      const result = await routes.deleteOne({ _id: route._id, connectors: name });
      if (result.deletedCount > 0) removal.removedRoutes.push(routeLine(route));
    } else {
      // filter:  {_id}
      // update:  {$pull: {connectors: name}}. Backups keep their order.
      // returns: modifiedCount; 0 = it no longer named it (or was removed).
      // safe:    $pull is atomic and idempotent: a repeat or a racing remove changes nothing more.
      const result = await routes.updateOne({ _id: route._id }, { $pull: { connectors: name } });
      if (result.modifiedCount > 0)
        removal.changedRoutes.push(`${routeLine(route)} now -> ${route.connectors.filter((c) => c !== name).join(',')}`);
    }
  }
  // The connector goes last: a route never points at it for longer than the commands above take.
  // filter:  {name}
  // delete:  the connector; returns nothing (a racing remove may have taken it).
  // safe:    idempotent. Not atomic with the route check above: a route added (after its own
  //          check that the connector exists) between that check and this delete keeps naming it.
  await connectors.deleteOne({ name });
  return removal;
}

export async function listConnectors(db: Db): Promise<ConnectorView[]> {
  const docs = await db
    .collection<ConnectorDocument>(Collections.connectors)
    .find({}, { projection: { _id: 0 } })
    .sort({ name: 1 })
    .toArray();
  return docs.map(view);
}
