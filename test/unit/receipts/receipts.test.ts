import { Binary, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { MessageState, parseReceipt } from '../../../src/codec/index.ts';
import {
  isReceipt,
  readInboundReceipt,
  buildReceiptDocument,
  esmeLockKey,
  receiptIdFor,
  textSnippet,
  receiptSpecOf,
  remoteIdKey,
} from '../../../src/receipts/index.ts';
import {
  receiptDueSet,
  wantsFinalReceipt,
  wantsIntermediate,
  combineParts,
  effectOfReceipt,
  messageStateOf,
  SmsState,
  type SmsDocument,
} from '../../../src/domain/index.ts';
import type { ShortMessage } from '../../../src/smpp/index.ts';
import { shortMessage } from '../../support/short-message.ts';

function mt(overrides: Partial<SmsDocument> = {}): SmsDocument {
  const _id = new ObjectId();
  return {
    _id,
    messageId: _id.toHexString(),
    direction: 'mt',
    account: 'acme',
    arrivedAt: new Date(Date.UTC(2026, 10, 22, 1, 2, 3)),
    source: { ton: 5, npi: 0, addr: 'ACME' },
    dest: { ton: 1, npi: 1, addr: '491701234567' },
    destKey: '+491701234567',
    priority: 0,
    registeredDelivery: 1,
    validUntil: new Date(Date.UTC(2026, 10, 23)),
    nextAttemptAt: new Date(Date.UTC(2026, 10, 22)),
    attempts: 1,
    state: SmsState.delivered,
    target: { kind: 'connector' },
    payload: { dataCoding: 0, esmClass: 0, shortMessage: new Binary(Buffer.from('Hello there, this is a longer text', 'latin1')) },
    history: [],
    finalAt: new Date(Date.UTC(2026, 10, 22, 1, 7, 0)),
    ...overrides,
  };
}

function deliverSm(overrides: Partial<ShortMessage>): ShortMessage {
  return shortMessage({ dest: { ton: 0, npi: 0, addr: 'ACME' }, esmClass: 0x04, ...overrides });
}

describe('registered_delivery', () => {
  it('asks for final receipts (1), failure receipts only (2), none (0), intermediate (0x10)', () => {
    expect(wantsFinalReceipt(1, MessageState.DELIVERED)).toBe(true);
    expect(wantsFinalReceipt(1, MessageState.UNDELIVERABLE)).toBe(true);
    expect(wantsFinalReceipt(2, MessageState.DELIVERED)).toBe(false);
    expect(wantsFinalReceipt(2, MessageState.EXPIRED)).toBe(true);
    expect(wantsFinalReceipt(0, MessageState.UNDELIVERABLE)).toBe(false);
    expect(wantsFinalReceipt(0x10, MessageState.DELIVERED)).toBe(false);
    expect(wantsIntermediate(0x11)).toBe(true);
    expect(wantsIntermediate(0x01)).toBe(false);
  });

  it('flags only MT messages whose ESME may want to hear', () => {
    expect(receiptDueSet({ direction: 'mt', registeredDelivery: 1 }, true)).toEqual({ receiptDue: true });
    expect(receiptDueSet({ direction: 'mt', registeredDelivery: 0 }, true)).toEqual({});
    expect(receiptDueSet({ direction: 'mt', registeredDelivery: 1 }, false)).toEqual({});
    expect(receiptDueSet({ direction: 'mt', registeredDelivery: 0x11 }, false)).toEqual({ receiptDue: true });
    expect(receiptDueSet({ direction: 'mo', registeredDelivery: 1 }, true)).toEqual({});
  });
});

describe('receipt states', () => {
  it('maps downstream message_state to our final states, intermediate ones keep submitted', () => {
    expect(effectOfReceipt(MessageState.DELIVERED)).toEqual({ kind: 'final', state: 'delivered', messageState: 2 });
    expect(effectOfReceipt(MessageState.UNDELIVERABLE)).toMatchObject({ kind: 'final', state: 'undeliverable' });
    expect(effectOfReceipt(MessageState.EXPIRED)).toMatchObject({ kind: 'final', state: 'expired' });
    expect(effectOfReceipt(MessageState.REJECTED)).toMatchObject({ kind: 'final', state: 'rejected' });
    expect(effectOfReceipt(MessageState.UNKNOWN)).toMatchObject({ kind: 'final', state: 'undeliverable', messageState: 7 });
    expect(effectOfReceipt(MessageState.ENROUTE).kind).toBe('intermediate');
    expect(effectOfReceipt(MessageState.ACCEPTED).kind).toBe('intermediate');
    expect(messageStateOf('cancelled')).toBe(MessageState.DELETED);
    expect(messageStateOf('expired')).toBe(MessageState.EXPIRED);
  });

  it('a multi-part message is final only when every part is, and then reports the first failure', () => {
    expect(combineParts([2], 2)).toBeNull();
    expect(combineParts([2, 1], 2)).toBeNull();
    expect(combineParts([2, 2], 2)).toMatchObject({ state: 'delivered' });
    expect(combineParts([2, 5], 2)).toMatchObject({ state: 'undeliverable', messageState: 5 });
  });
});

describe('remote id forms', () => {
  it('hex submit ids and decimal receipt ids meet on one key', () => {
    const connector = { name: 'op', messageIdForm: { submit: 'hex' as const, receipt: 'decimal' as const } };
    expect(remoteIdKey(connector, '00FF', 'submit')).toBe(remoteIdKey(connector, '255', 'receipt'));
    expect(
      remoteIdKey(
        { messageIdForm: { receipt: { format: 'string' as const, ignoreCase: true, stripLeadingZeros: true } } },
        '00AbC',
        'receipt',
      ),
    ).toBe('abc');
    expect(remoteIdKey({ name: 'plain' }, ' abc ', 'submit')).toBe('abc');
    // An id that does not fit the declared form is kept rather than lost.
    expect(remoteIdKey(connector, 'xyz', 'submit')).toBe('xyz');
  });
});

describe('inbound receipts', () => {
  it('reads ids, state and network error from TLVs first', () => {
    const msg = deliverSm({
      shortMessage: Buffer.from('id:OTHER sub:001 dlvrd:000 submit date:2611220100 done date:2611220101 stat:DELIVRD err:000 text:x'),
      tlvs: { receiptedMessageId: 'abc123', messageState: 5, networkErrorCode: Buffer.from([3, 0x01, 0x02]) },
    });
    expect(isReceipt(msg)).toBe(true);
    expect(readInboundReceipt(msg)).toMatchObject({ ids: ['abc123', 'OTHER'], messageState: 5, networkErrorCode: 0x0102 });
  });

  it('falls back to the text when there are no TLVs', () => {
    const msg = deliverSm({
      shortMessage: Buffer.from('id:77 sub:001 dlvrd:000 submit date:2611220100 done date:2611220101 stat:UNDELIV err:034 text:x'),
    });
    expect(readInboundReceipt(msg)).toMatchObject({ ids: ['77'], messageState: 5, networkErrorCode: 34 });
  });

  it('ignores a message_state TLV outside 0..9 and reads the stat word instead', () => {
    const msg = deliverSm({ shortMessage: Buffer.from('id:9 stat:EXPIRED'), tlvs: { receiptedMessageId: '9', messageState: 42 } });
    expect(readInboundReceipt(msg).messageState).toBe(3);
  });

  it('esm_class decides receipt or MO', () => {
    expect(isReceipt({ esmClass: 0x00 })).toBe(false);
    expect(isReceipt({ esmClass: 0x40 })).toBe(false);
    expect(isReceipt({ esmClass: 0x20 })).toBe(true);
  });
});

describe('receipt documents', () => {
  it('carry the standard text, the TLVs and a link back, to the originating ESME', () => {
    const sms = mt({ state: SmsState.undeliverable, error: { networkErrorCode: 34 } });
    const doc = buildReceiptDocument(
      sms,
      { messageState: MessageState.UNDELIVERABLE, final: true, kind: 'final' },
      { now: new Date(Date.UTC(2026, 10, 22, 1, 8)), validityMs: 3600_000 },
    );
    expect(doc.direction).toBe('receipt');
    expect(doc.target).toEqual({ kind: 'esme', systemId: 'acme' });
    expect(doc.source.addr).toBe('491701234567');
    expect(doc.dest.addr).toBe('ACME');
    expect(doc.destKey).toBe(esmeLockKey('acme', '+491701234567'));
    expect(doc.payload.esmClass).toBe(0x04);
    const text = Buffer.from(doc.payload.shortMessage.buffer).toString('latin1');
    expect(text).toBe(
      `id:${sms.messageId} sub:001 dlvrd:000 submit date:2611220102 done date:2611220107 stat:UNDELIV err:034 text:Hello there, this is`,
    );
    expect(parseReceipt(text).messageState).toBe(5);
    const tlvs = doc.payload.tlvs as Record<string, unknown>;
    expect(tlvs.receiptedMessageId).toBe(sms.messageId);
    expect(tlvs.messageState).toBe(5);
    expect(Buffer.from((tlvs.networkErrorCode as Binary).buffer)).toEqual(Buffer.from([3, 0, 34]));
    expect(doc.receipt).toMatchObject({ smsId: sms._id, messageId: sms.messageId, stat: 'UNDELIV', final: true });
  });

  it('have an _id derived from the message and kind, so a second creation is a duplicate', () => {
    const id = new ObjectId();
    expect(receiptIdFor(id, 'final').equals(receiptIdFor(id, 'final'))).toBe(true);
    expect(receiptIdFor(id, 'final').equals(receiptIdFor(id, 'enroute:1'))).toBe(false);
    expect(receiptIdFor(id, 'final').equals(receiptIdFor(new ObjectId(), 'final'))).toBe(false);
    expect(receiptIdFor(id, 'final').getTimestamp().getTime()).toBe(id.getTimestamp().getTime());
  });

  it('write characters outside GSM 03.38 as ? and skip UDH in the text snippet', () => {
    const ucs2 = mt({
      payload: {
        dataCoding: 8,
        esmClass: 0x40,
        shortMessage: new Binary(Buffer.concat([Buffer.from([5, 0, 3, 1, 2, 1]), Buffer.from('日本', 'utf16le').swap16()])),
      },
    });
    expect(textSnippet(ucs2)).toBe('日本');
    const doc = buildReceiptDocument(ucs2, { messageState: 2, final: true, kind: 'final' }, { now: new Date(), validityMs: 1 });
    expect(Buffer.from(doc.payload.shortMessage.buffer).toString('latin1')).toMatch(/text:\?\?$/);
  });

  it('are called for by state and registered_delivery', () => {
    expect(receiptSpecOf(mt())).toEqual({ messageState: 2, final: true, kind: 'final' });
    expect(receiptSpecOf(mt({ registeredDelivery: 2 }))).toBeNull();
    expect(receiptSpecOf(mt({ state: SmsState.cancelled }))).toMatchObject({ messageState: MessageState.DELETED });
    expect(receiptSpecOf({ ...mt({ state: SmsState.expired }), finalStat: MessageState.UNKNOWN })).toMatchObject({ messageState: 7 });
    expect(receiptSpecOf(mt({ state: SmsState.queued, registeredDelivery: 0x11, attempts: 2 }))).toEqual({
      messageState: 1,
      final: false,
      kind: 'enroute:2',
    });
    expect(receiptSpecOf(mt({ state: SmsState.queued, registeredDelivery: 0x01, attempts: 2 }))).toBeNull();
    expect(receiptSpecOf(mt({ direction: 'mo' }))).toBeNull();
    expect(receiptSpecOf(mt({ state: SmsState.submitted }))).toBeNull();
  });
});
