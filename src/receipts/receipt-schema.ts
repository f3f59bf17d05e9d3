import type { Db } from 'mongodb';
import { Collections } from '../store/collections.ts';

/** Downstream receipts no message could be found for, kept for operators (TTL like correlations). */
export const ORPHAN_RECEIPTS = 'orphanReceipts';
export const ORPHAN_TTL_SECONDS = 72 * 3600;

/**
 * Indexes the receipts component queries by: the outbox flag (sparse: only flagged messages are
 * in it, so the emitter's poll is a look at an almost empty index) and the receipt's link back to
 * its message (`smsc message`). Safe to run repeatedly and from every process.
 */
export async function ensureReceiptSchema(db: Db): Promise<void> {
  await db.collection(Collections.sms).createIndexes([
    { key: { receiptDue: 1 }, name: 'receiptDue', sparse: true },
    { key: { 'receipt.smsId': 1 }, name: 'receipt_smsId', sparse: true },
    { key: { earlyReceipt: 1 }, name: 'earlyReceipt', sparse: true },
  ]);
  await db.collection(ORPHAN_RECEIPTS).createIndexes([{ key: { receivedAt: 1 }, name: 'ttl_receivedAt', expireAfterSeconds: ORPHAN_TTL_SECONDS }]);
}
