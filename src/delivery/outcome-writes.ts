import type { Document } from 'mongodb';
import { SmsState, type AttemptRecord, type SmsDocument } from '../store/sms-document.ts';
import { backoffMs, type DeliveryOptions } from './delivery-options.ts';
import type { SubmitOutcome } from './submit-outcome.ts';
import { receiptDueSet } from '../receipts/receipt-hooks.ts';

/** What the round decided for one message of a batch. */
export type BatchDecision =
  | { kind: 'submitted'; outcome: Extract<SubmitOutcome, { kind: 'accepted' }> }
  /** `at`: when to retry; the rest of the destination waits for exactly this moment too. */
  | { kind: 'retry'; outcome: Extract<SubmitOutcome, { kind: 'temporary' }>; at?: Date }
  | { kind: 'failed'; outcome: Extract<SubmitOutcome, { kind: 'permanent' }> }
  | { kind: 'expired' }
  /** Not attempted: waits behind an earlier message of the batch that must be retried. */
  | { kind: 'deferred'; until: Date }
  /** Not attempted (shutdown, lost lease): back to the queue as it was. */
  | { kind: 'released' };

export interface WriteContext {
  now: Date;
  by: string;
  options: Pick<DeliveryOptions, 'backoffBaseMs' | 'backoffMaxMs' | 'maxAttempts' | 'historyLimit'>;
}

/** When a message that failed temporarily is tried again (never after its validity ends). */
export function retryAt(sms: Pick<SmsDocument, 'attempts' | 'validUntil'>, ctx: Pick<WriteContext, 'now' | 'options'>): Date {
  const next = ctx.now.getTime() + backoffMs(sms.attempts + 1, ctx.options);
  return new Date(Math.min(next, sms.validUntil.getTime()));
}

function push(record: AttemptRecord, limit: number): Document {
  return { history: { $each: [record], $slice: -limit } };
}

function errorField(outcome: { status?: number; error: string }): Document {
  return outcome.status === undefined ? { message: outcome.error } : { status: outcome.status, message: outcome.error };
}

/** The fenced update (without its filter) that records `decision` on `sms`. */
export function updateFor(sms: SmsDocument, decision: BatchDecision, ctx: WriteContext): Document {
  const { now, by, options } = ctx;
  const limit = options.historyLimit;
  switch (decision.kind) {
    case 'submitted': {
      const { connector, remoteId } = decision.outcome;
      return {
        $set: { state: SmsState.submitted, remote: { connector, messageId: remoteId, submittedAt: now, ...(decision.outcome.otherRemoteIds?.length ? { otherIds: decision.outcome.otherRemoteIds } : {}) } },
        $unset: { lock: '', error: '' },
        $inc: { attempts: 1 },
        $push: push({ at: now, by, outcome: 'submitted', connector, status: 0 }, limit),
      };
    }
    case 'retry': {
      const { connector, status, error } = decision.outcome;
      const record: AttemptRecord = { at: now, by, outcome: 'retry', ...(connector ? { connector } : {}), ...(status !== undefined ? { status } : {}), error };
      if (sms.attempts + 1 >= options.maxAttempts) {
        return {
          $set: { state: SmsState.undeliverable, finalAt: now, error: { ...errorField(decision.outcome), message: `attempt limit reached (${options.maxAttempts}): ${error}` }, ...receiptDueSet(sms, true) },
          $unset: { lock: '' },
          $inc: { attempts: 1 },
          $push: push({ ...record, outcome: 'attempt-limit' }, limit),
        };
      }
      return {
        $set: { state: SmsState.queued, nextAttemptAt: decision.at ?? retryAt(sms, ctx), error: errorField(decision.outcome), ...receiptDueSet(sms, false) },
        $unset: { lock: '' },
        $inc: { attempts: 1 },
        $push: push(record, limit),
      };
    }
    case 'failed': {
      const { connector, status, error } = decision.outcome;
      return {
        $set: { state: SmsState.undeliverable, finalAt: now, error: errorField(decision.outcome), ...receiptDueSet(sms, true) },
        $unset: { lock: '' },
        $inc: { attempts: 1 },
        $push: push({ at: now, by, outcome: 'undeliverable', ...(connector ? { connector } : {}), ...(status !== undefined ? { status } : {}), error }, limit),
      };
    }
    case 'expired':
      return {
        $set: { state: SmsState.expired, finalAt: now, ...receiptDueSet(sms, true) },
        $unset: { lock: '' },
        $push: push({ at: now, by, outcome: 'expired' }, limit),
      };
    case 'deferred':
      return {
        $set: { state: SmsState.queued, nextAttemptAt: decision.until },
        $unset: { lock: '' },
        $push: push({ at: now, by, outcome: 'deferred' }, limit),
      };
    case 'released':
      return { $set: { state: SmsState.queued }, $unset: { lock: '' } };
  }
}
