import {
  describeDataCoding,
  ESM_CLASS_UDHI,
  formatSmppRelative,
  parseInboundPart,
  splitEncoded,
  UdhIei,
  type SplitEncoding,
} from '../codec/index.ts';
import type { ShortMessageInput, Tlvs } from '../smpp/domain.ts';
import type { SmsDocument } from '../domain/sms-document.ts';
import type { LongFormName } from './connector-document.ts';

const SAR_TLVS = ['sarMsgRefNum', 'sarTotalSegments', 'sarSegmentSeqnum'] as const;

function splitEncodingOf(dataCoding: number): SplitEncoding {
  const alphabet = describeDataCoding(dataCoding).alphabet;
  if (alphabet === 'GSM7' || alphabet === 'UCS2' || alphabet === 'LATIN1') return alphabet;
  return 'BINARY';
}

function storedBytes(sms: SmsDocument): Buffer {
  const raw = sms.payload.shortMessage;
  return Buffer.from(raw.buffer);
}

function withoutSar(tlvs: Record<string, unknown> | undefined): Tlvs {
  const copy: Record<string, unknown> = { ...tlvs };
  for (const key of SAR_TLVS) delete copy[key];
  delete copy.messagePayload;
  return copy as Tlvs;
}

function concatUdh(form: 'udh8' | 'udh16', reference: number, total: number, sequence: number): Buffer {
  return form === 'udh8'
    ? Buffer.from([0x05, UdhIei.CONCAT_8BIT, 0x03, reference & 0xff, total, sequence])
    : Buffer.from([0x06, UdhIei.CONCAT_16BIT, 0x04, (reference >> 8) & 0xff, reference & 0xff, total, sequence]);
}

/**
 * The concatenation reference a message split here gets: derived from its `_id` (the ObjectId's
 * counter bytes), so a resend of the parts a downstream did not take carries the same reference
 * and the handset joins them with the parts it already has.
 */
export function concatReferenceOf(sms: Pick<SmsDocument, '_id'>): number {
  const bytes = sms._id.id;
  return ((bytes[10] << 8) | bytes[11]) & 0xffff;
}

/**
 * What is left of the message's validity, as a relative validity_period (SMPP 3.4 7.1.1), so the
 * downstream stops trying when we would report it expired. At least one second; '' (the
 * downstream's default) only when the validity is beyond what the relative form can say.
 */
export function remainingValidity(sms: Pick<SmsDocument, 'validUntil'>, now: Date): string {
  const remaining = Math.max(1000, sms.validUntil.getTime() - now.getTime());
  try {
    return formatSmppRelative(remaining);
  } catch {
    return '';
  }
}

/**
 * The submit_sm(s) that carry one stored message in the connector's long-message form, with the
 * remaining validity. A stored part of a long message (UDH or SAR) gets its concatenation header
 * rewritten; a long message_payload is re-split with the codec when the connector takes parts
 * (the reference derived from the message, see concatReferenceOf); everything else leaves as stored.
 */
export function toOutboundPdus(sms: SmsDocument, form: LongFormName, now: Date): ShortMessageInput[] {
  // An 8-bit concatenation header carries only the low octet.
  const reference = form === 'udh8' ? concatReferenceOf(sms) & 0xff : concatReferenceOf(sms);
  return toPdus(sms, form, () => reference).map((pdu) => ({ ...pdu, validityPeriod: remainingValidity(sms, now) }));
}

function toPdus(sms: SmsDocument, form: LongFormName, referenceFor: () => number): ShortMessageInput[] {
  const tlvs = (sms.payload.tlvs ?? {}) as Record<string, unknown>;
  const payloadTlv = tlvs.messagePayload;
  const messagePayload =
    payloadTlv instanceof Uint8Array ? Buffer.from(payloadTlv) : isBinaryLike(payloadTlv) ? Buffer.from(payloadTlv.buffer) : null;
  const base: ShortMessageInput = {
    serviceType: sms.payload.serviceType ?? '',
    source: sms.source,
    dest: sms.dest,
    esmClass: sms.payload.esmClass,
    protocolId: sms.payload.protocolId ?? 0,
    dataCoding: sms.payload.dataCoding,
    // Receipts from the downstream are what `submitted` waits for.
    registeredDelivery: 1,
    shortMessage: storedBytes(sms),
    tlvs: { ...(tlvs as Tlvs), ...(messagePayload ? { messagePayload } : {}) },
  };
  // Most traffic: one part, no UDH, no SAR, no message_payload; it leaves as stored without a parse.
  if (
    (sms.payload.esmClass & ESM_CLASS_UDHI) === 0 &&
    !messagePayload &&
    SAR_TLVS.every((key) => tlvs[key] === undefined || tlvs[key] === null)
  )
    return [base];
  const part = parseInboundPart({
    shortMessage: base.shortMessage,
    esmClass: sms.payload.esmClass,
    messagePayload,
    sarMsgRefNum: tlvs.sarMsgRefNum as number | undefined,
    sarTotalSegments: tlvs.sarTotalSegments as number | undefined,
    sarSegmentSeqnum: tlvs.sarSegmentSeqnum as number | undefined,
  });
  const otherUdh = part.udhElements.some((el) => el.iei !== UdhIei.CONCAT_8BIT && el.iei !== UdhIei.CONCAT_16BIT);

  if (part.total > 1) {
    // A part: rewrite only the concatenation header (other UDH elements, e.g. ports, keep it as stored).
    if (otherUdh || form === 'payload' || form === part.form) return [base];
    const esmClass = sms.payload.esmClass & ~ESM_CLASS_UDHI;
    if (form === 'sar') {
      return [
        {
          ...base,
          esmClass,
          shortMessage: part.payload,
          tlvs: {
            ...withoutSar(tlvs),
            sarMsgRefNum: part.reference & 0xffff,
            sarTotalSegments: part.total,
            sarSegmentSeqnum: part.sequence,
          },
        },
      ];
    }
    const reference = form === 'udh8' ? part.reference & 0xff : part.reference;
    return [
      {
        ...base,
        esmClass: esmClass | ESM_CLASS_UDHI,
        shortMessage: Buffer.concat([concatUdh(form, reference, part.total, part.sequence), part.payload]),
        tlvs: withoutSar(tlvs),
      },
    ];
  }

  if (part.form === 'payload' && form !== 'payload') {
    const encoding = splitEncodingOf(sms.payload.dataCoding);
    const pieces = splitEncoded(part.payload, encoding, { strategy: form, reference: referenceFor() });
    return pieces.map((piece) => ({
      ...base,
      esmClass: piece.esmClassUdhi ? sms.payload.esmClass | ESM_CLASS_UDHI : sms.payload.esmClass,
      shortMessage: piece.shortMessage,
      tlvs: {
        ...withoutSar(tlvs),
        ...(piece.sar
          ? { sarMsgRefNum: piece.sar.reference, sarTotalSegments: piece.sar.total, sarSegmentSeqnum: piece.sar.sequence }
          : {}),
        ...(piece.messagePayload ? { messagePayload: piece.messagePayload } : {}),
      },
    }));
  }
  return [base];
}

function isBinaryLike(value: unknown): value is { buffer: Uint8Array } {
  return typeof value === 'object' && value !== null && 'buffer' in value && (value as { buffer: unknown }).buffer instanceof Uint8Array;
}
