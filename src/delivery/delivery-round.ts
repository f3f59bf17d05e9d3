import { randomBytes } from 'node:crypto';
import type { Db, Filter, ObjectId } from 'mongodb';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logging/logger.ts';
import {
  batchSize as batchSizeHistogram,
  deliveriesTotal,
  destinationLockFailuresTotal,
  destinationLockStealsTotal,
  leasesLostTotal,
  messageClaimsTotal,
  submitToDeliverSeconds,
} from '../metrics/metrics.ts';
import type { SmsDocument } from '../store/sms-document.ts';
import { Correlations, type CorrelationDocument } from './correlations.ts';
import type { DeliveryOptions } from './delivery-options.ts';
import { DestinationLocks } from './destination-locks.ts';
import { FinishWriter } from './finish-writer.ts';
import { LeaseRenewer } from './lease-renewer.ts';
import { Coalescer } from './coalescer.ts';
import type { AcquireResult } from './destination-locks.ts';
import { MessageLocks, type BatchIo, type FencedUpdate, type LockOthersRequest } from './message-locks.ts';
import { retryAt, updateFor, type BatchDecision } from './outcome-writes.ts';
import { isOutcome, type OutboundSession, type Sender, type SubmitOutcome } from './submit-outcome.ts';

export interface DeliveryRoundDeps {
  db: Db;
  clock: Clock;
  /** Names this process in locks and history (host:pid:random). */
  owner: string;
  logger: Logger;
  sender: Sender;
  options: Readonly<DeliveryOptions>;
  claimFilter?: Filter<SmsDocument>;
  /** Destinations this process already holds (shared by its lanes): never claimed twice here. */
  held?: Set<string>;
}

export interface RoundStats {
  claims: number;
  busyDestinations: number;
  steals: number;
  batches: number;
  batchSizes: number[];
  submitted: number;
  retried: number;
  failed: number;
  expired: number;
  /** Fenced writes that matched nothing: our lease had been taken over. */
  fencedOff: number;
}

export function emptyStats(): RoundStats {
  return { claims: 0, busyDestinations: 0, steals: 0, batches: 0, batchSizes: [], submitted: 0, retried: 0, failed: 0, expired: 0, fencedOff: 0 };
}

// Tokens only need to be unique (they fence, they do not authenticate): a random prefix per
// process and a counter, instead of a call into the CSPRNG per round.
const tokenPrefix = randomBytes(9).toString('hex');
let tokenCount = 0;

export function newToken(): string {
  return `${tokenPrefix}${(tokenCount++).toString(36)}`;
}

/**
 * One round of the delivery protocol (ARCHITECTURE.md, "The delivery locking protocol", step 2):
 * claim, take the destination, batch, deliver in order, record fenced outcomes, release.
 */
export class DeliveryRound {
  readonly #deps: DeliveryRoundDeps;
  readonly messages: MessageLocks;
  readonly destinations: DestinationLocks;
  readonly #correlations: Correlations;
  readonly #finisher: FinishWriter;
  readonly #held: Set<string>;
  // Lanes running rounds at the same time share these commands (group commit; see Coalescer).
  readonly #acquirer: Coalescer<{ destKey: string; owner: string; token: string }, AcquireResult>;
  readonly #batchIo: BatchIo;
  readonly #releaser: Coalescer<{ ids: ObjectId[]; token: string }, number>;

  constructor(deps: DeliveryRoundDeps) {
    this.#deps = deps;
    this.messages = new MessageLocks(deps.db, deps.clock, {
      leaseMs: deps.options.leaseMs,
      historyLimit: deps.options.historyLimit,
      claimFilter: deps.claimFilter,
    });
    this.destinations = new DestinationLocks(deps.db, deps.clock, { leaseMs: deps.options.leaseMs });
    this.#correlations = new Correlations(deps.db);
    this.#finisher = new FinishWriter(deps.db, this.messages, deps.logger);
    this.#held = deps.held ?? new Set();
    this.#acquirer = new Coalescer((requests) => this.destinations.acquireMany(requests));
    const limit = deps.options.batchSize;
    const reader = new Coalescer<string, SmsDocument[]>((destKeys) => this.messages.readDue(destKeys, limit));
    const locker = new Coalescer<LockOthersRequest, Set<string>>((requests) => this.messages.lockOthers(requests));
    // Releases of claims whose destination was busy (the answer is not needed: a miss is fine).
    this.#releaser = new Coalescer(async (requests) => {
      const released = await this.messages.releaseMany(requests);
      return requests.map(() => released);
    });
    this.#batchIo = {
      readDue: (destKey) => reader.submit(destKey),
      lockOthers: (request) => locker.submit(request),
    };
  }

  /** Repeats step 2 until no candidate is left (or `stop` aborts); returns what it did. */
  async run(stop?: AbortSignal, stats: RoundStats = emptyStats()): Promise<RoundStats> {
    const excluded = new Set<string>();
    while (!stop?.aborted) {
      const step = await this.step(excluded, stop, stats);
      if (step === 'idle') break;
    }
    return stats;
  }

  /** One claim (2a) and what follows from it: 'idle' when nothing could be claimed. */
  async step(excluded: Set<string>, stop?: AbortSignal, stats: RoundStats = emptyStats()): Promise<'idle' | 'busy' | 'batch'> {
    const { owner } = this.#deps;
    const token = newToken();
    const first = await this.messages.claimOne([...excluded, ...this.#held], owner, token);
    if (!first || !first.lock) return 'idle';
    stats.claims++;
    messageClaimsTotal.inc();
    const destKey = first.destKey;
    if (this.#held.has(destKey)) {
      // Another lane of ours took it between our claim and now.
      await this.#releaser.submit({ ids: [first._id], token });
      excluded.add(destKey);
      return 'busy';
    }
    this.#held.add(destKey);
    try {
      const acquired = await this.#acquirer.submit({ destKey, owner, token });
      if (acquired === 'busy') {
        // Release by CAS on our token; a miss means the holder already took the message over.
        await this.#releaser.submit({ ids: [first._id], token });
        excluded.add(destKey);
        stats.busyDestinations++;
        destinationLockFailuresTotal.inc();
        return 'busy';
      }
      if (acquired === 'stolen') {
        stats.steals++;
        destinationLockStealsTotal.inc();
      }
      let released = false;
      try {
        const batch = await this.messages.collectBatch(first, first.lock, this.#deps.options.batchSize, this.#batchIo);
        if (batch.length > 0) released = await this.deliverBatch(batch, token, stop, stats);
      } finally {
        if (!released) await this.destinations.release(destKey, owner, token);
      }
      return 'batch';
    } finally {
      this.#held.delete(destKey);
    }
  }

  /**
   * Steps d and e (and f when it can be grouped): in arrival order over one session, then
   * correlations, then fenced outcomes. Returns true when the destination lock was released too.
   */
  async deliverBatch(batch: SmsDocument[], token: string, stop: AbortSignal | undefined, stats: RoundStats): Promise<boolean> {
    const { clock, owner, options, sender, logger } = this.#deps;
    const destKey = batch[0].destKey;
    stats.batches++;
    stats.batchSizes.push(batch.length);
    batchSizeHistogram.observe({ kind: 'delivery' }, batch.length);
    const lost = new AbortController();
    const renewer = new LeaseRenewer(this.destinations, this.messages, logger, {
      destKey,
      token,
      leaseMs: options.leaseMs,
      messageIds: () => batch.map((sms) => sms._id),
      onLost: (reason) => lost.abort(new Error(reason)),
    });
    renewer.start();
    const decisions = new Map<SmsDocument, BatchDecision>();
    const accepted: CorrelationDocument[] = [];
    let holdUntil: Date | undefined;
    let session: OutboundSession | undefined;
    try {
      for (const sms of batch) {
        const now = clock.now();
        if (holdUntil) {
          decisions.set(sms, { kind: 'deferred', until: holdUntil });
          continue;
        }
        if (stop?.aborted || lost.signal.aborted) {
          decisions.set(sms, { kind: 'released' });
          continue;
        }
        if (sms.validUntil.getTime() <= now.getTime()) {
          decisions.set(sms, { kind: 'expired' });
          stats.expired++;
          continue;
        }
        if (sms.attempts >= options.maxAttempts) {
          decisions.set(sms, { kind: 'failed', outcome: { kind: 'permanent', error: `attempt limit reached (${options.maxAttempts})` } });
          stats.failed++;
          continue;
        }
        if (!session) {
          const selected: OutboundSession | SubmitOutcome = await sender
            .select(sms, lost.signal)
            .catch((error: unknown): SubmitOutcome => ({ kind: 'temporary', error: `routing failed: ${errorText(error)}` }));
          if (isOutcome(selected)) {
            if (selected.kind === 'permanent') {
              decisions.set(sms, { kind: 'failed', outcome: selected });
              stats.failed++;
            } else if (selected.kind === 'temporary') {
              holdUntil = retryAt(sms, { now, options });
              decisions.set(sms, { kind: 'retry', outcome: selected, at: holdUntil });
              stats.retried++;
            }
            continue;
          }
          session = selected;
        }
        const current = session;
        const outcome = await current
          .submit(sms, lost.signal)
          .catch((error: unknown): SubmitOutcome => ({ kind: 'temporary', connector: current.connector, error: errorText(error) }));
        if (outcome.kind === 'accepted') {
          decisions.set(sms, { kind: 'submitted', outcome });
          for (const remoteId of [outcome.remoteId, ...(outcome.otherRemoteIds ?? [])]) {
            accepted.push({ connector: outcome.connector, remoteId, smsId: sms._id, createdAt: clock.now() });
          }
          stats.submitted++;
        } else if (outcome.kind === 'permanent') {
          decisions.set(sms, { kind: 'failed', outcome });
          stats.failed++;
        } else {
          holdUntil = retryAt(sms, { now: clock.now(), options });
          decisions.set(sms, { kind: 'retry', outcome, at: holdUntil });
          stats.retried++;
        }
      }
      const ctx = { now: clock.now(), by: owner, options };
      const updates: FencedUpdate[] = batch.map((sms) => ({ id: sms._id, update: updateFor(sms, decisions.get(sms) ?? { kind: 'released' }, ctx) }));
      this.#countOutcomes(batch, decisions);
      await renewer.close();
      if (!holdUntil) {
        // Grouped with other lanes' batches: correlations, then outcomes, then the destination lock.
        stats.fencedOff += await this.#finisher.finish({ token, correlations: accepted, updates, release: { destKey, owner } });
        return true;
      }
      // The correlation goes first: once the state says `submitted`, a receipt must find it.
      await this.#correlations.record(accepted);
      const matched = await this.messages.applyFenced(token, updates);
      if (matched < updates.length) {
        stats.fencedOff += updates.length - matched;
        leasesLostTotal.inc({ kind: 'message' }, updates.length - matched);
        logger.warn({ destKey: maskDestKey(destKey), lost: updates.length - matched }, 'lease lost on part of a batch; its writes were fenced off');
      }
      if (!lost.signal.aborted) await this.messages.holdDestination(destKey, holdUntil);
      return false;
    } finally {
      await renewer.close();
    }
  }

  #countOutcomes(batch: SmsDocument[], decisions: Map<SmsDocument, BatchDecision>): void {
    const now = this.#deps.clock.now().getTime();
    for (const sms of batch) {
      const decision = decisions.get(sms);
      if (!decision || decision.kind === 'released' || decision.kind === 'deferred') continue;
      const connector = 'outcome' in decision ? (decision.outcome.connector ?? 'none') : 'none';
      const outcome = decision.kind === 'failed' ? 'undeliverable' : decision.kind;
      deliveriesTotal.inc({ connector, outcome });
      if (decision.kind === 'submitted') submitToDeliverSeconds.observe({ connector }, (now - sms.arrivedAt.getTime()) / 1000);
    }
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Logs show where traffic goes without revealing whole numbers. */
export function maskDestKey(destKey: string): string {
  return destKey.length <= 4 ? '****' : `${destKey.slice(0, Math.max(2, destKey.length - 4))}****`;
}
