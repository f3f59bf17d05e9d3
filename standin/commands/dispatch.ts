import type { Document } from 'bson';
import { CommandError, ErrorCode, toCommandError } from '../errors.ts';
import { wantsJournal } from './args.ts';
import { adminCommands } from './admin.ts';
import type { CommandContext, CommandHandler } from './context.ts';
import { aggregateCommands } from './aggregate.ts';
import { readCommands } from './crud-read.ts';
import { explainCommands } from './explain.ts';
import { WRITE_COMMANDS, writeCommands } from './crud-write.ts';
import { ddlCommands } from './ddl.ts';
import { indexCommands } from './indexes.ts';
import { statsCommands } from './stats.ts';
import { withOperationTime } from '../query/now.ts';
import type { CommandTarget } from '../fail-points.ts';

const HANDLERS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({
    ...adminCommands,
    ...ddlCommands,
    ...indexCommands,
    ...statsCommands,
    ...readCommands,
    ...aggregateCommands,
    ...explainCommands,
    ...writeCommands,
  }),
);

/** Returned when the connection was closed instead of answering. */
export const NO_REPLY: Document = Object.freeze({});

/** Runs one command and returns the reply document (errors become ok:0 replies). */
export async function runCommand(cmd: Document, ctx: CommandContext): Promise<Document> {
  // An awaitable hello waits by design (up to maxAwaitTimeMS); mongod does not log it as slow either.
  if (ctx.server.slowMs === null || cmd.maxAwaitTimeMS !== undefined) return dispatchCommand(cmd, ctx);
  const started = performance.now();
  const reply = await dispatchCommand(cmd, ctx);
  const ms = performance.now() - started;
  if (ms >= ctx.server.slowMs) logSlowCommand(cmd, ctx.db, ms);
  return reply;
}

/** A mongod-style slow query line; documents in the command (inserts, updates) are not printed. */
function logSlowCommand(cmd: Document, db: string, ms: number): void {
  const name = Object.keys(cmd)[0] ?? '';
  const shape: Document = {};
  for (const [k, v] of Object.entries(cmd)) {
    if (k === 'lsid' || k === '$clusterTime' || k === '$db') continue;
    shape[k] = Array.isArray(v) ? `[${v.length} items]` : v;
  }
  let text: string;
  try {
    text = JSON.stringify({ msg: 'Slow query', ns: `${db}.${String(cmd[name])}`, command: shape, durationMillis: Math.round(ms) });
  } catch {
    text = JSON.stringify({ msg: 'Slow query', ns: `${db}.${String(cmd[name])}`, command: name, durationMillis: Math.round(ms) });
  }
  process.stderr.write(`${text}\n`);
}

/** Commands that take a write concern (mongod's supportsWriteConcern): they can report a writeConcernError. */
function supportsWriteConcern(name: string, cmd: Document): boolean {
  if (name === 'aggregate') {
    const pipeline = Array.isArray(cmd.pipeline) ? cmd.pipeline : [];
    const last = pipeline[pipeline.length - 1] as Document | undefined;
    return last !== undefined && ('$out' in last || '$merge' in last);
  }
  return WRITE_COMMANDS.has(name);
}

function failTarget(name: string, cmd: Document, ctx: CommandContext): CommandTarget {
  const coll = cmd[name];
  return {
    name,
    ns: typeof coll === 'string' ? `${ctx.db}.${coll}` : `${ctx.db}.$cmd`,
    appName: ctx.client.appName,
    threadName: `conn${ctx.connectionId}`,
  };
}

async function dispatchCommand(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = Object.keys(cmd)[0];
  try {
    if (name === undefined) throw new CommandError(ErrorCode.CommandNotFound, "no such command: ''");
    const handler = HANDLERS.get(name);
    if (handler === undefined) throw new CommandError(ErrorCode.CommandNotFound, `no such command: '${name}'`);
    if (cmd.txnNumber !== undefined || cmd.startTransaction === true || cmd.autocommit === false) {
      throw new CommandError(ErrorCode.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    const target = failTarget(name, cmd, ctx);
    const fail = ctx.server.failPoints.beforeCommand(target);
    if (fail !== null) {
      if (fail.blockMs > 0) await new Promise((r) => setTimeout(r, fail.blockMs));
      if (fail.closeConnection) {
        ctx.closeConnection();
        return NO_REPLY;
      }
      if (fail.error !== undefined) throw fail.error;
    }
    // One $$NOW for the whole command, as MongoDB binds its runtime constants per command.
    const result = withOperationTime(new Date(), () => handler(cmd, ctx));
    const reply = result instanceof Promise ? await result : result;
    if (supportsWriteConcern(name, cmd)) {
      const fault = ctx.server.failPoints.afterCommand(target);
      if (fault !== null) {
        reply.writeConcernError = fault.writeConcernError;
        if (fault.errorLabels !== undefined) reply.errorLabels = fault.errorLabels;
      }
    }
    if (ctx.server.journal !== null && WRITE_COMMANDS.has(name) && wantsJournal(cmd)) await ctx.server.journal.sync();
    return reply;
  } catch (err) {
    const e = toCommandError(err);
    if (e.code === ErrorCode.InternalError && !(err instanceof CommandError)) {
      process.stderr.write(`standin: internal error in ${name}: ${(err as Error)?.stack ?? String(err)}\n`);
    }
    return e.toReply();
  }
}
