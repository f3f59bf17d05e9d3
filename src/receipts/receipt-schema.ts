import type { Db } from 'mongodb';
import { Collections } from '../store/collections.ts';

/** Downstream receipts waiting for their message (or that name no message at all), matched when it appears; TTL like correlations. */
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
  ]);
  await db.collection(ORPHAN_RECEIPTS).createIndexes([
    { key: { receivedAt: 1 }, name: 'ttl_receivedAt', expireAfterSeconds: ORPHAN_TTL_SECONDS },
    // A batch that became `submitted` looks up the receipts waiting for its remote ids.
    { key: { connector: 1, keys: 1 }, name: 'connector_keys' },
    // The sweep's due re-checks.
    { key: { nextCheckAt: 1 }, name: 'nextCheckAt' },
  ]);
}
