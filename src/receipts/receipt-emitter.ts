import type { AnyBulkWriteOperation, Collection, Db, Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { MessageState } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { Collections } from '../store/collections.ts';
import { DUPLICATE_KEY } from '../store/mongo-errors.ts';
import { FINAL_STATES, SmsDirection, SmsState, type EventDocument, type SmsDocument } from '../domain/sms-document.ts';
import { CallbackAccounts } from '../accounts/callback-accounts.ts';
import { HTTP_EVENT_KEY, httpTargetFor } from '../accounts/callback-targets.ts';
import { buildReceiptDocument } from './receipt-builder.ts';
import { wantsFinalReceipt, wantsIntermediate } from '../domain/receipt-request.ts';
import { messageStateOf } from '../domain/message-state.ts';

export interface ReceiptEmitterOptions {
  /** How often the outbox is polled besides explicit wake-ups. Default 250 ms. */
  pollMs: number;
  /** Flagged messages handled per query. Default 256. */
  batchSize: number;
  /** How long a receipt waits for its ESME to bind before it expires. Default 72 h. */
  receiptValidityMs: number;
}

export const DEFAULT_EMITTER_OPTIONS: Readonly<ReceiptEmitterOptions> = Object.freeze({
  pollMs: 250,
  batchSize: 256,
  receiptValidityMs: 72 * 3600_000,
});

/** The `events` destKey of receipt and MO notifications: ESME deliverers wake on it, others ignore it. */
export const ESME_EVENT_KEY = 'esme:';

/**
 * The receipt outbox: turns messages flagged `receiptDue` into receipt documents for their ESME.
 * Exactly once per message and kind, whoever runs it and however often: the receipt `_id` is
 * derived from the message (a second insert is a duplicate key), and the flag is cleared with a
 * CAS on the state it was read in (a flag set again by a later transition survives).
 */
export class ReceiptEmitter {
  readonly #sms: Collection<SmsDocument>;
  readonly #events: Collection<EventDocument>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #options: ReceiptEmitterOptions;
  readonly #callbacks: CallbackAccounts;
  readonly #stop = new AbortController();
  #loop: Promise<void> | undefined;
  #wakeNow: (() => void) | undefined;
  #woken = false;
  readonly stats = { created: 0, cleared: 0 };

  constructor(db: Db, clock: Clock, logger: Logger, metrics: Metrics, options: Partial<ReceiptEmitterOptions> = {}) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#events = db.collection<EventDocument>(Collections.events);
    this.#clock = clock;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#options = { ...DEFAULT_EMITTER_OPTIONS, ...options };
    this.#callbacks = new CallbackAccounts(db);
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  wake(): void {
    this.#woken = true;
    this.#wakeNow?.();
  }

  async #run(): Promise<void> {
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      this.#woken = false;
      try {
        while ((await this.runOnce()) >= this.#options.batchSize && !signal.aborted);
      } catch (error) {
        if (signal.aborted) break;
        this.#logger.warn({ err: error }, 'receipt outbox pass failed');
      }
      if (this.#woken) continue;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          this.#wakeNow = undefined;
          resolve();
        };
        const timer = setTimeout(done, this.#options.pollMs);
        signal.addEventListener('abort', done, { once: true });
        this.#wakeNow = done;
      });
    }
  }

  /** One pass over the outbox; returns how many flagged messages it handled. */
  async runOnce(): Promise<number> {
    // Read-only: flagged messages (sparse index `receiptDue`).
    const flagged = await this.#sms.find({ receiptDue: true }).limit(this.#options.batchSize).toArray();
    if (flagged.length === 0) return 0;
    await this.emitFor(flagged);
    return flagged.length;
  }

  /**
   * Creates whatever receipts `docs` (as read, flagged) call for, notifies the ESME deliverers,
   * and clears the flags. Public: the receipt intake calls it right after its own finalising
   * write, so a receipt does not wait for the next poll.
   *
   * Three writes: the receipts (see #insertIgnoringDuplicates), wake-up events, and the flags.
   * filter:  events: none (an insert, w: 1, a failure only logged); flags: each updateOne
   *          {_id, receiptDue: true, state, attempts, requeues: <as read> (null: never requeued)}
   *          (one unordered bulkWrite)
   * update:  events: insert {ts, count, destKey: ESME or HTTP key, due}; flags: {$unset: {receiptDue}}
   * returns: nothing; stats.cleared counts the flags cleared. A flag that matched nothing belongs to
   *          a message that moved on (e.g. retry -> final, or requeued and final again in the same
   *          state with as many attempts) and set it again for its new state: the next pass handles it.
   * safe:    the receipts are inserted before the flag is cleared, so a crash in between only
   *          repeats the insert (deterministic ids: a duplicate, ignored). Clearing is fenced on
   *          what the receipt was built from, so an outcome written since keeps its flag. Two
   *          emitters on one flag (the intake and the poll) build the same receipt; one insert wins.
   *          Events are hints: a lost one waits for the deliverers' timer.
   */
  async emitFor(docs: SmsDocument[]): Promise<void> {
    const now = this.#clock.now();
    const receipts: SmsDocument[] = [];
    for (const doc of docs) {
      const spec = receiptSpecOf(doc);
      if (!spec) continue;
      const receipt = buildReceiptDocument(doc, spec, { now, validityMs: this.#options.receiptValidityMs });
      // An account with HTTP callbacks (or a message that named a callback URL) gets it POSTed instead.
      const http = await httpTargetFor(this.#callbacks, doc.account, doc.destKey, doc.callbackUrl);
      if (http) {
        receipt.target = http.target;
        receipt.destKey = http.destKey;
      }
      receipts.push(receipt);
    }
    if (receipts.length > 0) {
      const inserted = await this.#insertIgnoringDuplicates(receipts);
      if (inserted.length > 0) {
        this.stats.created += inserted.length;
        for (const r of inserted)
          this.#metrics.receiptsTotal.inc({
            direction: r.target.kind === 'http' ? 'to_http' : 'to_esme',
            stat: r.receipt?.stat ?? 'UNKNOWN',
          });
        const wake = [...new Set(inserted.map((r) => (r.target.kind === 'http' ? HTTP_EVENT_KEY : ESME_EVENT_KEY)))];
        const events = wake.map((destKey) => ({ ts: now, count: inserted.length, destKey, due: now }));
        await this.#events.insertMany(events, { writeConcern: { w: 1 } }).catch((error: Error) => {
          this.#logger.debug({ err: error.message }, 'could not notify ESME deliverers (their timer finds the receipts)');
        });
      }
    }
    // The flags, fenced on what each receipt was built from (see the header above).
    const ops: AnyBulkWriteOperation<SmsDocument>[] = docs.map((doc) => ({
      updateOne: {
        // `requeues: null` matches a message that has no such field (documented null-equality semantics).
        filter: {
          _id: doc._id,
          receiptDue: true,
          state: doc.state,
          attempts: doc.attempts,
          requeues: doc.requeues ?? null,
        } as Filter<SmsDocument>,
        update: { $unset: { receiptDue: '' } },
      },
    }));
    const result = await this.#sms.bulkWrite(ops, { ordered: false });
    this.stats.cleared += result.modifiedCount;
  }

  /**
   * filter:  none: an unordered insertMany of receipt documents, default write concern
   * insert:  the receipts; each `_id` is derived from its message and receipt generation (receiptIdFor)
   * returns: the receipts this call inserted; those that hit a duplicate key were stored already.
   * safe:    the derived `_id` is the fence: of emitters racing on one message's flag (or a repeat
   *          after a crash before the flag was cleared) exactly one inserts each receipt, so an ESME
   *          gets it once. Any other write error is thrown (the flag stays, the next pass retries).
   */
  async #insertIgnoringDuplicates(receipts: SmsDocument[]): Promise<SmsDocument[]> {
    try {
      await this.#sms.insertMany(receipts, { ordered: false });
      return receipts;
    } catch (error) {
      const writeErrors = (error as { writeErrors?: { code?: number; index?: number }[] | { code?: number; index?: number } }).writeErrors;
      const list = Array.isArray(writeErrors) ? writeErrors : writeErrors ? [writeErrors] : [];
      const code = (error as { code?: number }).code;
      if (list.length === 0 && code !== DUPLICATE_KEY) throw error;
      if (list.some((e) => e.code !== DUPLICATE_KEY)) throw error;
      const duplicates = new Set(list.map((e) => e.index));
      if (list.length === 0) return [];
      return receipts.filter((_, i) => !duplicates.has(i));
    }
  }

  /** Idempotent. */
  async close(): Promise<void> {
    this.#stop.abort(new Error('closing'));
    this.#wakeNow?.();
    await this.#loop;
  }
}

/** Which receipt, if any, a flagged message calls for in the state it was read in. */
export function receiptSpecOf(doc: SmsDocument): { messageState: number; final: boolean; kind: string } | null {
  if (doc.direction !== SmsDirection.mt || !doc.account) return null;
  if (FINAL_STATES.includes(doc.state)) {
    const messageState = doc.finalStat ?? messageStateOf(doc.state);
    return wantsFinalReceipt(doc.registeredDelivery, messageState)
      ? { messageState, final: true, kind: receiptKindOf('final', doc.requeues) }
      : null;
  }
  if (doc.state === SmsState.queued && doc.attempts > 0 && wantsIntermediate(doc.registeredDelivery)) {
    return { messageState: MessageState.ENROUTE, final: false, kind: receiptKindOf(`enroute:${doc.attempts}`, doc.requeues) };
  }
  return null;
}

/**
 * The kind a receipt id is derived from (receiptIdFor): what the receipt reports, in the
 * message's receipt generation. Generation 0 (never requeued) keeps the plain kinds, so ids of
 * receipts created before requeues counted stay what they were; each requeue adds `@n`. One
 * final receipt per generation, hence one per final outcome an ESME could hear of.
 */
export function receiptKindOf(kind: string, requeues: number | undefined): string {
  return requeues ? `${kind}@${requeues}` : kind;
}
