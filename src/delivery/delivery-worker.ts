import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db, Filter } from 'mongodb';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { SmsDocument } from '../store/sms-document.ts';
import type { DeliveryOptions } from './delivery-options.ts';
import { DeliveryRound, emptyStats, type RoundStats } from './delivery-round.ts';
import { EventTail } from './event-tail.ts';
import type { Sender } from './submit-outcome.ts';
import { Wakeup } from './wakeup.ts';

export interface DeliveryWorkerOptions {
  /**
   * Destinations this process works on at once (each lane runs rounds). Default 32: lanes share
   * commands (DeliveryRound), so more of them means fewer commands and less CPU per message.
   */
  lanes: number;
  /** Slow safety sweep: releases expired leases and looks for work. Default 30 s. */
  sweepMs: number;
  /**
   * First retry pause when due work exists but every destination of it is held by someone else
   * (the holders carry on with those destinations themselves); doubles while that persists, up
   * to 16x. Default 100 ms.
   */
  busyRetryMs: number;
  /** Tolerated clock skew before an expired lease is taken over by the sweep. Default 2 s. */
  leaseGraceMs: number;
  /** Tail `events` (default true); without it the worker relies on the due timer and sweep. */
  tailEvents: boolean;
  /** Bounded wait for in-flight batches at shutdown. Default 10 s. */
  shutdownGraceMs: number;
}

export const DEFAULT_WORKER_OPTIONS: Readonly<DeliveryWorkerOptions> = Object.freeze({
  lanes: 32,
  sweepMs: 30_000,
  busyRetryMs: 100,
  leaseGraceMs: 2000,
  tailEvents: true,
  shutdownGraceMs: 10_000,
});

export interface DeliveryWorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  sender: Sender;
  delivery: Readonly<DeliveryOptions>;
  worker?: Partial<DeliveryWorkerOptions>;
  claimFilter?: Filter<SmsDocument>;
  owner?: string;
}

export function defaultOwner(kind = 'deliverer'): string {
  return `${kind}:${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * The competing delivery worker: lanes run protocol rounds whenever something wakes them —
 * an event on the tail, the earliest due `nextAttemptAt`, or the safety sweep.
 */
export class DeliveryWorker {
  readonly owner: string;
  readonly stats: RoundStats = emptyStats();
  readonly #deps: DeliveryWorkerDeps;
  readonly #options: DeliveryWorkerOptions;
  readonly #round: DeliveryRound;
  readonly #wakeup = new Wakeup();
  readonly #stop = new AbortController();
  #tail: EventTail | undefined;
  #lanes: Promise<void>[] = [];
  #sweepTimer: NodeJS.Timeout | undefined;
  #dueTimer: NodeJS.Timeout | undefined;
  #dueAt = Infinity;
  #refreshing = false;
  #busyStreak = 0;
  #closed: Promise<void> | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(deps: DeliveryWorkerDeps) {
    this.#deps = deps;
    this.#options = { ...DEFAULT_WORKER_OPTIONS, ...deps.worker };
    this.owner = deps.owner ?? defaultOwner();
    // Every idle lane waits on the stop signal (and removes its listener when woken): many lanes
    // are many listeners, not a leak.
    setMaxListeners(Math.max(10, 2 * this.#options.lanes + 10), this.#stop.signal);
    this.#round = new DeliveryRound({
      db: deps.db,
      clock: deps.clock,
      owner: this.owner,
      logger: deps.logger,
      sender: deps.sender,
      options: deps.delivery,
      claimFilter: deps.claimFilter ?? { 'target.kind': 'connector' },
      held: new Set(),
    });
  }

  start(): void {
    if (this.#lanes.length > 0 || this.#stop.signal.aborted) return;
    if (this.#options.tailEvents) {
      this.#tail = new EventTail(
        this.#deps.db,
        this.#deps.clock,
        this.#deps.logger,
        { onEvent: (event) => this.#onEvent(event.due), onReopen: () => this.wake() },
        { owner: this.owner },
      );
      this.#tail.start();
    }
    this.#sweepTimer = setInterval(() => this.sweep(), this.#options.sweepMs);
    for (let i = 0; i < this.#options.lanes; i++) this.#lanes.push(this.#lane(i));
  }

  /** Makes a lane look for work now; each lane that finds some brings in another (see Wakeup.wakeOne). */
  wake(): void {
    this.#wakeup.wakeOne();
  }

  /** Releases expired leases (any worker may) and looks for work. */
  sweep(): Promise<void> {
    this.#sweeping ??= (async () => {
      try {
        const grace = this.#options.leaseGraceMs;
        const messages = await this.#round.messages.releaseExpired(this.owner, grace);
        const destinations = await this.#round.destinations.releaseExpired(grace);
        if (messages + destinations > 0) this.#deps.logger.info({ messages, destinations }, 'released expired leases');
      } catch (error) {
        this.#deps.logger.warn({ err: error }, 'sweep failed');
      } finally {
        this.#sweeping = undefined;
        this.wake();
      }
    })();
    return this.#sweeping;
  }

  #onEvent(due: Date | undefined): void {
    const at = due ? due.getTime() : 0;
    if (at <= this.#deps.clock.now().getTime()) this.wake();
    else this.#armDueTimer(at);
  }

  async #lane(index: number): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      const seen = this.#wakeup.generation;
      const batchesBefore = this.stats.batches;
      try {
        const excluded = new Set<string>();
        while (!signal.aborted) {
          if ((await this.#round.step(excluded, signal, this.stats)) === 'idle') break;
          // It found work: more may wait, so one more idle lane joins in.
          this.#wakeup.recruit();
        }
        if (this.stats.batches > batchesBefore) this.#busyStreak = 0;
      } catch (error) {
        if (signal.aborted) break;
        this.#deps.logger.warn({ err: error, lane: index }, 'delivery round failed');
        await this.#wakeup.wait(this.#wakeup.generation, this.#options.busyRetryMs * 5, signal);
        continue;
      }
      if (signal.aborted) break;
      void this.#refreshDueTimer();
      // Only lane 0 looks again on its own; the others wait to be woken or recruited.
      await this.#wakeup.wait(seen, index === 0 ? this.#options.sweepMs : undefined, signal);
    }
  }

  /** Arms the timer for the earliest due message (one query at a time for all lanes). */
  async #refreshDueTimer(): Promise<void> {
    if (this.#refreshing || this.#stop.signal.aborted) return;
    this.#refreshing = true;
    try {
      const due = await this.#round.messages.earliestDue();
      if (!due) return;
      const now = this.#deps.clock.now().getTime();
      if (due.getTime() > now) {
        this.#armDueTimer(due.getTime());
        return;
      }
      // Due already but not claimable: every such destination is held elsewhere and its holder
      // carries on with it; look again shortly, backing off while nothing changes.
      const pause = this.#options.busyRetryMs * 2 ** Math.min(this.#busyStreak, 4);
      this.#busyStreak++;
      this.#armDueTimer(now + pause);
    } catch (error) {
      this.#deps.logger.debug({ err: error }, 'earliest-due query failed');
    } finally {
      this.#refreshing = false;
    }
  }

  #armDueTimer(at: number): void {
    if (this.#stop.signal.aborted) return;
    if (this.#dueTimer && at >= this.#dueAt) return;
    clearTimeout(this.#dueTimer);
    this.#dueAt = at;
    const delay = Math.min(Math.max(0, at - this.#deps.clock.now().getTime()), this.#options.sweepMs);
    this.#dueTimer = setTimeout(() => {
      this.#dueTimer = undefined;
      this.#dueAt = Infinity;
      this.wake();
    }, delay);
  }

  /** Stops claiming, lets in-flight batches finish (bounded), stops tailing. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort(new Error('worker closing'));
      clearInterval(this.#sweepTimer);
      clearTimeout(this.#dueTimer);
      this.#wakeup.wake();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#options.shutdownGraceMs);
      });
      await Promise.race([Promise.allSettled(this.#lanes), grace]);
      clearTimeout(timer);
      await this.#sweeping;
      await this.#tail?.close();
    })();
    return this.#closed;
  }
}
