import { ObjectId, type Db } from 'mongodb';
import { ConfigError } from '../errors/smsc-error.ts';
import { Collections } from '../store/collections.ts';
import { validateRoute, type RouteDocument } from './route-document.ts';

export type RouteView = RouteDocument & { id: string };

export async function addRoute(db: Db, input: Partial<RouteDocument>, now: Date): Promise<RouteView> {
  const doc = validateRoute({ ...input, createdAt: now });
  const result = await db.collection<RouteDocument>(Collections.routes).insertOne({ ...doc });
  return { ...doc, id: result.insertedId.toHexString() };
}

/** Changes a route by id (the whole route is validated again); null when there is none. */
export async function updateRoute(db: Db, id: string, changes: Partial<RouteDocument>, now: Date): Promise<RouteView | null> {
  if (!ObjectId.isValid(id) || id.length !== 24) return null;
  const routes = db.collection<RouteDocument & { _id: ObjectId }>(Collections.routes);
  const current = await routes.findOne({ _id: new ObjectId(id) });
  if (!current) return null;
  const { _id, ...rest } = current;
  const next = validateRoute({ ...rest, ...changes, updatedAt: now } as Partial<RouteDocument>);
  // filter: {_id}; replaces the route with its validated new form. Returns matchedCount; 0 = removed meanwhile.
  const result = await routes.replaceOne({ _id }, next);
  return result.matchedCount === 0 ? null : { ...next, id };
}

export async function listRoutes(db: Db): Promise<RouteView[]> {
  const docs = await db.collection<RouteDocument & { _id: ObjectId }>(Collections.routes).find().toArray();
  return docs
    .map(({ _id, ...rest }) => ({ ...rest, id: _id.toHexString() }))
    .sort((a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix) || b.priority - a.priority);
}

/** Removes by id, or every route with a prefix (an empty prefix is the default route). */
export async function removeRoutes(db: Db, selector: { id?: string; prefix?: string }): Promise<number> {
  const routes = db.collection(Collections.routes);
  if (selector.id) {
    if (!ObjectId.isValid(selector.id)) throw new ConfigError(`${selector.id} is not a route id (see \`smsc route list\`).`);
    const result = await routes.deleteOne({ _id: new ObjectId(selector.id) });
    if (result.deletedCount === 0) throw new ConfigError(`No route with id ${selector.id}.`);
    return 1;
  }
  if (selector.prefix === undefined) throw new ConfigError('Name a route id or --prefix.');
  const result = await routes.deleteMany({ prefix: selector.prefix });
  if (result.deletedCount === 0) throw new ConfigError(`No route with prefix "${selector.prefix}".`);
  return result.deletedCount;
}
