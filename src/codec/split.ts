/**
 * Splitting a message into SMPP parts under one long-message strategy:
 * single, UDH concatenation with an 8-bit (IEI 0x00) or 16-bit (IEI 0x08) reference,
 * SAR TLVs, or one message_payload TLV. A message that fits one part is always sent
 * as one plain part, whatever the strategy.
 */
import { CodecError, CodecErrorCode } from './errors.ts';
import { fillBitsAfterUdh, GSM7_ESCAPE, packSeptets, tryEncodeGsm7 } from './gsm7.ts';
import { encodeUcs2 } from './ucs2.ts';
import { encodeText } from './text-codec.ts';
import { resolveEncoding, type EncodingRequest } from './detect.ts';
import { dataCodingFor, type MessageClass, type TextEncodingName } from './data-coding.ts';
import { MAX_PARTS, MAX_PAYLOAD_OCTETS, PartLimits, type ConcatStrategyName, type PartLimitEncoding } from './length.ts';

export const UdhIei = Object.freeze({
  CONCAT_8BIT: 0x00,
  CONCAT_16BIT: 0x08,
} as const);

/** esm_class bit saying short_message starts with a UDH. */
export const ESM_CLASS_UDHI = 0x40;

export type Gsm7Packing = 'unpacked' | 'packed';

export interface SarInfo {
  readonly reference: number;
  readonly total: number;
  readonly sequence: number;
}

export interface MessagePart {
  /** Octets for short_message: the UDH (when any) then the text. Empty when messagePayload is used. */
  readonly shortMessage: Buffer;
  /** Octets for the message_payload TLV (payload strategy with a long message), else null. */
  readonly messagePayload: Buffer | null;
  /** Set esm_class bit 0x40 (UDHI) for this part. */
  readonly esmClassUdhi: boolean;
  readonly udh: Buffer | null;
  /** Values for sar_msg_ref_num / sar_total_segments / sar_segment_seqnum, else null. */
  readonly sar: SarInfo | null;
  readonly sequence: number;
  readonly total: number;
  /** Text units (septets, octets or UTF-16 units) carried by this part. */
  readonly units: number;
}

export interface SplitOptions {
  readonly strategy: ConcatStrategyName;
  /** Concatenation reference; required when more than one part results (0..255 for udh8, 0..65535 otherwise). */
  readonly reference?: number;
  /** How GSM-7 text is laid out in the octets. Default 'unpacked', SMPP's usual form. */
  readonly gsm7Packing?: Gsm7Packing;
}

export interface SplitTextOptions extends SplitOptions {
  readonly encoding?: EncodingRequest;
  readonly messageClass?: MessageClass | null;
}

export interface SplitResult {
  readonly encoding: TextEncodingName;
  readonly dataCoding: number;
  readonly parts: readonly MessagePart[];
}

export type SplitEncoding = PartLimitEncoding;

/**
 * Byte ranges [start, end) of each part when `body` (unpacked septets, octets, or UTF-16BE)
 * is cut into parts of at most `limit` units, never inside an escape sequence or a
 * surrogate pair.
 */
export function segmentRanges(body: Uint8Array, encoding: SplitEncoding, limit: number): Array<[number, number]> {
  const n = body.length;
  const ranges: Array<[number, number]> = [];
  if (n === 0) return [[0, 0]];
  if (encoding === 'UCS2') {
    if (n % 2 !== 0) throw new CodecError(CodecErrorCode.MALFORMED_DATA, `UCS-2 data has an odd length (${n} octets).`);
    const max = limit * 2;
    let start = 0;
    while (start < n) {
      let end = Math.min(start + max, n);
      if (end < n) {
        const hi = (body[end - 2] << 8) | body[end - 1];
        const lo = (body[end] << 8) | body[end + 1];
        if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff) end -= 2;
      }
      ranges.push([start, end]);
      start = end;
    }
    return ranges;
  }
  if (encoding === 'GSM7' && body.indexOf(GSM7_ESCAPE) !== -1) {
    let start = 0;
    let used = 0;
    let i = 0;
    while (i < n) {
      const atom = body[i] === GSM7_ESCAPE && i + 1 < n ? 2 : 1;
      if (used + atom > limit) {
        ranges.push([start, i]);
        start = i;
        used = 0;
      }
      used += atom;
      i += atom;
    }
    ranges.push([start, n]);
    return ranges;
  }
  for (let start = 0; start < n; start += limit) ranges.push([start, Math.min(start + limit, n)]);
  return ranges;
}

function checkReference(reference: number | undefined, max: number, strategy: string): number {
  if (reference === undefined || !Number.isInteger(reference) || reference < 0 || reference > max) {
    throw new CodecError(
      CodecErrorCode.INVALID_ARGUMENT,
      `A ${strategy} long message needs a reference 0..${max}, got ${String(reference)}.`,
    );
  }
  return reference;
}

function unitsOf(octets: number, encoding: SplitEncoding): number {
  return encoding === 'UCS2' ? octets >> 1 : octets;
}

function layout(text: Buffer, encoding: SplitEncoding, packing: Gsm7Packing, udhOctets: number): Buffer {
  return encoding === 'GSM7' && packing === 'packed' ? packSeptets(text, fillBitsAfterUdh(udhOctets)) : text;
}

function plainPart(shortMessage: Buffer, units: number): MessagePart {
  return { shortMessage, messagePayload: null, esmClassUdhi: false, udh: null, sar: null, sequence: 1, total: 1, units };
}

/**
 * Splits an already encoded body (GSM-7 unpacked). Use this to re-segment octets an ESME
 * sent (e.g. a message_payload going to a peer that only takes UDH).
 */
export function splitEncoded(body: Buffer, encoding: SplitEncoding, options: SplitOptions): MessagePart[] {
  const { strategy } = options;
  const packing = options.gsm7Packing ?? 'unpacked';
  const limits = PartLimits[encoding];
  const units = unitsOf(body.length, encoding);
  if (units <= limits.single) return [plainPart(layout(body, encoding, packing, 0), units)];

  switch (strategy) {
    case 'single':
      throw new CodecError(CodecErrorCode.MESSAGE_TOO_LONG, `Message of ${units} units does not fit one part (at most ${limits.single}).`);
    case 'payload': {
      const payload = layout(body, encoding, packing, 0);
      if (payload.length > MAX_PAYLOAD_OCTETS) {
        throw new CodecError(
          CodecErrorCode.MESSAGE_TOO_LONG,
          `Message of ${payload.length} octets exceeds message_payload's ${MAX_PAYLOAD_OCTETS}.`,
        );
      }
      return [
        { shortMessage: Buffer.alloc(0), messagePayload: payload, esmClassUdhi: false, udh: null, sar: null, sequence: 1, total: 1, units },
      ];
    }
    case 'udh8':
    case 'udh16':
    case 'sar': {
      const limit = strategy === 'sar' ? limits.single : limits[strategy];
      const ranges = segmentRanges(body, encoding, limit);
      const total = ranges.length;
      if (total > MAX_PARTS) {
        throw new CodecError(
          CodecErrorCode.MESSAGE_TOO_LONG,
          `Message needs ${total} parts under ${strategy}; at most ${MAX_PARTS} are possible.`,
        );
      }
      const reference = checkReference(options.reference, strategy === 'udh8' ? 0xff : 0xffff, strategy);
      const parts: MessagePart[] = [];
      for (let k = 0; k < total; k++) {
        const [start, end] = ranges[k];
        const segment = body.subarray(start, end);
        const sequence = k + 1;
        const partUnits = unitsOf(end - start, encoding);
        if (strategy === 'sar') {
          parts.push({
            shortMessage: layout(segment, encoding, packing, 0),
            messagePayload: null,
            esmClassUdhi: false,
            udh: null,
            sar: { reference, total, sequence },
            sequence,
            total,
            units: partUnits,
          });
          continue;
        }
        const udhLength = strategy === 'udh8' ? 6 : 7;
        const text = layout(segment, encoding, packing, udhLength);
        // One allocation per part: header written in place, text copied after it.
        const shortMessage = Buffer.allocUnsafe(udhLength + text.length);
        if (strategy === 'udh8') {
          shortMessage[0] = 0x05;
          shortMessage[1] = UdhIei.CONCAT_8BIT;
          shortMessage[2] = 0x03;
          shortMessage[3] = reference;
          shortMessage[4] = total;
          shortMessage[5] = sequence;
        } else {
          shortMessage[0] = 0x06;
          shortMessage[1] = UdhIei.CONCAT_16BIT;
          shortMessage[2] = 0x04;
          shortMessage[3] = reference >> 8;
          shortMessage[4] = reference & 0xff;
          shortMessage[5] = total;
          shortMessage[6] = sequence;
        }
        text.copy(shortMessage, udhLength);
        const udh = shortMessage.subarray(0, udhLength);
        parts.push({
          shortMessage,
          messagePayload: null,
          esmClassUdhi: true,
          udh,
          sar: null,
          sequence,
          total,
          units: partUnits,
        });
      }
      return parts;
    }
  }
  throw new CodecError(CodecErrorCode.INVALID_ARGUMENT, `Unknown long-message strategy ${String(strategy)}.`);
}

/** Picks (or applies) the encoding, encodes, and splits. Unmappable characters throw. */
export function splitText(text: string, options: SplitTextOptions): SplitResult {
  const request = options.encoding ?? 'auto';
  let encoding: TextEncodingName;
  let body: Buffer;
  if (request === 'auto') {
    const gsm = tryEncodeGsm7(text);
    encoding = gsm === null ? 'UCS2' : 'GSM7';
    body = gsm ?? encodeUcs2(text);
  } else {
    encoding = resolveEncoding(text, request);
    body = encodeText(text, encoding);
  }
  const dataCoding = dataCodingFor(encoding, options.messageClass ?? null);
  return { encoding, dataCoding, parts: splitEncoded(body, encoding, options) };
}
