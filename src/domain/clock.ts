import { performance } from 'node:perf_hooks';

/**
 * "Now" for comparisons every process must agree on, as an aggregation expression: MongoDB's
 * `$$NOW` in production (one clock for all hosts, whatever their skew), or a test clock's time.
 */
export type DbNow = Date | '$$NOW';

/** Time is injected so protocol code can be tested without fake global timers. */
export interface Clock {
  /** Wall-clock time of this host: timestamps, due times, history. */
  now(): Date;
  /** Milliseconds that never jump with the wall clock: how long a lease is still safe is measured on it. */
  monotonic(): number;
  /** The database's clock, for lease expiry and steals (see DbNow). */
  dbNow(): DbNow;
}

export const systemClock: Clock = Object.freeze({
  now: () => new Date(),
  monotonic: () => performance.now(),
  dbNow: (): DbNow => '$$NOW',
});

/** A clock tests move by hand. */
export class ManualClock implements Clock {
  #ms: number;

  constructor(start: Date | number = Date.UTC(2026, 0, 1)) {
    this.#ms = typeof start === 'number' ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  monotonic(): number {
    return this.#ms;
  }

  /** The database's clock is this clock too, so tests move lease expiry by hand as well. */
  dbNow(): DbNow {
    return new Date(this.#ms);
  }

  advance(ms: number): void {
    this.#ms += ms;
  }

  set(at: Date | number): void {
    this.#ms = typeof at === 'number' ? at : at.getTime();
  }
}

/** Resolves after `ms`, or rejects with the signal's reason when aborted first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
