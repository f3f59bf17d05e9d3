import type { Collection, Db, WriteConcern } from 'mongodb';
import type { AccountLimits } from '../accounts/account.ts';
import type { Clock } from '../domain/clock.ts';
import {
  buildSmsDocuments,
  DEFAULT_SUBMIT_POLICY,
  prepareMessage,
  validateDestination,
  type SubmitPolicy,
  type ValidDestination,
} from '../submission/submit-validation.ts';
import type { Logger } from '../logging/logger.ts';
import { ESME_EVENT_KEY } from '../receipts/receipt-emitter.ts';
import type { MoSink } from '../receipts/receipt-intake.ts';
import type { ShortMessage } from '../smpp/domain.ts';
import { Collections } from '../store/collections.ts';
import type { EventDocument, SmsDocument } from '../domain/sms-document.ts';
import { CallbackAccounts } from '../accounts/callback-accounts.ts';
import { HTTP_EVENT_KEY, httpTargetFor } from '../accounts/callback-targets.ts';
import { moDestKey, subscriberKey, type MoRoutes } from '../routing/mo-routes.ts';

export interface MoIntakeDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  routes: MoRoutes;
  /** Default `{w: 'majority', j: true}`: the deliver_sm_resp promises the message is stored. */
  writeConcern?: WriteConcern;
  /** Validity of MO messages waiting for their ESME. Default 72 h. */
  validityMs?: number;
  /** The opt-out flow (src/policy/opt-out.ts): sees every MO before it is stored. */
  optOut?: { handle(msg: ShortMessage): Promise<unknown> };
}

/**
 * Mobile-originated deliver_sm / data_sm from a connector: validated like any message, stored as
 * `direction: 'mo'` (one document per part, linked), routed to an ESME by the routes, and only
 * then acknowledged. Without a matching ESME route it is stored unrouted and the MoAssigner
 * routes it when a route appears (until its validity ends).
 */
export class MoIntake implements MoSink {
  readonly #deps: MoIntakeDeps;
  readonly #sms: Collection<SmsDocument>;
  readonly #events: Collection<EventDocument>;
  readonly #callbacks: CallbackAccounts;

  constructor(deps: MoIntakeDeps) {
    this.#deps = deps;
    this.#sms = deps.db.collection<SmsDocument>(Collections.sms);
    this.#events = deps.db.collection<EventDocument>(Collections.events);
    this.#callbacks = new CallbackAccounts(deps.db);
  }

  /**
   * Stores one MO (its parts) and wakes the ESME or HTTP deliverers; resolves before it is acknowledged.
   *
   * filter:  none: two inserts
   * insert:  the parts (new _ids; ordered; the store's write concern, default majority + journal),
   *          then one wake-up event {ts, count, destKey: ESME or HTTP key, due} (w: 1, a failure ignored)
   * returns: the first part's message_id.
   * safe:    new documents no other writer knows; deliverers find them by claim. Not idempotent: a
   *          deliver_sm the peer sends again (its resp lost, or this insert failed after storing
   *          some parts) is stored again, as SMPP's at-least-once delivery allows. The event is a hint.
   */
  async store(connector: string, msg: ShortMessage): Promise<string> {
    const now = this.#deps.clock.now();
    const peer: AccountLimits = { systemId: connector, tps: 0, maxBinds: 0, sourceAllow: [], maxQueued: 0 };
    const policy = {
      ...DEFAULT_SUBMIT_POLICY,
      defaultValidityMs: this.#deps.validityMs ?? 72 * 3600_000,
      maxValidityMs: 7 * 24 * 3600_000,
    };
    const prepared = prepareMessage(msg, 'deliver_sm', peer, now, policy);
    const docs = buildSmsDocuments(prepared, moDestination(msg.dest, policy));
    // Before the MO is stored: should the opt-out fail to store, the MO is not acknowledged and comes again.
    await this.#deps.optOut?.handle(msg);
    const esme = await this.#deps.routes.esmeFor(docs[0].destKey);
    // An account with HTTP callbacks takes its MO as POSTs (src/callbacks), else over its SMPP binds.
    const http = esme ? await httpTargetFor(this.#callbacks, esme, subscriberKey(docs[0].source)) : null;
    if (esme) {
      for (const doc of docs) {
        doc.target = http ? http.target : { kind: 'esme', systemId: esme };
        doc.destKey = http ? http.destKey : moDestKey(esme, doc.source);
      }
    } else {
      this.#deps.logger.warn({ connector }, 'MO without an ESME route; stored until one is added');
    }
    await this.#sms.insertMany(docs, { ordered: true, writeConcern: this.#deps.writeConcern ?? { w: 'majority', j: true } });
    await this.#events
      .insertOne({ ts: now, count: docs.length, destKey: http ? HTTP_EVENT_KEY : ESME_EVENT_KEY, due: now }, { writeConcern: { w: 1 } })
      .catch(() => undefined);
    return docs[0].messageId;
  }
}

/**
 * MO goes to short codes and service numbers that operators often flag as international (TON 1),
 * which a subscriber-number check rejects; any digit string is a usable MO destination.
 */
function moDestination(dest: ShortMessage['dest'], policy: SubmitPolicy): ValidDestination {
  try {
    return validateDestination(dest, policy);
  } catch (error) {
    if (/^\+?\d{1,20}$/.test(dest.addr)) return { dest: { ...dest }, destKey: dest.addr.replace(/^\+/, '') };
    throw error;
  }
}
