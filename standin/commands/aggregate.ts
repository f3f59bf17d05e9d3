import type { Document } from 'bson';
import { Aggregator } from 'mingo';
import { isPlainObject } from '../bson-order.ts';
import { CommandError, ErrorCode, toCommandError } from '../errors.ts';
import { cloneValue } from '../query/clone.ts';
import { countMatches, runQuery } from '../query/execute.ts';
import { compileFilter } from '../query/matcher.ts';
import type { Doc } from '../storage/collection.ts';
import { collectionArg, nonNegative, optionalNumber } from './args.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import { storageStats } from './stats.ts';
import { letVariables } from './let.ts';
import { readable } from './views.ts';

function isCountPipeline(pipeline: Doc[]): { filter: Doc; skip: number; limit: number; group: Doc } | null {
  if (pipeline.length < 2 || pipeline.length > 4) return null;
  const first = pipeline[0];
  const last = pipeline[pipeline.length - 1];
  if (!isPlainObject(first.$match) || !isPlainObject(last.$group)) return null;
  const group = last.$group;
  const keys = Object.keys(group);
  if (keys.length !== 2 || !('_id' in group)) return null;
  const field = keys.find((k) => k !== '_id')!;
  const acc = group[field];
  if (!isPlainObject(acc) || acc.$sum !== 1) return null;
  if (isPlainObject(group._id) || Array.isArray(group._id) || (typeof group._id === 'string' && group._id.startsWith('$'))) return null;
  let skip = 0;
  let limit = 0;
  for (const st of pipeline.slice(1, -1)) {
    if (typeof st.$skip === 'number') skip = st.$skip;
    else if (typeof st.$limit === 'number' && limit === 0) limit = st.$limit;
    else return null;
  }
  return { filter: first.$match, skip, limit, group: { idValue: group._id, field } };
}

function aggregate(cmd: Document, ctx: CommandContext): Document {
  const target = cmd.aggregate;
  const pipeline = cmd.pipeline;
  if (!Array.isArray(pipeline) || !pipeline.every(isPlainObject)) {
    throw new CommandError(ErrorCode.TypeMismatch, "'pipeline' option must be specified as an array");
  }
  if (!isPlainObject(cmd.cursor) && cmd.explain !== true) {
    throw new CommandError(ErrorCode.FailedToParse, "The 'cursor' option is required, except for aggregate with the explain argument");
  }
  const batchSize = isPlainObject(cmd.cursor) ? nonNegative('batchSize', optionalNumber(cmd.cursor, 'batchSize')) : undefined;
  const dbLevel = target === 1;
  const name = dbLevel ? '$cmd.aggregate' : collectionArg(cmd, 'aggregate');
  const ns = `${ctx.db}.${name}`;
  const coll = dbLevel ? undefined : readable(ctx, name);
  for (const st of pipeline) {
    const op = Object.keys(st)[0];
    if (op === '$out' || op === '$merge') {
      if (st !== pipeline[pipeline.length - 1]) {
        throw new CommandError(40601, `${op} can only be the final stage in the pipeline`);
      }
    }
  }
  let results: Doc[];
  const count = isCountPipeline(pipeline as Doc[]);
  const first = pipeline[0] as Doc | undefined;
  if (count !== null) {
    const variables = letVariables(cmd);
    compileFilter(count.filter, variables);
    const n = coll === undefined ? 0 : countMatches(coll, count.filter, count.skip, count.limit, cmd.hint, variables);
    results = n === 0 ? [] : [{ _id: count.group.idValue, [count.group.field as string]: n }];
  } else if (first !== undefined && isPlainObject(first.$collStats)) {
    if (coll === undefined)
      throw new CommandError(
        ErrorCode.NamespaceNotFound,
        `Unable to retrieve storageStats in $collStats stage :: caused by :: Collection [${ns}] not found.`,
      );
    const spec = first.$collStats as Doc;
    const out: Doc = { ns, host: `127.0.0.1:${ctx.server.port()}`, localTime: new Date() };
    if (spec.storageStats !== undefined) {
      const scale = isPlainObject(spec.storageStats) && typeof spec.storageStats.scale === 'number' ? spec.storageStats.scale : 1;
      out.storageStats = storageStats(coll, scale);
    }
    if (spec.count !== undefined) out.count = coll.count;
    results = runPipeline([out], pipeline.slice(1) as Doc[], cmd, ctx);
  } else {
    let input: Doc[] = [];
    let rest = pipeline as Doc[];
    if (coll !== undefined) {
      // A leading $match (and $sort/$limit) runs through the query planner so indexes apply.
      let filter: Doc = {};
      let sort: Doc | undefined;
      let i = 0;
      if (rest[0] && isPlainObject(rest[0].$match)) filter = rest[i++].$match as Doc;
      if (rest[i] && isPlainObject(rest[i].$sort)) sort = rest[i++].$sort as Doc;
      let limit: number | undefined;
      if (sort !== undefined && rest[i] && typeof rest[i].$limit === 'number') limit = rest[i++].$limit as number;
      input = runQuery(coll, { filter, sort, limit, hint: cmd.hint, variables: letVariables(cmd) }).map((m) => cloneValue(m.doc));
      rest = rest.slice(i);
    }
    results = runPipeline(input, rest, cmd, ctx);
  }
  const last = pipeline[pipeline.length - 1] as Doc | undefined;
  if (last !== undefined && ('$out' in last || '$merge' in last)) {
    writeOut(last, results, ctx);
    results = [];
  }
  if (cmd.explain === true) {
    return { explainVersion: '1', stages: pipeline, serverInfo: {}, ok: 1 };
  }
  return ctx.server.cursors.openBuffered(ns, results, batchSize, false, (d) => d);
}

function runPipeline(input: Doc[], pipeline: Doc[], cmd: Document, ctx: CommandContext): Doc[] {
  const stages = pipeline.filter((st) => !('$out' in st) && !('$merge' in st));
  if (stages.length === 0) return input;
  try {
    const agg = new Aggregator(stages, {
      variables: letVariables(cmd),
      collectionResolver: (name: string) => {
        const c = ctx.server.catalog.get(ctx.db, name);
        return c === undefined ? [] : [...c.docs.values()].map(cloneValue);
      },
    });
    return agg.run(input) as Doc[];
  } catch (err) {
    throw toCommandError(err);
  }
}

function writeOut(stage: Doc, results: Doc[], ctx: CommandContext): void {
  const spec = stage.$out ?? stage.$merge;
  let db = ctx.db;
  let name: string;
  if (typeof spec === 'string') name = spec;
  else if (isPlainObject(spec) && typeof spec.coll === 'string') {
    name = spec.coll;
    if (typeof spec.db === 'string') db = spec.db;
  } else if (isPlainObject(spec) && isPlainObject(spec.into)) {
    name = String(spec.into.coll);
    if (typeof spec.into.db === 'string') db = spec.into.db;
  } else if (isPlainObject(spec) && typeof spec.into === 'string') {
    name = spec.into;
  } else {
    throw new CommandError(ErrorCode.FailedToParse, 'invalid $out/$merge target');
  }
  const catalog = ctx.server.catalog;
  if ('$out' in stage) {
    const existing = catalog.get(db, name);
    const specs = existing ? existing.indexes.slice(1).map((ix) => ({ ...ix.spec })) : [];
    if (existing) catalog.drop(db, name);
    const coll = catalog.create(db, name);
    for (const s of specs) catalog.addIndex(coll, s);
    for (const d of results) coll.insert(d);
    return;
  }
  const coll = catalog.getOrCreate(db, name);
  for (const d of results) {
    const rid = d._id === undefined ? undefined : coll.ridById(d._id);
    if (rid === undefined) coll.insert(d);
    else coll.replace(rid, { ...coll.docs.get(rid)!, ...d });
  }
}

export const aggregateCommands: Record<string, CommandHandler> = { aggregate };
