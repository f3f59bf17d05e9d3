import type { Document } from 'bson';
import { Query } from 'mingo';
import { isPlainObject, toNumber } from '../bson-order.ts';
import { CommandError, ErrorCode, toCommandError } from '../errors.ts';
import type { Collection } from '../storage/collection.ts';
import { collectionArg, optionalDoc } from './args.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import { sameKey } from './indexes.ts';

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

function collMod(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'collMod');
  const coll = ctx.server.catalog.require(ctx.db, name);
  for (const k of ['validator', 'validationLevel', 'validationAction']) if (cmd[k] !== undefined) coll.options[k] = cmd[k];
  if (isPlainObject(cmd.index) && typeof cmd.index.expireAfterSeconds === 'number') {
    const keyPattern = cmd.index.keyPattern;
    const ix =
      typeof cmd.index.name === 'string'
        ? coll.findIndex(cmd.index.name)
        : coll.indexes.find((x) => isPlainObject(keyPattern) && sameKey(x.spec.key, keyPattern));
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
  listCollections,
  collMod,
  renameCollection,
};
