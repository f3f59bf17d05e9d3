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

/**
 * The user data of a deliver_sm/data_sm as text (short_message, else message_payload). Peers
 * label receipts with odd data_codings, so what the codec refuses is read as Latin-1.
 */
export function userDataText(msg: ShortMessage): string {
  const bytes = msg.shortMessage.length > 0 ? msg.shortMessage : (msg.tlvs.messagePayload ?? Buffer.alloc(0));
  try {
    return decodeText(bytes, msg.dataCoding);
  } catch {
    return bytes.toString('latin1');
  }
}

export function readInboundReceipt(msg: ShortMessage): InboundReceipt {
  const text = userDataText(msg);
  const parsed = tryParseReceipt(text);
  const ids: string[] = [];
  const tlvId = msg.tlvs.receiptedMessageId;
  if (typeof tlvId === 'string' && tlvId.trim() !== '') ids.push(tlvId);
  if (parsed && !ids.includes(parsed.id)) ids.push(parsed.id);
  // A message_state outside SMPP's 0..9 says nothing we can use; the text may still.
  const tlvState =
    typeof msg.tlvs.messageState === 'number' && msg.tlvs.messageState >= 0 && msg.tlvs.messageState <= 9 ? msg.tlvs.messageState : null;
  const errText = parsed?.err && /^\d{1,5}$/.test(parsed.err) ? Number(parsed.err) : null;
  return {
    ids,
    messageState: tlvState ?? parsed?.messageState ?? null,
    networkErrorCode: networkErrorCodeOf(msg.tlvs.networkErrorCode) ?? errText,
    text,
  };
}
