import type { Clock } from '../domain/clock.ts';
import { systemClock } from '../domain/clock.ts';
import { MessageState } from '../codec/index.ts';
import type { HlrFailurePolicy, HlrPolicyMode } from '../config/types.ts';
import { hlrFieldOf, HlrStatus, type HlrLookup, type SmsHlrField } from '../hlr/hlr-result.ts';
import type { HlrService } from '../hlr/hlr-service.ts';
import type { Logger } from '../logging/logger.ts';
import { silentLogger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import { receiptDueSet } from '../domain/receipt-hooks.ts';
import { CommandStatus } from '../smpp/command-status.ts';
import { SmsState, type SmsDocument } from '../domain/sms-document.ts';
import type { ContactListCache } from './contact-list-cache.ts';
import { digitsOf } from './contact-lists.ts';

/** Why a message was refused at intake; the `reason` label of `smsc_policy_refusals_total`. */
export const RefusalReason = Object.freeze({
  blocklist: 'blocklist',
  optout: 'optout',
  notRegistered: 'not-registered',
  hlrReachable: 'hlr-reachable',
  hlrUnreachable: 'hlr-unreachable',
  hlrInvalid: 'hlr-invalid',
  hlrTimeout: 'hlr-timeout',
  hlrError: 'hlr-error',
} as const);
export type RefusalReasonName = (typeof RefusalReason)[keyof typeof RefusalReason];

/**
 * The SMPP status each refusal answers with (the HTTP intake maps the same reasons). Blocked and
 * HLR-judged destinations are ESME_RINVDSTADR (the number must not be retried); a destination
 * missing from a registration filter is ESME_RPROHIBITED (the account may not send there); a
 * failed lookup is ESME_RX_P_APPN when the policy rejects, ESME_RX_T_APPN when it defers (the
 * ESME resubmits later).
 */
export const REFUSAL_STATUS: Readonly<Record<RefusalReasonName, number>> = Object.freeze({
  blocklist: CommandStatus.ESME_RINVDSTADR,
  optout: CommandStatus.ESME_RINVDSTADR,
  'not-registered': CommandStatus.ESME_RPROHIBITED,
  'hlr-reachable': CommandStatus.ESME_RINVDSTADR,
  'hlr-unreachable': CommandStatus.ESME_RINVDSTADR,
  'hlr-invalid': CommandStatus.ESME_RINVDSTADR,
  'hlr-timeout': CommandStatus.ESME_RX_P_APPN,
  'hlr-error': CommandStatus.ESME_RX_P_APPN,
});

/** One message (destination) arriving through any intake path. */
export interface IntakeRequest {
  /** system_id of the submitting account. */
  account: string;
  /** The account is in registration-filter mode (AccountLimits.registeredOnly). */
  registeredOnly?: boolean;
  /** Normalised destination (`destKey` as stored: `+447700900123`, or national digits). */
  destKey: string;
  /** `smpp`, `http`, …: a metrics label only. */
  intake: string;
}

export type IntakeDecision =
  /** Store and deliver; `hlr` goes on the documents when a lookup was made. */
  | { verdict: 'accept'; hlr?: SmsHlrField }
  /** Answer with `status`; nothing is stored. */
  | { verdict: 'refuse'; status: number; reason: RefusalReasonName; message: string; retry: boolean }
  /** Accept, and store as delivered (no delivery; a DELIVRD receipt if one was asked for). */
  | { verdict: 'delivered'; hlr?: SmsHlrField };

export interface HlrPolicySettings {
  mode: HlrPolicyMode;
  onTimeout: HlrFailurePolicy;
  /** Look numbers up after the ack (when the mode does not need it before) to store the network for routing. */
  routing: boolean;
}

export interface IntakePolicyDeps {
  /** Absent: no contact policy (nothing is blocked, registration filters accept everything). */
  contactLists?: ContactListCache;
  /** Absent: no HLR lookups whatever the settings say. */
  hlr?: HlrService;
  hlrPolicy?: HlrPolicySettings;
  clock?: Clock;
  logger?: Logger;
  /** Where refusals and accepted-as-delivered messages are counted. */
  metrics: Metrics;
}

const ACCEPT: IntakeDecision = Object.freeze({ verdict: 'accept' });

/**
 * The one intake policy every path calls (SMPP submit_sm/data_sm/submit_multi, the HTTP API):
 * contact lists (blocklists, opt-outs, registration filter) first, in memory; then, when the HLR
 * policy needs it, a lookup before the message is acknowledged. Synchronous when no lookup is
 * needed (the common case costs no promise).
 */
export class IntakePolicy {
  readonly #lists: ContactListCache | undefined;
  readonly #hlr: HlrService | undefined;
  readonly #hlrPolicy: HlrPolicySettings;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: Metrics;

  constructor(deps: IntakePolicyDeps) {
    this.#lists = deps.contactLists;
    this.#hlr = deps.hlr;
    this.#hlrPolicy = deps.hlrPolicy ?? { mode: 'off', onTimeout: 'accept', routing: false };
    this.#clock = deps.clock ?? systemClock;
    this.#log = (deps.logger ?? silentLogger).child({ component: 'intake-policy' });
    this.#metrics = deps.metrics;
  }

  /** Whether `check` may look numbers up before the ack. */
  get looksUpBeforeAck(): boolean {
    return this.#hlr !== undefined && this.#hlrPolicy.mode !== 'off';
  }

  check(req: IntakeRequest): IntakeDecision | Promise<IntakeDecision> {
    const refusal = this.#contactRefusal(req);
    if (refusal) return refusal;
    if (!this.looksUpBeforeAck) return ACCEPT;
    return this.#hlr!.lookup(digitsOf(req.destKey)).then((lookup) => this.#judge(req, lookup));
  }

  /**
   * After the ack: with `hlr.routing` and no lookup before it, looks the destination up and stores
   * `hlr` on messages still queued (best effort: a message a deliverer took meanwhile goes without).
   */
  needsLookupAfterStore(decision: IntakeDecision): boolean {
    return this.#hlr !== undefined && this.#hlrPolicy.routing && decision.verdict === 'accept' && decision.hlr === undefined;
  }

  async lookupForRouting(destKey: string): Promise<SmsHlrField | undefined> {
    if (!this.#hlr) return undefined;
    const lookup = await this.#hlr.lookup(digitsOf(destKey));
    return lookup.outcome === 'ok' ? hlrFieldOf(lookup, this.#clock.now()) : undefined;
  }

  #contactRefusal(req: IntakeRequest): IntakeDecision | undefined {
    const lists = this.#lists;
    if (!lists) return undefined;
    const digits = digitsOf(req.destKey);
    const hit = lists.blocked(req.account, digits);
    if (hit) {
      const reason = hit.source === 'optout' ? RefusalReason.optout : RefusalReason.blocklist;
      const scope = hit.account === '' ? 'global' : 'account';
      const what =
        reason === RefusalReason.optout
          ? 'the subscriber opted out'
          : `destination on the ${scope} blocklist${hit.match === 'prefix' ? ` (prefix ${hit.value})` : ''}`;
      return this.#refuse(req, reason, what);
    }
    if (req.registeredOnly && !lists.registered(req.account, digits)) {
      return this.#refuse(req, RefusalReason.notRegistered, 'destination not registered for this account');
    }
    return undefined;
  }

  #judge(req: IntakeRequest, lookup: HlrLookup): IntakeDecision {
    const hlr = hlrFieldOf(lookup, this.#clock.now());
    const { mode, onTimeout } = this.#hlrPolicy;
    if (lookup.outcome !== 'ok') {
      const reason = lookup.outcome === 'timeout' ? RefusalReason.hlrTimeout : RefusalReason.hlrError;
      if (onTimeout === 'reject') return this.#refuse(req, reason, `HLR lookup ${lookup.outcome}`);
      if (onTimeout === 'defer') return this.#refuse(req, reason, `HLR lookup ${lookup.outcome}; resubmit later`, true);
      // accept: what the mode does with a number it accepts.
      return mode === 'reverse' ? this.#delivered(req, hlr) : { verdict: 'accept', hlr };
    }
    const status = lookup.result.status;
    if (mode === 'reject-unreachable') {
      if (status === HlrStatus.reachable) return { verdict: 'accept', hlr };
      return this.#refuse(req, status === HlrStatus.invalid ? RefusalReason.hlrInvalid : RefusalReason.hlrUnreachable, `HLR: ${status}`);
    }
    // reverse (the seed's table): a valid, reachable number is refused; anything else is accepted as delivered.
    if (status === HlrStatus.reachable) return this.#refuse(req, RefusalReason.hlrReachable, 'HLR: reachable (reverse mode)');
    return this.#delivered(req, hlr);
  }

  #delivered(req: IntakeRequest, hlr: SmsHlrField): IntakeDecision {
    this.#metrics.policyDeliveredTotal.inc({ account: req.account });
    return { verdict: 'delivered', hlr };
  }

  #refuse(req: IntakeRequest, reason: RefusalReasonName, message: string, retry = false): IntakeDecision {
    this.#metrics.policyRefusalsTotal.inc({ account: req.account, reason, intake: req.intake });
    this.#log.debug({ account: req.account, reason }, 'message refused by policy');
    return { verdict: 'refuse', status: retry ? CommandStatus.ESME_RX_T_APPN : REFUSAL_STATUS[reason], reason, message, retry };
  }
}

/**
 * Puts an accepting decision on the documents about to be stored: the HLR answer (`hlr`), and
 * for `delivered` the final state with its receipt flag, so the receipt outbox sends DELIVRD.
 */
export function applyIntakeDecision(docs: SmsDocument[], decision: IntakeDecision, now: Date): void {
  if (decision.verdict === 'refuse') throw new Error('a refused message is not stored');
  for (const doc of docs) {
    const target = doc as SmsDocument & { finalStat?: number; receiptDue?: boolean };
    if (decision.hlr) target.hlr = decision.hlr;
    if (decision.verdict === 'delivered') {
      target.state = SmsState.delivered;
      target.finalAt = now;
      target.finalStat = MessageState.DELIVERED;
      Object.assign(target, receiptDueSet(doc, true));
      target.history = [
        {
          at: now,
          by: 'intake-policy',
          outcome: 'delivered',
          error: `accepted as delivered by the HLR policy (${decision.hlr?.status ?? 'no answer'})`,
        },
      ];
    }
  }
}
