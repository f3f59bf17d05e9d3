import { Binary, ObjectId } from 'mongodb';
import type { SmsDocument } from '../../../src/domain/index.ts';
import { describe, expect, it } from 'vitest';
import { MessageState } from '../../../src/codec/index.ts';
import { receiptIdFor, receiptKindOf, receiptSpecOf } from '../../../src/receipts/index.ts';

const now = new Date(Date.UTC(2026, 2, 1));
const message = (overrides: Partial<SmsDocument>): SmsDocument => ({
  _id: new ObjectId('6650a1f0c2b4e83f1d2a9b10'),
  messageId: '6650a1f0c2b4e83f1d2a9b10',
  direction: 'mt',
  account: 'acme',
  arrivedAt: now,
  source: { ton: 1, npi: 1, addr: '4930123456' },
  dest: { ton: 1, npi: 1, addr: '4915112345678' },
  destKey: '+4915112345678',
  priority: 0,
  registeredDelivery: 0x11,
  validUntil: now,
  nextAttemptAt: now,
  attempts: 1,
  state: 'undeliverable',
  target: { kind: 'connector' },
  payload: { dataCoding: 0, esmClass: 0, shortMessage: new Binary(Buffer.from('hi')) },
  history: [],
  ...overrides,
});

describe('receipt generations (requeue)', () => {
  it.each([
    ['final', undefined, 'final'],
    ['final', 0, 'final'],
    ['final', 1, 'final@1'],
    ['final', 2, 'final@2'],
    ['enroute:3', 1, 'enroute:3@1'],
  ])('%s in generation %s is %s', (kind, requeues, expected) => {
    expect(receiptKindOf(kind, requeues)).toBe(expected);
  });

  it('a message never requeued keeps the receipt ids it always had', () => {
    expect(receiptSpecOf(message({}))).toEqual({ messageState: MessageState.UNDELIVERABLE, final: true, kind: 'final' });
    expect(receiptSpecOf(message({ state: 'queued', attempts: 2 }))).toMatchObject({ final: false, kind: 'enroute:2' });
  });

  it('each generation gets its own final receipt id, the same however often it is computed', () => {
    const ids = [undefined, 1, 2].map((requeues) =>
      receiptIdFor(message({})._id, receiptSpecOf(message({ requeues, state: 'delivered' }))!.kind).toHexString(),
    );
    expect(new Set(ids).size).toBe(3);
    expect(receiptIdFor(message({})._id, receiptSpecOf(message({ requeues: 1 }))!.kind).toHexString()).toBe(ids[1]);
    expect(receiptSpecOf(message({ requeues: 1, state: 'delivered' }))).toMatchObject({
      messageState: MessageState.DELIVERED,
      kind: 'final@1',
    });
  });
});
