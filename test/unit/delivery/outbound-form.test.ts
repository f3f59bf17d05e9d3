import { Binary } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { concatReferenceOf, remainingValidity, toOutboundPdus } from '../../../src/connectors/index.ts';
import { makeSms } from '../../support/sms-factory.ts';

const body = Buffer.from('part-two', 'latin1');
const now = new Date();
const udh8Part = () =>
  makeSms({
    payload: {
      dataCoding: 0,
      esmClass: 0x40,
      shortMessage: new Binary(Buffer.concat([Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x03, 0x02]), body])),
    },
  });
const sarPart = () =>
  makeSms({
    payload: {
      dataCoding: 0,
      esmClass: 0,
      shortMessage: new Binary(body),
      tlvs: { sarMsgRefNum: 0x1234, sarTotalSegments: 3, sarSegmentSeqnum: 2 },
    },
  });

describe('long messages leave in the connector form', () => {
  it('a stored UDH part keeps its bytes for a udh8 connector', () => {
    const [pdu] = toOutboundPdus(udh8Part(), 'udh8', now);
    expect(pdu.esmClass).toBe(0x40);
    expect(Buffer.from(pdu.shortMessage!).subarray(0, 6)).toEqual(Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x03, 0x02]));
  });

  it('a stored UDH part becomes SAR TLVs without the header', () => {
    const pdus = toOutboundPdus(udh8Part(), 'sar', now);
    expect(pdus).toHaveLength(1);
    expect(pdus[0].esmClass).toBe(0);
    expect(Buffer.from(pdus[0].shortMessage!)).toEqual(body);
    expect(pdus[0].tlvs).toMatchObject({ sarMsgRefNum: 0x2a, sarTotalSegments: 3, sarSegmentSeqnum: 2 });
  });

  it('a stored SAR part becomes a 16-bit UDH part, and an 8-bit one keeps the low reference octet', () => {
    const [u16] = toOutboundPdus(sarPart(), 'udh16', now);
    expect(u16.esmClass).toBe(0x40);
    expect(Buffer.from(u16.shortMessage!)).toEqual(Buffer.concat([Buffer.from([0x06, 0x08, 0x04, 0x12, 0x34, 0x03, 0x02]), body]));
    expect(u16.tlvs).not.toHaveProperty('sarMsgRefNum');
    const [u8] = toOutboundPdus(sarPart(), 'udh8', now);
    expect(Buffer.from(u8.shortMessage!).subarray(0, 6)).toEqual(Buffer.from([0x05, 0x00, 0x03, 0x34, 0x03, 0x02]));
  });

  it('a long message_payload is re-split into parts, or kept whole for a payload connector', () => {
    const text = 'y'.repeat(200);
    const long = makeSms({
      payload: {
        dataCoding: 0,
        esmClass: 0,
        shortMessage: new Binary(Buffer.alloc(0)),
        tlvs: { messagePayload: new Binary(Buffer.from(text, 'latin1')) },
      },
    });
    const parts = toOutboundPdus(long, 'udh8', now);
    expect(parts).toHaveLength(2);
    expect(parts.every((p) => p.esmClass === 0x40)).toBe(true);
    expect(Buffer.from(parts[0].shortMessage!).subarray(0, 6)).toEqual(
      Buffer.from([0x05, 0x00, 0x03, concatReferenceOf(long) & 0xff, 0x02, 0x01]),
    );
    // A resend (another attempt, later) carries the same reference, so the handset joins the parts.
    const again = toOutboundPdus(long, 'udh8', new Date(now.getTime() + 60_000));
    expect(again.map((p) => Buffer.from(p.shortMessage!))).toEqual(parts.map((p) => Buffer.from(p.shortMessage!)));
    expect(parts.map((p) => Buffer.from(p.shortMessage!).subarray(6).toString('latin1')).join('')).toBe(text);
    const whole = toOutboundPdus(long, 'payload', now);
    expect(whole).toHaveLength(1);
    expect(Buffer.from(whole[0].tlvs!.messagePayload as Buffer).toString('latin1')).toBe(text);
  });

  it('forwards what is left of the validity as a relative validity_period', () => {
    const sms = makeSms({ validUntil: new Date(now.getTime() + (26 * 3600 + 61) * 1000 + 400) });
    expect(remainingValidity(sms, now)).toBe('000001020101000R');
    expect(toOutboundPdus(sms, 'udh8', now)[0].validityPeriod).toBe('000001020101000R');
    // Already due to expire: at least a second, never "no validity".
    expect(remainingValidity(makeSms({ validUntil: now }), now)).toBe('000000000001000R');
  });

  it('asks the downstream for a receipt (what `submitted` waits for)', () => {
    expect(toOutboundPdus(makeSms(), 'udh8', now)[0].registeredDelivery).toBe(1);
  });
});
