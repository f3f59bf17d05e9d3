import type { Document } from 'bson';
import { toNumber } from '../bson-order.ts';
import type { Collection } from '../storage/collection.ts';
import { collectionArg } from './args.ts';
import type { CommandContext, CommandHandler } from './context.ts';

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

export const statsCommands: Record<string, CommandHandler> = {
  dbStats,
  dbstats: dbStats,
  collStats,
  collstats: collStats,
};
