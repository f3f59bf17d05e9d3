import type { Db } from 'mongodb';
import { sleep, systemClock, type Clock } from '../clock.ts';
import type { Logger } from '../logging/logger.ts';
import { oldestDueMessage, queueDepthByState } from '../ops/status.ts';
import { SmsState } from '../store/sms-document.ts';
import { queueDepth, queueDueMessages, queueOldestDueSeconds } from './metrics.ts';

export interface QueueDepthSamplerOptions {
  db: Db;
  /** Default 15 s: an aggregate over `sms` per period, so not every scrape. */
  intervalMs?: number;
  clock?: Clock;
  logger?: Logger;
}

/**
 * Keeps smsc_queue_depth{state}, smsc_queue_due_messages and smsc_queue_oldest_due_seconds
 * current. One process per deployment is enough (the cleanup worker runs it); several report
 * the same numbers, which max() in a query absorbs.
 */
export class QueueDepthSampler {
  readonly #db: Db;
  readonly #intervalMs: number;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;

  constructor(options: QueueDepthSamplerOptions) {
    this.#db = options.db;
    this.#intervalMs = options.intervalMs ?? 15_000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
  }

  /** Samples once (errors thrown), then keeps sampling in the background (errors logged). */
  async start(): Promise<void> {
    if (this.#loop) return;
    await this.sample();
    this.#loop = this.#run();
  }

  async sample(): Promise<void> {
    const now = this.#clock.now();
    const [counts, oldest, due] = await Promise.all([
      queueDepthByState(this.#db),
      oldestDueMessage(this.#db, now),
      this.#db.collection('sms').countDocuments({ state: SmsState.queued, nextAttemptAt: { $lte: now } }),
    ]);
    for (const state of Object.values(SmsState)) queueDepth.set({ state }, counts[state] ?? 0);
    queueDueMessages.set(due);
    queueOldestDueSeconds.set(oldest ? oldest.overdueSeconds : 0);
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      try {
        await sleep(this.#intervalMs, this.#abort.signal);
      } catch {
        return;
      }
      await this.sample().catch((error: unknown) => this.#logger?.warn({ err: error }, 'queue depth sample failed'));
    }
  }

  /** Idempotent; leaves the last values in place. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
  }
}
