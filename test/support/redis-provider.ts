import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './free-port.ts';
import { spawnUntilReady } from './spawn-ready.ts';

export interface TestRedis {
  url: string;
  description: string;
  stop: () => Promise<void>;
}

/** REDIS_URL, else a redis-server started on a free port when the binary exists, else none (''). */
export async function startRedisForTests(): Promise<TestRedis> {
  if (process.env.REDIS_URL) {
    return { url: process.env.REDIS_URL, description: `REDIS_URL (${process.env.REDIS_URL})`, stop: async () => {} };
  }
  const binary = findRedisServer();
  if (!binary) {
    return {
      url: '',
      description: 'none (no REDIS_URL and no redis-server binary; tests that need Redis are skipped)',
      stop: async () => {},
    };
  }
  const port = await freePort();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'smsc-redis-'));
  const proc = await spawnUntilReady(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    /Ready to accept connections/,
    { timeoutMs: 15_000 },
  );
  const url = `redis://127.0.0.1:${port}`;
  return {
    url,
    description: `redis-server started by the harness (${url})`,
    stop: async () => {
      await proc.stop('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function findRedisServer(): string | undefined {
  for (const candidate of ['/usr/bin/redis-server', '/usr/local/bin/redis-server']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      // try the next place
    }
  }
  return undefined;
}
