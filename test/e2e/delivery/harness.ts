import path from 'node:path';
import type { Db } from 'mongodb';
import { spawnUntilReady, type ReadyProcess } from '../../support/spawn-ready.ts';
import { Collections } from '../../../src/store/index.ts';
import { validateConnector } from '../../../src/connectors/index.ts';
import { compiledEntry } from '../../../src/util/index.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

/**
 * The environment that runs a process with its clock shifted (Debian's libfaketime), e.g. '+20s'.
 * Preloaded into the process itself: the `faketime` command would fork, and stopping it would
 * leave the process running.
 */
export function shiftedClock(offset: string): Record<string, string> {
  return { FAKETIME: offset, LD_PRELOAD: '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1' };
}

/** Starts the compiled `workers/deliverer.ts` (what ships) as a real process against the test database. */
export function startDeliverer(uri: string, dbName: string, args: string[] = [], env: Record<string, string> = {}): Promise<ReadyProcess> {
  return spawnUntilReady(
    process.execPath,
    [compiledEntry('workers/deliverer'), '--mongodb-uri', uri, '--db', dbName, '--refresh-ms', '200', '--backoff-scale', '0.01', ...args],
    /deliverer ready/,
    {
      cwd: repoRoot,
      timeoutMs: 30_000,
      env: {
        ...process.env,
        LOG_LEVEL: 'warn',
        LOG_FORMAT: 'json',
        DELIVERER_SWEEP_INTERVAL_MS: '500',
        DELIVERER_RETRY_BASE_MS: '500',
        DELIVERER_RETRY_MAX_MS: '2000',
        ...env,
      },
    },
  );
}

/** One connector named `sink` to the sink's port and a default route to it. */
export async function routeAllTo(db: Db, port: number, extra: Record<string, unknown> = {}): Promise<void> {
  await db
    .collection(Collections.connectors)
    .insertOne({ ...validateConnector({ name: 'sink', host: '127.0.0.1', port, systemId: 'smsc', password: 'pw', window: 50, ...extra }) });
  await db.collection(Collections.routes).insertOne({ prefix: '', connectors: ['sink'], priority: 0, weight: 1, enabled: true });
}

/** The `deliverer stats {...}` line a deliverer prints at exit. */
export function statsOf(proc: ReadyProcess): Record<string, unknown> | undefined {
  const match = proc.output().match(/deliverer stats (\{.*\})/);
  return match ? (JSON.parse(match[1]) as Record<string, unknown>) : undefined;
}
