import type { Collection, Filter } from 'mongodb';
import type { DbNow } from '../domain/clock.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';
import { lockExpression } from './expressions.ts';

/** What a claim returns: enough to take the destination and collect the batch, which reads the documents. */
export type ClaimedMessage = Pick<SmsDocument, '_id' | 'destKey' | 'state' | 'lock' | 'scheduledAt'>;

export interface ClaimRequest {
  /** Narrows the kind of traffic this worker serves (connectors, ESMEs bound here, …). */
  claimFilter: Filter<SmsDocument>;
  /** Destinations this round already found busy, and those other lanes of this process hold. */
  excluded: readonly string[];
  owner: string;
  token: string;
  leaseMs: number;
  /** Due times are this host's time (bounded by the clock-offset check); only leases use the database's. */
  dueBy: Date;
  dbNow: DbNow;
}

/**
 * Step a: CAS-lock the most urgent due message outside the excluded destinations.
 *
 * filter:  {...claimFilter, state: 'queued', nextAttemptAt <= dueBy, destKey ∉ excluded}
 * update:  pipeline {$set: {state: 'locked', lock: {owner, token, at: NOW, leaseUntil: NOW + lease}}}
 * sort:    {priority: -1, nextAttemptAt: 1} (index `claim`)
 * returns: the claimed document after the update, only {_id, destKey, state, lock, scheduledAt}; null = nothing
 *          due outside `excluded`.
 * safe:    one findAndModify is atomic per document: of racing claimers exactly one sees `queued`.
 *          The claim does not give the right to deliver; the destination lock does (step b).
 */
export function claimOne(sms: Collection<SmsDocument>, request: ClaimRequest): Promise<ClaimedMessage | null> {
  const { claimFilter, excluded, owner, token, leaseMs, dueBy, dbNow } = request;
  return sms.findOneAndUpdate(
    {
      ...claimFilter,
      state: SmsState.queued,
      nextAttemptAt: { $lte: dueBy },
      ...(excluded.length > 0 ? { destKey: { $nin: [...excluded] } } : {}),
    },
    [{ $set: { state: SmsState.locked, lock: lockExpression(owner, token, leaseMs, dbNow) } }],
    {
      sort: { priority: -1, nextAttemptAt: 1 },
      returnDocument: 'after',
      projection: { _id: 1, destKey: 1, state: 1, lock: 1, scheduledAt: 1 },
    },
  ) as Promise<ClaimedMessage | null>;
}
