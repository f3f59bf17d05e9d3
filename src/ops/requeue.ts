import { ObjectId, type Db, type Filter } from 'mongodb';
import type { Clock } from '../clock.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type AttemptRecord, type EventDocument, type SmsDocument, type SmsStateName } from '../store/sms-document.ts';
import { OpsError, OpsErrorCode } from './errors.ts';

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
}

export interface RequeueResult {
  /** Messages put back to `queued` with nextAttemptAt now. */
  requeued: number;
  /** Of those, how many got a new validUntil. */
  validityExtended: number;
  /** For a single message that was not requeued: its state. */
  skippedState?: string;
}

const DEFAULT_EXTEND_VALIDITY_MS = 24 * 3600 * 1000;
const DEFAULT_HISTORY_LIMIT = 20;

/** Sends matching messages back to `queued`, due now, attempts reset; prints nothing, returns counts. */
export async function requeueMessages(db: Db, selector: RequeueSelector, clock: Clock, options: RequeueOptions = {}): Promise<RequeueResult> {
  const sms = db.collection<SmsDocument>(Collections.sms);
  const now = clock.now();
  const base = baseFilter(selector);
  const record: AttemptRecord = { at: now, by: options.by ?? 'smsc requeue', outcome: 'requeued' };
  const historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
  const update = (extra: Partial<SmsDocument>) => ({
    $set: { state: SmsState.queued, nextAttemptAt: now, attempts: 0, ...extra },
    $unset: { lock: '' as const, finalAt: '' as const },
    $push: { history: { $each: [record], $slice: -historyLimit } },
  });

  // Still valid. Filter: selector, requeueable state (never locked), validUntil > now.
  // Update: queued, due now, attempts 0, lock/finalAt removed, history entry. No match: nothing to do.
  const valid = await sms.updateMany({ ...base, validUntil: { $gt: now } } as Filter<SmsDocument>, update({}));
  // Validity passed: the same, plus a new validUntil so cleanup does not expire it again at once.
  const extended = await sms.updateMany(
    { ...base, validUntil: { $lte: now } } as Filter<SmsDocument>,
    update({ validUntil: new Date(now.getTime() + (options.extendValidityMs ?? DEFAULT_EXTEND_VALIDITY_MS)) }),
  );
  const requeued = valid.modifiedCount + extended.modifiedCount;
  if (requeued > 0) await notify(db, selector, requeued, now);

  const result: RequeueResult = { requeued, validityExtended: extended.modifiedCount };
  if (requeued === 0 && 'messageId' in selector) {
    const doc = await sms.findOne(idFilter(selector.messageId), { projection: { state: 1 } });
    if (!doc) throw new OpsError(OpsErrorCode.messageNotFound, `No message with id ${selector.messageId}.`);
    result.skippedState = doc.state;
  }
  return result;
}

function baseFilter(selector: RequeueSelector): Filter<SmsDocument> {
  const states = { $in: [...REQUEUEABLE_STATES] };
  if ('messageId' in selector) {
    if (!selector.messageId.trim()) throw new OpsError(OpsErrorCode.badSelector, 'The message id is empty.');
    return { ...idFilter(selector.messageId.trim()), state: states };
  }
  if ('destKey' in selector) {
    if (!selector.destKey.trim()) throw new OpsError(OpsErrorCode.badSelector, 'The destination is empty.');
    return { destKey: selector.destKey.trim(), state: states };
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

function idFilter(messageId: string): Filter<SmsDocument> {
  // messageId is the _id's hex by construction; matching either keeps older ids working.
  return ObjectId.isValid(messageId) && messageId.length === 24
    ? { $or: [{ messageId }, { _id: new ObjectId(messageId) }] }
    : { messageId };
}

/** Wakes deliverers now instead of at their next sweep. A lost notification is harmless (the sweep finds the work). */
async function notify(db: Db, selector: RequeueSelector, count: number, now: Date): Promise<void> {
  const event: Omit<EventDocument, '_id'> = { ts: now, due: now, count, ...('destKey' in selector ? { destKey: selector.destKey.trim() } : {}) };
  await db
    .collection(Collections.events)
    .insertOne(event)
    .catch(() => undefined);
}
