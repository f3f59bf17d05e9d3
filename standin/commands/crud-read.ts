import { Long, type Document } from 'bson';
import { compareValues, toNumber } from '../bson-order.ts';
import { CommandError, ErrorCode, failedToParse } from '../errors.ts';
import { countMatches, runQuery } from '../query/execute.ts';
import { compileFilter } from '../query/matcher.ts';
import { pathValues } from '../query/paths.ts';
import { compileProjection } from '../query/projection.ts';
import { operationNow, withOperationTime } from '../query/now.ts';
import type { Doc } from '../storage/collection.ts';
import { parseSort } from '../query/sort.ts';
import { collectionArg, nonNegative, optionalDoc, optionalNumber } from './args.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import { letVariables } from './let.ts';
import { readable } from './views.ts';

function batchSizeOf(cmd: Document): number | undefined {
  return nonNegative('batchSize', optionalNumber(cmd, 'batchSize'));
}

function find(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'find');
  const ns = `${ctx.db}.${name}`;
  const filter = optionalDoc(cmd, 'filter') ?? {};
  const sort = optionalDoc(cmd, 'sort');
  const skip = nonNegative('skip', optionalNumber(cmd, 'skip'));
  let limit = optionalNumber(cmd, 'limit');
  let singleBatch = cmd.singleBatch === true;
  if (limit !== undefined && limit < 0) {
    limit = -limit;
    singleBatch = true;
  }
  let batchSize = batchSizeOf(cmd);
  const tailable = cmd.tailable === true;
  if (cmd.awaitData === true && !tailable) throw failedToParse("Cannot set 'awaitData' without also setting 'tailable'");
  const coll = readable(ctx, name);
  const project = compileProjection(cmd.projection, filter);
  if (tailable) {
    if (coll === undefined || !coll.capped) {
      throw new CommandError(ErrorCode.BadValue, `error processing query: ns=${ns} tailable cursor requested on non capped collection`);
    }
    const { keys, natural } = parseSort(sort);
    if (keys.length > 0 || natural < 0) {
      throw new CommandError(
        ErrorCode.BadValue,
        `error processing query: ns=${ns} invalid sort specified for tailable cursor: ${JSON.stringify(sort)}`,
      );
    }
    // getMore evaluates the filter later: with this command's $$NOW, as a cursor keeps its
    // runtime constants for its whole life.
    const at = operationNow();
    const matches = compileFilter(filter, letVariables(cmd));
    const matcher = (doc: Doc): boolean => withOperationTime(at, () => matches(doc));
    return ctx.server.cursors.openTailable(coll, matcher, project, batchSize, cmd.awaitData === true);
  }
  const variables = letVariables(cmd);
  if (coll === undefined) {
    compileFilter(filter, variables);
    return { cursor: { id: Long.ZERO, ns, firstBatch: [] }, ok: 1 };
  }
  const docs = runQuery(coll, { filter, sort, skip, limit, hint: cmd.hint, variables }).map((m) => m.doc);
  if (limit !== undefined && limit > 0 && (batchSize === undefined || batchSize > limit)) batchSize = limit;
  return ctx.server.cursors.openBuffered(ns, docs, batchSize, singleBatch, project);
}

function cursorIdOf(v: unknown): number {
  const id = toNumber(v);
  if (!Number.isFinite(id)) {
    throw new CommandError(ErrorCode.TypeMismatch, `Field 'getMore' must be of type long in: ${JSON.stringify(v)}`);
  }
  return id;
}

async function getMore(cmd: Document, _ctx: CommandContext): Promise<Document> {
  const id = cursorIdOf(cmd.getMore);
  if (typeof cmd.collection !== 'string') {
    throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'getMore.collection' is missing but a required field");
  }
  return _ctx.server.cursors.getMore(id, batchSizeOf(cmd), optionalNumber(cmd, 'maxTimeMS'));
}

function killCursors(cmd: Document, ctx: CommandContext): Document {
  const ids = Array.isArray(cmd.cursors) ? cmd.cursors.map(cursorIdOf) : [];
  const { killed, notFound } = ctx.server.cursors.kill(ids);
  const asLong = (xs: number[]): unknown[] => xs.map((x) => BigInt(x));
  return { cursorsKilled: asLong(killed), cursorsNotFound: asLong(notFound), cursorsAlive: [], cursorsUnknown: [], ok: 1 };
}

function count(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'count');
  const coll = readable(ctx, name);
  const query = optionalDoc(cmd, 'query') ?? {};
  const variables = letVariables(cmd);
  if (coll === undefined) {
    compileFilter(query, variables);
    return { n: 0, ok: 1 };
  }
  const skip = optionalNumber(cmd, 'skip') ?? 0;
  const limit = optionalNumber(cmd, 'limit') ?? 0;
  return { n: countMatches(coll, query, skip, Math.abs(limit), cmd.hint, variables), ok: 1 };
}

function distinct(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'distinct');
  if (typeof cmd.key !== 'string')
    throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'distinct.key' is missing but a required field");
  const coll = readable(ctx, name);
  const query = optionalDoc(cmd, 'query') ?? {};
  if (coll === undefined) return { values: [], ok: 1 };
  const all: unknown[] = [];
  for (const { doc } of runQuery(coll, { filter: query, hint: cmd.hint, variables: letVariables(cmd) })) {
    for (const v of pathValues(doc, cmd.key)) {
      if (Array.isArray(v)) all.push(...v);
      else if (v !== undefined) all.push(v);
    }
  }
  all.sort(compareValues);
  const values: unknown[] = [];
  for (const v of all) if (values.length === 0 || compareValues(values[values.length - 1], v) !== 0) values.push(v);
  return { values, ok: 1 };
}

export const readCommands: Record<string, CommandHandler> = {
  find,
  getMore,
  killCursors,
  count,
  distinct,
};
