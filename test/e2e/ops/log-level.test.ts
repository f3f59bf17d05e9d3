import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useTestDb } from '../../support/mongo.ts';
import { spawnUntilReady } from '../../support/spawn-ready.ts';

// The log level reaches the logger from the config (--log-level, LOG_LEVEL, log.level), never
// through the environment the logger reads: here LOG_LEVEL is unset in the child's environment.

const t = useTestDb('log_level_e2e');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');

/** The pino levels of the JSON log lines a `smsc cleanup` daemon writes from start to SIGTERM. */
async function logLevelsOf(args: string[]): Promise<number[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, MONGODB_URI: t.uri, MONGODB_DB: t.dbName, LOG_FORMAT: 'json' };
  delete env.LOG_LEVEL;
  const cleanup = await spawnUntilReady(process.execPath, [bin, 'cleanup', '--metrics-port', '0', ...args], /cleanup ready/, {
    cwd: repoRoot,
    env,
    timeoutMs: 30_000,
  });
  expect(await cleanup.stop('SIGTERM')).toBe(0);
  return cleanup
    .output()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => (JSON.parse(line) as { level: number }).level);
}

describe('log level from the command line', () => {
  it('--log-level debug logs debug lines with LOG_LEVEL unset; the default is info', async () => {
    const [debug, standard] = await Promise.all([logLevelsOf(['--log-level', 'debug']), logLevelsOf([])]);
    // pino: 20 debug, 30 info. The shutdown logs each step at debug and "shutting down" at info.
    expect(debug).toContain(20);
    expect(debug).toContain(30);
    expect(standard).toContain(30);
    expect(standard.filter((level) => level < 30)).toEqual([]);
  });
});
