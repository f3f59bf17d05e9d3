import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../domain/errors.ts';
import type { Logger } from '../logging/logger.ts';
import { compiledEntry, packageRoot } from '../util/package-root.ts';
import { withConsoleWarnMuted } from '../util/quiet-console.ts';
import { TETHER_DELAY_ENV } from './parent-tether.ts';
import type { ChildSpec, Supervisor } from './supervisor.ts';

export interface EmbeddedMongo {
  uri: string;
  kind: 'uri' | 'memory-server' | 'standin';
  stop(graceMs?: number): Promise<void>;
}

export interface EmbeddedMongoOptions {
  /** From MONGODB_URI or --mongodb-uri; when set nothing is started. */
  uri?: string;
  dataDir: string;
  port: number;
  logger: Logger;
  memoryServerTimeoutMs?: number;
  /** Runs the stand-in (when it comes to that) as a supervised child named `mongodb`. */
  supervisor: Supervisor;
}

/** Makes the stand-in end with `up` like the smsc children (it is not an smsc command). */
const tetherPreload = pathToFileURL(compiledEntry('src/app/tether-preload')).href;

/**
 * The MongoDB of the all-in-one default: the configured one, else a real mongod from
 * mongodb-memory-server keeping its files under dataDir, else (offline, no mongod to be had)
 * the project's test stand-in, loudly — run as a supervised child, restarted on the same port
 * and data directory if it dies.
 */
export async function startEmbeddedMongo(options: EmbeddedMongoOptions): Promise<EmbeddedMongo> {
  if (options.uri) return { uri: options.uri, kind: 'uri', stop: async () => {} };
  const dbPath = path.resolve(options.dataDir, 'mongodb');
  mkdirSync(dbPath, { recursive: true });
  let timer: NodeJS.Timeout | undefined;
  try {
    const { MongoMemoryServer } = await import('mongodb-memory-server');
    const creating = MongoMemoryServer.create({
      instance: { dbPath, storageEngine: 'wiredTiger', port: options.port, portGeneration: true },
    });
    creating.catch(() => {});
    const limit = options.memoryServerTimeoutMs ?? 30_000;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no mongod within ${limit} ms`)), limit);
    });
    const server = await withConsoleWarnMuted(() => Promise.race([creating, timeout]));
    return { uri: server.getUri(), kind: 'memory-server', stop: async () => void (await server.stop({ doCleanup: false })) };
  } catch (error) {
    const reason = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim().slice(0, 300);
    // The stand-in is a package of the repository, not of the product: an installation that ships
    // without it (the Docker image) needs a real MongoDB.
    if (!existsSync(compiledEntry('standin/main'))) {
      throw new ConfigError(
        `no MongoDB: set MONGODB_URI (or --mongodb-uri) to a MongoDB server; no mongod could be started here (${reason}) and this installation has no stand-in`,
      );
    }
    options.logger.warn({ reason }, 'no mongod could be obtained; falling back to the test stand-in');
  } finally {
    clearTimeout(timer);
  }
  const standinDir = path.resolve(options.dataDir, 'standin');
  mkdirSync(standinDir, { recursive: true });
  const spec = (port: number): ChildSpec => ({
    name: 'mongodb',
    kind: 'mongodb',
    command: process.execPath,
    args: ['--import', tetherPreload, compiledEntry('standin/main'), '--port', String(port), '--dbpath', standinDir],
    ready: /mongodb:\/\/127\.0\.0\.1:(\d+)/,
    cwd: packageRoot,
    // Should `up` die, the others stop first (they still write while they do), then the database.
    env: { ...process.env, [TETHER_DELAY_ENV]: '3000' },
  });
  const proc = await options.supervisor.start(spec(options.port)).catch(async (error: unknown) => {
    if (options.port === 0) throw error;
    // The port may be taken (a real mongod on 27017): any free port serves the all-in-one.
    options.logger.warn({ port: options.port, err: (error as Error).message }, 'the stand-in could not use its port; trying any free one');
    return options.supervisor.start({ ...spec(0), name: 'mongodb' });
  });
  // Restarted on the port it has now, so the others find it again.
  options.supervisor.respec('mongodb', spec(Number(proc.match[1])));
  return { uri: proc.match[0], kind: 'standin', stop: (graceMs = 10_000) => options.supervisor.stop(['mongodb'], graceMs) };
}
