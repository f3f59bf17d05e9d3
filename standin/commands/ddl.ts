import type { Document } from 'bson';
import { Query } from 'mingo';
import { isPlainObject, toNumber } from '../bson-order.ts';
import { CommandError, ErrorCode, toCommandError } from '../errors.ts';
import type { Collection } from '../storage/collection.ts';
import type { IndexSpec } from '../storage/key-index.ts';
import { collectionArg, optionalDoc } from './args.ts';
import type { CommandContext, CommandHandler } from './context.ts';

const ID_INDEX = Object.freeze({ v: 2, key: { _id: 1 }, name: '_id_' });

function create(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'create');
  const options: Document = {};
  if (cmd.capped === true) {
    const size = cmd.size === undefined ? undefined : toNumber(cmd.size);
    if (size === undefined || !(size > 0)) {
      throw new CommandError(ErrorCode.InvalidOptions, 'the size field is required when creating a capped collection');
    }
    options.capped = true;
    options.size = size;
    if (cmd.max !== undefined && toNumber(cmd.max) > 0) options.max = toNumber(cmd.max);
  }
  for (const k of ['validator', 'validationLevel', 'validationAction', 'expireAfterSeconds', 'timeseries', 'clusteredIndex']) {
    if (cmd[k] !== undefined) options[k] = cmd[k];
  }
  if (cmd.viewOn !== undefined) {
    if (typeof cmd.viewOn !== 'string' || cmd.viewOn.length === 0) {
      throw new CommandError(ErrorCode.TypeMismatch, "'viewOn' option must be a non-empty string");
    }
    const pipeline = cmd.pipeline ?? [];
    if (!Array.isArray(pipeline) || !pipeline.every(isPlainObject)) {
      throw new CommandError(ErrorCode.TypeMismatch, "'pipeline' option must be specified as an array");
    }
    ctx.server.catalog.createView(ctx.db, name, cmd.viewOn, pipeline);
    return { ok: 1 };
  }
  const existing = ctx.server.catalog.get(ctx.db, name);
  if (existing !== undefined) {
    throw new CommandError(ErrorCode.NamespaceExists, `Collection ${ctx.db}.${name} already exists.`);
  }
  ctx.server.catalog.create(ctx.db, name, options);
  return { ok: 1 };
}

function drop(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'drop');
  const coll = ctx.server.catalog.drop(ctx.db, name);
  if (coll === undefined) throw new CommandError(ErrorCode.NamespaceNotFound, 'ns not found');
  return { nIndexesWas: coll.indexes.length, ns: coll.ns, ok: 1 };
}

function dropDatabase(_cmd: Document, ctx: CommandContext): Document {
  ctx.server.catalog.dropDatabase(ctx.db);
  return { dropped: ctx.db, ok: 1 };
}

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
    const ok = (typeof d === 'number' && d !== 0) || ['hashed', 'text', '2dsphere', '2d'].includes(d as string) || (isPlainObject(d) === false && toNumber(d) !== 0 && !Number.isNaN(toNumber(d)));
    if (!ok) throw new CommandError(ErrorCode.CannotCreateIndex, `Values in the index key pattern can only be numbers or strings; bad value for field ${f}`);
  }
  const spec: IndexSpec = { v: 2, key: { ...key }, name: raw.name };
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'key' || k === 'name' || k === 'v' || k === 'background') continue;
    spec[k] = v;
  }
  if (spec.expireAfterSeconds !== undefined) spec.expireAfterSeconds = toNumber(spec.expireAfterSeconds);
  return spec;
}

function sameKey(a: Document, b: Document): boolean {
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && toNumber(a[k]) === toNumber(b[k]));
}

/** Whether two specs with the same name and key would behave the same (createIndex is idempotent then). */
function sameOptions(a: IndexSpec, b: IndexSpec): boolean {
  const same = (k: string): boolean => JSON.stringify(a[k] ?? null) === JSON.stringify(b[k] ?? null);
  return Boolean(a.unique) === Boolean(b.unique) && Boolean(a.sparse) === Boolean(b.sparse) && same('partialFilterExpression') && same('expireAfterSeconds');
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

function collectionInfo(c: Collection, nameOnly: boolean): Document {
  if (nameOnly) return { name: c.name, type: 'collection' };
  return {
    name: c.name,
    type: 'collection',
    options: { ...c.options },
    info: { readOnly: false, uuid: c.uuid },
    idIndex: { ...ID_INDEX },
  };
}

function listCollections(cmd: Document, ctx: CommandContext): Document {
  const filter = optionalDoc(cmd, 'filter') ?? {};
  const nameOnly = cmd.nameOnly === true;
  let infos = ctx.server.catalog.collections(ctx.db).map((c) => collectionInfo(c, false));
  for (const v of ctx.server.catalog.viewsOf(ctx.db)) {
    infos.push({ name: v.name, type: 'view', options: { viewOn: v.viewOn, pipeline: v.pipeline }, info: { readOnly: true } });
  }
  if (Object.keys(filter).length > 0) {
    try {
      const q = new Query(filter);
      infos = infos.filter((d) => q.test(d));
    } catch (err) {
      throw toCommandError(err);
    }
  }
  if (nameOnly) infos = infos.map((d) => ({ name: d.name, type: d.type }));
  const batchSize = isPlainObject(cmd.cursor) && typeof cmd.cursor.batchSize === 'number' ? cmd.cursor.batchSize : undefined;
  return ctx.server.cursors.openBuffered(`${ctx.db}.$cmd.listCollections`, infos, batchSize, false, (d) => d);
}

function listIndexes(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'listIndexes');
  const coll = ctx.server.catalog.require(ctx.db, name);
  const specs = coll.indexes.map(specOf);
  const batchSize = isPlainObject(cmd.cursor) && typeof cmd.cursor.batchSize === 'number' ? cmd.cursor.batchSize : undefined;
  return ctx.server.cursors.openBuffered(coll.ns, specs, batchSize, false, (d) => d);
}

function scaleOf(cmd: Document): number {
  const s = cmd.scale === undefined ? 1 : toNumber(cmd.scale);
  return s > 0 ? s : 1;
}

function dbStats(cmd: Document, ctx: CommandContext): Document {
  const scale = scaleOf(cmd);
  const colls = ctx.server.catalog.collections(ctx.db);
  let objects = 0;
  let dataSize = 0;
  let indexes = 0;
  for (const c of colls) {
    objects += c.count;
    dataSize += c.dataSize();
    indexes += c.indexes.length;
  }
  const indexSize = objects * 16 * Math.max(1, indexes);
  return {
    db: ctx.db,
    collections: colls.length,
    views: 0,
    objects,
    avgObjSize: objects > 0 ? dataSize / objects : 0,
    dataSize: dataSize / scale,
    storageSize: dataSize / scale,
    indexes,
    indexSize: indexSize / scale,
    totalSize: (dataSize + indexSize) / scale,
    scaleFactor: scale,
    fsUsedSize: 0,
    fsTotalSize: 0,
    ok: 1,
  };
}

export function storageStats(coll: Collection, scale: number): Document {
  const size = coll.dataSize();
  const indexSizes: Document = {};
  for (const ix of coll.indexes) indexSizes[ix.name] = (ix.size * 16) / scale;
  const totalIndexSize = Object.values(indexSizes).reduce((a: number, b) => a + (b as number), 0);
  const out: Document = {
    size: size / scale,
    count: coll.count,
    avgObjSize: coll.count > 0 ? Math.floor(size / coll.count) : 0,
    storageSize: size / scale,
    freeStorageSize: 0,
    capped: coll.capped,
    nindexes: coll.indexes.length,
    indexDetails: {},
    indexBuilds: [],
    totalIndexSize,
    totalSize: size / scale + totalIndexSize,
    indexSizes,
    scaleFactor: scale,
  };
  if (coll.capped) {
    out.max = coll.options.max ?? 0;
    out.maxSize = (coll.options.size ?? 0) / scale;
  }
  return out;
}

function collStats(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'collStats');
  const coll = ctx.server.catalog.require(ctx.db, name);
  return { ns: coll.ns, ...storageStats(coll, scaleOf(cmd)), ok: 1 };
}

function collMod(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'collMod');
  const coll = ctx.server.catalog.require(ctx.db, name);
  for (const k of ['validator', 'validationLevel', 'validationAction']) if (cmd[k] !== undefined) coll.options[k] = cmd[k];
  if (isPlainObject(cmd.index) && typeof cmd.index.expireAfterSeconds === 'number') {
    const ix = typeof cmd.index.name === 'string' ? coll.findIndex(cmd.index.name) : coll.indexes.find((x) => isPlainObject(cmd.index) && isPlainObject(cmd.index.keyPattern) && sameKey(x.spec.key, cmd.index.keyPattern));
    if (ix === undefined) throw new CommandError(ErrorCode.IndexNotFound, 'cannot find index');
    const old = ix.spec.expireAfterSeconds;
    ix.spec.expireAfterSeconds = cmd.index.expireAfterSeconds;
    return { expireAfterSeconds_old: old, expireAfterSeconds_new: cmd.index.expireAfterSeconds, ok: 1 };
  }
  return { ok: 1 };
}

function renameCollection(cmd: Document, ctx: CommandContext): Document {
  const from = String(cmd.renameCollection);
  const to = String(cmd.to);
  const [fromDb, ...fr] = from.split('.');
  const [toDb, ...tr] = to.split('.');
  const src = ctx.server.catalog.require(fromDb, fr.join('.'));
  if (ctx.server.catalog.get(toDb, tr.join('.')) !== undefined) {
    if (cmd.dropTarget !== true) throw new CommandError(ErrorCode.NamespaceExists, 'target namespace exists');
    ctx.server.catalog.drop(toDb, tr.join('.'));
  }
  const dst = ctx.server.catalog.create(toDb, tr.join('.'), { ...src.options });
  for (const ix of src.indexes.slice(1)) ctx.server.catalog.addIndex(dst, { ...ix.spec });
  for (const rid of src.natural()) dst.insert(src.docs.get(rid)!);
  ctx.server.catalog.drop(fromDb, fr.join('.'));
  return { ok: 1 };
}

export const ddlCommands: Record<string, CommandHandler> = {
  create,
  drop,
  dropDatabase,
  createIndexes,
  dropIndexes,
  deleteIndexes: dropIndexes,
  listCollections,
  listIndexes,
  dbStats,
  dbstats: dbStats,
  collStats,
  collstats: collStats,
  collMod,
  renameCollection,
};

