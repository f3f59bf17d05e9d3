import { Binary, ObjectId } from 'mongodb';
import { messageIdOf, SmsDirection, SmsState, type SmsDocument } from '../../src/domain/sms-document.ts';

/** `count` queued messages for one destination, as the inserter stores them, arriving 1 ms apart from `start`. */
export function queuedSeries(destKey: string, count: number, start: Date): SmsDocument[] {
  return Array.from({ length: count }, (_, i) => {
    const _id = new ObjectId();
    const arrivedAt = new Date(start.getTime() + i);
    return {
      _id,
      messageId: messageIdOf(_id),
      direction: SmsDirection.mt,
      account: 'bench',
      arrivedAt,
      source: { ton: 1, npi: 1, addr: '4930000000' },
      dest: { ton: 1, npi: 1, addr: destKey },
      destKey,
      priority: 0,
      registeredDelivery: 0,
      validUntil: new Date(arrivedAt.getTime() + 24 * 3600_000),
      nextAttemptAt: arrivedAt,
      attempts: 0,
      state: SmsState.queued,
      target: { kind: 'connector' },
      payload: { dataCoding: 0, esmClass: 0, shortMessage: new Binary(Buffer.from(`${destKey}#${i}`, 'latin1')) },
      history: [],
    };
  });
}
