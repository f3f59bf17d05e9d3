import { describe, expect, it } from 'vitest';
import { MongoBulkWriteError, MongoServerError } from 'mongodb';
import { useStandin } from './harness.ts';

/**
 * $$NOW is bound once per command (MongoDB: "remains the same throughout all stages"; a write
 * command's runtime constants "are applied to each update in the batch"). The collections are
 * large enough that evaluating them takes several milliseconds, so a clock read per document or
 * per stage would show more than one value.
 */
const MANY = 3000;

function docs(n: number): Array<{ _id: number; n: number }> {
  return Array.from({ length: n }, (_, i) => ({ _id: i, n: i }));
}

describe('stand-in $$NOW', () => {
  const h = useStandin();

  it('gives every document an updateMany touches one value, the same its filter and let see', async () => {
    const c = h.db.collection<any>('now_update');
    await c.insertMany(docs(MANY));
    const r = await c.updateMany(
      { $expr: { $eq: ['$$NOW', '$$started'] } },
      [{ $set: { at: '$$NOW', sameAsLet: { $eq: ['$$NOW', '$$started'] } } }, { $set: { later: '$$NOW' } }],
      { let: { started: '$$NOW' } },
    );
    expect(r.matchedCount).toBe(MANY);
    const distinct = await c.distinct('at');
    expect(distinct).toHaveLength(1);
    expect(distinct[0]).toBeInstanceOf(Date);
    expect(await c.countDocuments({ sameAsLet: true, $expr: { $eq: ['$at', '$later'] } })).toBe(MANY);
  });

  it('uses one value across every document a deleteMany filter evaluates', async () => {
    const c = h.db.collection<any>('now_delete');
    await c.insertMany(docs(MANY));
    const r = await c.deleteMany({ $expr: { $eq: ['$$NOW', '$$started'] } }, { let: { started: '$$NOW' } });
    expect(r.deletedCount).toBe(MANY);
  });

  it('uses one value for all statements of one update command (a bulkWrite of updates)', async () => {
    const c = h.db.collection<any>('now_bulk');
    await c.insertMany(docs(MANY));
    await c.bulkWrite(
      [
        { updateMany: { filter: { n: { $lt: MANY / 2 } }, update: [{ $set: { at: '$$NOW' } }] } },
        { updateMany: { filter: { n: { $gte: MANY / 2 } }, update: [{ $set: { at: '$$NOW' } }] } },
      ],
      { ordered: true },
    );
    expect(await c.distinct('at')).toHaveLength(1);
  });

  it('keeps one value across the stages of an aggregation', async () => {
    const c = h.db.collection<any>('now_agg');
    await c.insertMany(docs(MANY));
    const out = await c
      .aggregate([
        { $set: { a: '$$NOW' } },
        { $sort: { n: -1 } },
        { $set: { b: '$$NOW' } },
        { $group: { _id: null, a: { $addToSet: '$a' }, b: { $addToSet: '$b' } } },
      ])
      .toArray();
    expect(out[0].a).toHaveLength(1);
    expect(out[0].b).toEqual(out[0].a);
    const matched = await c
      .aggregate([{ $match: { $expr: { $eq: ['$$NOW', '$$t'] } } }, { $count: 'n' }], { let: { t: '$$NOW' } })
      .toArray();
    expect(matched).toEqual([{ n: MANY }]);
  });

  it('moves on between commands', async () => {
    const c = h.db.collection<any>('now_moves');
    await c.insertOne({ _id: 1 });
    const first = await c.findOneAndUpdate({ _id: 1 }, [{ $set: { at: '$$NOW' } }], { returnDocument: 'after' });
    await new Promise((r) => setTimeout(r, 5));
    const second = await c.findOneAndUpdate({ _id: 1 }, [{ $set: { at: '$$NOW' } }], { returnDocument: 'after' });
    expect(second!.at.getTime()).toBeGreaterThan(first!.at.getTime());
    expect(Math.abs(first!.at.getTime() - Date.now())).toBeLessThan(60_000);
  });

  it('refuses $$CLUSTER_TIME as a standalone mongod does (51144)', async () => {
    const c = h.db.collection<any>('cluster_time');
    await c.insertOne({ _id: 1 });
    await expect(c.find({ $expr: { $lt: ['$t', '$$CLUSTER_TIME'] } }).toArray()).rejects.toMatchObject({ code: 51144 });
    await expect(c.aggregate([{ $set: { t: '$$CLUSTER_TIME' } }]).toArray()).rejects.toMatchObject({ code: 51144 });
    await expect(c.updateOne({ _id: 1 }, [{ $set: { t: '$$CLUSTER_TIME' } }])).rejects.toMatchObject({ code: 51144 });
    const err = await c.bulkWrite([{ updateOne: { filter: { _id: 1 }, update: [{ $set: { t: { $literal: '$$CLUSTER_TIME' } } }] } }]).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeNull();
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, t: '$$CLUSTER_TIME' });
  });

  it('answers 17276 for an undefined variable', async () => {
    const c = h.db.collection<any>('undefined_var');
    await c.insertOne({ _id: 1 });
    const err = await c.updateOne({ _id: 1 }, [{ $set: { t: '$$nosuch' } }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 17276 });
    expect(err).not.toBeInstanceOf(MongoBulkWriteError);
  });
});
