import type { ObjectId } from 'mongodb';
import type { Logger } from '../logging/logger.ts';
import type { DestinationLocks } from './destination-locks.ts';
import type { MessageLocks } from './message-locks.ts';

export interface LeaseRenewerOptions {
  destKey: string;
  token: string;
  messageIds: () => ObjectId[];
  leaseMs: number;
  /** Called once when the destination lease could not be renewed: the batch must stop. */
  onLost: (reason: string) => void;
}

/**
 * Keeps a batch's leases alive while it is in flight: renews the destination lock and the
 * message locks at half the lease, so one missed renewal still leaves time for the next.
 */
export class LeaseRenewer {
  readonly #destinations: DestinationLocks;
  readonly #messages: MessageLocks;
  readonly #options: LeaseRenewerOptions;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;
  #lost = false;

  constructor(destinations: DestinationLocks, messages: MessageLocks, logger: Logger, options: LeaseRenewerOptions) {
    this.#destinations = destinations;
    this.#messages = messages;
    this.#logger = logger;
    this.#options = options;
  }

  start(): void {
    if (this.#stopped || this.#timer) return;
    this.#timer = setInterval(() => {
      if (this.#running) return;
      this.#running = this.renewNow()
        .then(() => undefined)
        .finally(() => {
          this.#running = undefined;
        });
    }, Math.max(1, Math.floor(this.#options.leaseMs / 2)));
  }

  /** One renewal; false when the destination is no longer ours. Public so tests can drive it. */
  async renewNow(): Promise<boolean> {
    if (this.#lost) return false;
    try {
      const ok = await this.#destinations.renew(this.#options.destKey, this.#options.token);
      if (!ok) {
        this.#markLost('destination lease lost');
        return false;
      }
      await this.#messages.renew(this.#options.messageIds(), this.#options.token);
      return true;
    } catch (error) {
      // A failed renewal is not yet a lost lease: the next tick (half a lease later) retries.
      this.#logger.warn({ err: error, destKey: this.#options.destKey }, 'lease renewal failed');
      return true;
    }
  }

  #markLost(reason: string): void {
    if (this.#lost) return;
    this.#lost = true;
    this.stop();
    this.#options.onLost(reason);
  }

  /** Idempotent; waits for a renewal in flight so nothing renews after the batch's release. */
  async close(): Promise<void> {
    this.stop();
    await this.#running;
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
