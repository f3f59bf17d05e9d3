import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeText, describeDataCoding, ESM_CLASS_UDHI } from '../codec/index.ts';
import type { SmsDocument } from '../domain/sms-document.ts';

/** The header carrying `sha256=<hex HMAC-SHA256 of the raw body, keyed with the account's callback secret>`. */
export const SIGNATURE_HEADER = 'x-smsc-signature';
/** The event id again, so a receiver can deduplicate before parsing. */
export const EVENT_ID_HEADER = 'x-smsc-event-id';

/**
 * What one callback POST carries (JSON, camelCase). `eventId` is the same on every retry of the
 * event (it is the id of the stored event), so a receiver that got it twice can tell.
 */
export type CallbackEvent =
  | {
      eventId: string;
      type: 'receipt';
      account: string;
      createdAt: Date;
      receipt: {
        /** The message this receipt is about (what POST /api/v1/messages or submit_sm_resp returned). */
        messageId: string;
        /** DELIVRD, UNDELIV, EXPIRED, REJECTD, DELETED, ACCEPTD, ENROUTE, UNKNOWN. */
        stat: string;
        final: boolean;
        /** SMPP message_state. */
        messageState: number | null;
        /** Network error code (0 when delivered). */
        err: number | null;
        /** The message's sender and recipient. */
        from: string;
        to: string;
        /** The SMPP receipt text (`id:… sub:… dlvrd:… submit date:… done date:… stat:… err:… text:…`). */
        text: string;
      };
    }
  | {
      eventId: string;
      type: 'mo';
      account: string;
      createdAt: Date;
      mo: {
        messageId: string;
        from: string;
        to: string;
        dataCoding: number;
        text?: string;
        data?: string;
        /** A part of a long message: its place and the reference shared by its parts. */
        part?: { seq: number; total: number; ref: number };
      };
    };

/** The event a stored callback document (target `http`) stands for. */
export function callbackEventOf(doc: SmsDocument): CallbackEvent {
  const account = doc.target.kind === 'http' ? doc.target.account : doc.account;
  const receipt = (doc as SmsDocument).receipt;
  if (doc.direction === 'receipt' && receipt) {
    const tlvs = doc.payload.tlvs ?? {};
    const errBytes = bytesOf(tlvs.networkErrorCode);
    return {
      eventId: doc.messageId,
      type: 'receipt',
      account,
      createdAt: doc.arrivedAt,
      receipt: {
        messageId: receipt.messageId,
        stat: receipt.stat,
        final: receipt.final,
        messageState: typeof tlvs.messageState === 'number' ? tlvs.messageState : null,
        err: errBytes && errBytes.length === 3 ? errBytes.readUInt16BE(1) : null,
        // A receipt document travels back: its source is the message's recipient.
        from: doc.dest.addr,
        to: doc.source.addr,
        text: Buffer.from(doc.payload.shortMessage.buffer).toString('latin1'),
      },
    };
  }
  return {
    eventId: doc.messageId,
    type: 'mo',
    account,
    createdAt: doc.arrivedAt,
    mo: {
      messageId: doc.messageId,
      from: doc.source.addr,
      to: doc.dest.addr,
      dataCoding: doc.payload.dataCoding,
      ...contentOf(doc),
      ...(doc.concat ? { part: { seq: doc.concat.seq, total: doc.concat.total, ref: doc.concat.ref } } : {}),
    },
  };
}

/** `sha256=<hex>`: HMAC-SHA256 of exactly the bytes sent, keyed with the account's callback secret. */
export function signCallback(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** For receivers (and tests): whether `header` is the signature of `body` under `secret`, compared in constant time. */
export function verifyCallbackSignature(secret: string, body: string | Buffer, header: string | undefined): boolean {
  if (!header) return false;
  const expected = Buffer.from(signCallback(secret, body));
  const given = Buffer.from(header.trim());
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function bytesOf(value: unknown): Buffer | undefined {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (value && typeof value === 'object' && 'buffer' in value && (value as { buffer: unknown }).buffer instanceof Uint8Array) {
    return Buffer.from((value as { buffer: Uint8Array }).buffer);
  }
  return undefined;
}

function contentOf(doc: SmsDocument): { text?: string; data?: string } {
  let bytes = bytesOf(doc.payload.shortMessage) ?? Buffer.alloc(0);
  const payload = bytesOf(doc.payload.tlvs?.messagePayload);
  if (bytes.length === 0 && payload) bytes = payload;
  if ((doc.payload.esmClass & ESM_CLASS_UDHI) !== 0 && bytes.length > 0) bytes = bytes.subarray(Math.min(bytes.length, 1 + bytes[0]));
  const alphabet = describeDataCoding(doc.payload.dataCoding).alphabet;
  if (alphabet !== 'BINARY' && alphabet !== 'UNSUPPORTED') {
    try {
      return { text: decodeText(bytes, doc.payload.dataCoding) };
    } catch {
      // Not text after all: the octets go as they are.
    }
  }
  return { data: bytes.toString('base64') };
}
