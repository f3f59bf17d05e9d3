import { createServer, type Server, type Socket } from 'node:net';
import type { ServerState } from './commands/context.ts';
import { Connection } from './connection.ts';
import { CursorManager } from './cursors.ts';
import { DbPathLock } from './dbpath-lock.ts';
import { FailPoints } from './fail-points.ts';
import { Journal } from './journal.ts';
import { Catalog } from './storage/catalog.ts';
import { DEFAULT_TTL_INTERVAL_MS, TtlMonitor } from './ttl.ts';

export interface StandinOptions {
  /** TCP port; 0 (the default) picks a free one. */
  port?: number;
  host?: string;
  /** Directory for the journal; memory only when absent. */
  dbpath?: string;
  /** How often the TTL monitor sweeps (default 60 000 ms, like mongod). */
  ttlMonitorIntervalMs?: number;
  /** Log commands slower than this (ms) to stderr, one JSON line each; off when absent. */
  slowMs?: number;
}

export interface RunningStandin {
  uri: string;
  port: number;
  close(): Promise<void>;
}

/** Starts a MongoDB wire-protocol stand-in and resolves once it accepts connections. */
export async function startStandin(options: StandinOptions = {}): Promise<RunningStandin> {
  const catalog = new Catalog();
  // Locked before the journal is read: a second server on the directory must not replay or
  // compact a journal the first one is appending to.
  const lock = options.dbpath ? DbPathLock.acquire(options.dbpath) : null;
  let journal: Journal | null;
  try {
    journal = options.dbpath ? Journal.open(options.dbpath, catalog) : null;
  } catch (err) {
    lock?.release();
    throw err;
  }
  const cursors = new CursorManager();
  const ttl = new TtlMonitor(catalog, options.ttlMonitorIntervalMs ?? DEFAULT_TTL_INTERVAL_MS);
  const sockets = new Set<Socket>();
  let nextConnectionId = 1;
  let server: Server | null = null;
  const state: ServerState = {
    catalog,
    cursors,
    journal,
    ttl,
    failPoints: new FailPoints(),
    startedAt: Date.now(),
    port: () => port,
    connections: () => sockets.size,
    slowMs: options.slowMs ?? null,
  };
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    new Connection(socket, state, nextConnectionId++);
  });
  const host = options.host ?? '127.0.0.1';
  try {
    await new Promise<void>((resolve, reject) => {
      server!.once('error', reject);
      server!.listen(options.port ?? 0, host, () => resolve());
    });
  } catch (err) {
    journal?.close();
    lock?.release();
    throw err;
  }
  server.on('error', (err) => process.stderr.write(`standin: server error: ${err.message}\n`));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  ttl.start();
  const cursorSweep = setInterval(() => cursors.sweepIdle(), 60_000);
  cursorSweep.unref();
  let closed: Promise<void> | null = null;
  // A wildcard address is not something a client can dial; print the loopback address then.
  const dialHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  return {
    uri: `mongodb://${dialHost}:${port}`,
    port,
    close(): Promise<void> {
      if (closed !== null) return closed;
      closed = new Promise<void>((resolve) => {
        ttl.stop();
        clearInterval(cursorSweep);
        for (const s of sockets) s.destroy();
        server!.close(() => {
          journal?.close();
          lock?.release();
          resolve();
        });
      });
      return closed;
    },
  };
}
