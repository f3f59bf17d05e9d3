import type { Db, FindCursor, WithId } from 'mongodb';
import { sleep, type Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { processHealth, type ProcessHealth } from '../nodes/health.ts';
import { Collections } from '../store/collections.ts';
import type { EventDocument } from '../domain/sms-document.ts';

export interface EventTailOptions {
  /** Pause before reopening a dead or failed cursor. */
  reopenDelayMs?: number;
  /** How long the server holds a getMore open waiting for new events. */
  maxAwaitTimeMS?: number;
  /** Written on open when the collection is empty, so the tailable query has a match to stay alive on. */
  owner: string;
  /** Where the tail reports itself down (a failed cursor) and up again (a reopened one). Default: the process's health. */
  health?: ProcessHealth;
}

let tailsCreated = 0;

/**
 * Follows the capped `events` collection with a tailable, awaitData cursor. Whenever the cursor
 * dies (no match, CappedPositionLost, network error, MongoDB restart) it is reopened, and
 * `onReopen` lets the caller look for work it may have missed meanwhile.
 */
export class EventTail {
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #options: Required<Omit<EventTailOptions, 'health'>>;
  readonly #health: ProcessHealth;
  /** `events-tail`, numbered when a process runs more than one. */
  readonly healthCheck: string;
  readonly #onEvent: (event: EventDocument) => void;
  readonly #onReopen: () => void;
  readonly #stop = new AbortController();
  #cursor: FindCursor<WithId<EventDocument>> | undefined;
  #loop: Promise<void> | undefined;
  opens = 0;

  constructor(
    db: Db,
    clock: Clock,
    logger: Logger,
    handlers: { onEvent: (event: EventDocument) => void; onReopen: () => void },
    options: EventTailOptions,
  ) {
    this.#db = db;
    this.#clock = clock;
    this.#logger = logger;
    this.#onEvent = handlers.onEvent;
    this.#onReopen = handlers.onReopen;
    const { health, ...rest } = options;
    this.#options = { reopenDelayMs: 1000, maxAwaitTimeMS: 2000, ...rest };
    this.#health = health ?? processHealth;
    tailsCreated++;
    this.healthCheck = tailsCreated === 1 ? 'events-tail' : `events-tail-${tailsCreated}`;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  async #run(): Promise<void> {
    const events = this.#db.collection<EventDocument>(Collections.events);
    while (!this.#stop.signal.aborted) {
      try {
        let last = await events.findOne({}, { sort: { $natural: -1 } });
        if (!last) {
          const marker: EventDocument & { marker: string } = { ts: this.#clock.now(), due: this.#clock.now(), marker: this.#options.owner };
          // filter:  none: an insert of one marker event into the empty capped `events`
          // insert:  {ts: now, due: now, marker: owner}
          // returns: nothing; the newest event is read again after it.
          // safe:    a tail needs one document to start from; racing tails each add a marker, which
          //          a reader takes as one more wake-up (a wasted look) and the capped size ages out.
          await events.insertOne(marker);
          last = await events.findOne({}, { sort: { $natural: -1 } });
        }
        // Start at the newest event: older ones were either handled or are found by the due timer and sweep.
        this.#cursor = events.find(last ? { ts: { $gte: last.ts } } : {}, {
          tailable: true,
          awaitData: true,
          maxAwaitTimeMS: this.#options.maxAwaitTimeMS,
        });
        this.opens++;
        if (this.opens > 1) this.#onReopen();
        let first = true;
        for await (const event of this.#cursor) {
          if (this.#stop.signal.aborted) break;
          // The first batch arrived: the cursor is open on the server, so the tail is up (again).
          if (first) this.#health.clear(this.healthCheck);
          first = false;
          this.#onEvent(event);
        }
        if (!this.#stop.signal.aborted) this.#logger.debug('events cursor ended; reopening');
      } catch (error) {
        if (this.#stop.signal.aborted) break;
        this.#logger.warn({ err: error }, 'events cursor failed; reopening');
        // Wake-ups are missed until it is back (the due timer and the sweep still find the work, later).
        this.#health.set(
          this.healthCheck,
          `events tail down: ${(error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').slice(0, 200)}`,
        );
      } finally {
        await this.#cursor?.close().catch(() => {});
        this.#cursor = undefined;
      }
      await sleep(this.#options.reopenDelayMs, this.#stop.signal).catch(() => {});
    }
  }

  /** Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort(new Error('closed'));
    await this.#cursor?.close().catch(() => {});
    await this.#loop;
    this.#health.clear(this.healthCheck);
  }
}
