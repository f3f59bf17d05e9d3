import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { acquireUpLock, UP_LOCK_FILE } from '../../../src/app/index.ts';

describe('the smsc up lock on its data directory', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'smsc-up-lock-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is taken once; a second taker is told who holds it; release frees it', () => {
    const lock = acquireUpLock(path.join(dir, 'a'), { smppPort: 2775, sinkPort: 2776 });
    const held = JSON.parse(readFileSync(lock.file, 'utf8')) as { pid: number };
    expect(held.pid).toBe(process.pid);
    // The holder is this very process: a second `up` inside it is not a live other one, so the
    // check is made against a real other process below; here the file itself is what matters.
    lock.release();
    expect(existsSync(lock.file)).toBe(false);
    lock.release();
  });

  it('refuses while another live smsc up holds it, and takes over a lock whose holder is gone', async () => {
    const data = path.join(dir, 'b');
    // Another process that looks like `smsc up` (its command line has `up`).
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', 'up'], { stdio: 'ignore' });
    await new Promise((resolve) => other.once('spawn', resolve));
    try {
      acquireUpLock(data, { smppPort: 1, sinkPort: 2 }).release();
      writeFileSync(
        path.join(data, UP_LOCK_FILE),
        JSON.stringify({ pid: other.pid, startedAt: '2026-01-01T00:00:00.000Z', smppPort: 2775, sinkPort: 2776 }),
      );
      expect(() => acquireUpLock(data, { smppPort: 1, sinkPort: 2 })).toThrow(
        `smsc is already running (smsc up, pid ${other.pid}, since 2026-01-01T00:00:00.000Z, SMPP port 2775) with data directory ${data}; stop it first (Ctrl-C in its terminal, or kill ${other.pid}).`,
      );
    } finally {
      other.kill('SIGKILL');
      await new Promise((resolve) => other.once('exit', resolve));
    }
    // Its holder is gone now (killed without releasing it): the next up takes it over.
    const lock = acquireUpLock(data, { smppPort: 1, sinkPort: 2 });
    expect((JSON.parse(readFileSync(lock.file, 'utf8')) as { pid: number }).pid).toBe(process.pid);
    lock.release();
  });

  it('a recycled pid that is not an smsc up does not hold the lock', () => {
    const data = path.join(dir, 'c');
    acquireUpLock(data, { smppPort: 1, sinkPort: 2 }).release();
    // pid 1 exists but is init (or the container's entry), not `smsc up`.
    writeFileSync(path.join(data, UP_LOCK_FILE), JSON.stringify({ pid: 1, startedAt: 'x', smppPort: 1, sinkPort: 2 }));
    const lock = acquireUpLock(data, { smppPort: 1, sinkPort: 2 });
    lock.release();
  });
});
