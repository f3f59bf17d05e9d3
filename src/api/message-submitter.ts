import { ObjectId, type Db } from 'mongodb';
import type { AccountLimits } from '../accounts/account.ts';
import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import { BacklogTracker } from '../inserter/backlog.ts';
import { MessageOps } from '../inserter/message-ops.ts';
import {
  buildSmsDocuments,
  DEFAULT_SUBMIT_POLICY,
  prepareMessage,
  validateDestination,
  type SubmitPolicy,
} from '../submission/submit-validation.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { CommandStatus, commandStatusName } from '../smpp/command-status.ts';
import { commandStatusOf, SmppError } from '../smpp/errors.ts';
import type { GroupCommitWriter } from '../store/group-commit.ts';
import { messageIdOf, type SmsDocument } from '../domain/sms-document.ts';
import type { RateLimiter } from '../throttle/rate-limiter.ts';
import { annotateWithHlr } from '../policy/hlr-annotate.ts';
import { applyIntakeDecision, IntakePolicy, type IntakeDecision } from '../policy/intake-policy.ts';
import type { IntakeRouting } from '../routing/intake-routing.ts';
import { Collections } from '../store/collections.ts';
import { apiErrorOfSubmit, type ApiError } from './api-errors.ts';
import { toSmppForm, type MessageRequest } from './message-request.ts';

/** What one message of a POST came to: stored (its part ids) or refused (why). */
export type ItemOutcome = { ok: true; messageIds: string[] } | { ok: false; error: ApiError };

/** A message that passed the rules, ready to store. */
interface Prepared {
  /** The message's parts (what the answer names). */
  docs: SmsDocument[];
  /** What is stored: the parts, made final by a drop or auto-reply route, and any reply. */
  stored: SmsDocument[];
}

/**
 * The API's way into the store: the inserter's rules (`prepareMessage`, `validateDestination`,
 * `buildSmsDocuments`: same checks, same reasons, same long-message splitting), the same
 * admission (account TPS, backlog cap), the same intake policy and intake routing, and the same
 * group commit, whose write concern is the configured one. A message is answered as stored only
 * once every one of its parts is.
 */
export class MessageSubmitter {
  readonly #writer: GroupCommitWriter;
  readonly #limiter: RateLimiter;
  readonly #backlog: BacklogTracker;
  readonly #ops: MessageOps;
  readonly #policy: SubmitPolicy;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: Metrics;
  readonly #routing: Pick<IntakeRouting, 'apply'> | undefined;
  readonly #intake: IntakePolicy;
  readonly #db: Db;

  constructor(
    deps: {
      db: Db;
      writer: GroupCommitWriter;
      rateLimiter: RateLimiter;
      clock?: Clock;
      logger?: Logger;
      metrics: Metrics;
      routing?: Pick<IntakeRouting, 'apply'>;
      /** Contact policy and HLR lookups (src/policy); default: accept everything. */
      intakePolicy?: IntakePolicy;
    },
    policy: Partial<SubmitPolicy> = {},
  ) {
    this.#db = deps.db;
    this.#routing = deps.routing;
    this.#intake = deps.intakePolicy ?? new IntakePolicy({ metrics: deps.metrics });
    this.#metrics = deps.metrics;
    this.#writer = deps.writer;
    this.#limiter = deps.rateLimiter;
    this.#clock = deps.clock ?? systemClock;
    this.#log = deps.logger ?? silentLogger;
    this.#backlog = new BacklogTracker(deps.db, this.#log, this.#clock);
    this.#ops = new MessageOps(deps.db, deps.writer.writeConcern);
    this.#policy = { ...DEFAULT_SUBMIT_POLICY, ...policy };
  }

  /**
   * Checks and stores `requests` for the account; one outcome per request, in order. `plannedIds`
   * (from an Idempotency-Key record) gives parts the ids an earlier attempt meant them to have,
   * and with `resume` what that attempt stored already (parts, replies) is not written again.
   */
  async submit(
    limits: AccountLimits,
    requests: readonly MessageRequest[],
    options: { plannedIds?: readonly (readonly string[])[]; resume?: boolean; onPrepared?: (ids: string[][]) => Promise<void> } = {},
  ): Promise<ItemOutcome[]> {
    const startedAt = performance.now();
    const now = this.#clock.now();
    const outcomes: (ItemOutcome | Prepared)[] = [];
    const decisions = new Map<Prepared, IntakeDecision>();
    // Per message, in the inserter's order: rules, destination, admission (TPS, backlog), intake
    // policy (contact lists, HLR), then the documents, the policy's verdict on them, and routing.
    for (let i = 0; i < requests.length; i++) {
      try {
        const form = toSmppForm(requests[i], now);
        const prepared = prepareMessage(form.message, 'submit_sm', limits, now, this.#policy);
        const destination = validateDestination(form.dest, this.#policy);
        await this.#admit(limits, prepared.parts.length);
        let decision = this.#intake.check({
          account: limits.systemId,
          registeredOnly: limits.registeredOnly,
          destKey: destination.destKey,
          intake: 'http',
        });
        if (decision instanceof Promise) decision = await decision;
        if (decision.verdict === 'refuse') throw new SmppError(decision.status, decision.message);
        const docs = buildSmsDocuments(prepared, destination);
        const callbackUrl = requests[i].callbackUrl;
        const planned = options.plannedIds?.[i];
        for (let p = 0; p < docs.length; p++) {
          // Routes may match on the intake (a route for HTTP traffic only).
          docs[p].intake = 'http';
          if (callbackUrl) docs[p].callbackUrl = callbackUrl;
          // Same part count as planned (same body, same rules): the parts take the planned ids.
          if (planned && planned.length === docs.length) {
            docs[p]._id = new ObjectId(planned[p]);
            docs[p].messageId = messageIdOf(docs[p]._id);
          }
        }
        applyIntakeDecision(docs, decision, now);
        // A route that drops or auto-replies makes the parts final before they are stored (as for
        // SMPP), unless the policy already did.
        const routed = decision.verdict === 'delivered' ? undefined : this.#routing?.apply(docs, 'http');
        const item: Prepared = { docs, stored: routed ?? docs };
        decisions.set(item, decision);
        outcomes.push(item);
      } catch (error) {
        outcomes.push({ ok: false, error: this.#refused(limits, error) });
      }
    }

    const toStore = outcomes.filter((item): item is Prepared => 'docs' in item);
    if (options.onPrepared) await options.onPrepared(outcomes.map((item) => ('docs' in item ? item.docs.map((d) => d.messageId) : [])));
    let written = toStore.flatMap((item) => item.stored);
    if (options.resume && written.length > 0) {
      // What the attempt that died stored already (parts and replies: their ids derive from the parts').
      const ids = written.map((doc) => doc._id);
      const existing = await this.#db
        .collection<SmsDocument>(Collections.sms)
        .find({ _id: { $in: ids } }, { projection: { _id: 1 } })
        .toArray();
      const stored = new Set(existing.map((doc) => doc._id.toHexString()));
      written = written.filter((doc) => !stored.has(doc.messageId));
    }
    const results = written.length > 0 ? await this.#writer.writeAll(written) : [];
    const failedIds = new Map<string, unknown>();
    let stored = 0;
    for (let i = 0; i < written.length; i++) {
      const result = results[i];
      if (result.status === 'rejected') failedIds.set(written[i].messageId, result.reason);
      else stored++;
    }
    if (stored > 0) this.#backlog.added(limits.systemId, stored);

    const final: ItemOutcome[] = [];
    for (const item of outcomes) {
      if (!('docs' in item)) {
        final.push(item);
        continue;
      }
      const failure = item.stored.map((doc) => failedIds.get(doc.messageId)).find((reason) => reason !== undefined);
      if (failure === undefined) {
        final.push({ ok: true, messageIds: item.docs.map((doc) => doc.messageId) });
        this.#metrics.submitsTotal.inc({ account: limits.systemId, status: 'ok' });
        const decision = decisions.get(item);
        if (decision && this.#intake.needsLookupAfterStore(decision)) void annotateWithHlr(this.#intake, this.#db, item.docs, this.#log);
        continue;
      }
      // Stored in part: take the stored parts back so a resubmission stores it whole, once.
      const storedParts = item.stored.filter((doc) => !failedIds.has(doc.messageId)).map((doc) => doc._id);
      await this.#withdraw(storedParts, item.stored.length);
      final.push({ ok: false, error: this.#refused(limits, failure) });
    }
    this.#metrics.storeLatencySeconds.observe((performance.now() - startedAt) / 1000);
    return final;
  }

  async #admit(limits: AccountLimits, parts: number): Promise<void> {
    if (limits.tps > 0 && !(await this.#limiter.tryAcquire(limits.systemId, limits.tps))) {
      throw new SmppError(CommandStatus.ESME_RTHROTTLED, 'account TPS exceeded');
    }
    if (limits.maxQueued > 0 && (await this.#backlog.isFull(limits.systemId, limits.maxQueued, parts))) {
      throw new SmppError(CommandStatus.ESME_RMSGQFUL, 'account backlog at its cap');
    }
  }

  async #withdraw(ids: ObjectId[], parts: number): Promise<void> {
    if (ids.length === 0) return;
    try {
      const left = await this.#ops.withdraw(ids);
      if (left > 0)
        this.#log.warn(
          { parts, stored: ids.length, left },
          'a message stored in part could not be fully taken back; its resubmission may duplicate parts',
        );
    } catch (error) {
      this.#log.error(
        { err: (error as Error).message, parts, stored: ids.length },
        'could not take back the stored parts of a message that failed',
      );
    }
  }

  #refused(limits: AccountLimits, error: unknown): ApiError {
    const status = commandStatusOf(error);
    this.#metrics.submitsTotal.inc({ account: limits.systemId, status: commandStatusName(status) });
    if (!(error instanceof SmppError) && status === CommandStatus.ESME_RSYSERR) {
      this.#log.warn({ err: (error as Error).message }, 'HTTP submit not stored');
    }
    return apiErrorOfSubmit(error);
  }
}
