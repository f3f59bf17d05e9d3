import { randomInt } from 'node:crypto';
import { ConcatStrategy, type ConcatStrategyName } from '../codec/length.ts';
import { messageStateToStatWord, tryParseReceipt, type DeliveryReceipt } from '../codec/receipt.ts';
import { splitText } from '../codec/split.ts';
import type { Logger } from '../logging/logger.ts';
import { connectSmpp } from '../smpp/client.ts';
import type { ShortMessage, Tlvs } from '../smpp/domain.ts';
import { SmppError, SmppErrorCode } from '../smpp/errors.ts';
import type { SmppSession } from '../smpp/session.ts';
import { OpsError, OpsErrorCode } from '../ops/errors.ts';
import { userDataText } from '../receipts/inbound-receipt.ts';

export interface EsmeSubmitRequest {
  host: string;
  port: number;
  systemId: string;
  password: string;
  from: string;
  to: string;
  text: string;
  /** Ask for a delivery receipt and wait for it. */
  dlr: boolean;
  /** Bounds the whole exchange: connect, bind, submits and (with dlr) the receipts. */
  timeoutMs: number;
  /** How a long text is split. Default udh8. */
  long?: Exclude<ConcatStrategyName, 'single'>;
  logger?: Logger;
}

export interface ReceivedReceipt {
  /** The id the receipt reports on (receipted_message_id TLV, else the text's `id:`). */
  messageId: string;
  /** DELIVRD, UNDELIV, EXPIRED, … */
  stat: string | null;
  messageState: number | null;
  err: string | null;
  from: string;
  to: string;
  /** The receipt text as received. */
  text: string;
  parsed: DeliveryReceipt | null;
  receivedAt: Date;
}

export interface EsmeSubmitResult {
  messageIds: string[];
  parts: number;
  encoding: string;
  dataCoding: number;
  receipts: ReceivedReceipt[];
}

const ESM_CLASS_TYPE_MASK = 0x3c;
const ESM_CLASS_DELIVERY_RECEIPT = 0x04;
const ESM_CLASS_UDHI = 0x40;

/**
 * SMPP address fields for what an operator types: '+' or 8+ digits are international (E.164),
 * shorter digit strings are short codes (TON unknown), anything else an alphanumeric sender.
 */
export function addressOf(value: string, role: 'source' | 'destination'): { ton: number; npi: number; addr: string } {
  const trimmed = value.trim();
  if (/^\+\d{1,20}$/.test(trimmed) || /^\d{8,20}$/.test(trimmed)) return { ton: 1, npi: 1, addr: trimmed.replace(/^\+/, '') };
  if (/^\d{1,7}$/.test(trimmed)) return { ton: 0, npi: 1, addr: trimmed };
  if (role === 'source' && trimmed.length > 0 && trimmed.length <= 11 && /^[\x20-\x7e]+$/.test(trimmed))
    return { ton: 5, npi: 0, addr: trimmed };
  throw new OpsError(
    OpsErrorCode.submitInvalid,
    role === 'source'
      ? `--from must be a number (up to 20 digits, optional +) or an alphanumeric sender of at most 11 characters, got "${value}".`
      : `--to must be a number of up to 20 digits (optional +), got "${value}".`,
  );
}

/**
 * A small ESME: binds transceiver, submits the text (split when long), and with `dlr` waits for
 * a receipt for every part, answering each deliver_sm. Always unbinds.
 */
export async function submitAsEsme(request: EsmeSubmitRequest): Promise<EsmeSubmitResult> {
  const source = addressOf(request.from, 'source');
  const dest = addressOf(request.to, 'destination');
  const strategy = request.long ?? ConcatStrategy.UDH8;
  const split = splitText(request.text, { strategy, reference: randomInt(0, strategy === ConcatStrategy.UDH8 ? 256 : 65_536) });
  const deadline = Date.now() + request.timeoutMs;
  const remaining = () => Math.max(1, deadline - Date.now());
  const where = `${request.host}:${request.port}`;

  const receipts: ReceivedReceipt[] = [];
  let onReceipt: (() => void) | undefined;
  let session: SmppSession;
  try {
    session = await connectSmpp({
      host: request.host,
      port: request.port,
      connectTimeoutMs: remaining(),
      responseTimeoutMs: remaining(),
      ...(request.logger ? { logger: request.logger } : {}),
    });
  } catch (error) {
    throw new OpsError(OpsErrorCode.submitFailed, `Cannot connect to ${where} (${(error as Error).message}).`);
  }
  session.on('error', (error) => request.logger?.debug({ err: error }, 'session error'));
  // Registered before bind: a fast SMSC may deliver a receipt right after submit_sm_resp.
  session.handle('deliverSm', (msg) => {
    const receipt = receiptOf(msg);
    if (receipt) {
      receipts.push(receipt);
      onReceipt?.();
    } else {
      request.logger?.info({ from: msg.source.addr }, 'ignored a deliver_sm that is not a receipt');
    }
  });

  try {
    try {
      await session.bind('transceiver', { systemId: request.systemId, password: request.password }, { timeoutMs: remaining() });
    } catch (error) {
      throw new OpsError(OpsErrorCode.submitFailed, `Bind to ${where} as ${request.systemId} failed: ${describe(error)}.`);
    }
    const messageIds: string[] = [];
    for (const part of split.parts) {
      const tlvs: Tlvs = {};
      if (part.sar) {
        tlvs.sarMsgRefNum = part.sar.reference;
        tlvs.sarTotalSegments = part.sar.total;
        tlvs.sarSegmentSeqnum = part.sar.sequence;
      }
      if (part.messagePayload) tlvs.messagePayload = part.messagePayload;
      try {
        const { messageId } = await session.submitSm(
          {
            source,
            dest,
            esmClass: part.esmClassUdhi ? ESM_CLASS_UDHI : 0,
            dataCoding: split.dataCoding,
            registeredDelivery: request.dlr ? 1 : 0,
            shortMessage: part.shortMessage,
            tlvs,
          },
          { timeoutMs: remaining() },
        );
        messageIds.push(messageId);
      } catch (error) {
        const which = split.parts.length > 1 ? ` (part ${part.sequence} of ${part.total})` : '';
        throw new OpsError(OpsErrorCode.submitFailed, `submit_sm to ${where}${which} was refused: ${describe(error)}.`);
      }
    }
    if (request.dlr) {
      const wanted = new Set(messageIds.map(normaliseId));
      const matched = () => receipts.filter((r) => wanted.has(normaliseId(r.messageId)));
      if (matched().length < wanted.size) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => {
            onReceipt = undefined;
            reject(
              new OpsError(
                OpsErrorCode.receiptTimeout,
                `No receipt for ${[...wanted].filter((id) => !matched().some((r) => normaliseId(r.messageId) === id)).join(', ')} within ${Math.round(request.timeoutMs / 1000)} s.`,
              ),
            );
          }, remaining());
          onReceipt = () => {
            if (matched().length >= wanted.size) {
              clearTimeout(timer);
              onReceipt = undefined;
              resolve();
            }
          };
          const closed = () => {
            clearTimeout(timer);
            reject(new OpsError(OpsErrorCode.submitFailed, `${where} closed the session before the receipt arrived.`));
          };
          void session.closed.then(closed);
        });
      }
      return { messageIds, parts: split.parts.length, encoding: split.encoding, dataCoding: split.dataCoding, receipts: matched() };
    }
    return { messageIds, parts: split.parts.length, encoding: split.encoding, dataCoding: split.dataCoding, receipts: [] };
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** A deliver_sm that is a delivery receipt, read from its TLVs and/or its text. */
export function receiptOf(msg: ShortMessage): ReceivedReceipt | null {
  const typed = (msg.esmClass & ESM_CLASS_TYPE_MASK) === ESM_CLASS_DELIVERY_RECEIPT;
  const tlvId = typeof msg.tlvs.receiptedMessageId === 'string' ? msg.tlvs.receiptedMessageId : undefined;
  if (!typed && tlvId === undefined) return null;
  const text = userDataText(msg);
  const parsed = tryParseReceipt(text);
  const messageId = tlvId ?? parsed?.id;
  if (messageId === undefined) return null;
  const tlvState = typeof msg.tlvs.messageState === 'number' ? msg.tlvs.messageState : null;
  const messageState = tlvState ?? parsed?.messageState ?? null;
  return {
    messageId,
    stat: parsed?.stat ?? statWordOf(messageState),
    messageState,
    err: parsed?.err ?? null,
    from: msg.source.addr,
    to: msg.dest.addr,
    text,
    parsed,
    receivedAt: new Date(),
  };
}

function statWordOf(state: number | null): string | null {
  if (state === null) return null;
  try {
    return messageStateToStatWord(state);
  } catch {
    return null;
  }
}

/** Receipts may write an id with different case or leading zeros (hex ids); compare loosely. */
function normaliseId(id: string): string {
  return id
    .trim()
    .toLowerCase()
    .replace(/^0+(?=.)/, '');
}

function describe(error: unknown): string {
  // A status answer reads best as its name and code; timeouts and closes carry their own sentence.
  if (error instanceof SmppError && error.code === SmppErrorCode.STATUS)
    return `${error.statusName} (0x${error.commandStatus.toString(16).padStart(8, '0')})`;
  return (error as Error)?.message ?? String(error);
}
