import { decodeText, describeDataCoding, ESM_CLASS_UDHI } from '../codec/index.ts';
import type { MessageStory } from '../ops/message-story.ts';
import type { SmsDocument } from '../domain/sms-document.ts';

/** A message as the API shows it (camelCase; the OpenAPI schema `Message` describes it). */
export interface MessageView {
  messageId: string;
  direction: string;
  account: string;
  state: string;
  from: string;
  to: string;
  destKey: string;
  priority: number;
  registeredDelivery: number;
  arrivedAt: Date;
  scheduledAt?: Date;
  validUntil: Date;
  nextAttemptAt: Date;
  finalAt?: Date;
  attempts: number;
  dataCoding: number;
  /** The text of this part, when its data_coding is a text encoding. */
  text?: string;
  /** The user data (UDH excluded), base64, when it is not text. */
  data?: string;
  part?: { seq: number; total: number; ref: number };
  remote?: { connector: string; messageId: string; submittedAt: Date };
  error?: { status?: number; networkErrorCode?: number; message?: string };
  callbackUrl?: string;
}

export interface HistoryView {
  at: Date;
  outcome: string;
  by: string;
  connector?: string;
  status?: number;
  error?: string;
}

export interface ReceiptView {
  /**
   * `downstream`: what the operator's receipt said; `esme`: the receipt this SMSC made for the
   * account's SMPP binds; `callback`: the one it POSTs to the account's callback URL.
   */
  kind: 'downstream' | 'esme' | 'callback';
  at: Date;
  /** The connector a downstream receipt came in on. */
  connector?: string;
  stat?: string;
  state?: number;
  err?: number;
  messageId?: string;
  deliveryState?: string;
}

export interface MessageDetailView extends MessageView {
  history: HistoryView[];
  parts: { messageId: string; seq: number; state: string }[];
  receipts: ReceiptView[];
}

type Stored = SmsDocument;

export function messageView(doc: SmsDocument): MessageView {
  const m = doc as Stored;
  const view: MessageView = {
    messageId: m.messageId,
    direction: m.direction ?? 'mt',
    account: m.account,
    state: m.state,
    from: m.source?.addr ?? '',
    to: m.dest?.addr ?? '',
    destKey: m.destKey,
    priority: m.priority ?? 0,
    registeredDelivery: m.registeredDelivery ?? 0,
    arrivedAt: m.arrivedAt,
    validUntil: m.validUntil,
    nextAttemptAt: m.nextAttemptAt,
    attempts: m.attempts ?? 0,
    dataCoding: m.payload?.dataCoding ?? 0,
  };
  if (m.scheduledAt) view.scheduledAt = m.scheduledAt;
  if (m.finalAt) view.finalAt = m.finalAt;
  if (m.concat) view.part = { seq: m.concat.seq, total: m.concat.total, ref: m.concat.ref };
  if (m.remote) view.remote = { connector: m.remote.connector, messageId: m.remote.messageId, submittedAt: m.remote.submittedAt };
  if (m.error) view.error = { ...m.error };
  if (m.callbackUrl) view.callbackUrl = m.callbackUrl;
  Object.assign(view, contentOf(m));
  return view;
}

export function messageDetailView(story: MessageStory): MessageDetailView {
  const m = story.message as Stored;
  const receipts: ReceiptView[] = [];
  // Every downstream receipt is in the history (`receipt DELIVRD`); a message that left as several
  // submits also records, per part, the remote id and error in remoteReceipts (same instant).
  for (const h of m.history ?? []) {
    if (!h.outcome.startsWith('receipt ')) continue;
    const part = m.remoteReceipts?.find((r) => r.at.getTime() === h.at.getTime());
    receipts.push({
      kind: 'downstream',
      at: h.at,
      stat: h.outcome.slice('receipt '.length),
      ...(part ? { state: part.state, messageId: part.id, ...(part.err !== undefined ? { err: part.err } : {}) } : {}),
      ...(h.connector ? { connector: h.connector } : {}),
    });
  }
  for (const r of story.receipts as SmsDocument[]) {
    receipts.push({
      kind: r.target?.kind === 'http' ? 'callback' : 'esme',
      at: r.arrivedAt,
      messageId: r.messageId,
      deliveryState: r.state,
      ...(r.receipt?.stat ? { stat: r.receipt.stat } : {}),
    });
  }
  return {
    ...messageView(m),
    history: (m.history ?? []).map((h) => ({
      at: h.at,
      outcome: h.outcome,
      by: h.by,
      ...(h.connector ? { connector: h.connector } : {}),
      ...(h.status !== undefined ? { status: h.status } : {}),
      ...(h.error ? { error: h.error } : {}),
    })),
    parts: story.parts,
    receipts,
  };
}

/** The part's user data as text when it is text, else as base64. */
function contentOf(m: SmsDocument): { text?: string; data?: string } {
  if (!m.payload?.shortMessage) return {};
  let bytes = Buffer.from(m.payload.shortMessage.buffer);
  const payload = m.payload.tlvs?.messagePayload as { buffer?: Uint8Array } | undefined;
  if (bytes.length === 0 && payload?.buffer) bytes = Buffer.from(payload.buffer);
  if ((m.payload.esmClass & ESM_CLASS_UDHI) !== 0 && bytes.length > 0) bytes = bytes.subarray(Math.min(bytes.length, 1 + bytes[0]));
  const alphabet = describeDataCoding(m.payload.dataCoding ?? 0).alphabet;
  if (alphabet !== 'BINARY' && alphabet !== 'UNSUPPORTED') {
    try {
      return { text: decodeText(bytes, m.payload.dataCoding ?? 0) };
    } catch {
      // Not decodable as its data_coding claims: show the octets instead.
    }
  }
  return { data: bytes.toString('base64') };
}
