import { decodeText, tryParseReceipt } from '../codec/index.ts';
import type { ShortMessage } from '../smpp/domain.ts';

const ESM_TYPE_MASK = 0x3c;
/** SMSC delivery receipt and intermediate delivery notification (SMPP 3.4 5.2.12). */
const RECEIPT_TYPES: ReadonlySet<number> = new Set([0x04, 0x20]);

/** What a downstream's receipt says, read from its TLVs and/or its text. */
export interface InboundReceipt {
  /** Candidate ids as written: receipted_message_id first, then the text's `id:`. */
  ids: string[];
  /** message_state (TLV, else from the `stat:` word); null when neither says. */
  messageState: number | null;
  networkErrorCode: number | null;
  text: string;
}

/** Whether a deliver_sm / data_sm is a receipt (the esm_class says so) rather than MO traffic. */
export function isReceipt(msg: Pick<ShortMessage, 'esmClass'>): boolean {
  return RECEIPT_TYPES.has(msg.esmClass & ESM_TYPE_MASK);
}

/** network_error_code TLV: network type (1 octet) then the error code (2 octets). */
export function networkErrorCodeOf(value: unknown): number | null {
  if (!Buffer.isBuffer(value) || value.length < 3) return null;
  return value.readUInt16BE(1);
}

export function readInboundReceipt(msg: ShortMessage): InboundReceipt {
  const bytes = msg.shortMessage.length > 0 ? msg.shortMessage : (msg.tlvs.messagePayload ?? Buffer.alloc(0));
  let text: string;
  try {
    text = decodeText(bytes, msg.dataCoding);
  } catch {
    text = bytes.toString('latin1');
  }
  const parsed = tryParseReceipt(text);
  const ids: string[] = [];
  const tlvId = msg.tlvs.receiptedMessageId;
  if (typeof tlvId === 'string' && tlvId.trim() !== '') ids.push(tlvId);
  if (parsed && !ids.includes(parsed.id)) ids.push(parsed.id);
  // A message_state outside SMPP's 0..9 says nothing we can use; the text may still.
  const tlvState = typeof msg.tlvs.messageState === 'number' && msg.tlvs.messageState >= 0 && msg.tlvs.messageState <= 9 ? msg.tlvs.messageState : null;
  const errText = parsed?.err && /^\d{1,5}$/.test(parsed.err) ? Number(parsed.err) : null;
  return {
    ids,
    messageState: tlvState ?? parsed?.messageState ?? null,
    networkErrorCode: networkErrorCodeOf(msg.tlvs.networkErrorCode) ?? errText,
    text,
  };
}
