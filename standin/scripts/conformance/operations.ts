import { MongoServerError, type AnyBulkWriteOperation, type Collection, type Db, type Document, type MongoClient } from 'mongodb';
import { deepClone } from './bson-values.ts';
import { RunnerError, UnsupportedError, type EntityMap } from './entities.ts';
import type { Operation } from './loader.ts';

/** What an operation returned; `iterable` results (find, aggregate) hold root-level documents. */
export interface OperationResult {
  result: unknown;
  iterable: boolean;
}

/** A fail point set during a test, to be switched off afterwards through the internal client. */
export interface FailPointRecord {
  name: string;
}

export interface OperationContext {
  entities: EntityMap;
  internal: MongoClient;
  failPoints: FailPointRecord[];
}

type Args = Record<string, unknown>;
type CollectionOp = (c: Collection, a: Args) => Promise<OperationResult>;
type DatabaseOp = (d: Db, a: Args) => Promise<OperationResult>;
type RunnerOp = (ctx: OperationContext, a: Args) => Promise<OperationResult>;

const value = (result: unknown): OperationResult => ({ result, iterable: false });
const docs = (result: unknown[]): OperationResult => ({ result, iterable: true });

/** Separates the named arguments from the rest, which become the driver's options object. */
function take(args: Args, ...names: string[]): [unknown[], Args] {
  const rest: Args = { ...args };
  const picked = names.map((n) => {
    const v = rest[n];
    delete rest[n];
    return v;
  });
  return [picked, rest];
}

/** The unified format spells `returnDocument` as "Before"/"After"; the Node driver wants lowercase. */
function findAndModifyOptions(options: Args): Args {
  if (typeof options.returnDocument === 'string') {
    return { ...options, returnDocument: options.returnDocument.toLowerCase() };
  }
  return options;
}

const COLLECTION_OPS: Record<string, CollectionOp> = {
  insertOne: async (c, a) => {
    const [[document], options] = take(a, 'document');
    return value(await c.insertOne(document as Document, options));
  },
  insertMany: async (c, a) => {
    const [[documents], options] = take(a, 'documents');
    return value(await c.insertMany(documents as Document[], options));
  },
  updateOne: async (c, a) => {
    const [[filter, update], options] = take(a, 'filter', 'update');
    return value(await c.updateOne(filter as Document, update as Document, options));
  },
  updateMany: async (c, a) => {
    const [[filter, update], options] = take(a, 'filter', 'update');
    return value(await c.updateMany(filter as Document, update as Document, options));
  },
  replaceOne: async (c, a) => {
    const [[filter, replacement], options] = take(a, 'filter', 'replacement');
    return value(await c.replaceOne(filter as Document, replacement as Document, options));
  },
  deleteOne: async (c, a) => {
    const [[filter], options] = take(a, 'filter');
    return value(await c.deleteOne(filter as Document, options));
  },
  deleteMany: async (c, a) => {
    const [[filter], options] = take(a, 'filter');
    return value(await c.deleteMany(filter as Document, options));
  },
  findOneAndUpdate: async (c, a) => {
    const [[filter, update], options] = take(a, 'filter', 'update');
    return value(await c.findOneAndUpdate(filter as Document, update as Document, findAndModifyOptions(options)));
  },
  findOneAndReplace: async (c, a) => {
    const [[filter, replacement], options] = take(a, 'filter', 'replacement');
    return value(await c.findOneAndReplace(filter as Document, replacement as Document, findAndModifyOptions(options)));
  },
  findOneAndDelete: async (c, a) => {
    const [[filter], options] = take(a, 'filter');
    return value(await c.findOneAndDelete(filter as Document, findAndModifyOptions(options)));
  },
  find: async (c, a) => {
    const [[filter], options] = take(a, 'filter');
    return docs(await c.find((filter ?? {}) as Document, options).toArray());
  },
  findOne: async (c, a) => {
    const [[filter], options] = take(a, 'filter');
    return value(await c.findOne((filter ?? {}) as Document, options));
  },
  countDocuments: async (c, a) => {
    const [[filter], options] = take(a, 'filter');
    return value(await c.countDocuments((filter ?? {}) as Document, options));
  },
  estimatedDocumentCount: async (c, a) => value(await c.estimatedDocumentCount(a)),
  count: async (c, a) => {
    const [[filter], options] = take(a, 'filter');
    return value(await c.count((filter ?? {}) as Document, options));
  },
  distinct: async (c, a) => {
    const [[fieldName, filter], options] = take(a, 'fieldName', 'filter');
    return value(await c.distinct(String(fieldName), (filter ?? {}) as Document, options));
  },
  aggregate: async (c, a) => {
    const [[pipeline], options] = take(a, 'pipeline');
    return docs(await c.aggregate(pipeline as Document[], options).toArray());
  },
  bulkWrite: async (c, a) => {
    const [[requests], options] = take(a, 'requests');
    return value(await c.bulkWrite(requests as AnyBulkWriteOperation[], options));
  },
  createIndex: async (c, a) => {
    const [[keys], options] = take(a, 'keys');
    return value(await c.createIndex(keys as Document, options));
  },
  dropIndex: async (c, a) => {
    const [[name], options] = take(a, 'name');
    return value(await c.dropIndex(String(name), options));
  },
  listIndexes: async (c, a) => docs(await c.listIndexes(a).toArray()),
  drop: async (c, a) => value(await c.drop(a)),
};

const DATABASE_OPS: Record<string, DatabaseOp> = {
  runCommand: async (d, a) => {
    const [[command], options] = take(a, 'command', 'commandName');
    return value(await d.command(command as Document, options));
  },
  aggregate: async (d, a) => {
    const [[pipeline], options] = take(a, 'pipeline');
    return docs(await d.aggregate(pipeline as Document[], options).toArray());
  },
  createCollection: async (d, a) => {
    const [[name], options] = take(a, 'collection');
    await d.createCollection(String(name), options);
    return value(undefined);
  },
  dropCollection: async (d, a) => {
    const [[name], options] = take(a, 'collection');
    return value(await d.dropCollection(String(name), options));
  },
  modifyCollection: async (d, a) => {
    const [[name], options] = take(a, 'collection');
    return value(await d.command({ collMod: name, ...options }));
  },
  listCollections: async (d, a) => {
    const [[filter], options] = take(a, 'filter');
    return docs(await d.listCollections((filter ?? {}) as Document, options).toArray());
  },
  listCollectionNames: async (d, a) => {
    const [[filter], options] = take(a, 'filter');
    const infos = await d.listCollections((filter ?? {}) as Document, { ...options, nameOnly: true }).toArray();
    return value(infos.map((i) => i.name));
  },
};

async function collectionExists(ctx: OperationContext, a: Args): Promise<boolean> {
  const names = await ctx.internal
    .db(String(a.databaseName))
    .listCollections({ name: String(a.collectionName) }, { nameOnly: true })
    .toArray();
  return names.length > 0;
}

async function indexExists(ctx: OperationContext, a: Args): Promise<boolean> {
  const indexes = await ctx.internal
    .db(String(a.databaseName))
    .collection(String(a.collectionName))
    .listIndexes()
    .toArray()
    .catch(() => []);
  return indexes.some((i) => i.name === a.indexName);
}

const RUNNER_OPS: Record<string, RunnerOp> = {
  failPoint: async (ctx, a) => {
    const { client } = ctx.entities.get(String(a.client), 'client');
    const failPoint = a.failPoint as Document;
    try {
      await client.db('admin').command(failPoint);
    } catch (error) {
      if (error instanceof MongoServerError && error.code === 59) {
        throw new UnsupportedError('the server does not implement configureFailPoint (CommandNotFound)');
      }
      throw error;
    }
    ctx.failPoints.push({ name: String(failPoint.configureFailPoint) });
    return value(undefined);
  },
  assertCollectionExists: async (ctx, a) => {
    if (!(await collectionExists(ctx, a)))
      throw new RunnerError(`collection ${String(a.databaseName)}.${String(a.collectionName)} does not exist`);
    return value(undefined);
  },
  assertCollectionNotExists: async (ctx, a) => {
    if (await collectionExists(ctx, a)) throw new RunnerError(`collection ${String(a.databaseName)}.${String(a.collectionName)} exists`);
    return value(undefined);
  },
  assertIndexExists: async (ctx, a) => {
    if (!(await indexExists(ctx, a))) throw new RunnerError(`index ${String(a.indexName)} does not exist`);
    return value(undefined);
  },
  assertIndexNotExists: async (ctx, a) => {
    if (await indexExists(ctx, a)) throw new RunnerError(`index ${String(a.indexName)} exists`);
    return value(undefined);
  },
};

/** Why this runner cannot run the operation, or undefined when it can (checked before a test starts). */
export function unsupportedOperation(op: Operation, kindOf: (id: string) => string | undefined): string | undefined {
  if (op.arguments && 'session' in op.arguments) return `operation ${op.name} with a session`;
  if (op.object === 'testRunner') return op.name in RUNNER_OPS ? undefined : `testRunner operation ${op.name}`;
  const kind = kindOf(op.object);
  const table = kind === 'collection' ? COLLECTION_OPS : kind === 'database' ? DATABASE_OPS : undefined;
  if (!table) return `operation ${op.name} on ${kind ?? 'unknown'} entity ${op.object}`;
  return op.name in table ? undefined : `${kind} operation ${op.name}`;
}

/** Runs one operation; driver and server errors propagate unchanged for expectError to inspect. */
export async function runOperation(op: Operation, ctx: OperationContext): Promise<OperationResult> {
  // The driver mutates inputs (e.g. adds _id to inserted documents): give it a private copy.
  const args = deepClone(op.arguments ?? {});
  if (op.object === 'testRunner') {
    const fn = RUNNER_OPS[op.name];
    if (!fn) throw new UnsupportedError(`testRunner operation ${op.name}`);
    return fn(ctx, args);
  }
  const kind = ctx.entities.kindOf(op.object);
  if (kind === 'collection') {
    const fn = COLLECTION_OPS[op.name];
    if (!fn) throw new UnsupportedError(`collection operation ${op.name}`);
    return fn(ctx.entities.get(op.object, 'collection').collection, args);
  }
  if (kind === 'database') {
    const fn = DATABASE_OPS[op.name];
    if (!fn) throw new UnsupportedError(`database operation ${op.name}`);
    return fn(ctx.entities.get(op.object, 'database').db, args);
  }
  throw new UnsupportedError(`operation ${op.name} on ${kind ?? 'unknown'} entity ${op.object}`);
}
