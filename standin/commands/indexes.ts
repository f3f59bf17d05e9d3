import type { Document } from 'bson';
import { isPlainObject, toNumber } from '../bson-order.ts';
import { CommandError, ErrorCode } from '../errors.ts';
import type { IndexSpec } from '../storage/key-index.ts';
import { collectionArg } from './args.ts';
import type { CommandContext, CommandHandler } from './context.ts';

function specOf(ix: { spec: IndexSpec }): Document {
  const { v, key, name, ...rest } = ix.spec;
  return { v, key, name, ...rest };
}

function validateIndexSpec(raw: unknown): IndexSpec {
  if (!isPlainObject(raw)) throw new CommandError(ErrorCode.TypeMismatch, 'index specification must be an object');
  const key = raw.key;
  if (!isPlainObject(key) || Object.keys(key).length === 0) {
    throw new CommandError(ErrorCode.CannotCreateIndex, 'Index keys cannot be an empty field');
  }
  if (typeof raw.name !== 'string' || raw.name.length === 0) {
    throw new CommandError(ErrorCode.CannotCreateIndex, 'The index name must be a non-empty string');
  }
  for (const [f, d] of Object.entries(key)) {
    const ok =
      (typeof d === 'number' && d !== 0) ||
      ['hashed', 'text', '2dsphere', '2d'].includes(d as string) ||
      (isPlainObject(d) === false && toNumber(d) !== 0 && !Number.isNaN(toNumber(d)));
    if (!ok)
      throw new CommandError(
        ErrorCode.CannotCreateIndex,
        `Values in the index key pattern can only be numbers or strings; bad value for field ${f}`,
      );
  }
  const spec: IndexSpec = { v: 2, key: { ...key }, name: raw.name };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'key' || k === 'name' || k === 'v' || k === 'background') continue;
    spec[k] = v;
  }
  if (spec.expireAfterSeconds !== undefined) spec.expireAfterSeconds = toNumber(spec.expireAfterSeconds);
  return spec;
}

export function sameKey(a: Document, b: Document): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && toNumber(a[k]) === toNumber(b[k]));
}

/** Whether two specs with the same name and key would behave the same (createIndex is idempotent then). */
function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  const same = (k: string): boolean => JSON.stringify(a[k] ?? null) === JSON.stringify(b[k] ?? null);
  return (
    Boolean(a.unique) === Boolean(b.unique) &&
    Boolean(a.sparse) === Boolean(b.sparse) &&
    same('partialFilterExpression') &&
    same('expireAfterSeconds')
  );
}

function createIndexes(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'createIndexes');
  const specs = cmd.indexes;
  if (!Array.isArray(specs) || specs.length === 0) {
    throw new CommandError(ErrorCode.BadValue, 'Must specify at least one index to create');
  }
  const parsed = specs.map(validateIndexSpec);
  const existed = ctx.server.catalog.get(ctx.db, name) !== undefined;
  const coll = ctx.server.catalog.getOrCreate(ctx.db, name);
  const before = coll.indexes.length;
  for (const spec of parsed) {
    const sameName = coll.findIndex(spec.name);
    const sameKeys = coll.indexes.find((ix) => sameKey(ix.spec.key, spec.key));
    if (sameName !== undefined) {
      if (!sameKey(sameName.spec.key, spec.key)) {
        throw new CommandError(
          ErrorCode.IndexKeySpecsConflict,
          `An existing index has the same name as the requested index. When index names are not specified, they are auto generated and can cause conflicts. Please refer to our documentation. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
        );
      }
      if (!sameOptions(sameName.spec, spec)) {
        throw new CommandError(
          ErrorCode.IndexOptionsConflict,
          `An existing index has the same name as the requested index but different options. Requested index: ${JSON.stringify(spec)}, existing index: ${JSON.stringify(sameName.spec)}`,
        );
      }
      continue;
    }
    if (sameKeys !== undefined) {
      if (sameKeys.name === '_id_') continue;
      throw new CommandError(ErrorCode.IndexOptionsConflict, `Index already exists with a different name: ${sameKeys.name}`);
    }
    ctx.server.catalog.addIndex(coll, spec);
  }
  const after = coll.indexes.length;
  const reply: Document = { numIndexesBefore: before, numIndexesAfter: after, createdCollectionAutomatically: !existed };
  if (before === after) reply.note = 'all indexes already exist';
  reply.ok = 1;
  return reply;
}

function dropIndexes(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'dropIndexes');
  const coll = ctx.server.catalog.require(ctx.db, name);
  const was = coll.indexes.length;
  const which = cmd.index;
  const names: string[] = [];
  if (which === '*') {
    names.push(...coll.indexes.filter((ix) => ix.name !== '_id_').map((ix) => ix.name));
  } else if (typeof which === 'string') {
    names.push(which);
  } else if (Array.isArray(which)) {
    names.push(...which.map(String));
  } else if (isPlainObject(which)) {
    const ix = coll.indexes.find((x) => sameKey(x.spec.key, which));
    if (ix === undefined) throw new CommandError(ErrorCode.IndexNotFound, `can't find index with key: ${JSON.stringify(which)}`);
    names.push(ix.name);
  }
  for (const n of names) {
    if (n === '_id_') throw new CommandError(ErrorCode.InvalidOptions, 'cannot drop _id index');
    if (coll.findIndex(n) === undefined) throw new CommandError(ErrorCode.IndexNotFound, `index not found with name [${n}]`);
  }
  for (const n of names) ctx.server.catalog.dropIndex(coll, n);
  return { nIndexesWas: was, ok: 1 };
}

function listIndexes(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'listIndexes');
  const coll = ctx.server.catalog.require(ctx.db, name);
  const specs = coll.indexes.map(specOf);
  const batchSize = isPlainObject(cmd.cursor) && typeof cmd.cursor.batchSize === 'number' ? cmd.cursor.batchSize : undefined;
  return ctx.server.cursors.openBuffered(coll.ns, specs, batchSize, false, (d) => d);
}

export const indexCommands: Record<string, CommandHandler> = {
  createIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  listIndexes,
};
