import { ObjectId, type Collection, type Db } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { ApplyResult, ReceiptFinaliser } from './receipt-finaliser.ts';
import { ORPHAN_RECEIPTS } from './receipt-schema.ts';

/**
 * A downstream receipt that could not be applied when it arrived: its correlation was not stored
 * yet (the receipt overtook the submit_sm_resp), or its message was not `submitted` yet (the
 * batch's outcome write was still to come), or it names an id nobody knows (yet). It waits here,
 * off the delivery path, and is applied as soon as what it waits for appears.
 */
export interface OrphanReceipt {
  _id?: ObjectId;
  connector: string;
  /** Candidate correlation keys (the connector's receipt id form applied). */
  keys: string[];
  /** The ids as the receipt wrote them, for operators. */
  ids: string[];
  messageState: number | null;
  networkErrorCode: number | null;
  text?: string;
  /** Why it waits: 'unknown-id' (no correlation yet), 'not-ready' (message not submitted yet), 'unreadable'. */
  reason: string;
  receivedAt: Date;
  /** When the sweep looks at it again (backing off for ids nobody knows). */
  nextCheckAt: Date;
  checks: number;
  /** Taken by a process applying it, until `until` (then anyone may take it again: it crashed or stalled). */
  claim?: { token: string; until: Date };
}

export interface OrphanReceiptsOptions {
  /** Back-off of the sweep's re-checks of one orphan: first pause, doubling to the cap. Defaults 1 s and 10 min. */
  recheckBaseMs: number;
  recheckMaxMs: number;
  /**
   * matchAccepted looks only while this process has parked a receipt within this long (default
   * 60 s): a receipt overtakes its submit_sm_resp on the session that sent the submit, which is
   * this process's. One parked by another process is found by the sweep.
   */
  matchWindowMs: number;
  /** How long a claim on applying a waiting receipt lasts before another process may take it over. Default 30 s. */
  claimMs: number;
}

const DEFAULTS: OrphanReceiptsOptions = { recheckBaseMs: 1000, recheckMaxMs: 10 * 60_000, matchWindowMs: 60_000, claimMs: 30_000 };

/**
 * Receipts waiting for their message. Both sides write first and then look for the other — the
 * intake stores the receipt and then checks the correlation and state; the deliverer stores
 * correlations and outcomes and then looks for waiting receipts — so at least one of them sees
 * both, whatever the timing (within one process; across processes the sweep is the other side).
 * Whoever claims the waiting receipt applies it and then deletes it; the apply is a CAS on the
 * message's state, so a second apply (after a claimer stalled past its claim) is a duplicate:
 * exactly one final state, and a crash while applying loses nothing.
 */
export class OrphanReceipts {
  readonly #orphans: Collection<OrphanReceipt>;
  readonly #clock: Clock;
  readonly #finaliser: ReceiptFinaliser;
  readonly #logger: Logger;
  readonly #onApplied: (result: ApplyResult) => Promise<void>;
  readonly #options: OrphanReceiptsOptions;
  readonly stats = { parked: 0, matched: 0 };
  #lastParkedAt = -Infinity;

  constructor(
    db: Db,
    clock: Clock,
    finaliser: ReceiptFinaliser,
    logger: Logger,
    onApplied: (result: ApplyResult) => Promise<void>,
    options: Partial<OrphanReceiptsOptions> = {},
  ) {
    this.#orphans = db.collection<OrphanReceipt>(ORPHAN_RECEIPTS);
    this.#clock = clock;
    this.#finaliser = finaliser;
    this.#logger = logger;
    this.#onApplied = onApplied;
    this.#options = { ...DEFAULTS, ...options };
  }

  /**
   * Stores a receipt that could not be applied yet (acknowledge it to the downstream only after
   * this resolves), then looks once more: its correlation or state may have landed meanwhile.
   */
  async park(orphan: Omit<OrphanReceipt, '_id' | 'nextCheckAt' | 'checks'>): Promise<void> {
    const doc: OrphanReceipt = { ...orphan, nextCheckAt: new Date(this.#clock.now().getTime() + this.#options.recheckBaseMs), checks: 0 };
    // Before the insert: a batch that stores its outcome meanwhile must already see that it should look.
    this.#lastParkedAt = this.#clock.monotonic();
    // filter:  none: an insert of one waiting receipt (new _id, default write concern)
    // insert:  {...orphan, nextCheckAt: now + recheckBase, checks: 0}
    // returns: its _id.
    // safe:    a new document no one else knows yet; nothing else writes it until it is matched or
    //          expires (TTL). Resolves only once stored, so the downstream's ack follows the write.
    const { insertedId } = await this.#orphans.insertOne(doc);
    this.stats.parked++;
    if (orphan.reason !== 'unreadable') await this.#tryApply({ ...doc, _id: insertedId });
  }

  /**
   * After messages became `submitted`: applies the receipts that were waiting for them (oldest
   * first). The batches that finish in one turn of the event loop (every lane of a deliverer) are
   * looked up with one query. Nothing to look for unless this process parked a receipt lately
   * (see matchWindowMs): most batches cost no query.
   */
  matchAccepted(accepted: readonly { connector: string; remoteIds: readonly string[] }[]): Promise<number> {
    if (this.#clock.monotonic() - this.#lastParkedAt > this.#options.matchWindowMs) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.#pendingMatches.push({ accepted, resolve, reject });
      if (this.#pendingMatches.length === 1) setImmediate(() => void this.#flushMatches());
    });
  }

  readonly #pendingMatches: {
    accepted: readonly { connector: string; remoteIds: readonly string[] }[];
    resolve: (n: number) => void;
    reject: (e: unknown) => void;
  }[] = [];

  async #flushMatches(): Promise<void> {
    const group = this.#pendingMatches.splice(0);
    try {
      const byConnector = new Map<string, string[]>();
      for (const { accepted } of group)
        for (const { connector, remoteIds } of accepted) byConnector.set(connector, [...(byConnector.get(connector) ?? []), ...remoteIds]);
      const clauses = [...byConnector].map(([connector, keys]) => ({ connector, keys: { $in: keys } }));
      const waiting =
        clauses.length === 0
          ? []
          : await this.#orphans
              .find(clauses.length === 1 ? clauses[0] : { $or: clauses })
              .sort({ receivedAt: 1 })
              .toArray();
      let matched = 0;
      for (const orphan of waiting) if (await this.#tryApply(orphan)) matched++;
      // Shared by the group: callers use it for logs and tests only.
      for (const request of group) request.resolve(matched);
    } catch (error) {
      for (const request of group) request.reject(error);
    }
  }

  /** Looks again at waiting receipts whose re-check is due (the safety net for crashes between the two sides). */
  async sweep(limit = 100): Promise<number> {
    const now = this.#clock.now();
    const due = await this.#orphans
      .find({ nextCheckAt: { $lte: now }, reason: { $ne: 'unreadable' } })
      .sort({ nextCheckAt: 1 })
      .limit(limit)
      .toArray();
    let matched = 0;
    for (const orphan of due) {
      if (await this.#tryApply(orphan)) {
        matched++;
        continue;
      }
      const pause = Math.min(this.#options.recheckMaxMs, this.#options.recheckBaseMs * 2 ** Math.min(orphan.checks + 1, 20));
      // filter:  {_id}
      // update:  {$set: {nextCheckAt: now + backoff}, $inc: {checks: 1}}
      // returns: nothing; a miss = it was matched meanwhile (deleted by whoever applied it).
      // safe:    touches only the re-check time, never the receipt; racing sweeps both push it later.
      await this.#orphans.updateOne({ _id: orphan._id }, { $set: { nextCheckAt: new Date(now.getTime() + pause) }, $inc: { checks: 1 } });
    }
    return matched;
  }

  /** Applies a waiting receipt if its message is ready for it; true when it was settled (applied or moot). */
  async #tryApply(orphan: OrphanReceipt): Promise<boolean> {
    const update = {
      connector: orphan.connector,
      keys: orphan.keys,
      messageState: orphan.messageState!,
      networkErrorCode: orphan.networkErrorCode,
    };
    const correlation = await this.#finaliser.correlate(update);
    if (!correlation) return false;
    if ((await this.#finaliser.readiness(correlation.smsId)) === 'waiting') return false;
    const token = new ObjectId().toHexString();
    const now = this.#clock.now();
    const until = new Date(now.getTime() + this.#options.claimMs);
    // filter:  {_id, no claim, or a claim whose time ran out}
    // update:  {$set: {claim: {token, until: now + claimMs}, nextCheckAt: until}}
    // returns: matchedCount; 0 = another process is applying it, or it is gone (applied).
    // safe:    one update is atomic per document: of racing claimers one matches. The receipt
    //          stays stored while it is applied, so a claimer that crashes or stalls loses
    //          nothing: when the claim runs out the sweep (nextCheckAt = until) takes it again.
    //          A second apply (a stalled claimer that wakes up, or host clocks further apart than
    //          claimMs) is harmless: applyTo is a CAS on 'submitted' and answers a repeat as a duplicate.
    const claimed = await this.#orphans.updateOne(
      { _id: orphan._id, $or: [{ claim: { $exists: false } }, { 'claim.until': { $lte: now } }] },
      { $set: { claim: { token, until }, nextCheckAt: until } },
    );
    if (claimed.matchedCount === 0) return true;
    try {
      const result = await this.#finaliser.applyTo(correlation, update);
      if (result.kind === 'not-ready') {
        // It left `submitted` between our look and our claim (a requeue): it waits again.
        // filter:  {_id, claim.token: ours}
        // update:  {$set: {reason: 'not-ready', nextCheckAt: now + recheckBase}, $unset: {claim}}
        // returns: nothing; a miss = our claim ran out and another process took it: it decides.
        // safe:    fenced on our claim's token.
        await this.#orphans.updateOne(
          { _id: orphan._id, 'claim.token': token },
          {
            $set: { reason: 'not-ready', nextCheckAt: new Date(this.#clock.now().getTime() + this.#options.recheckBaseMs) },
            $unset: { claim: '' },
          },
        );
        return false;
      }
      this.stats.matched++;
      // filter:  {_id, claim.token: ours}
      // delete:  the receipt, applied
      // returns: nothing; a miss = our claim ran out and another process took it (it applies it
      //          again: a duplicate, answered without a write) or deleted it.
      // safe:    fenced on our claim's token; a crash before it leaves an applied receipt that
      //          the sweep applies again, as a duplicate.
      await this.#orphans.deleteOne({ _id: orphan._id, 'claim.token': token });
      await this.#onApplied(result);
      return true;
    } catch (error) {
      // Give the claim back at once so the next look retries (if this fails too, the claim runs out).
      // filter:  {_id, claim.token: ours}
      // update:  {$unset: {claim}, $set: {nextCheckAt: now}}
      // returns: nothing; a failure is logged.
      // safe:    fenced on our claim's token.
      await this.#orphans
        .updateOne({ _id: orphan._id, 'claim.token': token }, { $unset: { claim: '' }, $set: { nextCheckAt: this.#clock.now() } })
        .catch((release: unknown) =>
          this.#logger.error({ err: release }, 'could not give back the claim on a waiting receipt; it runs out'),
        );
      throw error;
    }
  }
}
