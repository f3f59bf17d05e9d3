import type { Db } from 'mongodb';
import { sleep, type Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';

/** How far this host's clock is from the database's, as measured by one `hello` round trip. */
export interface ClockOffset {
  /** Database time minus this host's time, in ms (positive: this host is behind). */
  offsetMs: number;
  /** The round trip the measurement took; the offset is known within half of it. */
  rttMs: number;
  measuredAt: Date;
}

/** One measurement: the server's `hello.localTime` against the midpoint of our send and receive. */
export async function measureClockOffset(db: Db, clock: Clock): Promise<ClockOffset> {
  const sentAt = clock.now().getTime();
  const started = clock.monotonic();
  const reply = await db.admin().command({ hello: 1 });
  const rttMs = clock.monotonic() - started;
  const serverTime = reply.localTime instanceof Date ? reply.localTime.getTime() : Number.NaN;
  if (!Number.isFinite(serverTime)) throw new Error('the server did not report its time (hello.localTime)');
  return { offsetMs: Math.round(serverTime - (sentAt + rttMs / 2)), rttMs: Math.round(rttMs), measuredAt: new Date(sentAt) };
}

export interface ClockGuardOptions {
  /** Offsets beyond this (either way) stop delivery: due times and timers use this host's clock. Default 2 s. */
  maxOffsetMs: number;
  /** How often it measures again. Default 30 s. */
  intervalMs: number;
  /** How often it measures while out of bounds (or not yet measured), so it resumes soon after the clock is fixed. Default 1 s. */
  recheckMs: number;
}

export const DEFAULT_CLOCK_GUARD_OPTIONS: Readonly<ClockGuardOptions> = Object.freeze({
  maxOffsetMs: 2000,
  intervalMs: 30_000,
  recheckMs: 1000,
});

/**
 * Measures this process's clock offset from the database at start and then periodically. Leases,
 * steals and the sweeps are judged on the database's clock; due times and wake-up timers still
 * use this host's, so a process whose clock is off by more than `maxOffsetMs` refuses to deliver
 * (`ok` is false) until it is back in bounds, and says so in its logs, heartbeat and status.
 */
export class ClockGuard {
  readonly options: ClockGuardOptions;
  #last: ClockOffset | undefined;
  #ok = true;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(db: Db, clock: Clock, logger: Logger, options: Partial<ClockGuardOptions> = {}) {
    this.#db = db;
    this.#clock = clock;
    this.#logger = logger;
    this.options = { ...DEFAULT_CLOCK_GUARD_OPTIONS, ...options };
  }

  /** The latest measurement, if any. */
  get last(): ClockOffset | undefined {
    return this.#last;
  }

  /** False while the measured offset exceeds the bound. A failed measurement keeps the last verdict. */
  get ok(): boolean {
    return this.#ok;
  }

  /** Best estimate of the database's time now (this host's time when nothing was measured). */
  dbTimeMs(): number {
    return this.#clock.now().getTime() + (this.#last?.offsetMs ?? 0);
  }

  /** Measures once (so `ok` is known before delivery starts), then keeps measuring in the background. */
  async start(): Promise<void> {
    await this.check();
    this.#loop ??= (async () => {
      while (!this.#stop.signal.aborted) {
        await sleep(this.#ok && this.#last ? this.options.intervalMs : this.options.recheckMs, this.#stop.signal).catch(() => undefined);
        if (!this.#stop.signal.aborted) await this.check();
      }
    })();
  }

  async check(): Promise<ClockOffset | undefined> {
    try {
      const measured = await measureClockOffset(this.#db, this.#clock);
      // A slow round trip (a stalled event loop, a busy server) leaves the offset uncertain by
      // half of it: such a measurement could condemn or clear a clock wrongly, so it decides nothing.
      if (measured.rttMs / 2 > this.options.maxOffsetMs) {
        this.#logger.debug({ rttMs: measured.rttMs }, 'clock offset measurement too imprecise; keeping the last verdict');
        return undefined;
      }
      this.#last = measured;
      const ok = Math.abs(measured.offsetMs) <= this.options.maxOffsetMs;
      if (ok !== this.#ok || !ok) {
        const log = { offsetMs: measured.offsetMs, rttMs: measured.rttMs, maxOffsetMs: this.options.maxOffsetMs };
        if (ok) this.#logger.info(log, 'clock offset from the database is back within bounds; delivering again');
        else
          this.#logger.error(
            log,
            'clock offset from the database exceeds the bound; not delivering until it is fixed (sync this host with NTP)',
          );
      }
      this.#ok = ok;
      return measured;
    } catch (error) {
      this.#logger.debug({ err: error }, 'clock offset measurement failed');
      return undefined;
    }
  }

  async close(): Promise<void> {
    this.#stop.abort(new Error('closing'));
    await this.#loop;
  }
}
