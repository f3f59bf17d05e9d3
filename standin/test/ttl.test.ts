import { describe, expect, it } from 'vitest';
import { useStandin } from './harness.ts';
import { until } from './until.ts';

describe('stand-in TTL indexes', () => {
  const h = useStandin({ ttlMonitorIntervalMs: 100 });

  it('deletes documents whose indexed date is older than expireAfterSeconds', async () => {
    const c = h.db.collection<any>('ttl');
    await c.createIndex({ at: 1 }, { expireAfterSeconds: 1 });
    const now = Date.now();
    await c.insertMany([
      { _id: 'old', at: new Date(now - 10_000) },
      { _id: 'fresh', at: new Date(now + 60_000) },
      { _id: 'arr', at: [new Date(now + 60_000), new Date(now - 5_000)] },
      { _id: 'nodate', at: 'yesterday' },
      { _id: 'missing' },
    ]);
    await until(async () => (await c.countDocuments({})) <= 3, 3000, 'the expired documents removed');
    expect((await c.find({}, { sort: { _id: 1 } }).toArray()).map((d) => d._id)).toEqual(['fresh', 'missing', 'nodate']);
  });

  it('expires a document once its time passes', async () => {
    const c = h.db.collection<any>('ttl_soon');
    await c.createIndex({ expiresAt: 1 }, { expireAfterSeconds: 0 });
    await c.insertOne({ _id: 1, expiresAt: new Date(Date.now() + 300) });
    expect(await c.countDocuments({})).toBe(1);
    await until(async () => (await c.countDocuments({})) === 0, 3000, 'the document expired');
    expect(await c.countDocuments({})).toBe(0);
  });
});
