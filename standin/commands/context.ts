import type { Document } from 'bson';
import type { CursorManager } from '../cursors.ts';
import type { Catalog } from '../storage/catalog.ts';
import type { Journal } from '../journal.ts';
import type { TtlMonitor } from '../ttl.ts';
import type { FailPoints } from '../fail-points.ts';

/** What every command handler can reach. */
export interface ServerState {
  catalog: Catalog;
  cursors: CursorManager;
  journal: Journal | null;
  ttl: TtlMonitor;
  failPoints: FailPoints;
  startedAt: number;
  port: () => number;
  connections: () => number;
  /** Commands that take longer than this many ms are logged to stderr (null: never), like mongod's slowms. */
  slowMs: number | null;
}

/** What the client said about itself in its connection handshake. */
export interface ClientInfo {
  /** `client.application.name` of the first hello (the driver's appName option). */
  appName: string | null;
}

export interface CommandContext {
  server: ServerState;
  db: string;
  connectionId: number;
  remote: string;
  client: ClientInfo;
  /** Drops this client connection without a reply (fail points use it). */
  closeConnection(): void;
}

export type CommandHandler = (cmd: Document, ctx: CommandContext) => Document | Promise<Document>;
