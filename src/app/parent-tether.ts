/**
 * A child of `smsc up` ends when `up` is gone, however it went (SIGKILL included): `up` spawns
 * its children with an IPC channel, and the operating system closes that channel when `up` dies.
 * The child then stops as if it had been sent SIGTERM (its own orderly shutdown), and exits
 * hard if that takes longer than its grace period.
 *
 * Imports nothing, so `tether-preload.ts` can load it into children that are not smsc commands
 * (the stand-in) with `node --import`.
 */
const DEFAULT_GRACE_MS = 10_000;

let tethered = false;

/** True when this process has an IPC channel to a parent (it runs under `smsc up`). */
export function hasParentChannel(): boolean {
  return typeof process.send === 'function' && process.channel !== undefined;
}

/** `up` sets this in its children's environment; the IPC channel alone may belong to someone else (a test runner). */
export const SUPERVISED_ENV = 'SMSC_SUPERVISED';

export function isSupervised(): boolean {
  return process.env[SUPERVISED_ENV] === '1' && hasParentChannel();
}

/** How long a child waits before it stops once `up` is gone: the database waits for the others to let go of it. */
export const TETHER_DELAY_ENV = 'SMSC_TETHER_DELAY_MS';

export function tetherToParent(graceMs = graceFromEnv(), delayMs = delayFromEnv()): void {
  if (tethered || !hasParentChannel()) return;
  tethered = true;
  process.once('disconnect', () => {
    // Our stdout and stderr may be pipes to the parent that is gone: writing must not crash the shutdown.
    for (const stream of [process.stdout, process.stderr]) stream.on('error', () => {});
    // SIGKILL rather than exit(): exit handlers (a logger flushing into a pipe whose reader is
    // gone) can block, and there is nobody left to report to.
    const hardExit = setTimeout(() => process.kill(process.pid, 'SIGKILL'), delayMs + graceMs + 1_000);
    hardExit.unref();
    setTimeout(() => process.kill(process.pid, 'SIGTERM'), delayMs);
  });
  // Watching the channel must not keep a process alive that has otherwise finished.
  process.channel?.unref();
}

function delayFromEnv(): number {
  const value = Number(process.env[TETHER_DELAY_ENV]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

function graceFromEnv(): number {
  const value = Number(process.env.SHUTDOWN_GRACE_MS);
  return Number.isInteger(value) && value > 0 ? value : DEFAULT_GRACE_MS;
}
