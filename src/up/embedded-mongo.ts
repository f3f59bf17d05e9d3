import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../logging/logger.ts';
import { compiledEntry, packageRoot } from '../util/package-root.ts';
import { withConsoleWarnMuted } from '../util/quiet-console.ts';
import { spawnReadyProcess } from './ready-process.ts';

export interface EmbeddedMongo {
  uri: string;
  kind: 'uri' | 'memory-server' | 'standin';
  stop(): Promise<void>;
}

export interface EmbeddedMongoOptions {
  /** From MONGODB_URI or --mongodb-uri; when set nothing is started. */
  uri?: string;
  dataDir: string;
  port: number;
  logger: Logger;
  memoryServerTimeoutMs?: number;
}

/**
 * The MongoDB of the all-in-one default: the configured one, else a real mongod from
 * mongodb-memory-server keeping its files under dataDir, else (offline, no mongod to be had)
 * the project's test stand-in, loudly.
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
    options.logger.warn({ reason }, 'no mongod could be obtained; falling back to the test stand-in');
  } finally {
    clearTimeout(timer);
  }
  const standinDir = path.resolve(options.dataDir, 'standin');
  mkdirSync(standinDir, { recursive: true });
  const proc = await spawnReadyProcess({
    command: process.execPath,
    args: [compiledEntry('standin/main'), '--port', String(options.port), '--dbpath', standinDir],
    ready: /mongodb:\/\/127\.0\.0\.1:\d+/,
    cwd: packageRoot,
    logger: options.logger,
    name: 'mongo-standin',
  }).catch(async () =>
    // The port may be taken (a real mongod on 27017): any free port serves the all-in-one.
    spawnReadyProcess({
      command: process.execPath,
      args: [compiledEntry('standin/main'), '--port', '0', '--dbpath', standinDir],
      ready: /mongodb:\/\/127\.0\.0\.1:\d+/,
      cwd: packageRoot,
      logger: options.logger,
      name: 'mongo-standin',
    }),
  );
  return { uri: proc.match[0], kind: 'standin', stop: () => proc.stop() };
}
