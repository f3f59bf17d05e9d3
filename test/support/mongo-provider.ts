import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { withConsoleWarnMuted } from '../../src/util/index.ts';
import { spawnUntilReady } from './spawn-ready.ts';

export interface TestMongo {
  uri: string;
  kind: 'uri' | 'memory-server' | 'standin';
  description: string;
  stop: () => Promise<void>;
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const MEMORY_SERVER_TIMEOUT_MS = 20_000;

/** MONGODB_URI, else a real mongod from mongodb-memory-server, else the project's stand-in. */
export async function startMongoForTests(): Promise<TestMongo> {
  const fromEnv = process.env.MONGODB_URI;
  if (fromEnv) {
    return { uri: fromEnv, kind: 'uri', description: `MONGODB_URI (${redactUri(fromEnv)})`, stop: async () => {} };
  }
  const memory = await tryMemoryServer();
  if (memory.server) return memory.server;
  const standin = await startStandinProcess();
  return { ...standin, description: `${standin.description} (no mongod: ${memory.reason})` };
}

async function tryMemoryServer(): Promise<{ server?: TestMongo; reason: string }> {
  if (process.env.SMSC_TEST_SKIP_MEMORY_SERVER === '1') return { reason: 'SMSC_TEST_SKIP_MEMORY_SERVER=1' };
  let timer: NodeJS.Timeout | undefined;
  try {
    const { MongoMemoryServer } = await import('mongodb-memory-server');
    // Offline, the download fails; the timeout keeps a stalled network from hanging the run.
    const creating = MongoMemoryServer.create();
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no mongod within ${MEMORY_SERVER_TIMEOUT_MS} ms`)), MEMORY_SERVER_TIMEOUT_MS);
    });
    creating.catch(() => {});
    const server = await withConsoleWarnMuted(() => Promise.race([creating, timeout]));
    return {
      reason: '',
      server: {
        uri: server.getUri(),
        kind: 'memory-server',
        description: `mongodb-memory-server (${server.getUri()})`,
        stop: async () => {
          await server.stop();
        },
      },
    };
  } catch (error) {
    return { reason: firstLine(error) };
  } finally {
    clearTimeout(timer);
  }
}

async function startStandinProcess(): Promise<TestMongo> {
  const ttlArgs = ['--ttl-monitor-ms', process.env.SMSC_TEST_TTL_MONITOR_MS ?? '200'];
  const proc = await spawnUntilReady(
    process.execPath,
    ['--import', 'tsx', path.join(repoRoot, 'standin/main.ts'), '--port', '0', ...ttlArgs],
    /mongodb:\/\/127\.0\.0\.1:\d+/,
    { cwd: repoRoot, timeoutMs: 30_000 },
  );
  const uri = proc.match[0];
  return {
    uri,
    kind: 'standin',
    description: `the project's stand-in (${uri})`,
    stop: async () => {
      await proc.stop('SIGTERM');
    },
  };
}

function redactUri(uri: string): string {
  return uri.replace(/\/\/[^@/]*@/, '//***@');
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.replace(/\s+/g, ' ').trim().slice(0, 200);
}
