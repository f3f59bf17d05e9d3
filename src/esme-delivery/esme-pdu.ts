import type { ShortMessageInput, Tlvs } from '../smpp/domain.ts';
import type { SmsDocument } from '../domain/sms-document.ts';

/** Stored TLV values come back from MongoDB as Binary; the wire wants Buffers. */
function wireValue(value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'object' && value !== null && 'buffer' in value && (value as { buffer: unknown }).buffer instanceof Uint8Array) {
    return Buffer.from((value as { buffer: Uint8Array }).buffer);
  }
  return value;
}

/** The deliver_sm that carries a stored receipt or MO message to its ESME. */
export function deliverSmOf(sms: SmsDocument): ShortMessageInput {
  const tlvs: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(sms.payload.tlvs ?? {})) {
    if (value !== undefined && value !== null) tlvs[name] = wireValue(value);
  }
  return {
    serviceType: sms.payload.serviceType ?? '',
    source: sms.source,
    dest: sms.dest,
    esmClass: sms.payload.esmClass,
    protocolId: sms.payload.protocolId ?? 0,
    dataCoding: sms.payload.dataCoding,
    registeredDelivery: 0,
    shortMessage: Buffer.from(sms.payload.shortMessage.buffer),
    tlvs: tlvs as Tlvs,
  };
}
