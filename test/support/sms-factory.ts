import { Binary, ObjectId, type Db } from 'mongodb';
import { Collections } from '../../src/store/index.ts';
import { SmsDirection, SmsState, messageIdOf, type SmsDocument } from '../../src/domain/index.ts';

let sequence = 0;

/** An `sms` document as the inserter stores it: queued, due at arrival, routed by connectors. */
export function makeSms(overrides: Partial<SmsDocument> & { text?: string; at?: Date } = {}): SmsDocument {
  const { text, at, ...rest } = overrides;
  const _id = rest._id ?? new ObjectId();
  const arrivedAt = rest.arrivedAt ?? at ?? new Date(Date.now() + sequence++);
  const destAddr = rest.dest?.addr ?? rest.destKey ?? '4915100000001';
  return {
    _id,
    messageId: messageIdOf(_id),
    direction: SmsDirection.mt,
    account: 'test',
    arrivedAt,
    source: { ton: 1, npi: 1, addr: '4930000000' },
    dest: { ton: 1, npi: 1, addr: destAddr },
    destKey: destAddr,
    priority: 0,
    registeredDelivery: 0,
    validUntil: new Date(arrivedAt.getTime() + 24 * 3600_000),
    nextAttemptAt: arrivedAt,
    attempts: 0,
    state: SmsState.queued,
    target: { kind: 'connector' },
    payload: { dataCoding: 0, esmClass: 0, shortMessage: new Binary(Buffer.from(text ?? `msg ${sequence}`, 'latin1')) },
    history: [],
    ...rest,
  };
}

/** Inserts `count` messages for one destination, arriving 1 ms apart from `start`. */
export function makeSeries(destKey: string, count: number, start: Date, overrides: Partial<SmsDocument> = {}): SmsDocument[] {
  return Array.from({ length: count }, (_, i) =>
    makeSms({
      destKey,
      dest: { ton: 1, npi: 1, addr: destKey },
      arrivedAt: new Date(start.getTime() + i),
      nextAttemptAt: new Date(start.getTime() + i),
      text: `${destKey}#${i}`,
      ...overrides,
    }),
  );
}

export async function insertSms(db: Db, docs: SmsDocument[]): Promise<void> {
  if (docs.length > 0) await db.collection<SmsDocument>(Collections.sms).insertMany(docs);
}

export function textOf(sms: Pick<SmsDocument, 'payload'>): string {
  return Buffer.from(sms.payload.shortMessage.buffer).toString('latin1');
}
