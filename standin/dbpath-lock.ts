import { spawnSync } from 'node:child_process';
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const LOCK_FILE = 'mongod.lock';

/** A second server on a data directory that one already uses. */
export class DbPathInUseError extends Error {
  readonly code = 'DBPathInUse';

  constructor(lockPath: string, dbpath: string) {
    // mongod's wording (StorageEngineLockFile::open).
    super(
      `DBPathInUse: Unable to lock the lock file: ${lockPath} (Resource temporarily unavailable). ` +
        `Another mongod instance is already running on the ${dbpath} directory`,
    );
    this.name = 'DbPathInUseError';
  }
}

type LockOutcome = 'locked' | 'busy' | 'no-flock';

/**
 * flock(2) on the open file, as mongod locks mongod.lock: the kernel drops the lock when the
 * process ends however it ends (SIGKILL included), so a stale lock never blocks a restart. Node
 * has no flock binding; util-linux's (or busybox's) flock command locks the open file description
 * it inherits as fd 3, and the lock stays with our descriptor after the command exits.
 */
function flock(fd: number): LockOutcome {
  const r = spawnSync('flock', ['--exclusive', '--nonblock', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return 'no-flock';
  if (r.error !== undefined) throw r.error;
  if (r.status === 0) return 'locked';
  if (r.status === 1) return 'busy';
  throw new Error(`flock on the lock file failed (exit ${r.status}): ${String(r.stderr).trim()}`);
}

/** Without a flock command: the pid in the file, if that process still runs (weaker: racy, pid reuse). */
function pidHolds(lockPath: string): boolean {
  const pid = Number(readFileSync(lockPath, 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * One owner per data directory, as mongod keeps it: `<dbpath>/mongod.lock` is locked for the
 * life of the process and holds its pid; a clean shutdown empties it.
 */
export class DbPathLock {
  private fd: number | null;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /** Locks DIR (creating it); throws DbPathInUseError when another process holds it. */
  static acquire(dbpath: string): DbPathLock {
    mkdirSync(dbpath, { recursive: true });
    const lockPath = join(dbpath, LOCK_FILE);
    const fd = openSync(lockPath, constants.O_RDWR | constants.O_CREAT, 0o644);
    try {
      const outcome = flock(fd);
      if (outcome === 'busy' || (outcome === 'no-flock' && pidHolds(lockPath))) throw new DbPathInUseError(lockPath, dbpath);
      ftruncateSync(fd, 0);
      writeSync(fd, `${process.pid}\n`, 0);
      return new DbPathLock(fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /** Empties the lock file and drops the lock (idempotent). */
  release(): void {
    if (this.fd === null) return;
    const fd = this.fd;
    this.fd = null;
    try {
      ftruncateSync(fd, 0);
    } finally {
      closeSync(fd);
    }
  }
}
