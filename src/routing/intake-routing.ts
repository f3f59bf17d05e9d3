import { Binary } from 'mongodb';
import type { Clock } from '../domain/clock.ts';
import { ESM_CLASS_UDHI, splitText } from '../codec/index.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { moDestKey } from './mo-routes.ts';
import { receiptIdFor } from '../receipts/receipt-builder.ts';
import { receiptDueSet } from '../domain/receipt-hooks.ts';
import { messageIdOf, SmsDirection, SmsState, type AttemptRecord, type SmsDocument, RECEIPT_ACCOUNT } from '../domain/sms-document.ts';
import type { RoutingDecision } from './decide-route.ts';
import { routingRequestOf } from './message-request.ts';
import { RouteAction, type IntakeKindName } from './route-document.ts';
import type { Router } from './router.ts';

/** `history.by` of what routing did to a message. */
export const ROUTING_BY = 'routing';

export interface IntakeRoutingOptions {
  /** How long an auto-reply waits for its ESME to bind (receiver or transceiver). Default 72 h. */
  replyValidityMs: number;
}

const DEFAULT_REPLY_VALIDITY_MS = 72 * 3600_000;

/**
 * The auto-reply to `original` (all parts of a long reply): an MO message from the original
 * destination to the original source, for the ESME that submitted it. Ids derive from the
 * original's `_id`, so storing the same submission twice cannot make two replies.
 */
export function buildAutoReply(
  original: SmsDocument,
  text: string,
  now: Date,
  validityMs = DEFAULT_REPLY_VALIDITY_MS,
  route?: string,
): SmsDocument[] {
  const reference = original._id.id[11];
  const { dataCoding, parts } = splitText(text, { strategy: 'udh8', reference });
  const groupId = `${RECEIPT_ACCOUNT}:auto-reply:${original.messageId}`;
  return parts.map((part) => {
    const _id = receiptIdFor(original._id, `auto-reply:${part.sequence}`);
    // Ids derived from the original do not sort like the parts: arrival times, 1 ms apart, keep them in order.
    const at = new Date(now.getTime() + part.sequence - 1);
    const doc: SmsDocument = {
      _id,
      messageId: messageIdOf(_id),
      direction: SmsDirection.mo,
      // Kept apart from the ESME's own backlog (as receipts are).
      account: RECEIPT_ACCOUNT,
      arrivedAt: at,
      source: { ...original.dest },
      dest: { ...original.source },
      destKey: moDestKey(original.account, original.dest),
      priority: 0,
      registeredDelivery: 0,
      validUntil: new Date(now.getTime() + validityMs),
      nextAttemptAt: at,
      attempts: 0,
      state: SmsState.queued,
      target: { kind: 'esme', systemId: original.account },
      payload: { dataCoding, esmClass: part.esmClassUdhi ? ESM_CLASS_UDHI : 0, shortMessage: new Binary(part.shortMessage) },
      history: [{ at: now, by: ROUTING_BY, outcome: 'auto-reply', detail: `reply to ${original.messageId}` }],
      routing: { action: RouteAction.autoReply, ...(route ? { route } : {}) },
    };
    if (parts.length > 1) doc.concat = { groupId, ref: reference, total: part.total, seq: part.sequence };
    return doc;
  });
}

/**
 * What a drop or auto-reply decision does to the documents of one submitted message (its
 * parts) before they are stored: they are stored already final — `rejected` (drop) or
 * `delivered` (auto-reply: the SMSC itself answered) — with `receiptDue` when the ESME asked for
 * a receipt, so the receipt outbox sends exactly one REJECTD or DELIVRD receipt per part. Returns
 * the documents to store (the parts, then any reply), or undefined when the decision delivers.
 */
export function applyIntakeDecision(
  docs: SmsDocument[],
  decision: RoutingDecision,
  now: Date,
  options: Partial<IntakeRoutingOptions> = {},
): SmsDocument[] | undefined {
  if (decision.action !== RouteAction.drop && decision.action !== RouteAction.autoReply) return undefined;
  const route = decision.route?.id;
  const dropped = decision.action === RouteAction.drop;
  for (const doc of docs) {
    const record: AttemptRecord = {
      at: now,
      by: ROUTING_BY,
      outcome: dropped ? 'dropped' : 'auto-replied',
      ...(dropped ? { error: `dropped by route ${route ?? ''}`.trim() } : {}),
      ...(route ? { detail: `route ${route}` } : {}),
    };
    Object.assign(doc, {
      state: dropped ? SmsState.rejected : SmsState.delivered,
      finalAt: now,
      history: [...doc.history, record],
      routing: { ...(route ? { route } : {}), action: decision.action },
      ...receiptDueSet(doc, true),
    });
    if (dropped) doc.error = { message: record.error };
  }
  if (dropped) return docs;
  return [...docs, ...buildAutoReply(docs[0], decision.replyText ?? '', now, options.replyValidityMs, route)];
}

/**
 * Drop and auto-reply at intake, for any intake path (SMPP submits, the HTTP API): one call per
 * submitted message before it is stored. Decided on the routes in memory (reloaded in the
 * background), so the submit path never waits on a routes query.
 */
export class IntakeRouting {
  readonly #router: Router;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #metrics: Metrics;
  readonly #options: IntakeRoutingOptions;

  constructor(router: Router, clock: Clock, logger: Logger, metrics: Metrics, options: Partial<IntakeRoutingOptions> = {}) {
    this.#router = router;
    this.#clock = clock;
    this.#logger = logger;
    this.#metrics = metrics;
    this.#options = { replyValidityMs: options.replyValidityMs ?? DEFAULT_REPLY_VALIDITY_MS };
  }

  /** Loads the routes; a failure is logged and routing starts empty (nothing dropped) until a reload works. */
  async start(): Promise<void> {
    await this.#router
      .ready()
      .catch((error: Error) => this.#logger.warn({ err: error.message }, 'could not load routes yet; intake routing starts without them'));
  }

  /**
   * The documents to store for one submitted message (see applyIntakeDecision), or undefined when
   * no route acts on it at intake and `docs` are stored as they are.
   */
  apply(docs: SmsDocument[], intake: IntakeKindName): SmsDocument[] | undefined {
    if (docs.length === 0 || docs[0].direction !== SmsDirection.mt || !this.#router.hasIntakeActions) return undefined;
    const now = this.#clock.now();
    const decision = this.#router.decideNow(routingRequestOf(docs[0], now, intake));
    const result = applyIntakeDecision(docs, decision, now, this.#options);
    this.#metrics.routeDecisionsTotal.inc({ stage: 'intake', action: result ? decision.action : 'deliver' });
    if (result)
      this.#logger.debug({ messageId: docs[0].messageId, action: decision.action, route: decision.route?.id }, 'route acted at intake');
    return result;
  }
}
