import type { Collection, Db, Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';
import { CallbackAccounts } from '../accounts/callback-accounts.ts';
import { HTTP_EVENT_KEY, httpTargetFor } from '../accounts/callback-targets.ts';
import type { EventDocument } from '../domain/sms-document.ts';
import { moDestKey, subscriberKey, type MoRoutes } from '../routing/mo-routes.ts';

/**
 * Routes MO messages stored without an ESME (deliver_sm from peers bound to an inserter, or MO
 * that arrived before its route existed). Each assignment is a CAS on the unrouted, queued
 * state, so several processes may run it at once.
 */
/**
 * Due MO still waiting for a route to an ESME. Its equalities match the partial index
 * `unrouted_mo` (src/store/collections.ts), so the sweep reads only these, never the whole queue.
 */
export function unroutedMoFilter(now: Date): Filter<SmsDocument> {
  return { state: SmsState.queued, nextAttemptAt: { $lte: now }, 'target.kind': 'esme', 'target.systemId': '' };
}

export class MoAssigner {
  readonly #sms: Collection<SmsDocument>;
  readonly #clock: Clock;
  readonly #routes: MoRoutes;
  readonly #logger: Logger;
  readonly #retryMs: number;
  readonly #callbacks: CallbackAccounts;
  readonly #events: Collection<EventDocument>;

  constructor(db: Db, clock: Clock, routes: MoRoutes, logger: Logger, options: { retryMs?: number } = {}) {
    this.#sms = db.collection<SmsDocument>(Collections.sms);
    this.#events = db.collection<EventDocument>(Collections.events);
    this.#callbacks = new CallbackAccounts(db);
    this.#clock = clock;
    this.#routes = routes;
    this.#logger = logger;
    this.#retryMs = options.retryMs ?? 30_000;
  }

  /** One pass; returns how many messages got an ESME. */
  async runOnce(limit = 100): Promise<number> {
    const now = this.#clock.now();
    const unrouted = await this.#sms
      .find(unroutedMoFilter(now), { projection: { _id: 1, destKey: 1, source: 1 } })
      .limit(limit)
      .toArray();
    let routed = 0;
    let toHttp = 0;
    for (const doc of unrouted) {
      const esme = await this.#routes.esmeFor(doc.destKey);
      // An account with HTTP callbacks takes its MO as POSTs (src/callbacks), else over its SMPP binds.
      const http = esme ? await httpTargetFor(this.#callbacks, esme, subscriberKey(doc.source)) : null;
      // filter: {_id, state: 'queued', target.systemId: ''} (still unrouted)
      // update: routed -> {target.systemId, destKey: esme:<id>:<subscriber>} (or an http target and
      //         http:<id>:<subscriber>); no route -> look again after retryMs
      // returns: modifiedCount; 0 = another process routed it (or it expired) meanwhile.
      // safe:    a CAS on 'queued' and an empty systemId: of racing assigners one routes it, the
      //          others miss (a "no route" write that lands first only moves nextAttemptAt, and the
      //          routing one still applies after it). No deliverer claims it before: every claim
      //          filter names bound systemIds, never ''. A batch that read it under its old destKey
      //          cannot lock it after (the batch lock is fenced on destKey).
      const result = await this.#sms.updateOne(
        { _id: doc._id, state: SmsState.queued, 'target.systemId': '' },
        http
          ? { $set: { target: http.target, destKey: http.destKey, nextAttemptAt: now } }
          : esme
            ? { $set: { 'target.systemId': esme, destKey: moDestKey(esme, doc.source), nextAttemptAt: now } }
            : { $set: { nextAttemptAt: new Date(now.getTime() + this.#retryMs) } },
      );
      if (esme) routed += result.modifiedCount;
      if (http) toHttp += result.modifiedCount;
    }
    // filter:  none: an insert of one wake-up event (w: 1, a failure ignored)
    // insert:  {ts, count, destKey: the HTTP callback key, due: now}
    // returns: nothing.
    // safe:    only a hint to the HTTP callback sender; a lost or repeated one costs a wasted poll.
    if (toHttp > 0)
      await this.#events
        .insertOne({ ts: now, count: toHttp, destKey: HTTP_EVENT_KEY, due: now }, { writeConcern: { w: 1 } })
        .catch(() => undefined);
    if (unrouted.length > routed) this.#logger.debug({ unrouted: unrouted.length - routed }, 'MO messages without an ESME route');
    return routed;
  }
}
