import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logging/index.ts';
import { createMetrics } from '../../../src/metrics/index.ts';
import { Supervisor, type ChildSpec } from '../../../src/app/index.ts';

/** A real child process (plain node, so it starts quickly) that says it is ready, then does `then`. */
function script(name: string, then: string): ChildSpec {
  return { name, kind: 'test', command: process.execPath, args: ['-e', `console.log('ready'); ${then}`], ready: /ready/ };
}

async function restarts(child: string): Promise<number> {
  const metric = (await metrics.registry.getMetricsAsJSON()).find((m) => m.name === 'smsc_up_child_restarts_total');
  return (metric?.values ?? []).filter((v) => v.labels.child === child).reduce((sum, v) => sum + v.value, 0);
}

// The metrics an `up` process would have: the restarts are read from them.
const metrics = createMetrics();

describe('Supervisor (real child processes)', () => {
  it('restarts a child that exits, pausing 1x, 2x, 4x the base between tries, and gives up after maxFailures within the window with one sentence naming it', async () => {
    const supervisor = new Supervisor({
      logger: silentLogger,
      metrics,
      restartBaseMs: 150,
      restartMaxMs: 10_000,
      maxFailures: 4,
      failureWindowMs: 120_000,
    });
    const started: number[] = [];
    const spec = script('crasher', 'setTimeout(() => process.exit(3), 50);');
    const first = await supervisor.start(spec);
    started.push(Date.now());
    const pids = new Set([first.child.pid]);
    // Note each new process as it comes (the supervisor starts them; the test only watches).
    const watching = setInterval(() => {
      const proc = supervisor.get('crasher');
      if (proc && !pids.has(proc.child.pid)) {
        pids.add(proc.child.pid);
        started.push(Date.now());
      }
    }, 5);
    const error = await supervisor.failed;
    clearInterval(watching);
    expect(error.message).toBe('crasher failed 4 times within 120 s (last: exited unexpectedly (exit code 3)); stopping smsc');
    expect(error.code).toBe('CHILD_FAILED');
    // Three restarts, each a new process, each after a longer pause than the one before.
    expect(pids.size).toBe(4);
    const gaps = started.slice(1).map((at, i) => at - started[i]);
    expect(gaps[0]).toBeGreaterThanOrEqual(150);
    expect(gaps[1]).toBeGreaterThanOrEqual(300);
    expect(gaps[2]).toBeGreaterThanOrEqual(600);
    expect(await restarts('crasher')).toBe(3);
    expect(supervisor.list()).toEqual([
      expect.objectContaining({
        name: 'crasher',
        state: 'stopped',
        restarts: 3,
        lastExit: expect.objectContaining({ exit: 'exit code 3' }),
      }),
    ]);
    expect(supervisor.health.report().problems.map((p) => p.check)).toEqual(['crasher']);
  }, 60_000);

  it('counts a restart that fails at start as a failure too, and says why in the child\u2019s own words', async () => {
    const supervisor = new Supervisor({ logger: silentLogger, metrics, restartBaseMs: 50, restartMaxMs: 1_000, maxFailures: 3 });
    // The first start works; every later one fails before its ready line, telling why on stderr.
    const marker = `/tmp/smsc-supervisor-test-${process.pid}-${Date.now()}`;
    const spec: ChildSpec = {
      name: 'flaky',
      kind: 'test',
      command: process.execPath,
      args: [
        '-e',
        `const fs = require('fs'); if (fs.existsSync(${JSON.stringify(marker)})) { fs.rmSync(${JSON.stringify(marker)}); process.stderr.write('smsc: port 2775 is in use.\\n'); process.exit(1); } fs.writeFileSync(${JSON.stringify(marker)}, ''); console.log('ready'); setTimeout(() => process.exit(1), 50);`,
      ],
      ready: /ready/,
    };
    await supervisor.start(spec);
    const error = await supervisor.failed;
    expect(error.message).toMatch(
      /^flaky failed 3 times within 60 s \(last: (failed to start again: port 2775 is in use|exited unexpectedly \(exit code 1\))\); stopping smsc$/,
    );
  }, 60_000);

  it('does not restart what it was asked to stop, and a child that cannot start at all is an error naming it', async () => {
    const supervisor = new Supervisor({ logger: silentLogger, metrics, restartBaseMs: 50 });
    const proc = await supervisor.start(script('sleeper', 'setInterval(() => {}, 1000);'));
    supervisor.stopRestarting();
    await supervisor.stop(['sleeper'], 5_000);
    expect(await proc.exited).toBe('SIGTERM');
    expect(supervisor.list()[0]).toMatchObject({ name: 'sleeper', state: 'stopped', restarts: 0 });
    await expect(
      supervisor.start({
        name: 'broken',
        kind: 'test',
        command: process.execPath,
        args: [
          '-e',
          "process.stderr.write('smsc: Invalid configuration: --lanes must be an integer from 1 to 1000, got 0.\\n'); process.exit(1)",
        ],
        ready: /ready/,
      }),
    ).rejects.toThrow('broken could not start: Invalid configuration: --lanes must be an integer from 1 to 1000, got 0');
  }, 60_000);
});
