import type { Collection, Db, Filter, ObjectId } from 'mongodb';
import { sleep } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { holdDestination } from '../protocol/batch.ts';
import { releaseDestinations } from '../protocol/destination-locks.ts';
import { applyOutcomes, type FencedUpdate } from '../protocol/outcomes.ts';
import { Collections } from '../store/collections.ts';
import type { LockDocument, SmsDocument } from '../domain/sms-document.ts';
import type { Lease, LeaseManager } from './lease-manager.ts';

export interface FinishRequest {
  lease: Lease;
  updates: FencedUpdate[];
  /** After a temporary failure: the destination's other waiting messages get this due time. */
  hold?: { until: Date; claimFilter: Filter<SmsDocument>; except: ObjectId[] };
}

interface Pending extends FinishRequest {
  /** false: outcomes recorded while the batch goes on (the destination stays held). */
  release: boolean;
  /** A finish: called once its outcomes are stored (its hold and release may still be under way). */
  stored?: (fencedOff: number) => void;
  stage: 'outcomes' | 'hold' | 'release';
  fencedOff: number;
  resolve: (fencedOff: number) => void;
  reject: (error: unknown) => void;
}

/**
 * The end of batches (steps e and f), as two group commits in a row: the outcomes that arrive
 * while a write is in flight are stored together in one bulk of fenced updates; then the
 * finished batches' holds and one delete of their destination locks, so a destination is free
 * only once its outcomes are stored. The two run side by side: an outcome recorded mid-batch
 * (the next submit waits for it) never queues behind another batch's hold and release. A write
 * that fails is retried (every step is fenced and idempotent) with backoff while the lease
 * manager keeps the leases alive; nothing is released before it succeeds, so the next holder
 * never resends what a downstream already accepted. Each request resolves with how many of its
 * fenced writes matched nothing (its lease was lost on those messages).
 */
export class OutcomeWriter {
  readonly #sms: Collection<SmsDocument>;
  readonly #locks: Collection<LockDocument>;
  readonly #leases: LeaseManager;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #stop = new AbortController();
  readonly #outcomes: StageQueue;
  readonly #releases: StageQueue;
  readonly stats = { flushes: 0, failures: 0 };

  constructor(db: Db, leases: LeaseManager, logger: Logger, metrics: Metrics) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#locks = db.collection<LockDocument>(Collections.locks);
    this.#leases = leases;
    this.#logger = logger;
    this.#metrics = metrics;
    const shared = { closing: this.#stop.signal, logger, stats: this.stats };
    this.#outcomes = new StageQueue({
      ...shared,
      name: 'outcome write',
      write: (group) => this.#writeOutcomes(group),
      done: (r) => this.#afterOutcomes(r),
    });
    this.#releases = new StageQueue({
      ...shared,
      name: 'release',
      write: (group) => this.#writeReleases(group),
      done: (r) => this.#afterRelease(r),
    });
  }

  /** The end of a batch: its remaining outcomes, the hold, the release. Resolves with how many writes were fenced off. */
  finish(request: FinishRequest): Promise<number> {
    return this.finishInStages(request).released;
  }

  /**
   * The same, in two steps: `stored` once the outcomes are stored (a worker may then take up
   * other work: what follows is the hold and the release, retried here), `released` once the
   * destination is free.
   */
  finishInStages(request: FinishRequest): { stored: Promise<number>; released: Promise<number> } {
    request.lease.writing = true;
    let stored!: (fencedOff: number) => void;
    let notStored!: (error: unknown) => void;
    const storedPromise = new Promise<number>((resolve, reject) => {
      stored = resolve;
      notStored = reject;
    });
    const released = this.#enqueue({ ...request, release: true, stored });
    // Given up for good (the writer closing): before the outcomes landed, `stored` fails too (the
    // caller gives back what it holds); after, only `released` does.
    released.then(stored, notStored);
    return { stored: storedPromise, released };
  }

  /**
   * One outcome recorded as soon as it is known, while the batch goes on (a message the downstream
   * accepted: if this worker then stops, the next holder does not send it again). The destination
   * stays held; the message's lease is still renewed until the write lands.
   */
  async record(lease: Lease, update: FencedUpdate): Promise<number> {
    const hex = update.id.toHexString();
    lease.pendingWrites.add(hex);
    try {
      return await this.#enqueue({ lease, updates: [update], release: false });
    } finally {
      lease.pendingWrites.delete(hex);
      lease.messageIds = lease.messageIds.filter((id) => id.toHexString() !== hex);
    }
  }

  #enqueue(request: FinishRequest & { release: boolean; stored?: (fencedOff: number) => void }): Promise<number> {
    return new Promise((resolve, reject) => {
      const pending: Pending = { ...request, stage: 'outcomes', fencedOff: 0, resolve, reject };
      if (request.updates.length === 0) {
        // Nothing left to store (every outcome was recorded on the way): stored already.
        request.stored?.(0);
        pending.stage = 'hold';
        this.#releases.add(pending);
      } else this.#outcomes.add(pending);
    });
  }

  async #writeOutcomes(group: Pending[]): Promise<void> {
    const total = group.reduce((n, r) => n + r.updates.length, 0);
    const matched = await applyOutcomes(
      this.#sms,
      group.flatMap((r) => r.updates),
    );
    const fencedOff = total - matched;
    if (fencedOff > 0) {
      this.#metrics.leasesLostTotal.inc({ kind: 'message' }, fencedOff);
      this.#logger.warn({ lost: fencedOff }, 'lease lost on part of a batch; its writes were fenced off');
    }
    // Shared by the flush: for metrics and logs only.
    for (const request of group) request.fencedOff = fencedOff;
  }

  #afterOutcomes(request: Pending): void {
    if (!request.release) {
      request.resolve(request.fencedOff);
      return;
    }
    request.stored?.(request.fencedOff);
    request.stage = 'hold';
    this.#releases.add(request);
  }

  /** One attempt at the group's remaining steps; a request that got through a step never repeats it. */
  async #writeReleases(group: Pending[]): Promise<void> {
    for (const request of group.filter((r) => r.stage === 'hold')) {
      // Only while the destination is still safely ours: a hold after a takeover would delay the new holder's work.
      if (request.hold && request.lease.remainingMs() > 0) {
        await holdDestination(this.#sms, { destKey: request.lease.destKey, ...request.hold });
      }
      request.stage = 'release';
    }
    await releaseDestinations(
      this.#locks,
      group.map((r) => ({ destKey: r.lease.destKey, token: r.lease.token })),
    );
  }

  #afterRelease(request: Pending): void {
    this.#leases.drop(request.lease);
    request.resolve(request.fencedOff);
  }

  /** Stops retrying: what could not be written is left to the leases to hand over. */
  close(): void {
    this.#stop.abort(new Error('outcome writer closing'));
  }
}

/**
 * One stage's group commit: what arrives while a write is in flight goes out together next; a
 * failed group is retried first (with what arrived meanwhile) with backoff, until it succeeds or
 * the writer closes.
 */
class StageQueue {
  #queue: Pending[] = [];
  #flushing = false;

  constructor(
    private readonly stage: {
      name: string;
      write: (group: Pending[]) => Promise<void>;
      done: (request: Pending) => void;
      /** The writer's: aborted when it closes (retries stop). */
      closing: AbortSignal;
      logger: Logger;
      /** The writer's counts, shared by both stages. */
      stats: { flushes: number; failures: number };
    },
  ) {}

  add(request: Pending): void {
    this.#queue.push(request);
    if (!this.#flushing) void this.#flush();
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    let failures = 0;
    while (this.#queue.length > 0) {
      const group = this.#queue;
      this.#queue = [];
      try {
        await this.stage.write(group);
        failures = 0;
        this.stage.stats.flushes++;
        for (const request of group) this.stage.done(request);
      } catch (error) {
        failures++;
        this.stage.stats.failures++;
        if (this.stage.closing.aborted) {
          for (const request of group) request.reject(error);
          continue;
        }
        this.stage.logger.warn(
          { err: error, batches: group.length, failures },
          `${this.stage.name} failed; retrying (destinations stay held)`,
        );
        // The failed group goes first again; what arrived meanwhile joins it.
        this.#queue = [...group, ...this.#queue];
        await sleep(Math.min(50 * 2 ** Math.min(failures - 1, 6), 2000), this.stage.closing).catch(() => undefined);
      }
    }
    this.#flushing = false;
  }
}
