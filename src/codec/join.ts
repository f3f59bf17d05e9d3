/**
 * Inbound long messages in any of the three forms (UDH concatenation, SAR TLVs,
 * message_payload) -> (reference, total, sequence, payload), and reassembly of a
 * complete set back into text.
 */
import { CodecError, CodecErrorCode } from './errors.ts';
import { fillBitsAfterUdh, unpackSeptets } from './gsm7.ts';
import { decodeText, type DecodeOptions } from './text-codec.ts';
import { describeDataCoding } from './data-coding.ts';
import { ESM_CLASS_UDHI, UdhIei } from './split.ts';

/** The fields of a submit_sm / deliver_sm / data_sm that carry the message, in domain names. */
export interface InboundPdu {
  readonly shortMessage?: Uint8Array | null;
  readonly esmClass?: number;
  readonly messagePayload?: Uint8Array | null;
  readonly sarMsgRefNum?: number | null;
  readonly sarTotalSegments?: number | null;
  readonly sarSegmentSeqnum?: number | null;
}

export type InboundForm = 'single' | 'udh8' | 'udh16' | 'sar' | 'payload';

export interface UdhElement {
  readonly iei: number;
  readonly data: Buffer;
}

export interface InboundPart {
  readonly form: InboundForm;
  /** 0 for a message that is not concatenated. */
  readonly reference: number;
  readonly total: number;
  readonly sequence: number;
  /** Message octets after any UDH (still packed if the peer packs GSM-7). */
  readonly payload: Buffer;
  /** The whole UDH including its length octet, or null. */
  readonly udh: Buffer | null;
  readonly udhElements: readonly UdhElement[];
  /** Fill bits before the first septet if this part's GSM-7 is packed (follows from the UDH length). */
  readonly fillBits: number;
}

function toBuffer(bytes: Uint8Array | null | undefined): Buffer {
  if (!bytes) return Buffer.alloc(0);
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Parses a UDH (length octet first) into its information elements; structural errors throw INVALID_UDH. */
export function parseUdh(body: Uint8Array): { udh: Buffer; elements: UdhElement[] } {
  const buf = toBuffer(body);
  if (buf.length === 0) throw new CodecError(CodecErrorCode.INVALID_UDH, 'UDH indicator set but the message is empty.');
  const udhl = buf[0];
  if (1 + udhl > buf.length) {
    throw new CodecError(CodecErrorCode.INVALID_UDH, `UDH length ${udhl} exceeds the ${buf.length - 1} octets that follow.`);
  }
  const elements: UdhElement[] = [];
  let i = 1;
  const end = 1 + udhl;
  while (i < end) {
    if (i + 2 > end) throw new CodecError(CodecErrorCode.INVALID_UDH, `UDH information element at offset ${i} is truncated.`);
    const iei = buf[i];
    const len = buf[i + 1];
    if (i + 2 + len > end) {
      throw new CodecError(
        CodecErrorCode.INVALID_UDH,
        `UDH information element 0x${iei.toString(16).padStart(2, '0')} at offset ${i} overruns the header.`,
      );
    }
    elements.push({ iei, data: buf.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return { udh: buf.subarray(0, end), elements };
}

function checkSequence(total: number, sequence: number, form: string): void {
  if (total < 1 || sequence < 1 || sequence > total) {
    throw new CodecError(
      CodecErrorCode.INVALID_SEGMENT,
      `${form} concatenation says part ${sequence} of ${total}; parts are numbered 1..total with total >= 1.`,
    );
  }
}

/** Reads an inbound PDU's message fields in whichever long-message form the peer used. */
export function parseInboundPart(pdu: InboundPdu): InboundPart {
  const shortMessage = toBuffer(pdu.shortMessage);
  const messagePayload = pdu.messagePayload ? toBuffer(pdu.messagePayload) : null;
  // message_payload and short_message are exclusive; a peer that sends both means the TLV.
  const body = messagePayload && messagePayload.length > 0 ? messagePayload : shortMessage;
  const usesPayload = body === messagePayload;

  let payload = body;
  let udh: Buffer | null = null;
  let elements: UdhElement[] = [];
  let concat: { form: 'udh8' | 'udh16'; reference: number; total: number; sequence: number } | null = null;

  if (((pdu.esmClass ?? 0) & ESM_CLASS_UDHI) !== 0) {
    const parsed = parseUdh(body);
    udh = parsed.udh;
    elements = parsed.elements;
    payload = body.subarray(udh.length);
    for (const el of elements) {
      if (el.iei === UdhIei.CONCAT_8BIT) {
        if (el.data.length !== 3) throw new CodecError(CodecErrorCode.INVALID_UDH, 'Concatenation element 0x00 must be 3 octets long.');
        concat = { form: 'udh8', reference: el.data[0], total: el.data[1], sequence: el.data[2] };
      } else if (el.iei === UdhIei.CONCAT_16BIT) {
        if (el.data.length !== 4) throw new CodecError(CodecErrorCode.INVALID_UDH, 'Concatenation element 0x08 must be 4 octets long.');
        concat = { form: 'udh16', reference: (el.data[0] << 8) | el.data[1], total: el.data[2], sequence: el.data[3] };
      }
    }
  }

  const fillBits = udh !== null ? fillBitsAfterUdh(udh.length) : 0;
  const base = { payload, udh, udhElements: elements, fillBits };

  if (concat !== null) {
    checkSequence(concat.total, concat.sequence, 'UDH');
    return { ...base, ...concat };
  }
  const sarFields = [pdu.sarMsgRefNum, pdu.sarTotalSegments, pdu.sarSegmentSeqnum];
  const sarCount = sarFields.filter((v) => v !== undefined && v !== null).length;
  if (sarCount === 3) {
    const reference = Number(pdu.sarMsgRefNum);
    const total = Number(pdu.sarTotalSegments);
    const sequence = Number(pdu.sarSegmentSeqnum);
    if (!Number.isInteger(reference) || reference < 0 || reference > 0xffff) {
      throw new CodecError(CodecErrorCode.INVALID_SEGMENT, `sar_msg_ref_num ${reference} is not 0..65535.`);
    }
    checkSequence(total, sequence, 'SAR');
    return { ...base, form: 'sar', reference, total, sequence };
  }
  if (sarCount !== 0) {
    throw new CodecError(
      CodecErrorCode.INVALID_SEGMENT,
      'sar_msg_ref_num, sar_total_segments and sar_segment_seqnum must be sent together.',
    );
  }
  return { ...base, form: usesPayload ? 'payload' : 'single', reference: 0, total: 1, sequence: 1 };
}

export interface ReassembleOptions extends Pick<DecodeOptions, 'smscDefault'> {
  readonly dataCoding: number;
  /** The peer packs GSM-7 (seven bits per character). Default false. */
  readonly gsm7Packed?: boolean;
}

export interface Reassembled {
  readonly reference: number;
  readonly total: number;
  /** The whole message's units in order (GSM-7 unpacked), ready for decodeText. */
  readonly body: Buffer;
  readonly text: string;
}

/** Concatenates the payloads of a complete set (in any order; duplicates of a sequence are ignored). */
export function joinPayloads(parts: readonly InboundPart[], options: { gsm7Packed?: boolean; dataCoding?: number } = {}): Buffer {
  if (parts.length === 0) throw new CodecError(CodecErrorCode.INCOMPLETE_MESSAGE, 'No parts to reassemble.');
  const { reference, total } = parts[0];
  const bySequence: Array<InboundPart | undefined> = new Array(total + 1);
  for (const p of parts) {
    if (p.reference !== reference || p.total !== total) {
      throw new CodecError(
        CodecErrorCode.INVALID_SEGMENT,
        `Parts of different messages mixed: reference ${p.reference}/${total === p.total ? total : p.total} vs ${reference}/${total}.`,
      );
    }
    if (bySequence[p.sequence] === undefined) bySequence[p.sequence] = p;
  }
  const missing: number[] = [];
  for (let s = 1; s <= total; s++) if (bySequence[s] === undefined) missing.push(s);
  if (missing.length > 0) {
    throw new CodecError(
      CodecErrorCode.INCOMPLETE_MESSAGE,
      `Message ${reference} has ${total} parts; missing part(s) ${missing.join(', ')}.`,
    );
  }
  const packed =
    options.gsm7Packed === true && (options.dataCoding === undefined || describeDataCoding(options.dataCoding).alphabet === 'GSM7');
  const chunks: Buffer[] = [];
  for (let s = 1; s <= total; s++) {
    const p = bySequence[s] as InboundPart;
    chunks.push(packed ? unpackSeptets(p.payload, p.fillBits) : p.payload);
  }
  return Buffer.concat(chunks);
}

/** Reassembles and decodes. Joining units before decoding also repairs peers that split an escape or surrogate pair. */
export function reassemble(parts: readonly InboundPart[], options: ReassembleOptions): Reassembled {
  const body = joinPayloads(parts, options);
  const text = decodeText(body, options.dataCoding, { smscDefault: options.smscDefault });
  return { reference: parts[0]?.reference ?? 0, total: parts[0]?.total ?? 0, body, text };
}
