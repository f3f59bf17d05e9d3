import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compiledEntry } from '../../../src/util/index.ts';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface InserterChild extends ReadyProcess {
  port: number;
  pid: number;
}

/** The compiled `workers/inserter.ts` (what ships) as a real child process on a free port, against `dbName` on `mongoUri`. */
export async function spawnInserter(
  mongoUri: string,
  dbName: string,
  extraArgs: string[] = [],
  env: Record<string, string> = {},
): Promise<InserterChild> {
  const proc = await spawnUntilReady(
    process.execPath,
    [compiledEntry('workers/inserter'), '--smpp-port', '0', ...extraArgs],
    /inserter listening on [^\s:]+:(\d+)/,
    {
      cwd: repoRoot,
      timeoutMs: 30_000,
      env: { ...process.env, MONGODB_URI: mongoUri, MONGODB_DB: dbName, SMPP_HOST: '127.0.0.1', LOG_LEVEL: 'warn', REDIS_URL: '', ...env },
    },
  );
  return Object.assign(proc, { port: Number(proc.match[1]), pid: proc.child.pid! });
}

/** Resident set size of a process in MiB (Linux). */
export async function rssMiB(pid: number): Promise<number> {
  const { readFile } = await import('node:fs/promises');
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}
