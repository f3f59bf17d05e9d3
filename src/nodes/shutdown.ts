import type { Logger } from '../logging/logger.ts';

/** Signals that ask a process to stop: Ctrl-C, a supervisor, a closed terminal. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = Object.freeze(['SIGTERM', 'SIGINT', 'SIGHUP']);

/**
 * Resolves with the first stop signal. Listens only until then: a second Ctrl-C gets the
 * default action (the process dies at once), as an operator who presses it twice expects.
 */
export function stopSignal(signals: readonly NodeJS.Signals[] = STOP_SIGNALS): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals) => {
      for (const s of signals) process.off(s, on);
      resolve(signal);
    };
    for (const s of signals) process.on(s, on);
  });
}

export interface ShutdownStep {
  /** For the log line when it is abandoned. */
  name: string;
  run: () => unknown;
}

export interface ShutdownOptions {
  /** Everything must be over by then, counted from `begin()`. */
  graceMs: number;
  logger: Logger;
  /** Kept free at the end of the grace for exiting itself. Default 1 s (a quarter of a shorter grace). */
  marginMs?: number;
  /** How the last resort ends the process (tests pass their own). */
  exit?: (code: number) => void;
}

/**
 * A shutdown that always ends within its grace period: `begin()` arms a last-resort exit at the
 * end of the grace, and `run()` gives each step only what is left of it. A step that cannot
 * finish — a write to a database that is gone, an unbind to a peer that does not answer — is
 * abandoned (logged) and the next one runs: what it left undone is for the leases to hand over.
 */
export class Shutdown {
  readonly #options: Required<ShutdownOptions>;
  #deadline = Infinity;
  #timer: NodeJS.Timeout | undefined;
  abandoned: string[] = [];

  constructor(options: ShutdownOptions) {
    this.#options = { marginMs: Math.min(1_000, options.graceMs / 4), exit: (code) => process.exit(code), ...options };
  }

  /** Starts the clock; idempotent. */
  begin(): void {
    if (this.#timer) return;
    const { graceMs, logger, exit } = this.#options;
    this.#deadline = Date.now() + graceMs - this.#options.marginMs;
    this.#timer = setTimeout(() => {
      logger.error({ graceMs, abandoned: this.abandoned }, 'shutdown did not finish within its grace period; exiting');
      process.stderr.write(`smsc: shutdown did not finish within ${graceMs} ms; exiting\n`);
      exit(1);
    }, graceMs);
    // Only a last resort: a shutdown that finishes lets the process end on its own.
    this.#timer.unref();
  }

  /** Milliseconds left before the steps must be over. */
  get remainingMs(): number {
    return Math.max(0, this.#deadline - Date.now());
  }

  /** Runs the steps in order, each bounded by what is left of the grace (or `capMs`). */
  async run(steps: readonly (ShutdownStep & { capMs?: number })[]): Promise<void> {
    this.begin();
    for (const step of steps) {
      const budget = Math.min(this.remainingMs, step.capMs ?? Infinity);
      const began = Date.now();
      const finished = await within(step.run, budget).catch((error: unknown) => {
        this.#options.logger.warn({ err: error, step: step.name }, 'shutdown step failed; going on');
        return true;
      });
      this.#options.logger.debug({ step: step.name, ms: Date.now() - began, finished }, 'shutdown step');
      if (!finished) {
        this.abandoned.push(step.name);
        this.#options.logger.warn({ step: step.name, ms: budget }, 'shutdown step did not finish in time; abandoned');
      }
    }
  }

  /** Disarms the last resort (the process is about to end on its own). */
  done(): void {
    clearTimeout(this.#timer);
  }

  /**
   * The end of a shutdown. When every step finished, the process ends on its own once its event
   * loop is empty. When a step was abandoned, what it left running (a write waiting for an
   * unreachable server, its connection pool) would keep the process alive until the driver's
   * own timeouts; it exits now instead, once the log is flushed.
   */
  async finish(): Promise<void> {
    if (this.abandoned.length === 0) {
      this.done();
      return;
    }
    const { logger, exit } = this.#options;
    logger.warn({ abandoned: this.abandoned }, 'shutdown left work to the leases; exiting');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, Math.min(200, this.remainingMs));
      logger.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.done();
    exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
  }
}

/** True when `run` settled within `ms`; its rejection is passed on. */
async function within(run: () => unknown, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(run)
        .then(() => true as const),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
