import { setMaxListeners } from 'node:events';
import os from 'node:os';
import { randomBytes } from 'node:crypto';
import type { Db, Filter } from 'mongodb';
import type { Metrics } from '../metrics/metrics.ts';
import { sleep, type Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { releaseExpiredDestinations } from '../protocol/destination-locks.ts';
import { earliestLeaseEnd, releaseExpiredMessages } from '../protocol/message-leases.ts';
import { Collections } from '../store/collections.ts';
import type { ClockGuard } from '../store/server-clock.ts';
import { SmsState, type EventDocument, type LockDocument, type SmsDocument } from '../domain/sms-document.ts';
import { CorrelationWriter } from '../receipts/correlation-writer.ts';
import type { DeliveryOptions } from './delivery-options.ts';
import { afterOwnRelease, DeliveryRound, emptyStats, type AcceptedMessage, type LaneState, type RoundStats } from './delivery-round.ts';
import { EventTail } from './event-tail.ts';
import { LeaseManager } from './lease-manager.ts';
import { OutcomeWriter } from './outcome-writer.ts';
import type { Sender } from '../domain/submit-outcome.ts';
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
  /** Tail `events` (default true); without it the worker relies on the due timer and sweep. */
  tailEvents: boolean;
  /** Bounded wait for in-flight batches at shutdown. Default 10 s. */
  shutdownGraceMs: number;
}

export const DEFAULT_WORKER_OPTIONS: Readonly<DeliveryWorkerOptions> = Object.freeze({
  lanes: 32,
  sweepMs: 30_000,
  busyRetryMs: 100,
  tailEvents: true,
  shutdownGraceMs: 10_000,
});

export interface DeliveryWorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  sender: Sender;
  delivery: Readonly<DeliveryOptions>;
  worker?: Partial<DeliveryWorkerOptions>;
  /** The traffic this worker serves (fixed, or computed per claim; null = none now). Default: connector traffic. */
  claimFilter?: Filter<SmsDocument> | (() => Filter<SmsDocument> | null);
  /** Which notifications on `events` concern this worker. Default: all. */
  wantsEvent?: (event: EventDocument) => boolean;
  owner?: string;
  /** When present, delivery pauses while this host's clock is too far from the database's. */
  clockGuard?: ClockGuard;
  /** After a batch's outcomes are stored, with what the downstream accepted (receipts that came early). */
  onAccepted?: (accepted: AcceptedMessage[]) => void;
}

export function defaultOwner(kind = 'deliverer'): string {
  return `${kind}:${os.hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
}

/**
 * The competing delivery worker: lanes run protocol rounds whenever something wakes them — an
 * event on the tail, the earliest due `nextAttemptAt`, the earliest lease that may need taking
 * over, or the safety sweep. It owns the process's lease manager and outcome writer.
 */
export class DeliveryWorker {
  readonly owner: string;
  readonly stats: RoundStats = emptyStats();
  readonly leases: LeaseManager;
  readonly #deps: DeliveryWorkerDeps;
  readonly #options: DeliveryWorkerOptions;
  readonly #round: DeliveryRound;
  readonly #outcomes: OutcomeWriter;
  readonly #correlations: CorrelationWriter;
  readonly #claimFilter: () => Filter<SmsDocument> | null;
  readonly #wakeup = new Wakeup();
  readonly #stop = new AbortController();
  #tail: EventTail | undefined;
  #lanes: Promise<void>[] = [];
  #sweepTimer: NodeJS.Timeout | undefined;
  #dueTimer: NodeJS.Timeout | undefined;
  #dueAt = Infinity;
  #takeoverTimer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #busyStreak = 0;
  /** When a claim over every destination not held here last found nothing: the wake generation and `freed` count it started at. */
  #nothingAt: { generation: number; freed: number } | undefined;
  #closed: Promise<void> | undefined;
  #sweeping: Promise<void> | undefined;

  constructor(deps: DeliveryWorkerDeps) {
    this.#deps = deps;
    this.#options = { ...DEFAULT_WORKER_OPTIONS, ...deps.worker };
    this.owner = deps.owner ?? defaultOwner();
    const filter = deps.claimFilter ?? { 'target.kind': 'connector' };
    this.#claimFilter = typeof filter === 'function' ? filter : () => filter;
    // Every idle lane waits on the stop signal (and removes its listener when woken): many lanes
    // are many listeners, not a leak.
    setMaxListeners(Math.max(10, 4 * this.#options.lanes + 10), this.#stop.signal);
    this.leases = new LeaseManager(deps.db, deps.clock, deps.logger, { leaseMs: deps.delivery.leaseMs, metrics: deps.metrics });
    this.#outcomes = new OutcomeWriter(deps.db, this.leases, deps.logger, deps.metrics);
    this.#correlations = new CorrelationWriter(deps.db, deps.logger);
    this.#round = new DeliveryRound({
      db: deps.db,
      clock: deps.clock,
      owner: this.owner,
      logger: deps.logger,
      metrics: deps.metrics,
      sender: deps.sender,
      options: deps.delivery,
      claimFilter: this.#claimFilter,
      leases: this.leases,
      outcomes: this.#outcomes,
      correlations: this.#correlations,
      held: new Set(),
      onAccepted: deps.onAccepted,
    });
  }

  start(): void {
    if (this.#lanes.length > 0 || this.#stop.signal.aborted) return;
    this.leases.start();
    if (this.#options.tailEvents) {
      const wants = this.#deps.wantsEvent ?? (() => true);
      this.#tail = new EventTail(
        this.#deps.db,
        this.#deps.clock,
        this.#deps.logger,
        { onEvent: (event) => wants(event) && this.#onEvent(event.due), onReopen: () => this.wake() },
        { owner: this.owner },
      );
      this.#tail.start();
    }
    this.#sweepTimer = setInterval(() => void this.sweep(), this.#options.sweepMs);
    for (let i = 0; i < this.#options.lanes; i++) this.#lanes.push(this.#lane(i));
  }

  /** Makes a lane look for work now; each lane that finds some brings in another (see Wakeup.wakeOne). */
  wake(): void {
    this.#wakeup.wakeOne();
  }

  /** Wakes every idle lane (e.g. an ESME bound: much may be waiting). */
  wakeAll(): void {
    this.#wakeup.wake();
  }

  /** Releases leases whose holders stopped (any worker may; judged on the database's clock) and looks for work. */
  sweep(): Promise<void> {
    this.#sweeping ??= (async () => {
      try {
        const { clock, delivery, db } = this.#deps;
        const grace = delivery.leaseGraceMs;
        const messages = await releaseExpiredMessages(db.collection<SmsDocument>(Collections.sms), {
          by: this.owner,
          graceMs: grace,
          historyLimit: delivery.historyLimit,
          now: clock.now(),
          dbNow: clock.dbNow(),
        });
        const destinations = await releaseExpiredDestinations(db.collection<LockDocument>(Collections.locks), grace, clock.dbNow());
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
    const guard = this.#deps.clockGuard;
    while (!signal.aborted) {
      const seen = this.#wakeup.generation;
      if (guard && !guard.ok) {
        // This host's clock is too far off for its due times and timers: deliver nothing until fixed.
        await sleep(1000, signal).catch(() => undefined);
        continue;
      }
      const batchesBefore = this.stats.batches;
      let skipped = false;
      try {
        const excluded = new Set<string>();
        const lane: LaneState = {};
        while (!signal.aborted) {
          const at = { generation: this.#wakeup.generation, freed: this.#round.freed };
          // The same claim found nothing since the last wake and since any destination here became
          // free: it would find nothing again (lanes recruited in a trickle of work ask this often).
          // Lane 0's periodic look is the safety net for work nothing announced: it always asks.
          if (index !== 0 && excluded.size === 0 && this.#nothingAt?.generation === at.generation && this.#nothingAt.freed === at.freed) {
            skipped = !lane.releasing;
            if (await afterOwnRelease(lane)) continue;
            break;
          }
          if ((await this.#round.step(excluded, signal, this.stats, lane)) === 'idle') {
            if (excluded.size === 0) this.#nothingAt = at;
            if (await afterOwnRelease(lane)) continue;
            break;
          }
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
      // A lane that skipped its claim learnt nothing the lane that made it did not: no new timers.
      if (!skipped) void this.#refreshTimers();
      // Only lane 0 looks again on its own; the others wait to be woken or recruited.
      await this.#wakeup.wait(seen, index === 0 ? this.#options.sweepMs : undefined, signal);
    }
  }

  /**
   * Arms the timers for the earliest due message and for the earliest message lease that may
   * need taking over (a holder that stopped is replaced within its lease plus the grace, not at
   * the next sweep). One query pair at a time for all lanes.
   */
  async #refreshTimers(): Promise<void> {
    if (this.#refreshing || this.#stop.signal.aborted) return;
    this.#refreshing = true;
    try {
      const filter = this.#claimFilter();
      if (!filter) return;
      const sms = this.#deps.db.collection<SmsDocument>(Collections.sms);
      const next = await sms.findOne({ ...filter, state: SmsState.queued } as Filter<SmsDocument>, {
        sort: { nextAttemptAt: 1 },
        projection: { nextAttemptAt: 1 },
      });
      const leaseEnd = await earliestLeaseEnd(sms, filter);
      if (leaseEnd) this.#armTakeover(leaseEnd);
      if (!next) return;
      const due = next.nextAttemptAt.getTime();
      const now = this.#deps.clock.now().getTime();
      if (due > now) {
        this.#armDueTimer(due);
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

  /** `leaseEnd` is on the database's clock: the timer converts it with the measured offset. */
  #armTakeover(leaseEnd: Date): void {
    if (this.#stop.signal.aborted || this.#takeoverTimer) return;
    const dbNow = this.#deps.clockGuard?.dbTimeMs() ?? this.#deps.clock.now().getTime();
    const delay = Math.min(Math.max(0, leaseEnd.getTime() + this.#deps.delivery.leaseGraceMs - dbNow) + 50, this.#options.sweepMs);
    this.#takeoverTimer = setTimeout(() => {
      this.#takeoverTimer = undefined;
      void this.sweep();
    }, delay);
  }

  /** Stops claiming, lets in-flight batches finish (bounded), stops tailing and renewing. Idempotent. */
  close(graceMs = this.#options.shutdownGraceMs): Promise<void> {
    this.#closed ??= (async () => {
      this.#stop.abort(new Error('worker closing'));
      clearInterval(this.#sweepTimer);
      clearTimeout(this.#dueTimer);
      clearTimeout(this.#takeoverTimer);
      this.#wakeup.wake();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, graceMs);
      });
      // The lanes, then the releases of their last batches' destinations, within the one grace.
      await Promise.race([Promise.allSettled(this.#lanes).then(() => this.#round.settled()), grace]);
      clearTimeout(timer);
      // What could not be written in time is left to the leases to hand over.
      this.#outcomes.close();
      this.#correlations.close();
      await this.leases.close();
      await this.#sweeping;
      await this.#tail?.close();
    })();
    return this.#closed;
  }
}
