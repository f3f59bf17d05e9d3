import type { Collection, Db, ObjectId } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { messageStateToStatWord } from '../codec/index.ts';
import {
  expireUnanswered,
  finaliseByReceipt,
  noteIntermediateReceipt,
  recordPartReceipt,
  submissionFence,
} from '../protocol/receipt-writes.ts';
import { Collections } from '../store/collections.ts';
import { FINAL_STATES, SmsState, type AttemptRecord, type SmsDocument } from '../domain/sms-document.ts';
import { wantsAnyReceipt } from '../domain/receipt-request.ts';
import { combineParts, effectOfReceipt } from '../domain/message-state.ts';

/** What applying one downstream receipt did. */
export type ApplyResult =
  | { kind: 'final'; doc: SmsDocument }
  | { kind: 'intermediate' | 'part'; smsId: ObjectId }
  /** The message was already final (a repeated receipt, or cleanup/another receipt won). */
  | { kind: 'duplicate'; smsId: ObjectId }
  /** Known downstream id, but our message is not `submitted` yet: the receipt overtook our state write. */
  | { kind: 'not-ready'; smsId: ObjectId; remoteId: string }
  | { kind: 'not-found' };

export interface ReceiptUpdate {
  connector: string;
  /** Candidate correlation keys (already normalised with the connector's receipt id form). */
  keys: string[];
  messageState: number;
  networkErrorCode: number | null;
}

export interface CorrelationRef {
  smsId: ObjectId;
  remoteId: string;
}

/**
 * State changes driven by downstream receipts, each a CAS on `state: 'submitted'`: of all the
 * receipts, workers and cleanups that race to finish a message, exactly one write makes it final
 * (and flags it for its ESME receipt in that same write); the others match nothing.
 */
export class ReceiptFinaliser {
  readonly #sms: Collection<SmsDocument>;
  readonly #correlations: Collection<CorrelationRef & { connector: string }>;
  readonly #clock: Clock;
  readonly #by: string;
  readonly #historyLimit: number;

  constructor(db: Db, clock: Clock, options: { by: string; historyLimit?: number }) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#correlations = db.collection(Collections.correlations);
    this.#clock = clock;
    this.#by = options.by;
    this.#historyLimit = options.historyLimit ?? 20;
  }

  async apply(update: ReceiptUpdate): Promise<ApplyResult> {
    const correlation = await this.correlate(update);
    if (!correlation) return { kind: 'not-found' };
    return this.applyTo(correlation, update);
  }

  /** Read-only: the message a receipt is about, or null when no correlation names it (yet). */
  async correlate(update: Pick<ReceiptUpdate, 'connector' | 'keys'>): Promise<CorrelationRef | null> {
    if (update.keys.length === 0) return null;
    return this.#correlations.findOne(
      { connector: update.connector, remoteId: { $in: update.keys } },
      { projection: { smsId: 1, remoteId: 1 } },
    );
  }

  /** Read-only: whether a receipt for this message can be applied now ('ready'), is moot ('final'), or must wait. */
  async readiness(smsId: ObjectId): Promise<'ready' | 'final' | 'waiting'> {
    const doc = await this.#sms.findOne({ _id: smsId }, { projection: { state: 1 } });
    if (!doc || FINAL_STATES.includes(doc.state)) return 'final';
    return doc.state === SmsState.submitted ? 'ready' : 'waiting';
  }

  /** Applies a receipt to the message a correlation (or a parked early receipt) names. */
  async applyTo(correlation: CorrelationRef, update: Omit<ReceiptUpdate, 'keys'>): Promise<ApplyResult> {
    const smsId = correlation.smsId;
    const doc = await this.#sms.findOne({ _id: smsId }, { projection: { state: 1, remote: 1, remoteReceipts: 1, registeredDelivery: 1 } });
    // Purged after its retention: nothing left to update.
    if (!doc || FINAL_STATES.includes(doc.state)) return { kind: 'duplicate', smsId };
    if (doc.state !== SmsState.submitted) return { kind: 'not-ready', smsId, remoteId: correlation.remoteId };
    // A receipt for an earlier submission of this message (before a requeue or a resend): the
    // current one is what the ESME is waiting to hear about.
    const current = [doc.remote?.messageId, ...(doc.remote?.otherIds ?? [])];
    if (doc.remote && !current.includes(correlation.remoteId)) return { kind: 'duplicate', smsId };
    // Every write below is fenced on the submission read here, not only on the state: were the
    // message finalised, requeued and submitted anew meanwhile, this receipt is about the old one.
    const submission = submissionFence(smsId, doc.remote);
    const now = this.#clock.now();
    const stat = statWordOf(update.messageState);
    const record: AttemptRecord = { at: now, by: this.#by, outcome: `receipt ${stat}`, connector: update.connector };
    let effect = effectOfReceipt(update.messageState);
    if (effect.kind === 'intermediate') {
      // The write and why it is safe: `noteIntermediateReceipt` (src/protocol/receipt-writes.ts).
      await noteIntermediateReceipt(this.#sms, submission, record, this.#historyLimit);
      return { kind: 'intermediate', smsId };
    }
    const parts = 1 + (doc.remote?.otherIds?.length ?? 0);
    if (parts > 1) {
      // The write and why it is safe: `recordPartReceipt` (src/protocol/receipt-writes.ts).
      const after = await recordPartReceipt(
        this.#sms,
        submission,
        { remoteId: correlation.remoteId, messageState: update.messageState, networkErrorCode: update.networkErrorCode, at: now },
        record,
        this.#historyLimit,
      );
      if (!after) return { kind: 'duplicate', smsId };
      const combined = combineParts(
        (after.remoteReceipts ?? []).map((r) => r.state),
        parts,
      );
      if (!combined) return { kind: 'part', smsId };
      effect = combined;
    }
    if (effect.kind !== 'final') return { kind: 'intermediate', smsId };
    const failed = effect.state !== SmsState.delivered;
    // The write and why it is safe (the CAS that lets exactly one finaliser win): `finaliseByReceipt`
    // (src/protocol/receipt-writes.ts).
    const final = await finaliseByReceipt(this.#sms, submission, {
      state: effect.state,
      messageState: effect.messageState,
      finalAt: now,
      receiptDue: wantsAnyReceipt(doc.registeredDelivery),
      networkErrorCode: failed ? update.networkErrorCode : null,
      record: parts > 1 ? undefined : record,
      historyLimit: this.#historyLimit,
    });
    return final ? { kind: 'final', doc: final } : { kind: 'duplicate', smsId };
  }
}

function statWordOf(state: number): string {
  try {
    return messageStateToStatWord(state);
  } catch {
    return 'UNKNOWN';
  }
}

/**
 * Messages the downstream accepted but never sent a receipt for are finalised once their validity
 * (plus `graceMs`) is over: state `expired`, reported to the ESME as UNKNOWN, so every ESME that
 * asked for a receipt gets an answer and the message can be purged.
 */
export async function finaliseUnanswered(
  db: Db,
  clock: Clock,
  options: { by: string; graceMs: number; historyLimit?: number },
): Promise<number> {
  const now = clock.now();
  const record: AttemptRecord = { at: now, by: options.by, outcome: 'no-receipt' };
  // The write and why it is safe: `expireUnanswered` (src/protocol/receipt-writes.ts).
  return expireUnanswered(db.collection<SmsDocument>(Collections.sms), now, options.graceMs, record, options.historyLimit ?? 20);
}
