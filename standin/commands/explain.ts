import type { Document } from 'bson';
import { isPlainObject } from '../bson-order.ts';
import { CommandError, ErrorCode } from '../errors.ts';
import { runQuery, type QueryStats } from '../query/execute.ts';
import type { Doc } from '../storage/collection.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import { SERVER_VERSION } from './admin.ts';
import { letVariables } from './let.ts';

/** explain for find, count, distinct, findAndModify and aggregate: the plan and, unless
 * verbosity is queryPlanner, executionStats from running the query part. */
function explain(cmd: Document, ctx: CommandContext): Document {
  const inner = cmd.explain;
  if (!isPlainObject(inner)) throw new CommandError(ErrorCode.BadValue, 'explain requires a command object');
  const verb = Object.keys(inner)[0];
  let filter: Doc = {};
  let sort: Doc | undefined;
  let collName = '';
  if (verb === 'find' || verb === 'count' || verb === 'distinct') {
    collName = String(inner[verb]);
    filter = (inner.filter ?? inner.query ?? {}) as Doc;
    sort = inner.sort as Doc | undefined;
  } else if (verb === 'findAndModify' || verb === 'findandmodify') {
    collName = String(inner[verb]);
    filter = (inner.query ?? {}) as Doc;
    sort = inner.sort as Doc | undefined;
  } else if (verb === 'aggregate') {
    collName = String(inner.aggregate);
    const first = Array.isArray(inner.pipeline) ? inner.pipeline[0] : undefined;
    if (isPlainObject(first) && isPlainObject(first.$match)) filter = first.$match;
  } else {
    throw new CommandError(ErrorCode.BadValue, `explain is not supported for ${verb}`);
  }
  const coll = ctx.server.catalog.get(ctx.db, collName);
  const stats: QueryStats = { index: null, docsExamined: 0, nReturned: 0 };
  const started = performance.now();
  if (coll !== undefined) {
    const single = verb === 'findAndModify' || verb === 'findandmodify';
    const limit = single ? 1 : typeof inner.limit === 'number' ? inner.limit : 0;
    const variables = letVariables(inner);
    runQuery(coll, { filter, sort, limit, skip: typeof inner.skip === 'number' ? inner.skip : 0, hint: inner.hint, stats, variables });
  }
  const ms = performance.now() - started;
  const winningPlan =
    stats.index === null ? { stage: 'COLLSCAN' } : { stage: 'FETCH', inputStage: { stage: 'IXSCAN', indexName: stats.index } };
  const reply: Document = {
    explainVersion: '1',
    queryPlanner: { namespace: `${ctx.db}.${collName}`, parsedQuery: filter, winningPlan, rejectedPlans: [] },
  };
  if (cmd.verbosity !== 'queryPlanner') {
    reply.executionStats = {
      executionSuccess: true,
      nReturned: stats.nReturned,
      executionTimeMillis: Math.round(ms),
      executionTimeMicros: Math.round(ms * 1000),
      totalKeysExamined: stats.index === null ? 0 : stats.docsExamined,
      totalDocsExamined: stats.docsExamined,
    };
  }
  reply.serverInfo = { host: '127.0.0.1', port: ctx.server.port(), version: SERVER_VERSION };
  reply.ok = 1;
  return reply;
}

export const explainCommands: Record<string, CommandHandler> = { explain };
