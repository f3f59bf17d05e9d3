import type { Document } from 'mongodb';
import { backoffMs } from '../delivery/delivery-options.ts';
import { SmsState, type AttemptRecord, type SmsDocument } from '../store/sms-document.ts';

export interface EsmeDeliveryOptions {
  leaseMs: number;
  batchSize: number;
  /** Retry after an ESME answered deliver_sm with an error or timed out: base, doubling to max. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** After this many failed deliver_sm the message is undeliverable (unbound time does not count). */
  maxAttempts: number;
  historyLimit: number;
  /** deliver_sm_resp wait. */
  responseTimeoutMs: number;
}

export const DEFAULT_ESME_DELIVERY_OPTIONS: Readonly<EsmeDeliveryOptions> = Object.freeze({
  leaseMs: 30_000,
  batchSize: 4,
  backoffBaseMs: 5_000,
  backoffMaxMs: 600_000,
  maxAttempts: 30,
  historyLimit: 20,
  responseTimeoutMs: 10_000,
});

export type EsmeDecision =
  | { kind: 'delivered'; session: string }
  | { kind: 'retry'; session?: string; status?: number; error: string; at: Date }
  | { kind: 'expired' }
  | { kind: 'deferred'; until: Date }
  | { kind: 'released' };

function push(record: AttemptRecord, limit: number): Document {
  return { history: { $each: [record], $slice: -limit } };
}

export function esmeRetryAt(sms: Pick<SmsDocument, 'attempts' | 'validUntil'>, now: Date, options: Pick<EsmeDeliveryOptions, 'backoffBaseMs' | 'backoffMaxMs'>): Date {
  return new Date(Math.min(now.getTime() + backoffMs(sms.attempts + 1, options), sms.validUntil.getTime()));
}

/** The fenced update (filter `{_id, lock.token}` added by MessageLocks.applyFenced) for one decision. */
export function esmeUpdateFor(sms: SmsDocument, decision: EsmeDecision, now: Date, by: string, options: EsmeDeliveryOptions): Document {
  const limit = options.historyLimit;
  switch (decision.kind) {
    case 'delivered':
      return {
        $set: { state: SmsState.delivered, finalAt: now },
        $unset: { lock: '', error: '' },
        $inc: { attempts: 1 },
        $push: push({ at: now, by, outcome: 'delivered', connector: decision.session, status: 0 }, limit),
      };
    case 'retry': {
      const record: AttemptRecord = { at: now, by, outcome: 'retry', error: decision.error, ...(decision.session ? { connector: decision.session } : {}), ...(decision.status !== undefined ? { status: decision.status } : {}) };
      const error = { message: decision.error, ...(decision.status !== undefined ? { status: decision.status } : {}) };
      if (sms.attempts + 1 >= options.maxAttempts) {
        return { $set: { state: SmsState.undeliverable, finalAt: now, error }, $unset: { lock: '' }, $inc: { attempts: 1 }, $push: push({ ...record, outcome: 'attempt-limit' }, limit) };
      }
      return { $set: { state: SmsState.queued, nextAttemptAt: decision.at, error }, $unset: { lock: '' }, $inc: { attempts: 1 }, $push: push(record, limit) };
    }
    case 'expired':
      return { $set: { state: SmsState.expired, finalAt: now }, $unset: { lock: '' }, $push: push({ at: now, by, outcome: 'expired' }, limit) };
    case 'deferred':
      return { $set: { state: SmsState.queued, nextAttemptAt: decision.until }, $unset: { lock: '' } };
    case 'released':
      return { $set: { state: SmsState.queued }, $unset: { lock: '' } };
  }
}
