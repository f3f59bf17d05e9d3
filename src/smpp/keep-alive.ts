import { performance } from 'node:perf_hooks';

export interface KeepAliveOptions {
  /** Send enquire_link after this long without receiving anything. 0 = never. */
  enquireLinkIntervalMs: number;
  /** Give up on the peer after this long without receiving anything. 0 = never. */
  inactivityTimeoutMs: number;
  /** Sends one enquire_link; settles with its response (or its failure). */
  enquireLink: () => Promise<unknown>;
  /** Whether an enquire_link may go out now (only while the session is open). */
  mayEnquire: () => boolean;
  /** The peer stayed silent past the inactivity timeout. */
  onSilent: (idleMs: number) => void;
  /** An enquire_link failed (timed out, refused, or the session closed meanwhile). */
  onEnquireFailed: (error: unknown) => void;
  /** Monotonic milliseconds. Default performance.now. */
  now?: () => number;
}

/**
 * enquire_link keep-alive and dead-peer detection (SMPP 3.4 4.11): any PDU received counts as a
 * sign of life; after `enquireLinkIntervalMs` of silence one enquire_link goes out (never two at
 * once), after `inactivityTimeoutMs` the peer is given up on.
 */
export class KeepAlive {
  readonly #options: KeepAliveOptions;
  readonly #now: () => number;
  #lastReceivedAt: number;
  #enquireInFlight = false;
  #ticker: NodeJS.Timeout | undefined;

  constructor(options: KeepAliveOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#lastReceivedAt = this.#now();
  }

  /** A PDU arrived; returns the time it was noted. */
  received(): number {
    this.#lastReceivedAt = this.#now();
    return this.#lastReceivedAt;
  }

  /** When the last PDU arrived (monotonic ms). */
  get lastReceivedAt(): number {
    return this.#lastReceivedAt;
  }

  /** Checks a few times per the shorter period (5 ms .. 1 s); nothing when both are 0. */
  start(): void {
    const { enquireLinkIntervalMs, inactivityTimeoutMs } = this.#options;
    const periods = [enquireLinkIntervalMs, inactivityTimeoutMs].filter((p) => p > 0);
    if (periods.length === 0 || this.#ticker) return;
    const tick = Math.max(5, Math.min(1_000, Math.floor(Math.min(...periods) / 4)));
    this.#ticker = setInterval(() => this.check(), tick);
    this.#ticker.unref();
  }

  stop(): void {
    if (this.#ticker) clearInterval(this.#ticker);
    this.#ticker = undefined;
  }

  /** One check: give up on a silent peer, or probe one idle past the interval. */
  check(): void {
    const { enquireLinkIntervalMs, inactivityTimeoutMs } = this.#options;
    const idle = this.#now() - this.#lastReceivedAt;
    if (inactivityTimeoutMs > 0 && idle >= inactivityTimeoutMs) {
      this.#options.onSilent(idle);
      return;
    }
    if (enquireLinkIntervalMs > 0 && idle >= enquireLinkIntervalMs && !this.#enquireInFlight && this.#options.mayEnquire()) {
      this.#enquireInFlight = true;
      this.#options
        .enquireLink()
        .catch((error: unknown) => this.#options.onEnquireFailed(error))
        .finally(() => {
          this.#enquireInFlight = false;
        });
    }
  }
}
