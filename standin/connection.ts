import type { Socket } from 'node:net';
import type { Document } from 'bson';
import type { ClientInfo, ServerState } from './commands/context.ts';
import { NO_REPLY, runCommand } from './commands/dispatch.ts';
import { encodeMsgReply, encodeOpReply, MessageReader, OpCode, parseMessage, type Request } from './wire.ts';

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
  private readonly client: ClientInfo = { appName: null };

  constructor(
    private readonly socket: Socket,
    private readonly server: ServerState,
    readonly id: number,
  ) {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('error', () => socket.destroy());
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
      this.queue = this.queue.then(() => this.handle(m)).catch((err: unknown) => {
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
    const reply = await runCommand(req.command, {
      server: this.server,
      db: db as string,
      connectionId: this.id,
      remote: this.remote,
      client: this.client,
      closeConnection: this.closeConnection,
    });
    if (req.moreToCome || this.socket.destroyed || reply === NO_REPLY) return;
    this.socket.write(this.encode(req, reply));
  }

  private encode(req: Request, reply: Document): Buffer {
    const enc = req.opCode === OpCode.Query ? encodeOpReply : encodeMsgReply;
    try {
      return enc(req.requestId, reply);
    } catch (err) {
      // For example a result batch over 16 MiB, or a value BSON cannot encode.
      return enc(req.requestId, {
        ok: 0,
        errmsg: `reply could not be encoded: ${(err as Error)?.message ?? String(err)}`,
        code: 10334,
        codeName: 'BSONObjectTooLarge',
      });
    }
  }
}
