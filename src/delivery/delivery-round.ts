import { randomBytes } from 'node:crypto';
import type { Collection, Db, Filter, ObjectId } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { duePrefix, lockBatch, readPending, type LockBatchRequest } from '../protocol/batch.ts';
import { claimOne } from '../protocol/claim.ts';
import { acquireDestinations, releaseDestinations, type AcquireRequest, type AcquireResult } from '../protocol/destination-locks.ts';
import { postponeToSchedule, releaseClaims } from '../protocol/message-leases.ts';
import { updateFor, type BatchDecision } from '../protocol/outcomes.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type LockDocument, type PartProgress, type SmsDocument } from '../domain/sms-document.ts';
import { Coalescer } from './coalescer.ts';
import type { CorrelationWriter } from '../receipts/correlation-writer.ts';
import { backoffMs, type DeliveryOptions } from './delivery-options.ts';
import type { Lease, LeaseManager } from './lease-manager.ts';
import type { OutcomeWriter } from './outcome-writer.ts';
import { isSession, type OutboundSession, type Sender, type SubmitOutcome } from '../domain/submit-outcome.ts';

/** Messages a batch got accepted, for whatever waits on them (receipts that came early). */
export interface AcceptedMessage {
  smsId: ObjectId;
  connector: string;
  remoteIds: string[];
}

export interface DeliveryRoundDeps {
  db: Db;
  clock: Clock;
  /** Names this process in locks and history (host:pid:random). */
  owner: string;
  logger: Logger;
  metrics: Metrics;
  sender: Sender;
  options: Readonly<DeliveryOptions>;
  /** The traffic this round serves; null = none right now (e.g. no ESME bound here). */
  claimFilter: () => Filter<SmsDocument> | null;
  leases: LeaseManager;
  outcomes: OutcomeWriter;
  correlations: CorrelationWriter;
  /** Destinations this process already holds (shared by its lanes): never claimed twice here. */
  held?: Set<string>;
  /** Called after a batch's outcomes are stored, with what was accepted. */
  onAccepted?: (accepted: AcceptedMessage[]) => void;
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
  /** Batches cut short because their lease was lost or no longer safe to send under. */
  leaseStops: number;
  /** Destinations put off because nothing was bound to send over (no attempt counted). */
  waiting: number;
}

export function emptyStats(): RoundStats {
  return {
    claims: 0,
    busyDestinations: 0,
    steals: 0,
    batches: 0,
    batchSizes: [],
    submitted: 0,
    retried: 0,
    failed: 0,
    expired: 0,
    fencedOff: 0,
    leaseStops: 0,
    waiting: 0,
  };
}

// Tokens only need to be unique (they fence, they do not authenticate): a random prefix per
// process and a counter, instead of a call into the CSPRNG per round.
const tokenPrefix = randomBytes(9).toString('hex');
let tokenCount = 0;

export function newToken(): string {
  return `${tokenPrefix}${(tokenCount++).toString(36)}`;
}

/** What one lane of rounds remembers between steps. */
export interface LaneState {
  /** The release of the destination of its last batch, while under way. */
  releasing?: Promise<void>;
}

/**
 * A lane that found nothing to claim while the destination of its own last batch is still being
 * released waits for that release and looks once more (true): that destination's next messages
 * were out of reach only because it was still ours. False: nothing to wait for.
 */
export async function afterOwnRelease(lane: LaneState): Promise<boolean> {
  const releasing = lane.releasing;
  if (!releasing) return false;
  lane.releasing = undefined;
  await releasing;
  return true;
}

/** A batch whose outcomes are stored: its hold and destination release, still under way. */
interface Releasing {
  released: Promise<unknown>;
}

const NO_MATCH: Filter<SmsDocument> = Object.freeze({ _id: { $exists: false } }) as Filter<SmsDocument>;

/**
 * One round of the delivery protocol (ARCHITECTURE.md, "The delivery locking protocol", step 2),
 * the same for every kind of target (outbound connectors, bound ESMEs) through `Sender`: claim,
 * take the destination, collect the due prefix of its queue, deliver in order while the lease is
 * safe, store correlations as responses arrive, write fenced outcomes (retried until stored), hold
 * the destination behind a message that must be retried, release. The queries are in `src/protocol/`.
 */
export class DeliveryRound {
  readonly #deps: DeliveryRoundDeps;
  readonly #sms: Collection<SmsDocument>;
  readonly #locks: Collection<LockDocument>;
  readonly #held: Set<string>;
  // Lanes running rounds at the same time share these commands (group commit; see Coalescer).
  readonly #acquirer: Coalescer<AcquireRequest, AcquireResult>;
  readonly #reader: Coalescer<string, SmsDocument[]>;
  readonly #locker: Coalescer<LockBatchRequest, Set<string>>;
  readonly #releaser: Coalescer<{ ids: ObjectId[]; token: string }, number>;

  constructor(deps: DeliveryRoundDeps) {
    this.#deps = deps;
    this.#sms = deps.db.collection<SmsDocument>(Collections.sms);
    this.#locks = deps.db.collection<LockDocument>(Collections.locks);
    this.#held = deps.held ?? new Set();
    const { options, clock } = deps;
    this.#acquirer = new Coalescer((requests) =>
      acquireDestinations(this.#locks, requests, { leaseMs: options.leaseMs, graceMs: options.leaseGraceMs, dbNow: clock.dbNow() }),
    );
    this.#reader = new Coalescer((destKeys) =>
      readPending(this.#sms, { destKeys, limit: options.batchSize, claimFilter: deps.claimFilter() ?? NO_MATCH, now: clock.now() }),
    );
    this.#locker = new Coalescer((requests) => lockBatch(this.#sms, requests, options.leaseMs, clock.dbNow()));
    // Releases of claims (the answer is not needed: a miss is fine).
    this.#releaser = new Coalescer(async (requests) => {
      const released = await releaseClaims(this.#sms, requests);
      return requests.map(() => released);
    });
  }

  get sms(): Collection<SmsDocument> {
    return this.#sms;
  }

  /** Repeats step 2 until no candidate is left (or `stop` aborts); returns what it did. */
  async run(stop?: AbortSignal, stats: RoundStats = emptyStats()): Promise<RoundStats> {
    const excluded = new Set<string>();
    const lane: LaneState = {};
    while (!stop?.aborted) {
      const step = await this.step(excluded, stop, stats, lane);
      if (step === 'idle' && !(await afterOwnRelease(lane))) break;
    }
    return stats;
  }

  /**
   * One claim (2a) and what follows from it: 'idle' when nothing could be claimed. `lane` carries
   * the release of the lane's last batch (see afterOwnRelease).
   */
  async step(
    excluded: Set<string>,
    stop?: AbortSignal,
    stats: RoundStats = emptyStats(),
    lane: LaneState = {},
  ): Promise<'idle' | 'busy' | 'batch'> {
    const { owner, clock, options, leases } = this.#deps;
    const claimFilter = this.#deps.claimFilter();
    if (!claimFilter) return 'idle';
    const token = newToken();
    const first = await claimOne(this.#sms, {
      claimFilter,
      excluded: [...excluded, ...this.#held],
      owner,
      token,
      leaseMs: options.leaseMs,
      dueBy: clock.now(),
      dbNow: clock.dbNow(),
    });
    if (!first?.lock) return 'idle';
    stats.claims++;
    this.#deps.metrics.messageClaimsTotal.inc();
    const destKey = first.destKey;
    if (first.scheduledAt && first.scheduledAt.getTime() > clock.now().getTime()) {
      // Due before its schedule: the destination's read would leave it out, so it would be
      // claimed again at once, forever. It waits for its schedule; the destination is not excluded.
      await postponeToSchedule(this.#sms, { id: first._id, token, scheduledAt: first.scheduledAt });
      return 'busy';
    }
    if (this.#held.has(destKey)) {
      // Another lane of ours took it between our claim and now.
      await this.#releaser.submit({ ids: [first._id], token });
      excluded.add(destKey);
      return 'busy';
    }
    this.#held.add(destKey);
    let releasing: Releasing | undefined;
    try {
      const acquiring = clock.monotonic();
      const acquired = await this.#acquirer.submit({ destKey, owner, token });
      if (acquired === 'busy') {
        // Release by CAS on our token; a miss means the holder already took the message over.
        await this.#releaser.submit({ ids: [first._id], token });
        excluded.add(destKey);
        stats.busyDestinations++;
        this.#deps.metrics.destinationLockFailuresTotal.inc();
        return 'busy';
      }
      if (acquired === 'stolen') {
        stats.steals++;
        this.#deps.metrics.destinationLockStealsTotal.inc();
      }
      const lease = leases.hold(destKey, token, acquiring);
      lease.messageIds = [first._id];
      try {
        releasing = await this.#collectAndDeliver(first._id, lease, claimFilter, stop, stats);
      } catch (error) {
        await this.#abandon(lease);
        throw error;
      }
      return 'batch';
    } finally {
      // The lane goes on once the outcomes are stored; the destination stays ours (no other lane
      // here claims it) until its lock is released.
      if (releasing) lane.releasing = this.#trackRelease(destKey, releasing.released);
      else this.#free(destKey);
    }
  }

  readonly #releasing = new Set<Promise<unknown>>();
  #freed = 0;

  /** How many times a destination this process held became free again (work it hid may be claimable now). */
  get freed(): number {
    return this.#freed;
  }

  #free(destKey: string): void {
    this.#held.delete(destKey);
    this.#freed++;
  }

  #trackRelease(destKey: string, releasing: Promise<unknown>): Promise<void> {
    const tracked: Promise<void> = releasing
      .then(
        () => undefined,
        () => undefined,
      )
      .finally(() => {
        this.#free(destKey);
        this.#releasing.delete(tracked);
      });
    this.#releasing.add(tracked);
    return tracked;
  }

  /** Resolves when every destination lock this round's batches finished with is released (or given up on). */
  async settled(): Promise<void> {
    while (this.#releasing.size > 0) await Promise.all([...this.#releasing]);
  }

  /** Something failed before the outcome writer took over: give back what we can; the leases cover the rest. */
  async #abandon(lease: Lease): Promise<void> {
    this.#deps.leases.drop(lease);
    try {
      await releaseClaims(this.#sms, [{ ids: lease.messageIds, token: lease.token }]);
      await releaseDestinations(this.#locks, [{ destKey: lease.destKey, token: lease.token }]);
    } catch (error) {
      this.#deps.logger.debug({ err: error }, 'could not release after a failed round; the lease will run out');
    }
  }

  /**
   * Step c: the due prefix of the destination's queue, locked; then d to f, handed to the outcome
   * writer. Resolves once the outcomes are stored, with the release still under way.
   */
  async #collectAndDeliver(
    firstId: ObjectId,
    lease: Lease,
    claimFilter: Filter<SmsDocument>,
    stop: AbortSignal | undefined,
    stats: RoundStats,
  ): Promise<Releasing | undefined> {
    const { clock, owner, outcomes } = this.#deps;
    const now = clock.now();
    const pending = await this.#reader.submit(lease.destKey);
    const { batch: prefix, blockedUntil } = duePrefix(pending, now);
    const firstHex = firstId.toHexString();
    const others = prefix.filter((doc) => doc._id.toHexString() !== firstHex);
    const ours =
      others.length > 0
        ? await this.#locker.submit({ destKey: lease.destKey, docs: others, owner, token: lease.token })
        : new Set<string>();
    lease.messageIds = [firstId, ...others.map((doc) => doc._id).filter((id) => ours.has(id.toHexString()))];
    // The batch is the prefix up to the first member we could not lock: nothing overtakes it.
    const batch: SmsDocument[] = [];
    for (const doc of prefix) {
      const hex = doc._id.toHexString();
      if (hex !== firstHex && !ours.has(hex)) break;
      batch.push(doc);
    }
    const inBatch = new Set(batch.map((doc) => doc._id.toHexString()));
    const giveBack = lease.messageIds.filter((id) => !inBatch.has(id.toHexString()));
    if (batch.length === 0) {
      // Nothing may go: the head is backing off (or just changed). What we claimed waits for it.
      const released = giveBack.map((id) => ({
        id,
        token: lease.token,
        update: { $set: { state: SmsState.queued }, $unset: { lock: '' } },
      }));
      await outcomes.finish({
        lease,
        updates: released,
        ...(blockedUntil ? { hold: { until: blockedUntil, claimFilter, except: [] } } : {}),
      });
      return undefined;
    }
    if (giveBack.length > 0) await this.#releaser.submit({ ids: giveBack, token: lease.token });
    lease.messageIds = batch.map((doc) => doc._id);
    // From here on the outcome writer owns the batch: it stores every decision and releases.
    const locked = batch.map((doc) => ({ ...doc, state: SmsState.locked, lock: { owner, token: lease.token, at: now, leaseUntil: now } }));
    return this.deliverBatch(locked, lease, claimFilter, stop, stats);
  }

  /**
   * Steps d to f: in arrival order over one session, each submit only while the lease is safe
   * for as long as its answer may take; correlations stored as answers arrive; then the fenced
   * outcomes, the hold and the release, retried until stored (OutcomeWriter). Resolves once the
   * outcomes are stored, with the hold and release (still under way) as its value.
   */
  async deliverBatch(
    batch: SmsDocument[],
    lease: Lease,
    claimFilter: Filter<SmsDocument>,
    stop: AbortSignal | undefined,
    stats: RoundStats,
  ): Promise<Releasing> {
    const { clock, owner, options, sender, outcomes, correlations, leases } = this.#deps;
    stats.batches++;
    stats.batchSizes.push(batch.length);
    this.#deps.metrics.batchSize.observe({ kind: 'delivery' }, batch.length);
    const signal = stop ? AbortSignal.any([stop, lease.signal]) : lease.signal;
    const decisions = new Map<SmsDocument, BatchDecision>();
    const correlationWrites: Promise<void>[] = [];
    // Acceptances are stored as they happen (after their correlations), not at the end of the batch.
    const acceptedWrites: Promise<number>[] = [];
    const accepted: AcceptedMessage[] = [];
    // Only half the safe span is ever asked for before a submit, so a renewal on schedule always covers it.
    const submitBudgetMs = Math.max(1, Math.floor(leases.safeSpanMs / 2));
    let holdUntil: Date | undefined;
    // The hold is a wait for a connector to bind (no attempts, no history), not a retry's backoff.
    let waitingHold = false;
    let unavailable = false;
    let session: OutboundSession | undefined;
    for (const sms of batch) {
      if (holdUntil) {
        decisions.set(sms, waitingHold ? { kind: 'waiting', until: holdUntil } : { kind: 'deferred', until: holdUntil });
        continue;
      }
      if (signal.aborted || unavailable) {
        decisions.set(sms, { kind: 'released' });
        continue;
      }
      const now = clock.now();
      if (sms.validUntil.getTime() <= now.getTime()) {
        decisions.set(sms, { kind: 'expired' });
        stats.expired++;
        continue;
      }
      if (sms.attempts >= options.maxAttempts) {
        decisions.set(sms, { kind: 'failed', error: `attempt limit reached (${options.maxAttempts})`, attemptLimit: true });
        stats.failed++;
        continue;
      }
      if (!session) {
        const selected = await sender
          .select(sms, signal)
          .catch((error: unknown) => ({ kind: 'temporary' as const, error: `routing failed: ${errorText(error)}` }));
        if (!isSession(selected)) {
          if (selected.kind === 'unavailable') {
            unavailable = true;
            decisions.set(sms, { kind: 'released' });
          } else if (selected.kind === 'waiting') {
            holdUntil = this.#waitUntil(sms);
            waitingHold = true;
            decisions.set(sms, { kind: 'waiting', until: holdUntil, error: selected.error });
            stats.waiting++;
          } else if (selected.kind === 'permanent') {
            decisions.set(sms, { kind: 'failed', connector: selected.connector, status: selected.status, error: selected.error });
            stats.failed++;
          } else {
            const decision = this.#temporary(sms, selected, undefined);
            decisions.set(sms, decision);
            if (decision.kind === 'retry') {
              holdUntil = decision.at;
              stats.retried++;
            } else stats.failed++;
          }
          continue;
        }
        session = selected;
      }
      // What the downstream accepted is stored before anything more goes out: a worker that stops
      // now leaves at most the one submit on the wire for the next holder to send again.
      const previous = acceptedWrites.at(-1);
      if (previous) await previous.catch(() => undefined);
      if (!(await lease.ensure(submitBudgetMs))) {
        stats.leaseStops++;
        decisions.set(sms, { kind: 'released' });
        continue;
      }
      const current = session;
      const earlier = sms.progress?.connector === current.connector ? sms.progress.remoteIds : [];
      const correlated = new Set<string>();
      const mine: Promise<void>[] = [];
      const correlate = (remoteId: string) => {
        if (!sender.correlates || correlated.has(remoteId)) return;
        correlated.add(remoteId);
        const write = correlations.add({ connector: current.connector, remoteId, smsId: sms._id, createdAt: clock.now() });
        correlationWrites.push(write);
        mine.push(write);
      };
      const outcome: SubmitOutcome = await current
        .submit(sms, {
          signal,
          skipParts: earlier.length,
          beforePart: async (responseTimeoutMs) => {
            if (signal.aborted) return false;
            if (!(await lease.ensure(Math.min(responseTimeoutMs, submitBudgetMs)))) return false;
            return Math.max(1, Math.min(responseTimeoutMs, Math.floor(lease.remainingMs())));
          },
          onPartAccepted: correlate,
        })
        .catch((error: unknown): SubmitOutcome => ({ kind: 'temporary', connector: current.connector, error: errorText(error) }));
      if (outcome.kind === 'accepted') {
        const remoteIds = [...earlier, outcome.remoteId, ...(outcome.otherRemoteIds ?? [])];
        for (const id of remoteIds.slice(earlier.length)) correlate(id);
        const decision: BatchDecision = {
          kind: 'accepted',
          connector: outcome.connector,
          remoteIds,
          final: sender.acceptedState === 'delivered',
        };
        decisions.set(sms, decision);
        const update = {
          id: sms._id,
          token: lease.token,
          update: updateFor(sms, decision, { now: clock.now(), by: owner, historyLimit: options.historyLimit }),
        };
        // Both at once: whoever later looks for waiting receipts (after the batch) sees both stored.
        const recorded = outcomes.record(lease, update);
        acceptedWrites.push(Promise.all([recorded, ...mine]).then(([fenced]) => fenced));
        accepted.push({ smsId: sms._id, connector: outcome.connector, remoteIds });
        stats.submitted++;
      } else if (outcome.kind === 'unavailable') {
        unavailable = true;
        decisions.set(sms, { kind: 'released' });
      } else if (outcome.kind === 'waiting') {
        // Its connector went down since the batch began: it and the rest wait, as at the start.
        holdUntil = this.#waitUntil(sms);
        waitingHold = true;
        decisions.set(sms, { kind: 'waiting', until: holdUntil, error: outcome.error });
        stats.waiting++;
      } else {
        for (const id of outcome.acceptedParts ?? []) correlate(id);
        const sent = [...earlier, ...(outcome.acceptedParts ?? [])];
        const progress = sent.length > 0 ? { connector: current.connector, remoteIds: sent } : undefined;
        if (signal.aborted && lease.lost) stats.leaseStops++;
        if (outcome.kind === 'permanent') {
          decisions.set(sms, { kind: 'failed', connector: outcome.connector, status: outcome.status, error: outcome.error, progress });
          stats.failed++;
        } else {
          const decision = this.#temporary(sms, outcome, progress);
          decisions.set(sms, decision);
          if (decision.kind === 'retry') {
            holdUntil = decision.at;
            stats.retried++;
          } else stats.failed++;
        }
      }
    }
    const ctx = { now: clock.now(), by: owner, historyLimit: options.historyLimit };
    const updates = batch
      .filter((sms) => decisions.get(sms)?.kind !== 'accepted')
      .map((sms) => ({ id: sms._id, token: lease.token, update: updateFor(sms, decisions.get(sms) ?? { kind: 'released' }, ctx) }));
    this.#countOutcomes(batch, decisions);
    // Correlations and acceptances first (each retried until stored): then the rest, the hold, the release.
    await Promise.all(correlationWrites);
    for (const fenced of await Promise.all(acceptedWrites)) stats.fencedOff += fenced;
    const finishing = outcomes.finishInStages({
      lease,
      updates,
      ...(holdUntil ? { hold: { until: holdUntil, claimFilter, except: [] } } : {}),
    });
    stats.fencedOff += await finishing.stored;
    if (accepted.length > 0) this.#deps.onAccepted?.(accepted);
    // Wrapped: a promise returned as is would be awaited along with this one.
    return { released: finishing.released };
  }

  /** When a destination that had nothing to send over is tried again (never after its message's validity ends). */
  #waitUntil(sms: SmsDocument): Date {
    const next = this.#deps.clock.now().getTime() + this.#deps.options.unboundRetryMs;
    return new Date(Math.min(next, sms.validUntil.getTime()));
  }

  /** A temporary failure: retried after the backoff (the destination waits with it), or final at the attempt limit. */
  #temporary(
    sms: SmsDocument,
    outcome: { connector?: string; status?: number; error: string },
    progress: PartProgress | undefined,
  ): BatchDecision {
    const { options, clock } = this.#deps;
    const { connector, status, error } = outcome;
    if (sms.attempts + 1 >= options.maxAttempts) {
      return {
        kind: 'failed',
        connector,
        status,
        error: `attempt limit reached (${options.maxAttempts}): ${error}`,
        attemptLimit: true,
        progress,
      };
    }
    return { kind: 'retry', connector, status, error, at: retryAt(sms, clock.now(), options), progress };
  }

  #countOutcomes(batch: SmsDocument[], decisions: Map<SmsDocument, BatchDecision>): void {
    const now = this.#deps.clock.now().getTime();
    for (const sms of batch) {
      const decision = decisions.get(sms);
      if (!decision || decision.kind === 'released' || decision.kind === 'deferred' || decision.kind === 'waiting') continue;
      const connector = 'connector' in decision ? (decision.connector ?? 'none') : 'none';
      const outcome = decision.kind === 'failed' ? 'undeliverable' : decision.kind === 'accepted' ? 'submitted' : decision.kind;
      this.#deps.metrics.deliveriesTotal.inc({ connector, outcome });
      if (decision.kind === 'accepted')
        this.#deps.metrics.submitToDeliverSeconds.observe({ connector }, (now - sms.arrivedAt.getTime()) / 1000);
    }
  }
}

/** When a message that failed temporarily is tried again (never after its validity ends). */
export function retryAt(
  sms: Pick<SmsDocument, 'attempts' | 'validUntil'>,
  now: Date,
  options: Pick<DeliveryOptions, 'backoffBaseMs' | 'backoffMaxMs'>,
): Date {
  const next = now.getTime() + backoffMs(sms.attempts + 1, options);
  return new Date(Math.min(next, sms.validUntil.getTime()));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Logs show where traffic goes without revealing whole numbers. */
export function maskDestKey(destKey: string): string {
  return destKey.length <= 4 ? '****' : `${destKey.slice(0, Math.max(2, destKey.length - 4))}****`;
}
