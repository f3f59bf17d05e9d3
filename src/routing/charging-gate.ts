import type { Collection, Db, Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { maskMsisdn } from '../codec/index.ts';
import type { SubmitOutcome } from '../domain/submit-outcome.ts';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import type { ChargingConfig } from '../config/types.ts';
import { ChargingClient } from './charging-client.ts';
import type { RoutingDecision } from './decide-route.ts';

/** Who the history says asked (`history.by`). */
export const CHARGING_BY = 'charging';

type NotAccepted = Exclude<SubmitOutcome, { kind: 'accepted' }>;

/**
 * Charged routes: before a message's first submit, ask the charging endpoint. A yes is written
 * to the message (`charge`, and a `charged` line in its history) before anything is sent, so a
 * retry never asks twice; a no becomes a permanent outcome (the message ends undeliverable with
 * the reason in its history); no answer becomes a temporary one (asked again on the next attempt).
 */
export class ChargingGate {
  readonly #sms: Collection<SmsDocument>;
  readonly #client: ChargingClient | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;

  constructor(db: Db, client: ChargingClient | undefined, clock: Clock, logger: Logger) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#client = client;
    this.#clock = clock;
    this.#logger = logger;
  }

  /**
   * null: go ahead and submit; otherwise the outcome to record instead.
   *
   * One write, when the endpoint accepted (see the comment at the call):
   * filter:  {_id, lock.token: <our claim's token>}; a document without `lock`: {_id}
   * update:  {$set: {charge, routing}, $push: {history: charged}}
   * returns: matchedCount; 0 = our lease was taken over: a temporary outcome, no submit.
   * safe:    fenced on the lock token, so a holder that lost its lease records nothing on the new
   *          holder's message. A document without `lock` (never so for a batch member: the round
   *          gives each its lock) falls back to {_id}, unfenced. A repeat adds a second history entry.
   */
  async check(sms: SmsDocument, decision: RoutingDecision, connector: string, signal: AbortSignal): Promise<NotAccepted | null> {
    if (!decision.charged || sms.charge?.result === 'accepted') return null;
    const route = decision.route?.id;
    if (!this.#client) {
      this.#logger.warn({ route }, 'a charged route matched but no charging endpoint is configured (CHARGING_URL); the message waits');
      return { kind: 'temporary', connector, error: 'charged route, but no charging endpoint is configured' };
    }
    const now = this.#clock.now();
    const answer = await this.#client.charge(
      {
        messageId: sms.messageId,
        account: sms.account,
        from: sms.source.addr,
        to: sms.dest.addr,
        ...(route ? { route } : {}),
        connector,
        ...(sms.concat ? { part: { seq: sms.concat.seq, total: sms.concat.total } } : {}),
        dataCoding: sms.payload.dataCoding,
        at: now.toISOString(),
      },
      signal,
    );
    if (answer.kind === 'refused') {
      this.#logger.info({ messageId: sms.messageId, dest: maskMsisdn(sms.dest.addr), reason: answer.reason }, 'charging refused a message');
      return { kind: 'permanent', connector, error: `charging refused: ${answer.reason}` };
    }
    if (answer.kind === 'unavailable') {
      this.#logger.warn(
        { messageId: sms.messageId, endpoint: this.#client.target, reason: answer.reason },
        'charging endpoint gave no answer; retrying later',
      );
      return { kind: 'temporary', connector, error: `charging unavailable: ${answer.reason}` };
    }
    const charge = { at: now, result: 'accepted' as const, ...(answer.reference ? { reference: answer.reference } : {}) };
    // filter: {_id, lock.token: <our claim's token>} (fenced: only the holder of the claim writes)
    // update: {$set: {charge, routing}, $push: {history: charged}}
    // returns: matchedCount; 0 = our lease was taken over, so we must not submit (the new holder
    //          asks again; the endpoint sees the same messageId and can tell it is a repeat).
    const filter: Filter<SmsDocument> = sms.lock ? { _id: sms._id, 'lock.token': sms.lock.token } : { _id: sms._id };
    const result = await this.#sms.updateOne(filter, {
      $set: { charge, routing: { ...(route ? { route } : {}), action: 'deliver' } },
      $push: {
        history: {
          at: now,
          by: CHARGING_BY,
          outcome: 'charged',
          connector,
          detail: `route ${route ?? '(none)'}${answer.reference ? `, reference ${answer.reference}` : ''}`,
        },
      },
    });
    if (result.matchedCount === 0) return { kind: 'temporary', connector, error: 'lease lost while charging' };
    return null;
  }
}

/** The gate a deliverer uses: asking `charging.url` (CHARGING_URL) when set; without it charged messages wait. */
export function createChargingGate(db: Db, config: ChargingConfig, clock: Clock, logger: Logger): ChargingGate {
  const client = config.url ? new ChargingClient({ url: config.url, timeoutMs: config.timeoutMs }) : undefined;
  return new ChargingGate(db, client, clock, logger);
}
