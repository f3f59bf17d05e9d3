import type { Db } from 'mongodb';
import { sleep, systemClock, type Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { LeaseNames, SingletonLease } from '../nodes/singleton-lease.ts';
import { oldestDueMessage } from '../ops/status.ts';
import { Collections } from '../store/collections.ts';
import { FINAL_STATES, SmsState, type SmsStateName } from '../domain/sms-document.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { queuedByTarget } from './queue-targets.ts';

/** The `leases` document whose holder samples for the whole deployment. */
export const QUEUE_SAMPLER_LEASE = LeaseNames.queueSampler;
export const DEFAULT_QUEUE_SAMPLE_MS = 15_000;
/** Final states are most of a large `sms` collection and no backlog: counted every 10th sample. */
export const DEFAULT_FINAL_STATES_EVERY = 10;

export interface QueueDepthSamplerOptions {
  db: Db;
  /** Default 15 s: a handful of index counts and one aggregation over the queued messages per period. */
  intervalMs?: number;
  /** Count the final states every this many samples (default 10). */
  finalStatesEvery?: number;
  /** The holder's name in `leases` (the process's node name). */
  owner?: string;
  /** The process's metrics: the queue gauges are shown in them while this process samples. */
  metrics: Metrics;
  clock?: Clock;
  logger?: Logger;
}

const ACTIVE_STATES: readonly SmsStateName[] = Object.values(SmsState).filter((s) => !FINAL_STATES.includes(s));

/**
 * Keeps the smsc_queue_* gauges current from one process of the deployment. Every process that
 * runs a sampler is a candidate; each period it takes or renews the `queue-sampler` lease
 * (3 periods long) and samples only while it holds it, so one process queries and publishes, and
 * another takes over within 3 periods when that one stops. A process without the lease shows no
 * queue gauges at all.
 *
 * What a sample costs on a large collection: one count per state (each walks the `{state, …}`
 * index entries of that state only, never a document; final states every 10th sample), the oldest
 * due message (one index entry and one document), and one aggregation that reads each queued
 * message once. See README "Metrics".
 */
export class QueueDepthSampler {
  readonly #db: Db;
  readonly #intervalMs: number;
  readonly #finalEvery: number;
  readonly #clock: Clock;
  readonly #logger: Logger | undefined;
  readonly #lease: SingletonLease;
  readonly #metrics: Metrics;
  readonly #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #samples = 0;

  constructor(options: QueueDepthSamplerOptions) {
    this.#db = options.db;
    this.#intervalMs = options.intervalMs ?? DEFAULT_QUEUE_SAMPLE_MS;
    if (!(this.#intervalMs > 0)) throw new RangeError(`queue sample interval must be positive, got ${this.#intervalMs}`);
    this.#finalEvery = Math.max(1, options.finalStatesEvery ?? DEFAULT_FINAL_STATES_EVERY);
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger;
    this.#metrics = options.metrics;
    this.#lease = new SingletonLease(this.#db, {
      name: QUEUE_SAMPLER_LEASE,
      owner: options.owner ?? 'unnamed',
      leaseMs: 3 * this.#intervalMs,
      clock: this.#clock,
    });
  }

  /** Whether this process is the deployment's sampler (as of its last period). */
  get active(): boolean {
    return this.#lease.held;
  }

  /** One period at once (errors thrown), then one per interval in the background (errors logged). */
  async start(): Promise<void> {
    if (this.#loop) return;
    await this.tick();
    this.#loop = this.#run();
  }

  /** Takes or renews the lease and samples when it holds it; hides the gauges when it does not. */
  async tick(): Promise<boolean> {
    let held = false;
    try {
      held = await this.#lease.hold();
    } finally {
      // Unknown (MongoDB unreachable) counts as not holding: another process may have taken over.
      if (!held) this.#metrics.publishQueueMetrics(false);
    }
    if (held) {
      await this.sample();
      this.#metrics.publishQueueMetrics(true);
    }
    return held;
  }

  /** Queries and sets the gauges (whether or not this process holds the lease). */
  async sample(): Promise<void> {
    const now = this.#clock.now();
    const states = this.#samples % this.#finalEvery === 0 ? Object.values(SmsState) : ACTIVE_STATES;
    const sms = this.#db.collection(Collections.sms);
    const [counts, due, oldest] = await Promise.all([
      Promise.all(states.map((state) => sms.countDocuments({ state }))),
      sms.countDocuments({ state: SmsState.queued, nextAttemptAt: { $lte: now } }),
      oldestDueMessage(this.#db, now),
    ]);
    states.forEach((state, i) => this.#metrics.queueDepth.set({ state }, counts[i]));
    this.#metrics.queueDueMessages.set(due);
    this.#metrics.queueOldestDueSeconds.set(oldest ? oldest.overdueSeconds : 0);
    await this.#sampleTargets(now);
    this.#samples++;
    this.#metrics.queueLastSampleTimestamp.set(Math.floor(now.getTime() / 1000));
  }

  async #sampleTargets(now: Date): Promise<void> {
    try {
      // Bounded: a huge backlog must not pile samples up behind each other.
      const targets = await queuedByTarget(this.#db, now, { maxTimeMS: Math.min(10_000, Math.max(1000, this.#intervalMs / 2)) });
      this.#metrics.queueTargetMessages.reset();
      this.#metrics.queueTargetDueMessages.reset();
      this.#metrics.queueTargetOldestDueSeconds.reset();
      for (const t of targets) {
        const labels = { kind: t.kind, target: t.target };
        this.#metrics.queueTargetMessages.set(labels, t.messages);
        this.#metrics.queueTargetDueMessages.set(labels, t.due);
        this.#metrics.queueTargetOldestDueSeconds.set(
          labels,
          t.oldestDueAt ? Math.max(0, Math.round((now.getTime() - t.oldestDueAt.getTime()) / 1000)) : 0,
        );
      }
    } catch (error) {
      // Absent rather than stale: an alert on these series sees "no data", not old figures.
      this.#metrics.queueTargetMessages.reset();
      this.#metrics.queueTargetDueMessages.reset();
      this.#metrics.queueTargetOldestDueSeconds.reset();
      this.#logger?.warn({ err: error }, 'queue backlog by target not sampled');
    }
  }

  async #run(): Promise<void> {
    while (!this.#abort.signal.aborted) {
      try {
        await sleep(this.#intervalMs, this.#abort.signal);
      } catch {
        return;
      }
      await this.tick().catch((error: unknown) => this.#logger?.warn({ err: error }, 'queue sample failed'));
    }
  }

  /** Idempotent: stops sampling, hides the gauges and hands the lease on at once. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.#loop;
    this.#metrics.publishQueueMetrics(false);
    await this.#lease
      .release()
      .catch((error: unknown) => this.#logger?.debug({ err: error }, 'queue sampler lease not released (it runs out)'));
  }
}
