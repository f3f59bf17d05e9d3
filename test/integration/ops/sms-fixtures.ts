import { Binary, ObjectId } from 'mongodb';
import { messageIdOf, type SmsDocument } from '../../../src/domain/index.ts';

/** A stored message in the shape of src/domain/sms-document.ts, with overrides. */
export function makeSms(now: Date, overrides: Partial<SmsDocument> = {}): SmsDocument {
  const _id = overrides._id ?? new ObjectId();
  const dest = overrides.dest ?? { ton: 1, npi: 1, addr: '447700900001' };
  return {
    _id,
    messageId: messageIdOf(_id),
    direction: 'mt',
    account: 'acme',
    arrivedAt: new Date(now.getTime() - 60_000),
    source: { ton: 5, npi: 0, addr: 'ACME' },
    dest,
    destKey: overrides.destKey ?? dest.addr,
    priority: 0,
    registeredDelivery: 1,
    validUntil: new Date(now.getTime() + 48 * 3600_000),
    nextAttemptAt: new Date(now.getTime() - 30_000),
    attempts: 0,
    state: 'queued',
    target: { kind: 'connector' },
    payload: { dataCoding: 0, esmClass: 0, shortMessage: new Binary(Buffer.from('hello')) },
    history: [],
    ...overrides,
  };
}
