/**
 * Delivery receipt text (SMPP 3.4 Appendix B):
 *   id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD err:E text:...
 * Formatting writes exactly that; parsing accepts what peers send in the wild:
 * `submit_date`, 12-digit dates with seconds, any case, `Text:`, missing fields,
 * extra spaces.
 */
import type { MessageStateValue } from '../domain/message-state.ts';
import { CodecError, CodecErrorCode } from './errors.ts';

// The message_state values are the domain's (src/domain/message-state.ts, with what each of our
// states reports); the codec re-exports them, since the receipt text's `stat:` words spell them.
export { MessageState, type MessageStateName, type MessageStateValue } from '../domain/message-state.ts';

/** The receipt `stat:` word for each message_state. */
export const StatWord = Object.freeze({
  0: 'SCHEDUL',
  1: 'ENROUTE',
  2: 'DELIVRD',
  3: 'EXPIRED',
  4: 'DELETED',
  5: 'UNDELIV',
  6: 'ACCEPTD',
  7: 'UNKNOWN',
  8: 'REJECTD',
  9: 'SKIPPED',
} as const);

export type StatWordName = (typeof StatWord)[MessageStateValue];

// Upper-cased stat word -> message_state, including spellings seen from real peers.
const STAT_TO_STATE: ReadonlyMap<string, MessageStateValue> = new Map<string, MessageStateValue>([
  ['SCHEDUL', 0],
  ['SCHEDULED', 0],
  ['ENROUTE', 1],
  ['EN_ROUTE', 1],
  ['DELIVRD', 2],
  ['DELIVERED', 2],
  ['EXPIRED', 3],
  ['DELETED', 4],
  ['UNDELIV', 5],
  ['UNDELIVERABLE', 5],
  ['ACCEPTD', 6],
  ['ACCEPTED', 6],
  ['UNKNOWN', 7],
  ['REJECTD', 8],
  ['REJECTED', 8],
  ['SKIPPED', 9],
]);

export function statWordToMessageState(word: string): MessageStateValue | null {
  return STAT_TO_STATE.get(word.trim().toUpperCase()) ?? null;
}

export function messageStateToStatWord(state: number): StatWordName {
  const word = (StatWord as Readonly<Record<number, StatWordName>>)[state];
  if (word === undefined) {
    throw new CodecError(CodecErrorCode.INVALID_ARGUMENT, `message_state ${state} is not 0..9.`);
  }
  return word;
}

export interface ReceiptDate {
  /** As written in the receipt (10 or 12 digits). */
  readonly raw: string;
  /** Read as UTC; null when the digits are not a valid date. */
  readonly date: Date | null;
}

export interface DeliveryReceipt {
  readonly id: string;
  readonly sub: number | null;
  readonly dlvrd: number | null;
  readonly submitDate: ReceiptDate | null;
  readonly doneDate: ReceiptDate | null;
  /** The stat word as sent, upper-cased. */
  readonly stat: string | null;
  readonly messageState: MessageStateValue | null;
  readonly err: string | null;
  readonly text: string | null;
}

export interface ReceiptInput {
  readonly id: string;
  readonly sub?: number;
  readonly dlvrd?: number;
  readonly submitDate: Date;
  readonly doneDate: Date;
  /** A message_state value or a stat word. */
  readonly stat: number | string;
  /** Network error code; numbers are written as three digits. */
  readonly err?: number | string;
  /** The original text; the first 20 characters are written. */
  readonly text?: string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** YYMMDDhhmm (UTC), the receipt date format; with seconds when asked (12 digits). */
export function formatReceiptDate(date: Date, withSeconds = false): string {
  const s =
    pad(date.getUTCFullYear() % 100, 2) +
    pad(date.getUTCMonth() + 1, 2) +
    pad(date.getUTCDate(), 2) +
    pad(date.getUTCHours(), 2) +
    pad(date.getUTCMinutes(), 2);
  return withSeconds ? s + pad(date.getUTCSeconds(), 2) : s;
}

function threeDigits(n: number | undefined, field: string): string {
  const v = n ?? 0;
  if (!Number.isInteger(v) || v < 0)
    throw new CodecError(CodecErrorCode.INVALID_ARGUMENT, `Receipt ${field} must be a whole number >= 0, got ${v}.`);
  return pad(Math.min(v, 999), 3);
}

export function formatReceipt(input: ReceiptInput): string {
  if (input.id.length === 0 || /\s/.test(input.id)) {
    throw new CodecError(CodecErrorCode.INVALID_ARGUMENT, 'Receipt id must be non-empty and without spaces.');
  }
  const stat =
    typeof input.stat === 'number' ? messageStateToStatWord(input.stat) : messageStateToStatWord(statWordToMessageState(input.stat) ?? -1);
  const err = typeof input.err === 'string' ? input.err : threeDigits(input.err, 'err');
  const text = Array.from(input.text ?? '')
    .slice(0, 20)
    .join('');
  return (
    `id:${input.id} sub:${threeDigits(input.sub ?? 1, 'sub')} dlvrd:${threeDigits(input.dlvrd ?? 0, 'dlvrd')}` +
    ` submit date:${formatReceiptDate(input.submitDate)} done date:${formatReceiptDate(input.doneDate)}` +
    ` stat:${stat} err:${err} text:${text}`
  );
}

/** 10 digits YYMMDDhhmm or 12 digits YYMMDDhhmmss, as UTC in 2000-2099; null date when invalid. */
export function parseReceiptDate(raw: string): ReceiptDate {
  if (!/^\d{10}(\d{2})?$/.test(raw)) return { raw, date: null };
  const n = (i: number): number => Number(raw.slice(i, i + 2));
  const [yy, mo, dd, hh, mi] = [n(0), n(2), n(4), n(6), n(8)];
  const ss = raw.length === 12 ? n(10) : 0;
  if (mo < 1 || mo > 12 || dd < 1 || hh > 23 || mi > 59 || ss > 59) return { raw, date: null };
  const date = new Date(Date.UTC(2000 + yy, mo - 1, dd, hh, mi, ss));
  if (date.getUTCDate() !== dd) return { raw, date: null };
  return { raw, date };
}

const KEY_RE = /(?:^|[\s,;])(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:/gi;

type Key = 'id' | 'sub' | 'dlvrd' | 'submit' | 'done' | 'stat' | 'err' | 'text';

function keyOf(raw: string): Key {
  const k = raw.toLowerCase();
  if (k.startsWith('submit')) return 'submit';
  if (k.startsWith('done')) return 'done';
  return k as Key;
}

function firstToken(value: string): string {
  const t = value.trim();
  const sp = t.search(/\s/);
  return sp === -1 ? t : t.slice(0, sp);
}

function count(value: string | undefined): number | null {
  if (value === undefined) return null;
  const t = firstToken(value);
  return /^\d{1,10}$/.test(t) ? Number(t) : null;
}

/**
 * Parses receipt text. Only `id` is required (without it the receipt cannot be
 * matched); absent or unreadable fields are null. `text:` runs to the end of the
 * string, since the original message may itself contain "stat:" and the like.
 */
export function parseReceipt(input: string): DeliveryReceipt {
  if (typeof input !== 'string') throw new CodecError(CodecErrorCode.INVALID_RECEIPT, 'Receipt must be a string.');
  const fields = new Map<Key, string>();
  const found: Array<{ key: Key; start: number; valueStart: number }> = [];
  KEY_RE.lastIndex = 0;
  for (let m = KEY_RE.exec(input); m !== null; m = KEY_RE.exec(input)) {
    const key = keyOf(m[1]);
    found.push({ key, start: m.index + (m[0].length - m[0].trimStart().length), valueStart: m.index + m[0].length });
    if (key === 'text') break;
  }
  for (let i = 0; i < found.length; i++) {
    const f = found[i];
    const end = f.key === 'text' || i + 1 === found.length ? input.length : found[i + 1].start;
    // The first occurrence wins: a repeated key is more likely noise than a correction.
    if (!fields.has(f.key)) fields.set(f.key, input.slice(f.valueStart, end));
  }
  const idRaw = fields.get('id');
  const id = idRaw === undefined ? '' : firstToken(idRaw);
  if (id === '') {
    throw new CodecError(CodecErrorCode.INVALID_RECEIPT, 'Text is not a delivery receipt: it has no "id:" field.');
  }
  const date = (v: string | undefined): ReceiptDate | null => {
    if (v === undefined) return null;
    const t = firstToken(v);
    return t === '' ? null : parseReceiptDate(t);
  };
  const statRaw = fields.get('stat');
  const stat = statRaw === undefined || firstToken(statRaw) === '' ? null : firstToken(statRaw).toUpperCase();
  const errRaw = fields.get('err');
  const err = errRaw === undefined || firstToken(errRaw) === '' ? null : firstToken(errRaw);
  const textRaw = fields.get('text');
  return {
    id,
    sub: count(fields.get('sub')),
    dlvrd: count(fields.get('dlvrd')),
    submitDate: date(fields.get('submit')),
    doneDate: date(fields.get('done')),
    stat,
    messageState: stat === null ? null : statWordToMessageState(stat),
    err,
    text: textRaw === undefined ? null : textRaw.trim(),
  };
}

/** Parses, or returns null when the text is not a receipt (for "is this deliver_sm a receipt?" checks). */
export function tryParseReceipt(input: string): DeliveryReceipt | null {
  try {
    return parseReceipt(input);
  } catch (error) {
    if (error instanceof CodecError) return null;
    throw error;
  }
}

/**
 * How a peer writes message ids. Operators differ (hex in submit_sm_resp, decimal in the
 * receipt, leading zeros on one side), a classic source of unmatched receipts.
 */
export type MessageIdFormat = 'string' | 'hex' | 'decimal';

/** Per-connector setting: the format plus, for 'string' ids, what else to ignore. */
export interface MessageIdNormalisation {
  readonly format: MessageIdFormat;
  /** 'string' only: compare case-insensitively (hex-looking ids in mixed case). */
  readonly ignoreCase?: boolean;
  /** 'string' only: "000123" and "123" are the same id. */
  readonly stripLeadingZeros?: boolean;
}

/**
 * A comparable key for a message id: 'string' keeps it (trimmed, optionally lower-cased
 * and without leading zeros); 'hex' and 'decimal' read it as a number and give its
 * decimal value, so "00FF" (hex) and "255" (decimal) meet. A value that is not a number
 * in the declared format throws INVALID_MESSAGE_ID.
 */
export function messageIdKey(id: string, how: MessageIdFormat | MessageIdNormalisation = 'string'): string {
  const { format, ignoreCase = false, stripLeadingZeros = false } = typeof how === 'string' ? { format: how } : how;
  const t = typeof id === 'string' ? id.trim() : '';
  if (t === '') throw new CodecError(CodecErrorCode.INVALID_MESSAGE_ID, 'Message id is empty.');
  switch (format) {
    case 'string': {
      let k = ignoreCase ? t.toLowerCase() : t;
      if (stripLeadingZeros) k = k.replace(/^0+(?=.)/, '');
      return k;
    }
    case 'hex': {
      const h = t.startsWith('0x') || t.startsWith('0X') ? t.slice(2) : t;
      if (!/^[0-9a-fA-F]{1,64}$/.test(h)) {
        throw new CodecError(CodecErrorCode.INVALID_MESSAGE_ID, `Message id ${JSON.stringify(t)} is not hexadecimal.`);
      }
      return BigInt('0x' + h).toString(10);
    }
    case 'decimal': {
      if (!/^\d{1,80}$/.test(t)) {
        throw new CodecError(CodecErrorCode.INVALID_MESSAGE_ID, `Message id ${JSON.stringify(t)} is not decimal.`);
      }
      return BigInt(t).toString(10);
    }
  }
  throw new CodecError(CodecErrorCode.INVALID_ARGUMENT, `Unknown message id format ${String(format)}.`);
}

/** True when two ids, each read by its peer's normalisation, denote the same message. */
export function messageIdsMatch(
  a: string,
  aFormat: MessageIdFormat | MessageIdNormalisation,
  b: string,
  bFormat: MessageIdFormat | MessageIdNormalisation,
): boolean {
  try {
    return messageIdKey(a, aFormat) === messageIdKey(b, bFormat);
  } catch (error) {
    if (error instanceof CodecError) return false;
    throw error;
  }
}
