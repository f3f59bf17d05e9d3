import type { Socket } from 'node:net';
import type { Document } from 'bson';
import type { ClientInfo, ServerState } from './commands/context.ts';
import { NO_REPLY, runCommand } from './commands/dispatch.ts';
import { encodeMsgReply, encodeOpReply, MessageReader, MsgFlag, OpCode, parseMessage, requestIdOf, type Request } from './wire.ts';

const HELLO_NAMES: ReadonlySet<string> = new Set(['hello', 'isMaster', 'ismaster']);

/** MongoDB streams replies only to an awaitable hello that allowed it (OP_MSG exhaustAllowed) and succeeded. */
function isExhaustHello(req: Request, reply: Document): boolean {
  if (!req.exhaustAllowed || reply.ok !== 1 || reply.topologyVersion === undefined) return false;
  const name = Object.keys(req.command)[0];
  return (
    name !== undefined && HELLO_NAMES.has(name) && req.command.maxAwaitTimeMS !== undefined && req.command.topologyVersion !== undefined
  );
}

/**
 * One client connection. Requests are handled strictly in arrival order; a waiting getMore
 * only delays its own connection.
 */
export class Connection {
  private readonly reader = new MessageReader();
  private queue: Promise<void> = Promise.resolve();
  /** Made once: a closure per request (named by tsx's keepNames helper) cost microseconds each. */
  private readonly closeConnection = (): void => {
    this.socket.destroy();
  };
  private remote: string | null = null;
  private readonly closing = new AbortController();
  private readonly client: ClientInfo = { appName: null };

  constructor(
    private readonly socket: Socket,
    private readonly server: ServerState,
    readonly id: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.closing.abort());
  }

  private onData(chunk: Buffer): void {
    let messages: Buffer[];
    try {
      messages = this.reader.push(chunk);
    } catch {
      this.socket.destroy();
      return;
    }
    for (const m of messages) {
      this.queue = this.queue
        .then(() => this.handle(m))
        .catch((err: unknown) => {
          // Nothing may take the server down: report, drop this connection, keep serving others.
          process.stderr.write(`standin: connection ${this.id} failed: ${(err as Error)?.stack ?? String(err)}\n`);
          this.socket.destroy();
        });
    }
  }

  private async handle(raw: Buffer): Promise<void> {
    if (this.socket.destroyed) return;
    let req: Request;
    try {
      req = parseMessage(raw);
    } catch {
      this.socket.destroy();
      return;
    }
    let db = req.command.$db;
    if (typeof db !== 'string') {
      const full = req.fullCollectionName ?? 'admin.$cmd';
      db = full.slice(0, full.indexOf('.'));
    }
    this.remote ??= `${this.socket.remoteAddress}:${this.socket.remotePort}`;
    const run = (command: Document) =>
      runCommand(command, {
        server: this.server,
        db: db as string,
        connectionId: this.id,
        remote: this.remote!,
        client: this.client,
        closeConnection: this.closeConnection,
        closed: this.closing.signal,
      });
    const reply = await run(req.command);
    if (req.moreToCome || this.socket.destroyed || reply === NO_REPLY) return;
    if (!isExhaustHello(req, reply)) {
      this.socket.write(this.encode(req, req.requestId, reply));
      return;
    }
    // An exhaust stream (a driver's streaming monitor): every reply says moreToCome and answers the
    // previous one; the next awaits the topologyVersion just sent. Ends when the connection closes.
    let responseTo = req.requestId;
    let next = reply;
    while (!this.socket.destroyed) {
      const message = this.encode(req, responseTo, next, MsgFlag.MoreToCome);
      this.socket.write(message);
      responseTo = requestIdOf(message);
      next = await run({ ...req.command, topologyVersion: next.topologyVersion });
    }
  }

  private encode(req: Request, responseTo: number, reply: Document, flags = 0): Buffer {
    try {
      return req.opCode === OpCode.Query ? encodeOpReply(responseTo, reply) : encodeMsgReply(responseTo, reply, flags);
    } catch (err) {
      // For example a result batch over 16 MiB, or a value BSON cannot encode.
      const error = {
        ok: 0,
        errmsg: `reply could not be encoded: ${(err as Error)?.message ?? String(err)}`,
        code: 10334,
        codeName: 'BSONObjectTooLarge',
      };
      return req.opCode === OpCode.Query ? encodeOpReply(responseTo, error) : encodeMsgReply(responseTo, error);
    }
  }
}
