import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const bin = path.join(repoRoot, 'bin/smsc.mjs');

interface Run {
  code: number | null;
  stderr: string;
  ms: number;
}

/** Runs `smsc …` to its end (killed after 60 s, which fails the test: it should never get there). */
function smsc(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const began = Date.now();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: repoRoot, timeout: 60_000, env: { ...process.env, LOG_LEVEL: 'error', REDIS_URL: '', ...env } },
      (error, _stdout, stderr) => {
        const code = error ? ((error as { code?: number | string }).code as number | null) : 0;
        resolve({ code: typeof code === 'number' ? code : null, stderr, ms: Date.now() - began });
      },
    );
  });
}

/** The one line a fatal start-up error prints; nothing else on stderr (no stack, no JSON logs at this level). */
function oneLine(run: Run): string {
  const lines = run.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines, run.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^smsc: /);
  return lines[0];
}

/**
 * Runs the commands at the same time as an `smsc --version`, which only starts and exits: how long
 * a command took beyond that is its own time, whatever the load on the machine.
 */
async function beside(commands: [string[], Record<string, string>?][]): Promise<{ runs: Run[]; baselineMs: number }> {
  const [baseline, ...runs] = await Promise.all([smsc(['--version']), ...commands.map(([args, env]) => smsc(args, env))]);
  return { runs, baselineMs: baseline.ms };
}

/**
 * Issue 13, "fatal start-up errors exit": a port in use, an invalid option value and an
 * unreachable MongoDB each end the process with a non-zero code and one clear line within 15 s of
 * start-up (beyond the time this machine takes to start `smsc --version` at the same moment).
 */
describe('fatal start-up errors', () => {
  const uri = inject('mongoUri');
  const db = 'lifecycle_fatal_start';
  let held: Server;
  let heldPort = 0;
  let dir = '';

  beforeAll(async () => {
    held = createServer();
    await new Promise<void>((resolve) => held.listen(0, '127.0.0.1', resolve));
    heldPort = (held.address() as { port: number }).port;
    dir = mkdtempSync(path.join(tmpdir(), 'smsc-fatal-'));
  }, 60_000);

  afterAll(async () => {
    await new Promise((resolve) => held?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const within15s = (run: Run, baselineMs: number) =>
    expect(run.ms - baselineMs, `took ${run.ms} ms (smsc --version beside it: ${baselineMs} ms)`).toBeLessThan(15_000);

  it('an inserter whose SMPP port is in use exits 1 after one line, having closed what it opened', async () => {
    const {
      runs: [run],
      baselineMs,
    } = await beside([[['inserter', '--mongodb-uri', uri, '--db', db, '--smpp-port', String(heldPort)], { SMPP_HOST: '127.0.0.1' }]]);
    expect(run.code).toBe(1);
    expect(oneLine(run)).toBe(`smsc: SMPP port ${heldPort} on 127.0.0.1 is in use (--smpp-port / SMPP_PORT).`);
    within15s(run, baselineMs);
  }, 90_000);

  it('a metrics port in use is fatal too (cleanup)', async () => {
    const {
      runs: [run],
      baselineMs,
    } = await beside([[['cleanup', '--mongodb-uri', uri, '--db', db, '--metrics-port', String(heldPort)], { METRICS_HOST: '127.0.0.1' }]]);
    expect(run.code).toBe(1);
    expect(oneLine(run)).toBe(`smsc: Metrics port ${heldPort} on 127.0.0.1 is in use (--metrics-port / METRICS_PORT).`);
    within15s(run, baselineMs);
  }, 90_000);

  it('invalid numeric values are refused alike from a flag, the environment and the config file, before anything is opened', async () => {
    const file = path.join(dir, 'smsc.json');
    writeFileSync(file, JSON.stringify({ deliverer: { concurrency: 0 } }));
    // MongoDB is deliberately unreachable: a check that ran after connecting would take 10 s and say so.
    const unreachable = `mongodb://127.0.0.1:${heldPort}`;
    const { runs, baselineMs } = await beside([
      [['deliverer', '--mongodb-uri', unreachable, '--lease-ms', '-3']],
      [['deliverer', '--mongodb-uri', unreachable, '--lanes', '0']],
      [['deliverer', '--mongodb-uri', unreachable], { DELIVERER_CONCURRENCY: '0' }],
      [['deliverer', '--mongodb-uri', unreachable, '--config', file]],
      [['inserter', '--mongodb-uri', unreachable, '--window', 'many']],
    ]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      within15s(run, baselineMs);
    }
    expect(runs.map(oneLine)).toEqual([
      'smsc: Invalid configuration: --lease-ms must be an integer from 1000 to 3600000, got -3.',
      'smsc: Invalid configuration: --lanes must be an integer from 1 to 1000, got 0.',
      'smsc: Invalid configuration: DELIVERER_CONCURRENCY must be an integer from 1 to 1000, got "0".',
      'smsc: Invalid configuration: smsc.json: deliverer.concurrency must be an integer from 1 to 1000, got 0.',
      'smsc: Invalid configuration: --smpp-window must be an integer from 1 to 10000, got NaN.',
    ]);
  }, 90_000);

  it('MongoDB unreachable past its timeout ends the process with one line', async () => {
    const closed = await freePort();
    const {
      runs: [run],
      baselineMs,
    } = await beside([[['deliverer', '--mongodb-uri', `mongodb://127.0.0.1:${closed}`]]]);
    expect(run.code).toBe(1);
    expect(oneLine(run)).toMatch(
      new RegExp(
        `^smsc: Cannot reach MongoDB at mongodb://127\\.0\\.0\\.1:${closed} \\(.*ECONNREFUSED.*\\); set MONGODB_URI or --mongodb-uri\\.$`,
      ),
    );
    within15s(run, baselineMs);
  }, 90_000);
});
