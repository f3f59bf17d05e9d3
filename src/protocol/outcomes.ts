import type { Collection, Document, ObjectId } from 'mongodb';
import { receiptDueSet } from '../domain/receipt-hooks.ts';
import { SmsState, type AttemptRecord, type PartProgress, type SmsDocument } from '../domain/sms-document.ts';

/** What a downstream (or an ESME) did with one message, or why it was not tried. */
export type BatchDecision =
  /** Accepted. `final`: the target is the handset side itself (an ESME), so it is delivered; otherwise it awaits a receipt. */
  | { kind: 'accepted'; connector: string; remoteIds: string[]; final: boolean }
  /** Temporary failure: tried again at `at`; the rest of the destination waits for it. `progress`: parts accepted so far. */
  | { kind: 'retry'; connector?: string; status?: number; error: string; at: Date; progress?: PartProgress }
  /** Permanent failure, or the attempt limit reached. */
  | { kind: 'failed'; connector?: string; status?: number; error: string; attemptLimit?: boolean; progress?: PartProgress }
  | { kind: 'expired' }
  /** Not attempted: waits behind an earlier message of the batch that must be retried. */
  | { kind: 'deferred'; until: Date }
  /**
   * Not attempted: nothing to send it over (no connector of its route bound), so it and the rest
   * of its destination wait until `until`. No attempt and no history entry: an outage of hours
   * would otherwise fill the history with waits and push out what happened before. `error` (the
   * head's) says why it waits.
   */
  | { kind: 'waiting'; until: Date; error?: string }
  /** Not attempted (shutdown, lease no longer safe, target not available here): back to the queue as it was. */
  | { kind: 'released' };

export interface WriteContext {
  now: Date;
  by: string;
  historyLimit: number;
}

function push(record: AttemptRecord, limit: number): Document {
  return { history: { $each: [record], $slice: -limit } };
}

function errorField(decision: { status?: number; error: string }): Document {
  return decision.status === undefined ? { message: decision.error } : { status: decision.status, message: decision.error };
}

function optional(value: unknown, key: string): Document {
  return value === undefined ? {} : { [key]: value };
}

/** The update (without its fencing filter) that records `decision` on `sms`. */
export function updateFor(sms: SmsDocument, decision: BatchDecision, ctx: WriteContext): Document {
  const { now, by, historyLimit } = ctx;
  switch (decision.kind) {
    case 'accepted': {
      const { connector, remoteIds, final } = decision;
      const remote = {
        connector,
        messageId: remoteIds[0] ?? '',
        submittedAt: now,
        ...(remoteIds.length > 1 ? { otherIds: remoteIds.slice(1) } : {}),
      };
      return {
        $set: final
          ? { state: SmsState.delivered, finalAt: now, remote, ...receiptDueSet(sms, true) }
          : { state: SmsState.submitted, remote },
        $unset: { lock: '', error: '', progress: '' },
        $inc: { attempts: 1 },
        $push: push({ at: now, by, outcome: final ? 'delivered' : 'submitted', connector, status: 0 }, historyLimit),
      };
    }
    case 'retry': {
      const { connector, status, error, at, progress } = decision;
      return {
        $set: {
          state: SmsState.queued,
          nextAttemptAt: at,
          error: errorField(decision),
          ...optional(progress, 'progress'),
          ...receiptDueSet(sms, false),
        },
        $unset: progress ? { lock: '' } : { lock: '', progress: '' },
        $inc: { attempts: 1 },
        $push: push(
          { at: now, by, outcome: 'retry', ...optional(connector, 'connector'), ...optional(status, 'status'), error },
          historyLimit,
        ),
      };
    }
    case 'failed': {
      const { connector, status, error, attemptLimit, progress } = decision;
      return {
        $set: {
          state: SmsState.undeliverable,
          finalAt: now,
          error: errorField(decision),
          ...optional(progress, 'progress'),
          ...receiptDueSet(sms, true),
        },
        $unset: { lock: '' },
        $inc: { attempts: 1 },
        $push: push(
          {
            at: now,
            by,
            outcome: attemptLimit ? 'attempt-limit' : 'undeliverable',
            ...optional(connector, 'connector'),
            ...optional(status, 'status'),
            error,
          },
          historyLimit,
        ),
      };
    }
    case 'expired':
      return {
        $set: { state: SmsState.expired, finalAt: now, ...receiptDueSet(sms, true) },
        $unset: { lock: '' },
        $push: push({ at: now, by, outcome: 'expired' }, historyLimit),
      };
    case 'deferred':
      return {
        $set: { state: SmsState.queued, nextAttemptAt: decision.until },
        $unset: { lock: '' },
        $push: push({ at: now, by, outcome: 'deferred' }, historyLimit),
      };
    case 'waiting':
      return {
        $set: { state: SmsState.queued, nextAttemptAt: decision.until, ...(decision.error ? { error: { message: decision.error } } : {}) },
        $unset: { lock: '' },
      };
    case 'released':
      return { $set: { state: SmsState.queued }, $unset: { lock: '' } };
  }
}

/** One message's outcome, fenced on the token of the batch that holds it. */
export interface FencedUpdate {
  id: ObjectId;
  token: string;
  update: Document;
}

/**
 * Step e for the batches of one flush, in one command.
 *
 * filter:  each updateOne: {_id, lock.token: <its batch's token>} (one unordered bulkWrite)
 * update:  the decision's update (see updateFor); every kind unsets `lock`
 * returns: matchedCount; a miss = that batch lost its lease on the message (or a retried write had
 *          already landed): it writes nothing.
 * safe:    fenced on the lock token, so a holder whose lease was taken over cannot overwrite the
 *          new holder's result; every update unsets the lock, so a write sent again after a lost
 *          answer misses its fence and changes nothing.
 */
export async function applyOutcomes(sms: Collection<SmsDocument>, updates: readonly FencedUpdate[]): Promise<number> {
  if (updates.length === 0) return 0;
  const result = await sms.bulkWrite(
    updates.map(({ id, token, update }) => ({ updateOne: { filter: { _id: id, 'lock.token': token }, update } })),
    { ordered: false },
  );
  return result.matchedCount;
}
