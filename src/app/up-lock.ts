import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { SmscError } from '../domain/errors.ts';

export const UP_LOCK_FILE = 'smsc-up.lock';

export interface UpLockInfo {
  pid: number;
  startedAt: string;
  smppPort: number;
  sinkPort: number;
}

export interface UpLock {
  readonly file: string;
  /** Removes the file if it is still ours; idempotent. */
  release(): void;
}

/**
 * One `smsc up` per data directory: the first takes `<dataDir>/smsc-up.lock` (created exclusively,
 * holding its pid); a second finds it and refuses before it starts or touches anything. A lock
 * left by an `up` that died (SIGKILL, power loss) is taken over when no live `smsc up` has its pid.
 */
export function acquireUpLock(dataDir: string, info: Omit<UpLockInfo, 'pid' | 'startedAt'>): UpLock {
  mkdirSync(dataDir, { recursive: true });
  const file = path.resolve(dataDir, UP_LOCK_FILE);
  const mine: UpLockInfo = { pid: process.pid, startedAt: new Date().toISOString(), ...info };
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx');
      try {
        writeSync(fd, `${JSON.stringify(mine)}\n`);
      } finally {
        closeSync(fd);
      }
      let released = false;
      return {
        file,
        release() {
          if (released) return;
          released = true;
          if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = readLock(file);
    if (holder && isLiveUp(holder.pid)) {
      throw new SmscError(
        'ALREADY_RUNNING',
        `smsc is already running (smsc up, pid ${holder.pid}, since ${holder.startedAt}, SMPP port ${holder.smppPort}) with data directory ${path.resolve(dataDir)}; stop it first (Ctrl-C in its terminal, or kill ${holder.pid}).`,
      );
    }
    // Left by an `up` that is gone: take it over (a racing second taker loses at the exclusive create).
    rmSync(file, { force: true });
  }
  throw new SmscError('ALREADY_RUNNING', `Could not take ${file}: another smsc up is starting with this data directory.`);
}

function readLock(file: string): UpLockInfo | undefined {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<UpLockInfo>;
    return typeof parsed.pid === 'number' ? (parsed as UpLockInfo) : undefined;
  } catch {
    // Unreadable or half-written: treated as stale, as a lock nobody can prove is held.
    return undefined;
  }
}

/** A process with that pid exists and, where /proc tells, is an `smsc up` (a recycled pid is not). */
function isLiveUp(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists but belongs to someone else; it may well be an up started by another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return cmdline.includes('up');
  } catch {
    return true;
  }
}
