import { ObjectId, type Db } from 'mongodb';
import { ConfigError } from '../domain/errors.ts';
import { Collections } from '../store/collections.ts';
import { validateRoute, type RouteDocument } from './route-document.ts';

export type RouteView = RouteDocument & { id: string };

/**
 * Names among `names` that no connector has. (Read here rather than from connectors/: routing sits
 * below the connectors, which route their messages through it.)
 */
async function unknownConnectors(db: Db, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const found = await db
    .collection<{ name: string }>(Collections.connectors)
    .find({ name: { $in: [...names] } }, { projection: { _id: 0, name: 1 } })
    .toArray();
  const known = new Set(found.map((c) => c.name));
  return names.filter((n) => !known.has(n));
}

/**
 * What a route refers to must exist: its connectors, its ESME, the account it matches on. A
 * typo would otherwise leave messages retrying against nothing until they expire. (Checked, then
 * written: a connector removed in between is what `connector remove` refuses while routes use it.)
 */
async function checkReferences(db: Db, route: RouteDocument): Promise<void> {
  const problems: string[] = [];
  const missing = await unknownConnectors(db, route.connectors);
  if (missing.length > 0) problems.push(`no connector named ${missing.join(', ')} (see \`smsc connector list\`)`);
  const accounts = db.collection(Collections.accounts);
  for (const [what, systemId] of [
    ['ESME account', route.esme],
    ['account', route.account],
  ] as const) {
    if (systemId !== undefined && !(await accounts.findOne({ systemId }, { projection: { _id: 1 } }))) {
      problems.push(`no ${what} with system_id ${systemId} (see \`smsc account list\`)`);
    }
  }
  if (problems.length > 0) throw new ConfigError(`Route refused: ${problems.join('; ')}.`);
}

/**
 * filter:  none: an insert under a new ObjectId (several routes may share a prefix)
 * insert:  the validated route with createdAt
 * returns: the route with its id.
 * safe:    a new document no one else knows; its references are checked first, then written:
 *          not atomic with `connector remove` (see checkReferences). A repeat adds a second route.
 */
export async function addRoute(db: Db, input: Partial<RouteDocument>, now: Date): Promise<RouteView> {
  const doc = validateRoute({ ...input, createdAt: now });
  await checkReferences(db, doc);
  const result = await db.collection<RouteDocument>(Collections.routes).insertOne({ ...doc });
  return { ...doc, id: result.insertedId.toHexString() };
}

function routeId(id: string): ObjectId {
  if (!ObjectId.isValid(id) || !/^[0-9a-f]{24}$/i.test(id)) throw new ConfigError(`${id} is not a route id (see \`smsc route list\`).`);
  return new ObjectId(id);
}

/** Changes fields of one route (`undefined` removes a condition); the result is validated and checked like a new one. */
export async function setRoute(db: Db, id: string, changes: Partial<RouteDocument>, now: Date): Promise<RouteView> {
  const routes = db.collection<RouteDocument & { _id: ObjectId }>(Collections.routes);
  const _id = routeId(id);
  const current = await routes.findOne({ _id });
  if (!current) throw new ConfigError(`No route with id ${id}.`);
  const { _id: _ignored, ...fields } = current;
  const merged = Object.fromEntries(
    Object.entries({ ...fields, ...changes, updatedAt: now }).filter(([, v]) => v !== undefined),
  ) as Partial<RouteDocument>;
  const next = validateRoute(merged);
  await checkReferences(db, next);
  // filter:  {_id}
  // update:  replace with the whole validated route (read above, merged with the changes)
  // returns: matchedCount; 0 = removed meanwhile (ConfigError).
  // safe:    one atomic replace, no upsert; last writer wins between two operators (a change made
  //          between this read and this write is lost). Routers only read routes.
  const result = await routes.replaceOne({ _id }, next);
  if (result.matchedCount === 0) throw new ConfigError(`No route with id ${id}.`);
  return { ...next, id };
}

export async function listRoutes(db: Db): Promise<RouteView[]> {
  const docs = await db.collection<RouteDocument & { _id: ObjectId }>(Collections.routes).find().toArray();
  return docs
    .map(({ _id, ...rest }) => ({ ...rest, id: _id.toHexString() }))
    .sort((a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix) || b.priority - a.priority);
}

/**
 * Removes by id, or every route with a prefix (an empty prefix is the default route).
 *
 * filter:  {_id} or {prefix}
 * delete:  that route, or every route with that prefix
 * returns: how many; ConfigError when none matched (unknown id, or a racing remove got it first).
 * safe:    single-statement deletes; a repeat finds nothing and says so.
 */
export async function removeRoutes(db: Db, selector: { id?: string; prefix?: string }): Promise<number> {
  const routes = db.collection(Collections.routes);
  if (selector.id) {
    const result = await routes.deleteOne({ _id: routeId(selector.id) });
    if (result.deletedCount === 0) throw new ConfigError(`No route with id ${selector.id}.`);
    return 1;
  }
  if (selector.prefix === undefined) throw new ConfigError('Name a route id or --prefix.');
  const result = await routes.deleteMany({ prefix: selector.prefix });
  if (result.deletedCount === 0) throw new ConfigError(`No route with prefix "${selector.prefix}".`);
  return result.deletedCount;
}
