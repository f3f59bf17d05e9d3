import { type Document } from 'bson';
import { isPlainObject } from '../bson-order.ts';
import { CommandError, ErrorCode, failedToParse, toCommandError } from '../errors.ts';
import { runQuery } from '../query/execute.ts';
import { compileFilter } from '../query/matcher.ts';
import { compileProjection } from '../query/projection.ts';
import { compilePipelineUpdate, type PipelineUpdate } from '../query/pipeline-update.ts';
import { applyUpdate, buildUpsert, docsEqual, isOperatorUpdate, validateUpdate, type UpdateSpec } from '../query/update.ts';
import type { Collection, Doc } from '../storage/collection.ts';
import { sentBytesOf } from '../wire.ts';
import { collectionArg, optionalDoc } from './args.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import { letVariables } from './let.ts';

interface WriteError {
  index: number;
  code: number;
  errmsg: string;
  [extra: string]: unknown;
}

function writeErrorOf(index: number, err: unknown): WriteError {
  const e = toCommandError(err);
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.extra)) if (k !== 'codeName') extra[k] = v;
  return { index, code: e.code, ...extra, errmsg: e.message };
}

function statements(cmd: Document, field: string, verb: string): unknown[] {
  const list = cmd[field];
  if (!Array.isArray(list)) {
    throw new CommandError(ErrorCode.TypeMismatch, `BSON field '${verb}.${field}' is missing but a required field`);
  }
  if (list.length > 100_000)
    throw new CommandError(ErrorCode.InvalidOptions, `Write batch sizes must be between 1 and 100000. Got ${list.length} operations.`);
  return list;
}

function finishWrite(reply: Document, errors: WriteError[]): Document {
  if (errors.length > 0) reply.writeErrors = errors;
  reply.ok = 1;
  return reply;
}

function insert(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'insert');
  const docs = statements(cmd, 'documents', 'insert');
  const ordered = cmd.ordered !== false;
  ctx.server.catalog.requireNotView(ctx.db, name);
  const coll = ctx.server.catalog.getOrCreate(ctx.db, name);
  const errors: WriteError[] = [];
  let n = 0;
  for (let i = 0; i < docs.length; i++) {
    try {
      const doc = docs[i];
      if (!isPlainObject(doc)) throw new CommandError(ErrorCode.TypeMismatch, 'document to insert must be an object');
      coll.insert(doc, cmd.bypassDocumentValidation !== true, sentBytesOf(docs, i));
      n++;
    } catch (err) {
      errors.push(writeErrorOf(i, err));
      if (ordered) break;
    }
  }
  return finishWrite({ n }, errors);
}

interface UpdateStatement {
  q: Doc;
  u: UpdateSpec;
  upsert: boolean;
  multi: boolean;
  arrayFilters?: Doc[];
  hint?: unknown;
  pipeline?: PipelineUpdate;
}

/** Whether a query filter uses `$expr` anywhere MongoDB's parser would meet it. */
function usesExpr(filter: Doc): boolean {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$expr') return true;
    if ((k === '$and' || k === '$or' || k === '$nor') && Array.isArray(v) && v.some((sub) => isPlainObject(sub) && usesExpr(sub)))
      return true;
  }
  return false;
}

/**
 * MongoDB parses an upsert's query without the `$expr` feature ("it is not clear what the
 * equality extraction behavior for $expr should be"), so any `$expr` in it fails the statement
 * with 224, whether or not a document matches.
 */
function refuseExprInUpsert(filter: Doc, upsert: boolean): void {
  if (upsert && usesExpr(filter)) {
    throw new CommandError(ErrorCode.QueryFeatureNotAllowed, '$expr is not allowed in the query predicate for an upsert');
  }
}

function parseUpdateStatement(raw: unknown, variables: Doc | undefined): UpdateStatement {
  if (!isPlainObject(raw)) throw new CommandError(ErrorCode.TypeMismatch, 'update statement must be an object');
  const q = raw.q ?? {};
  if (!isPlainObject(q))
    throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'update.updates.q' is the wrong type, expected type 'object'");
  const u = raw.u as UpdateSpec;
  validateUpdate(u);
  const multi = raw.multi === true;
  if (multi && !Array.isArray(u) && !isOperatorUpdate(u)) {
    throw failedToParse('multi update is not supported for replacement-style update');
  }
  if (raw.arrayFilters !== undefined && !Array.isArray(raw.arrayFilters)) throw failedToParse('arrayFilters must be an array');
  const upsert = raw.upsert === true;
  refuseExprInUpsert(q, upsert);
  const pipeline = Array.isArray(u) ? compilePipelineUpdate(u, variables) : undefined;
  return { q, u, upsert, multi, arrayFilters: raw.arrayFilters as Doc[] | undefined, hint: raw.hint, pipeline };
}

interface UpdateOutcome {
  matched: number;
  modified: number;
  upsertedId?: unknown;
}

/** One update statement, atomically per document. */
function runUpdate(
  coll: Collection | undefined,
  st: UpdateStatement,
  ctx: CommandContext,
  name: string,
  variables: Doc | undefined,
  validate: boolean,
): UpdateOutcome {
  const matcher = compileFilter(st.q, variables);
  const matches = coll === undefined ? [] : runQuery(coll, { filter: st.q, limit: st.multi ? 0 : 1, hint: st.hint, matcher });
  let modified = 0;
  for (const { rid, doc } of matches) {
    const next = applyUpdate(doc, st.u, { arrayFilters: st.arrayFilters, filter: st.q, variables, pipeline: st.pipeline });
    if (!docsEqual(doc, next)) {
      coll!.replace(rid, next, validate);
      modified++;
    }
  }
  if (matches.length > 0 || !st.upsert) return { matched: matches.length, modified };
  const doc = buildUpsert(st.q, st.u, { arrayFilters: st.arrayFilters, filter: st.q, variables, pipeline: st.pipeline });
  const target = coll ?? ctx.server.catalog.getOrCreate(ctx.db, name);
  const stored = target.insert(doc, validate);
  return { matched: 0, modified: 0, upsertedId: stored._id };
}

function update(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'update');
  const list = statements(cmd, 'updates', 'update');
  const ordered = cmd.ordered !== false;
  ctx.server.catalog.requireNotView(ctx.db, name);
  // Server 7.0 has no sort on update statements (8.0 added it); the whole command fails to parse.
  if (list.some((st) => isPlainObject(st) && st.sort !== undefined)) {
    throw new CommandError(40415, "BSON field 'update.updates.sort' is an unknown field.");
  }
  const variables = letVariables(cmd);
  const errors: WriteError[] = [];
  const upserted: Array<{ index: number; _id: unknown }> = [];
  let n = 0;
  let nModified = 0;
  for (let i = 0; i < list.length; i++) {
    try {
      const st = parseUpdateStatement(list[i], variables);
      const coll = ctx.server.catalog.get(ctx.db, name);
      const r = runUpdate(coll, st, ctx, name, variables, cmd.bypassDocumentValidation !== true);
      if (r.upsertedId !== undefined) {
        upserted.push({ index: i, _id: r.upsertedId });
        n++;
      } else {
        n += r.matched;
        nModified += r.modified;
      }
    } catch (err) {
      errors.push(writeErrorOf(i, err));
      if (ordered) break;
    }
  }
  const reply: Document = { n, nModified };
  if (upserted.length > 0) reply.upserted = upserted;
  return finishWrite(reply, errors);
}

function del(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'delete');
  const list = statements(cmd, 'deletes', 'delete');
  ctx.server.catalog.requireNotView(ctx.db, name);
  const variables = letVariables(cmd);
  const ordered = cmd.ordered !== false;
  const errors: WriteError[] = [];
  let n = 0;
  for (let i = 0; i < list.length; i++) {
    try {
      const st = list[i];
      if (!isPlainObject(st)) throw new CommandError(ErrorCode.TypeMismatch, 'delete statement must be an object');
      const q = st.q ?? {};
      if (!isPlainObject(q))
        throw new CommandError(ErrorCode.TypeMismatch, "BSON field 'delete.deletes.q' is the wrong type, expected type 'object'");
      const limit = Number(st.limit ?? 0);
      if (limit !== 0 && limit !== 1) throw failedToParse(`The limit field in delete objects must be 0 or 1. Got ${limit}`);
      const coll = ctx.server.catalog.get(ctx.db, name);
      if (coll === undefined) {
        compileFilter(q, variables);
        continue;
      }
      const matches = runQuery(coll, { filter: q, limit, hint: st.hint, variables });
      for (const m of matches) coll.remove(m.rid);
      n += matches.length;
    } catch (err) {
      errors.push(writeErrorOf(i, err));
      if (ordered) break;
    }
  }
  return finishWrite({ n }, errors);
}

function findAndModify(cmd: Document, ctx: CommandContext): Document {
  const name = collectionArg(cmd, 'findAndModify' in cmd ? 'findAndModify' : 'findandmodify');
  ctx.server.catalog.requireNotView(ctx.db, name);
  const query = optionalDoc(cmd, 'query') ?? {};
  const sort = optionalDoc(cmd, 'sort');
  const remove = cmd.remove === true;
  const returnNew = cmd.new === true;
  const upsert = cmd.upsert === true;
  const u = cmd.update as UpdateSpec | undefined;
  const hasUpdate = u !== undefined && u !== null;
  if (!remove && !hasUpdate) throw failedToParse('Either an update or remove=true must be specified');
  if (remove && hasUpdate) throw failedToParse('Cannot specify both an update and remove=true');
  if (remove && upsert) throw failedToParse('Cannot specify both upsert=true and remove=true ');
  if (remove && returnNew)
    throw failedToParse("Cannot specify both new=true and remove=true; 'remove' always returns the deleted document");
  if (remove && cmd.arrayFilters !== undefined) throw failedToParse('Cannot specify arrayFilters and remove=true');
  if (Array.isArray(u) && cmd.arrayFilters !== undefined) throw failedToParse('Cannot specify arrayFilters and a pipeline update');
  if (hasUpdate) validateUpdate(u);
  refuseExprInUpsert(query, upsert);
  const project = compileProjection(cmd.fields, query);
  const variables = letVariables(cmd);
  const pipeline = Array.isArray(u) ? compilePipelineUpdate(u, variables) : undefined;
  const coll = ctx.server.catalog.get(ctx.db, name);
  const match = coll === undefined ? undefined : runQuery(coll, { filter: query, sort, limit: 1, hint: cmd.hint, variables })[0];
  if (remove) {
    if (match === undefined) return { lastErrorObject: { n: 0 }, value: null, ok: 1 };
    coll!.remove(match.rid);
    return { lastErrorObject: { n: 1 }, value: project(match.doc), ok: 1 };
  }
  const arrayFilters = Array.isArray(cmd.arrayFilters) ? (cmd.arrayFilters as Doc[]) : undefined;
  if (match !== undefined) {
    const next = applyUpdate(match.doc, u!, { arrayFilters, filter: query, variables, pipeline });
    if (!docsEqual(match.doc, next)) coll!.replace(match.rid, next, cmd.bypassDocumentValidation !== true);
    return { lastErrorObject: { n: 1, updatedExisting: true }, value: project(returnNew ? next : match.doc), ok: 1 };
  }
  if (!upsert) return { lastErrorObject: { n: 0, updatedExisting: false }, value: null, ok: 1 };
  const doc = buildUpsert(query, u!, { arrayFilters, filter: query, variables, pipeline });
  const stored = (coll ?? ctx.server.catalog.getOrCreate(ctx.db, name)).insert(doc, cmd.bypassDocumentValidation !== true);
  return {
    lastErrorObject: { n: 1, updatedExisting: false, upserted: stored._id },
    value: returnNew ? project(stored) : null,
    ok: 1,
  };
}

export const writeCommands: Record<string, CommandHandler> = {
  insert,
  update,
  delete: del,
  findAndModify,
  findandmodify: findAndModify,
};

export const WRITE_COMMANDS: ReadonlySet<string> = new Set([
  'insert',
  'update',
  'delete',
  'findAndModify',
  'findandmodify',
  'create',
  'drop',
  'dropDatabase',
  'createIndexes',
  'dropIndexes',
  'deleteIndexes',
  'renameCollection',
  'aggregate',
  'collMod',
]);
