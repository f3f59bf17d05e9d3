import type { Collection, Db, WriteConcern } from 'mongodb';
import type { AccountDocument, AccountLimits } from '../accounts/account.ts';
import type { Clock } from '../domain/clock.ts';
import { dataCodingFor, decodeText, encodeText, resolveEncoding } from '../codec/index.ts';
import { buildSmsDocuments, DEFAULT_SUBMIT_POLICY, prepareMessage, validateDestination } from '../submission/submit-validation.ts';
import type { Logger } from '../logging/logger.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { ShortMessage, SmppAddress } from '../smpp/domain.ts';
import { Collections } from '../store/collections.ts';
import type { EventDocument, SmsDocument } from '../domain/sms-document.ts';
import { ContactListStore } from './contact-lists.ts';

export const DEFAULT_OPTOUT_KEYWORDS = Object.freeze(['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT']);

export interface OptOutDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  metrics: Metrics;
  /** Of the reply message; default `{w: 'majority', j: true}`. */
  writeConcern?: WriteConcern;
}

/** What opting out did: who, for which account, and the reply's message id (none when the account has no reply text). */
export interface OptOutResult {
  account: string;
  subscriber: string;
  replyMessageId?: string;
}

const ESM_UDHI = 0x40;

/** Whether `text` asks to opt out: one of `keywords`, any case, with nothing but spaces and punctuation around it. */
export function isOptOutText(text: string, keywords: readonly string[]): boolean {
  const word = text
    .trim()
    .replace(/^[\s.!,;:]+|[\s.!,;:]+$/g, '')
    .toUpperCase();
  return word !== '' && keywords.includes(word);
}

/** The MO's text when it is a plain single message in a text encoding; null otherwise. */
export function moText(msg: Pick<ShortMessage, 'esmClass' | 'dataCoding' | 'shortMessage' | 'tlvs'>): string | null {
  if ((msg.esmClass & ESM_UDHI) !== 0) return null;
  const payload = msg.tlvs.messagePayload;
  const body = Buffer.isBuffer(payload) && payload.length > 0 ? payload : msg.shortMessage;
  if (body.length > 160) return null;
  try {
    return decodeText(body, msg.dataCoding);
  } catch {
    return null;
  }
}

/**
 * The opt-out flow: an MO whose text is an opt-out keyword ("STOP", any case, alone), sent to
 * the short code an account configured (`account set --optout-shortcode … --optout-reply …`),
 * puts the sender on that account's blocklist (source `optout`) and stores the account's reply
 * text as a message from the short code to the subscriber (delivered like any other; the
 * blocklist does not apply to it). The MO itself is stored and routed as usual afterwards.
 *
 * Safe to repeat (a peer resending the MO): the blocklist entry is added once; the reply may go
 * out twice, as any at-least-once message may.
 */
export class OptOutHandler {
  readonly #deps: OptOutDeps;
  readonly #accounts: Collection<AccountDocument>;
  readonly #sms: Collection<SmsDocument>;
  readonly #events: Collection<EventDocument>;
  readonly #lists: ContactListStore;

  constructor(deps: OptOutDeps) {
    this.#deps = deps;
    this.#accounts = deps.db.collection<AccountDocument>(Collections.accounts);
    this.#sms = deps.db.collection<SmsDocument>(Collections.sms);
    this.#events = deps.db.collection<EventDocument>(Collections.events);
    this.#lists = new ContactListStore(deps.db, { clock: deps.clock });
  }

  /** Handles an MO; resolves with what it did when it was an opt-out, else undefined. Rejects when a store write fails (the MO should not be acknowledged then). */
  async handle(
    msg: Pick<ShortMessage, 'source' | 'dest' | 'esmClass' | 'dataCoding' | 'shortMessage' | 'tlvs'>,
  ): Promise<OptOutResult | undefined> {
    const shortcode = msg.dest.addr.replace(/^\+/, '');
    if (!/^\d{2,20}$/.test(shortcode)) return undefined;
    const text = moText(msg);
    if (text === null) return undefined;
    const account = await this.#accounts.findOne({ 'optout.shortcode': shortcode }, { projection: { systemId: 1, optout: 1 } });
    if (!account?.optout || !isOptOutText(text, account.optout.keywords ?? DEFAULT_OPTOUT_KEYWORDS)) return undefined;
    let subscriber: string;
    try {
      subscriber = validateDestination(msg.source).destKey.replace(/^\+/, '');
    } catch {
      this.#deps.logger.info({ account: account.systemId }, 'opt-out from an address that is not a number; ignored');
      return undefined;
    }
    await this.#lists.add({ list: 'block', account: account.systemId, match: 'number', value: subscriber, source: 'optout' });
    this.#deps.metrics.optOutsTotal.inc({ account: account.systemId });
    const result: OptOutResult = { account: account.systemId, subscriber };
    if (account.optout.reply) result.replyMessageId = await this.#storeReply(account.systemId, shortcode, msg.source, account.optout.reply);
    this.#deps.logger.info({ account: account.systemId }, 'subscriber opted out');
    return result;
  }

  /**
   * Stores the opt-out reply to the subscriber and wakes the deliverers.
   *
   * filter:  none: two inserts
   * insert:  the reply's parts (new _ids; ordered; the store's write concern, default majority +
   *          journal), then one wake-up event {ts, count, destKey, due} (w: 1, a failure ignored)
   * returns: the reply's first message_id.
   * safe:    new documents no other writer knows; deliverers find them by claim. Not idempotent:
   *          an opt-out MO handled again stores a second reply (see the class note). The event is
   *          a hint; the deliverers' sweep finds the reply if it is lost.
   */
  async #storeReply(account: string, shortcode: string, subscriber: SmppAddress, text: string): Promise<string> {
    const now = this.#deps.clock.now();
    const encoding = resolveEncoding(text);
    const bytes = encodeText(text, encoding);
    const long = bytes.length > 140;
    const msg: Omit<ShortMessage, 'dest'> = {
      serviceType: '',
      source: { ton: 0, npi: 1, addr: shortcode },
      esmClass: 0,
      protocolId: 0,
      priority: 0,
      scheduleDeliveryTime: '',
      validityPeriod: '',
      registeredDelivery: 0,
      replaceIfPresent: 0,
      dataCoding: dataCodingFor(encoding),
      smDefaultMsgId: 0,
      shortMessage: long ? Buffer.alloc(0) : bytes,
      tlvs: long ? { messagePayload: bytes } : {},
      unknownTlvs: [],
    };
    // The account's own source rules are for its ESMEs; the reply comes from its short code.
    const limits: AccountLimits = { systemId: account, tps: 0, maxBinds: 0, sourceAllow: [], maxQueued: 0 };
    const docs = buildSmsDocuments(prepareMessage(msg, 'submit_sm', limits, now, DEFAULT_SUBMIT_POLICY), validateDestination(subscriber));
    await this.#sms.insertMany(docs, { ordered: true, writeConcern: this.#deps.writeConcern ?? { w: 'majority', j: true } });
    // A wake-up for the deliverers; their sweep finds the reply if this is lost.
    await this.#events
      .insertOne({ ts: now, count: docs.length, destKey: docs[0].destKey, due: now }, { writeConcern: { w: 1 } })
      .catch(() => undefined);
    return docs[0].messageId;
  }
}
