import { ObjectId, type Db, type Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { normaliseDestination, Ton, type AddressOptions } from '../codec/address.ts';
import { silentLogger, type Logger } from '../logging/logger.ts';
import { requeueRound } from '../protocol/requeue.ts';
import { ReceiptEmitter } from '../receipts/receipt-emitter.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type AttemptRecord, type EventDocument, type SmsDocument, type SmsStateName } from '../domain/sms-document.ts';
import { OpsError, OpsErrorCode } from './errors.ts';
import { createMetrics, type Metrics } from '../metrics/metrics.ts';

/**
 * States an operator may send back to the queue. Never `locked` (a worker holds it: requeueing
 * would hand it to a second worker while the first may still deliver it), never `submitted`
 * (the downstream has it; resending would duplicate), `delivered` or `cancelled` (final by
 * intent). `queued` is allowed: it pulls a backed-off message's next attempt to now.
 */
export const REQUEUEABLE_STATES: readonly SmsStateName[] = Object.freeze([
  SmsState.queued,
  SmsState.undeliverable,
  SmsState.expired,
  SmsState.rejected,
]);

export type RequeueSelector = { messageId: string } | { destKey: string } | { state: string };

export interface RequeueOptions {
  /** Who asked, for the message history. */
  by?: string;
  /** A requeued message whose validity has passed gets this much more, or cleanup would expire it at once. */
  extendValidityMs?: number;
  historyLimit?: number;
  logger?: Logger;
  /** Where the receipts this creates are counted. Default: a set of its own (a one-shot command serves no /metrics). */
  metrics?: Metrics;
  /** The destKey rule: `--dest` matches the number as written and as the rule normalises it. */
  addressOptions?: AddressOptions;
}

export interface RequeueResult {
  /** Messages put back to `queued` with nextAttemptAt now. */
  requeued: number;
  /** Of those, how many got a new validUntil. */
  validityExtended: number;
  /** For a single message that was not requeued: its state. */
  skippedState?: string;
  /** Receipts of the outcome being replaced that were still in the outbox, sent first. */
  pendingReceipts: number;
}

const DEFAULT_EXTEND_VALIDITY_MS = 24 * 3600 * 1000;
const DEFAULT_HISTORY_LIMIT = 20;

/**
 * Sends matching messages back to `queued`, due now, attempts reset; prints nothing, returns counts.
 *
 * Receipts: every requeue starts a new receipt generation (`requeues` + 1), and receipt ids are
 * derived from the message and its generation, so the next final outcome gets a receipt of its
 * own: an ESME that heard UNDELIV and asked for receipts hears DELIVRD after a successful requeue.
 * A receipt still in the outbox for the outcome being replaced is created first, so none is lost.
 *
 * The writes and why they are safe: `requeueRound` (src/protocol/requeue.ts), up to twice.
 */
export async function requeueMessages(
  db: Db,
  selector: RequeueSelector,
  clock: Clock,
  options: RequeueOptions = {},
): Promise<RequeueResult> {
  const sms = db.collection<SmsDocument>(Collections.sms);
  const now = clock.now();
  const base = baseFilter(selector, options.addressOptions);
  const record: AttemptRecord = { at: now, by: options.by ?? 'smsc requeue', outcome: 'requeued' };
  const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;

  let pendingReceipts = 0;
  let requeued = 0;
  let validityExtended = 0;
  let selected = base;
  // Twice at most: a queued message can be flagged again by a deliverer between the two steps;
  // the second round takes only those (the others are queued now and must not be requeued twice).
  for (let round = 0; round < 2; round++) {
    pendingReceipts += await emitPendingReceipts(db, selected, clock, options.logger ?? silentLogger, options.metrics ?? createMetrics());
    const done = await requeueRound(sms, {
      selected,
      now,
      record,
      historyLimit,
      extendValidityMs: options.extendValidityMs ?? DEFAULT_EXTEND_VALIDITY_MS,
    });
    requeued += done.requeued;
    validityExtended += done.validityExtended;
    const skipped = await sms
      .find({ ...selected, receiptDue: true } as Filter<SmsDocument>, { projection: { _id: 1 } })
      .limit(OUTBOX_BATCH)
      .toArray();
    if (skipped.length === 0) break;
    selected = { ...base, _id: { $in: skipped.map((d) => d._id) } } as Filter<SmsDocument>;
  }
  if (requeued > 0) await notify(db, selector, requeued, now);

  const result: RequeueResult = { requeued, validityExtended, pendingReceipts };
  if (requeued === 0 && 'messageId' in selector) {
    const doc = await sms.findOne(idFilter(selector.messageId), { projection: { state: 1 } });
    if (!doc) throw new OpsError(OpsErrorCode.messageNotFound, `No message with id ${selector.messageId}.`);
    result.skippedState = doc.state;
  }
  return result;
}

const OUTBOX_BATCH = 256;

/** Creates the receipts the selected messages still have in the outbox (and clears their flags); returns how many it handled. */
async function emitPendingReceipts(db: Db, base: Filter<SmsDocument>, clock: Clock, logger: Logger, metrics: Metrics): Promise<number> {
  const sms = db.collection<SmsDocument>(Collections.sms);
  const emitter = new ReceiptEmitter(db, clock, logger, metrics);
  let handled = 0;
  for (;;) {
    // Read-only: flagged messages among the selected (sparse index `receiptDue`, or the selector's).
    const flagged = await sms
      .find({ ...base, receiptDue: true } as Filter<SmsDocument>)
      .limit(OUTBOX_BATCH)
      .toArray();
    if (flagged.length === 0) return handled;
    const clearedBefore = emitter.stats.cleared;
    await emitter.emitFor(flagged);
    handled += flagged.length;
    // Flags it could not clear belong to messages that moved on meanwhile; the caller's next round sees them.
    if (flagged.length < OUTBOX_BATCH || emitter.stats.cleared === clearedBefore) return handled;
  }
}

function baseFilter(selector: RequeueSelector, addressOptions: AddressOptions | undefined): Filter<SmsDocument> {
  const states = { $in: [...REQUEUEABLE_STATES] };
  if ('messageId' in selector) {
    if (!selector.messageId.trim()) throw new OpsError(OpsErrorCode.badSelector, 'The message id is empty.');
    return { ...idFilter(selector.messageId.trim()), state: states };
  }
  if ('destKey' in selector) {
    if (!selector.destKey.trim()) throw new OpsError(OpsErrorCode.badSelector, 'The destination is empty.');
    return { destKey: { $in: destKeysOf(selector.destKey.trim(), addressOptions) }, state: states };
  }
  const state = selector.state;
  if (!(REQUEUEABLE_STATES as readonly string[]).includes(state)) {
    const known = (Object.values(SmsState) as string[]).includes(state);
    throw new OpsError(
      known ? OpsErrorCode.notRequeueable : OpsErrorCode.badSelector,
      `${known ? `Messages in state ${state} cannot be requeued` : `Unknown state "${state}"`}; requeueable states are ${REQUEUEABLE_STATES.join(', ')}.`,
    );
  }
  return { state: state as SmsStateName };
}

/**
 * What `--dest` matches: the destKey as typed (also a key stored under an older rule, or an ESME
 * lane `esme:…`), and the key the destKey rule gives the number read as an ESME's TON 0 would be.
 */
function destKeysOf(dest: string, addressOptions: AddressOptions | undefined): string[] {
  try {
    const { destKey } = normaliseDestination({ ton: Ton.UNKNOWN, npi: 1, addr: dest }, addressOptions);
    return destKey === dest ? [dest] : [dest, destKey];
  } catch {
    return [dest];
  }
}

function idFilter(messageId: string): Filter<SmsDocument> {
  // messageId is the _id's hex by construction; matching either keeps older ids working.
  return ObjectId.isValid(messageId) && messageId.length === 24
    ? { $or: [{ messageId }, { _id: new ObjectId(messageId) }] }
    : { messageId };
}

/**
 * Wakes deliverers now instead of at their next sweep.
 *
 * filter:  none: an insert of one wake-up event
 * insert:  {ts, due, count, destKey?}
 * returns: nothing; a failure is ignored.
 * safe:    only a hint: a lost notification is harmless (the sweep finds the work), a repeated one
 *          costs a wasted look.
 */
async function notify(db: Db, selector: RequeueSelector, count: number, now: Date): Promise<void> {
  const event: Omit<EventDocument, '_id'> = {
    ts: now,
    due: now,
    count,
    ...('destKey' in selector ? { destKey: selector.destKey.trim() } : {}),
  };
  await db
    .collection(Collections.events)
    .insertOne(event)
    .catch(() => undefined);
}
