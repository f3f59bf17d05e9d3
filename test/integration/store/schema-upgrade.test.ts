import { describe, expect, it } from 'vitest';
import { Collections, CORRELATION_TTL_SECONDS, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';

describe('ensureSchema on a database made by an older version', () => {
  const handle = useTestDb('schema_upgrade');

  it('changes a TTL in place (correlations 72 h -> 8 days, which covers the longest validity) and keeps the data', async () => {
    const correlations = handle.db.collection(Collections.correlations);
    await correlations.createIndex({ createdAt: 1 }, { name: 'ttl_createdAt', expireAfterSeconds: 72 * 3600 });
    await correlations.insertOne({ connector: 'c', remoteId: 'r', smsId: 'x', createdAt: new Date() });
    await ensureSchema(handle.db);
    const ttl = (await correlations.listIndexes().toArray()).find((ix) => ix.name === 'ttl_createdAt');
    expect(ttl?.expireAfterSeconds).toBe(CORRELATION_TTL_SECONDS);
    expect(CORRELATION_TTL_SECONDS).toBeGreaterThanOrEqual(7 * 24 * 3600 + 600);
    expect(await correlations.countDocuments()).toBe(1);
    // And again: nothing left to change.
    await ensureSchema(handle.db);
  });
});
