import type { Binary, ObjectId } from 'mongodb';

/** States of an `sms` document; names are what operators query for in mongosh. */
export const SmsState = Object.freeze({
  queued: 'queued',
  locked: 'locked',
  /** Accepted by the downstream; awaiting its receipt. */
  submitted: 'submitted',
  delivered: 'delivered',
  undeliverable: 'undeliverable',
  expired: 'expired',
  rejected: 'rejected',
  cancelled: 'cancelled',
} as const);
export type SmsStateName = (typeof SmsState)[keyof typeof SmsState];

export const FINAL_STATES: readonly SmsStateName[] = Object.freeze([
  SmsState.delivered,
  SmsState.undeliverable,
  SmsState.expired,
  SmsState.rejected,
  SmsState.cancelled,
]);

/** What kind of traffic a document is: ESME-submitted (MT), mobile-originated, or a receipt to an ESME. */
export const SmsDirection = Object.freeze({ mt: 'mt', mo: 'mo', receipt: 'receipt' } as const);
export type SmsDirectionName = (typeof SmsDirection)[keyof typeof SmsDirection];

export interface SmppAddress {
  ton: number;
  npi: number;
  addr: string;
}

/** A claim: every write after it is fenced on `token`. */
export interface LeaseLock {
  owner: string;
  token: string;
  at: Date;
  leaseUntil: Date;
}

/**
 * Where a message goes: downstream over connectors (chosen by routes), to a bound ESME, or (receipts
 * and MO of an account with callbacks) POSTed to the account's HTTP URL, or to `url` when the
 * message that the receipt reports on named one.
 */
export type SmsTarget =
  { kind: 'connector'; connectors?: string[] } | { kind: 'esme'; systemId: string } | { kind: 'http'; account: string; url?: string };

export interface SmsPayload {
  dataCoding: number;
  esmClass: number;
  /** The user data as received (short_message or message_payload), UDH included when esmClass has UDHI. */
  shortMessage: Binary;
  /** Optional TLVs we keep and forward, camelCase names. */
  tlvs?: Record<string, unknown>;
  protocolId?: number;
  serviceType?: string;
}

/** Links the parts of a long message so they are delivered together and in order. */
export interface ConcatInfo {
  /** Same for every part of one long message: `${account}:${source}:${dest}:${ref}:${total}`. */
  groupId: string;
  ref: number;
  total: number;
  seq: number;
}

export interface PartProgress {
  connector: string;
  remoteIds: string[];
}

export interface AttemptRecord {
  at: Date;
  by: string;
  outcome: string;
  connector?: string;
  status?: number;
  error?: string;
  /** What else is worth knowing about a step that is not an error (a route id, a charging reference). */
  detail?: string;
}

export interface SmsDocument {
  _id: ObjectId;
  /** What submit_sm_resp returned: derived from `_id`, hence unique without a unique index. */
  messageId: string;
  direction: SmsDirectionName;
  /** system_id of the ESME (or peer) that submitted it. */
  account: string;
  arrivedAt: Date;
  source: SmppAddress;
  dest: SmppAddress;
  destKey: string;
  priority: number;
  registeredDelivery: number;
  validUntil: Date;
  scheduledAt?: Date;
  nextAttemptAt: Date;
  attempts: number;
  state: SmsStateName;
  lock?: LeaseLock;
  target: SmsTarget;
  payload: SmsPayload;
  concat?: ConcatInfo;
  history: AttemptRecord[];
  /** Set when a downstream accepted it; `otherIds`: the further parts when it left as several submits. */
  remote?: { connector: string; messageId: string; submittedAt: Date; otherIds?: string[] };
  /**
   * A message that leaves as several submits and was accepted only in part: the parts the
   * downstream took (their remote ids, in order). A retry over the same connector sends only the
   * rest, with the same concatenation reference; receipts for the accepted parts still match.
   */
  progress?: PartProgress;
  /** Content revision: replace_sm increments it, so a batch never sends content older than an acknowledged replace. */
  rev?: number;
  finalAt?: Date;
  /** Submitted over HTTP with a callback URL: its receipts are POSTed there (see src/callbacks). */
  callbackUrl?: string;
  /** Last error seen (SMPP status or network error code). */
  error?: { status?: number; networkErrorCode?: number; message?: string };
  /**
   * How many times an operator sent it back to the queue (`smsc requeue`); absent = never. Each
   * requeue starts a new receipt generation: the ids of the receipts it yields carry it, so a new
   * final outcome gets a receipt of its own (see receiptKindOf in receipts/receipt-emitter.ts).
   */
  requeues?: number;
  /** How it arrived when not over SMPP (`'http'`: the HTTP API); absent = SMPP. Routes may match on it. */
  intake?: 'smpp' | 'http';
  /** Set by routing when a route acted on it (drop, auto-reply, charging): which route and what it did. */
  routing?: { route?: string; action: string };
  /** A charged route's answer from the charging endpoint (asked once per message, before its first submit). */
  charge?: { at: Date; result: 'accepted' | 'refused'; reference?: string; reason?: string };
  /** What the HLR said about `dest` at intake, when a lookup was made (routing reads `hlr.network`). */
  hlr?: SmsHlrField;
  /** Set by the CDR journal once the message's final outcome is in a journal file (equals `finalAt` then). */
  cdrAt?: Date;

  // Receipt fields (all optional, so documents written before receipts existed stay valid).
  /**
   * The receipt outbox: set on a message whose state just changed in a way an ESME may need to
   * hear about (final, or a temporary failure when intermediate notifications were asked for).
   * Every code path that finalises a message sets it in the same write (see receiptDueSet); the
   * ReceiptEmitter turns it into a receipt document and unsets it. This is what makes "exactly one
   * receipt" hold across workers, cleanups and crashes.
   */
  receiptDue?: boolean;
  /** The message_state a receipt reports when the state alone does not say it (UNKNOWN after validity without a receipt, SKIPPED, …). */
  finalStat?: number;
  /** Per downstream part, what its receipt said (a stored message that left as several submits is final only when every part is). */
  remoteReceipts?: { id: string; state: number; err?: number; at: Date }[];
  /** On receipt documents: the message the receipt reports on. */
  receipt?: ReceiptLink;
}

/** `sms.receipt` on a receipt document: links it back to the message it reports on. */
export interface ReceiptLink {
  smsId: ObjectId;
  messageId: string;
  stat: string;
  final: boolean;
}

/** `account` of the receipt documents the SMSC itself generates (kept apart from ESME backlogs). */
export const RECEIPT_ACCOUNT = '@smsc';

/**
 * `sms.hlr`: the HLR answer at intake. `network` is the network the number is served by (the
 * ported-to network for a ported number): the routing hint. `status` is `timeout` or `error`
 * when the lookup gave no answer.
 */
export interface SmsHlrField {
  status: 'reachable' | 'unreachable' | 'invalid' | 'timeout' | 'error';
  network?: string;
  ported?: boolean;
  at: Date;
  cached?: boolean;
}

/** Message ids are the hex of the document's ObjectId (24 characters, within SMPP's 65). */
export function messageIdOf(id: ObjectId): string {
  return id.toHexString();
}

/** A wake-up notification in the capped `events` collection. */
export interface EventDocument {
  ts: Date;
  smsId?: ObjectId;
  /** One insert batch can notify for many messages at once. */
  count?: number;
  destKey?: string;
  due: Date;
}

/** The per-destination lock: uniqueness of `_id` is the lock. */
export interface LockDocument {
  _id: string;
  owner: string;
  token: string;
  at: Date;
  leaseUntil: Date;
}
