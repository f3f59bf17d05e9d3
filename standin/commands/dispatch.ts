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

const HANDLERS: ReadonlyMap<string, CommandHandler> = new Map(
  Object.entries({ ...adminCommands, ...ddlCommands, ...indexCommands, ...statsCommands, ...readCommands, ...aggregateCommands, ...explainCommands, ...writeCommands }),
);

/** Returned when the connection was closed instead of answering. */
export const NO_REPLY: Document = Object.freeze({});

/** Runs one command and returns the reply document (errors become ok:0 replies). */
export async function runCommand(cmd: Document, ctx: CommandContext): Promise<Document> {
  if (ctx.server.slowMs === null) return dispatchCommand(cmd, ctx);
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

async function dispatchCommand(cmd: Document, ctx: CommandContext): Promise<Document> {
  const name = Object.keys(cmd)[0];
  try {
    if (name === undefined) throw new CommandError(ErrorCode.CommandNotFound, 'no such command: \'\'');
    const handler = HANDLERS.get(name);
    if (handler === undefined) throw new CommandError(ErrorCode.CommandNotFound, `no such command: '${name}'`);
    if (cmd.txnNumber !== undefined || cmd.startTransaction === true || cmd.autocommit === false) {
      throw new CommandError(ErrorCode.IllegalOperation, 'Transaction numbers are only allowed on a replica set member or mongos');
    }
    const fail = name === 'configureFailPoint' ? null : ctx.server.failPoints.check(name);
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
    if (fail?.writeConcernError !== undefined) reply.writeConcernError = fail.writeConcernError;
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
