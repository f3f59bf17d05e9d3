import { describe, expect, it } from 'vitest';
import type { AccountLimits } from '../../../src/accounts/index.ts';
import { formatSmppAbsolute } from '../../../src/codec/index.ts';
import { buildSmsDocuments, DEFAULT_SUBMIT_POLICY, prepareMessage, validateDestination } from '../../../src/submission/index.ts';
import { CommandStatus, type ShortMessage, SmppError } from '../../../src/smpp/index.ts';
import { shortMessage } from '../../support/short-message.ts';

const NOW = new Date(Date.UTC(2026, 5, 1, 12, 0, 0));
const ACCOUNT: AccountLimits = { systemId: 'acme', tps: 0, maxBinds: 2, sourceAllow: ['ACME', '4470*'], maxQueued: 0 };

function msg(overrides: Partial<ShortMessage> = {}): ShortMessage {
  return shortMessage({ source: { ton: 5, npi: 0, addr: 'ACME' }, shortMessage: Buffer.from('hello'), ...overrides });
}

function statusOf(fn: () => unknown): number | 'ok' {
  try {
    fn();
    return 'ok';
  } catch (error) {
    if (error instanceof SmppError) return error.commandStatus;
    throw error;
  }
}

const prep = (m: ShortMessage) => prepareMessage(m, 'submit_sm', ACCOUNT, NOW);

describe('submit validation: precise statuses', () => {
  const cases: [string, Partial<ShortMessage>, number][] = [
    ['source not allowed', { source: { ton: 5, npi: 0, addr: 'OTHER' } }, CommandStatus.ESME_RINVSRCADR],
    ['alphanumeric source too long', { source: { ton: 5, npi: 0, addr: 'ACMEACMEACMEA' } }, CommandStatus.ESME_RINVSRCADR],
    ['source TON undefined', { source: { ton: 9, npi: 0, addr: 'ACME' } }, CommandStatus.ESME_RINVSRCTON],
    ['source NPI undefined', { source: { ton: 5, npi: 2, addr: 'ACME' } }, CommandStatus.ESME_RINVSRCNPI],
    ['unsupported data_coding', { dataCoding: 0x05 }, CommandStatus.ESME_RINVDCS],
    ['reserved data_coding', { dataCoding: 0x0b }, CommandStatus.ESME_RINVDCS],
    ['both short_message and message_payload', { tlvs: { messagePayload: Buffer.from('x') } }, CommandStatus.ESME_RINVMSGLEN],
    ['esm_class receipt type in a submit', { esmClass: 0x04 }, CommandStatus.ESME_RINVESMCLASS],
    ['esm_class undefined type', { esmClass: 0x18 }, CommandStatus.ESME_RINVESMCLASS],
    ['UDHI with a broken UDH', { esmClass: 0x40, shortMessage: Buffer.from([0x09, 0x00, 0x03]) }, CommandStatus.ESME_RINVESMCLASS],
    ['registered_delivery reserved value 3', { registeredDelivery: 0x03 }, CommandStatus.ESME_RINVREGDLVFLG],
    ['registered_delivery reserved bits', { registeredDelivery: 0x21 }, CommandStatus.ESME_RINVREGDLVFLG],
    ['priority out of range', { priority: 4 }, CommandStatus.ESME_RINVPRTFLG],
    ['replace_if_present out of range', { replaceIfPresent: 2 }, CommandStatus.ESME_RINVREPFLAG],
    ['predefined message', { smDefaultMsgId: 3 }, CommandStatus.ESME_RINVDFTMSGID],
    ['service_type too long', { serviceType: 'ABCDEF' }, CommandStatus.ESME_RINVSERTYP],
    ['validity malformed', { validityPeriod: '2601011200' }, CommandStatus.ESME_RINVEXPIRY],
    ['validity in the past', { validityPeriod: formatSmppAbsolute(new Date(NOW.getTime() - 60_000)) }, CommandStatus.ESME_RINVEXPIRY],
    ['validity beyond the maximum', { validityPeriod: '000030000000000R' }, CommandStatus.ESME_RINVEXPIRY],
    ['schedule malformed', { scheduleDeliveryTime: '26060112000000X' }, CommandStatus.ESME_RINVSCHED],
    ['schedule in the past', { scheduleDeliveryTime: formatSmppAbsolute(new Date(NOW.getTime() - 60_000)) }, CommandStatus.ESME_RINVSCHED],
    ['schedule beyond the maximum', { scheduleDeliveryTime: '000100000000000R' }, CommandStatus.ESME_RINVSCHED],
    [
      'validity before schedule',
      { scheduleDeliveryTime: '000000020000000R', validityPeriod: '000000010000000R' },
      CommandStatus.ESME_RINVEXPIRY,
    ],
    ['SAR fields incomplete', { tlvs: { sarMsgRefNum: 1, sarTotalSegments: 2 } }, CommandStatus.ESME_RMISSINGTLV],
    ['SAR sequence beyond total', { tlvs: { sarMsgRefNum: 1, sarTotalSegments: 2, sarSegmentSeqnum: 3 } }, CommandStatus.ESME_RINVTLVVAL],
  ];
  for (const [name, overrides, status] of cases) {
    it(name, () => expect(statusOf(() => prep(msg(overrides)))).toBe(status));
  }

  const destCases: [string, ShortMessage['dest'], number | 'ok'][] = [
    ['empty destination', { ton: 1, npi: 1, addr: '' }, CommandStatus.ESME_RINVDSTADR],
    ['letters in the destination', { ton: 1, npi: 1, addr: '4477abc' }, CommandStatus.ESME_RINVDSTADR],
    ['international number too short', { ton: 1, npi: 1, addr: '4412' }, CommandStatus.ESME_RINVDSTADR],
    ['alphanumeric destination', { ton: 5, npi: 0, addr: 'SHOP' }, CommandStatus.ESME_RINVDSTADR],
    ['destination TON undefined', { ton: 7, npi: 1, addr: '447700900123' }, CommandStatus.ESME_RINVDSTTON],
    ['destination NPI undefined', { ton: 1, npi: 5, addr: '447700900123' }, CommandStatus.ESME_RINVDSTNPI],
    ['short code', { ton: 0, npi: 0, addr: '12345' }, 'ok'],
    ['plus form', { ton: 0, npi: 1, addr: '+447700900123' }, 'ok'],
  ];
  for (const [name, dest, status] of destCases) {
    it(name, () => expect(statusOf(() => validateDestination(dest))).toBe(status));
  }
});

describe('submit validation: accepted messages', () => {
  it('builds one queued document with defaults', () => {
    const prepared = prep(msg({ registeredDelivery: 1, priority: 2 }));
    const [doc] = buildSmsDocuments(prepared, validateDestination(msg().dest));
    expect(doc.messageId).toBe(doc._id.toHexString());
    expect(doc).toMatchObject({
      direction: 'mt',
      account: 'acme',
      state: 'queued',
      destKey: '+447700900123',
      priority: 2,
      registeredDelivery: 1,
      attempts: 0,
      arrivedAt: NOW,
      nextAttemptAt: NOW,
      target: { kind: 'connector' },
      history: [],
    });
    expect(doc.validUntil.getTime() - NOW.getTime()).toBe(DEFAULT_SUBMIT_POLICY.defaultValidityMs);
    expect(Buffer.from(doc.payload.shortMessage.buffer).toString()).toBe('hello');
    expect(doc.concat).toBeUndefined();
  });

  it('resolves relative schedule and validity; validity counts from the schedule by default', () => {
    const prepared = prep(msg({ scheduleDeliveryTime: '000000010000000R' }));
    expect(prepared.scheduledAt?.getTime()).toBe(NOW.getTime() + 3600_000);
    expect(prepared.validUntil.getTime()).toBe(NOW.getTime() + 3600_000 + DEFAULT_SUBMIT_POLICY.defaultValidityMs);
    const [doc] = buildSmsDocuments(prepared, validateDestination(msg().dest));
    expect(doc.nextAttemptAt).toEqual(prepared.scheduledAt);
  });

  it('links a UDH part to its siblings', () => {
    const udh = Buffer.from([0x05, 0x00, 0x03, 0x2a, 0x03, 0x02]);
    const prepared = prep(msg({ esmClass: 0x40, shortMessage: Buffer.concat([udh, Buffer.from('part two')]) }));
    const [doc] = buildSmsDocuments(prepared, validateDestination(msg().dest));
    expect(doc.concat).toEqual({ groupId: 'acme:ACME:+447700900123:42:3', ref: 42, total: 3, seq: 2 });
    expect(doc.payload.esmClass).toBe(0x40);
    expect(Buffer.from(doc.payload.shortMessage.buffer).subarray(0, 6)).toEqual(udh);
  });

  it('links SAR parts the same way', () => {
    const prepared = prep(msg({ tlvs: { sarMsgRefNum: 300, sarTotalSegments: 2, sarSegmentSeqnum: 1 } }));
    const [doc] = buildSmsDocuments(prepared, validateDestination(msg().dest));
    expect(doc.concat).toMatchObject({ ref: 300, total: 2, seq: 1 });
  });

  it('stores a long message_payload as UDH-linked parts', () => {
    const text = 'x'.repeat(400);
    const prepared = prep(msg({ shortMessage: Buffer.alloc(0), tlvs: { messagePayload: Buffer.from(text) } }));
    const docs = buildSmsDocuments(prepared, validateDestination(msg().dest));
    expect(docs).toHaveLength(3);
    expect(docs.map((d) => d.concat?.seq)).toEqual([1, 2, 3]);
    expect(new Set(docs.map((d) => d.concat?.groupId)).size).toBe(1);
    expect(docs.every((d) => d.payload.esmClass === 0x40 && d.payload.tlvs?.messagePayload === undefined)).toBe(true);
    const joined = docs.map((d) => Buffer.from(d.payload.shortMessage.buffer).subarray(6).toString()).join('');
    expect(joined).toBe(text);
  });

  it('keeps a short message_payload as one plain document', () => {
    const prepared = prep(msg({ shortMessage: Buffer.alloc(0), tlvs: { messagePayload: Buffer.from('short') } }));
    const docs = buildSmsDocuments(prepared, validateDestination(msg().dest));
    expect(docs).toHaveLength(1);
    expect(docs[0].concat).toBeUndefined();
    expect(Buffer.from(docs[0].payload.shortMessage.buffer).toString()).toBe('short');
  });

  it('accepts deliver_sm from a peer as MO without the source allow-list', () => {
    const prepared = prepareMessage(msg({ source: { ton: 1, npi: 1, addr: '447700900999' }, esmClass: 0 }), 'deliver_sm', ACCOUNT, NOW);
    const [doc] = buildSmsDocuments(prepared, validateDestination({ ton: 0, npi: 0, addr: '12345' }));
    expect(doc.direction).toBe('mo');
    expect(doc.target.kind).toBe('esme');
  });
});

describe('message_payload with its own UDH', () => {
  it('is kept whole as a message_payload TLV (it may not fit short_message)', () => {
    const udh = Buffer.from([0x06, 0x05, 0x04, 0x0b, 0x84, 0x23, 0xf0]); // port addressing
    const body = Buffer.concat([udh, Buffer.alloc(300, 0x41)]);
    const prepared = prep(msg({ esmClass: 0x40, shortMessage: Buffer.alloc(0), tlvs: { messagePayload: body } }));
    const docs = buildSmsDocuments(prepared, validateDestination(msg().dest));
    expect(docs).toHaveLength(1);
    expect(docs[0].payload.shortMessage.length()).toBe(0);
    const stored = docs[0].payload.tlvs?.messagePayload as { buffer: Uint8Array };
    expect(Buffer.from(stored.buffer)).toEqual(body);
  });
});
