import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../support/free-port.ts';
import { alive, childrenOf, cmdline, startUp, type UpProcess } from './up-process.ts';
import { until } from '../../support/until.ts';

/**
 * Issue 18: children never outlive `smsc up`. `up` is SIGKILLed (it gets no chance to stop
 * anything); within 10 s none of its children is alive, and a new `up` starts on the same ports
 * and data directory. That one then stops cleanly on SIGTERM.
 */
describe('smsc up killed with SIGKILL', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'smsc-up-kill-'));
  const ups: UpProcess[] = [];

  afterAll(async () => {
    for (const up of ups) {
      if (up.child.exitCode === null && up.child.signalCode === null) up.child.kill('SIGKILL');
      for (const pid of childrenOf(up.pid)) process.kill(pid, 'SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('leaves nothing running, and the next smsc up starts on the same ports and data directory', async () => {
    const ports = { smpp: await freePort(), sink: await freePort() };
    const args = ['--data-dir', dataDir, '--mongo-port', '0', '--smpp-port', String(ports.smpp), '--sink-port', String(ports.sink)];
    const first = await startUp(args);
    ups.push(first);
    const children = childrenOf(first.pid);
    // The stand-in, the simulator, the inserter, two deliverers, cleanup (the compiled build: no tsx).
    expect(children.filter((pid) => cmdline(pid).includes('bin/smsc.mjs')).length).toBe(5);
    expect(children.some((pid) => cmdline(pid).includes('standin/main.js'))).toBe(true);

    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    await until(
      () => children.every((pid) => !alive(pid)),
      10_000,
      `children of the killed up gone (alive: ${children.filter(alive).map(cmdline).join('; ')})`,
    );
    console.log(`[up SIGKILL] its ${children.length} children were gone ${Date.now() - killedAt} ms after it`);

    // Same ports, same data directory: nothing of the first is in the way (its lock is stale now).
    const second = await startUp(args);
    ups.push(second);
    expect(second.output()).not.toContain('created account');
    const secondChildren = childrenOf(second.pid);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    expect(second.output()).toContain('smsc: stopped');
    for (const pid of secondChildren) expect(alive(pid), cmdline(pid)).toBe(false);
    expect(existsSync(path.join(dataDir, 'smsc-up.lock'))).toBe(false);
  }, 300_000);
});
