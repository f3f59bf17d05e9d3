import type { Collection, Db, Filter } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import type { Logger } from '../logging/logger.ts';
import { Collections } from '../store/collections.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';
import { assignMoRoute } from '../protocol/mo-routing.ts';
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
      // The write and why it is safe: `assignMoRoute` (src/protocol/mo-routing.ts).
      const modified = await assignMoRoute(
        this.#sms,
        doc._id,
        http
          ? { kind: 'http', target: http.target, destKey: http.destKey }
          : esme
            ? { kind: 'esme', systemId: esme, destKey: moDestKey(esme, doc.source) }
            : { kind: 'none', retryAt: new Date(now.getTime() + this.#retryMs) },
        now,
      );
      if (esme) routed += modified;
      if (http) toHttp += modified;
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
