import { describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { useStandin } from './harness.ts';

describe('stand-in single-document atomicity', () => {
  const h = useStandin();

  it('lets exactly one of N concurrent connections win a compare-and-swap', async () => {
    const coll = h.db.collection<any>('cas');
    const clients = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const c = new MongoClient(h.standin.uri, { maxPoolSize: 4 });
        await c.connect();
        return c;
      }),
    );
    try {
      for (let round = 0; round < 20; round++) {
        await coll.insertOne({ _id: round, owner: null, version: 0 });
        const attempts = clients.flatMap((c, i) =>
          [0, 1, 2].map((j) =>
            c
              .db(h.db.databaseName)
              .collection<any>('cas')
              .findOneAndUpdate(
                { _id: round, owner: null, version: 0 },
                { $set: { owner: `w${i}.${j}` }, $inc: { version: 1 } },
                { returnDocument: 'after' },
              ),
          ),
        );
        const results = await Promise.all(attempts);
        const winners = results.filter((r) => r !== null);
        expect(winners).toHaveLength(1);
        expect(await coll.findOne({ _id: round })).toMatchObject({ owner: winners[0]!.owner, version: 1 });
      }
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('counts every concurrent $inc exactly once', async () => {
    const coll = h.db.collection<any>('counter');
    await coll.insertOne({ _id: 'c', n: 0 });
    await Promise.all(Array.from({ length: 200 }, () => coll.updateOne({ _id: 'c' }, { $inc: { n: 1 } })));
    expect(await coll.findOne({ _id: 'c' })).toEqual({ _id: 'c', n: 200 });
  });

  it('lets only one concurrent upsert insert when the filter field is uniquely indexed', async () => {
    const coll = h.db.collection<any>('upsert_race');
    await coll.createIndex({ key: 1 }, { unique: true });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        coll.findOneAndUpdate({ key: 'k' }, { $setOnInsert: { by: i } }, { upsert: true, includeResultMetadata: true }),
      ),
    );
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
    expect(await coll.countDocuments({ key: 'k' })).toBe(1);
    const inserted = results.filter((r) => r.status === 'fulfilled' && r.value.lastErrorObject?.updatedExisting === false);
    expect(inserted).toHaveLength(1);
  });
});
