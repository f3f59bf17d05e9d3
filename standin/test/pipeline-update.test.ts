import { describe, expect, it } from 'vitest';
import { MongoBulkWriteError, MongoServerError, ObjectId } from 'mongodb';
import { useStandin } from './harness.ts';

const LEASE_MS = 30_000;

/** The delivery claim issue 12 describes: due on the server's clock, lease from $$NOW. */
function claim(owner: string, token: string): Record<string, unknown>[] {
  return [{ $set: { state: 'locked', lock: { owner, token, at: '$$NOW', leaseUntil: { $add: ['$$NOW', LEASE_MS] } } } }];
}

describe('stand-in update pipelines and $expr, as MongoDB documents them', () => {
  const h = useStandin();

  it('claims the due message first in sort order, with a lease computed from $$NOW', async () => {
    const c = h.db.collection<any>('claims');
    const now = Date.now();
    await c.insertMany([
      { _id: 'future', state: 'queued', priority: 9, nextAttemptAt: new Date(now + 3_600_000) },
      { _id: 'low', state: 'queued', priority: 0, nextAttemptAt: new Date(now - 5000) },
      { _id: 'high-late', state: 'queued', priority: 1, nextAttemptAt: new Date(now - 1000) },
      { _id: 'high-early', state: 'queued', priority: 1, nextAttemptAt: new Date(now - 2000) },
      { _id: 'done', state: 'delivered', priority: 5, nextAttemptAt: new Date(now - 9000) },
    ]);
    const got = await c.findOneAndUpdate({ state: 'queued', $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } }, claim('w1', 't1'), {
      sort: { priority: -1, nextAttemptAt: 1 },
      returnDocument: 'after',
    });
    expect(got!._id).toBe('high-early');
    expect(got!.lock.at).toBeInstanceOf(Date);
    expect(got!.lock.leaseUntil).toBeInstanceOf(Date);
    expect(got!.lock.leaseUntil.getTime() - got!.lock.at.getTime()).toBe(LEASE_MS);
    expect(Object.keys(got!.lock)).toEqual(['owner', 'token', 'at', 'leaseUntil']);
    const order = [];
    for (let i = 0; i < 4; i++) {
      const r = await c.findOneAndUpdate({ state: 'queued', $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } }, claim('w1', `t${i}`), {
        sort: { priority: -1, nextAttemptAt: 1 },
      });
      order.push(r?._id ?? null);
    }
    expect(order).toEqual(['high-late', 'low', null, null]);
  });

  it('compares in aggregation order: a missing field is below every date, so $lte $$NOW matches it', async () => {
    const c = h.db.collection<any>('missing_due');
    await c.insertMany([
      { _id: 1, state: 'queued' },
      { _id: 2, state: 'queued', nextAttemptAt: null },
      { _id: 3, state: 'queued', nextAttemptAt: new Date(Date.now() + 60_000) },
    ]);
    const due = await c.find({ $expr: { $lte: ['$nextAttemptAt', '$$NOW'] } }).toArray();
    expect(due.map((d) => d._id).sort()).toEqual([1, 2]);
    // A query-language range never matches across types, an aggregation comparison does.
    expect(await c.countDocuments({ nextAttemptAt: { $lte: new Date() } })).toBe(0);
    expect(await c.countDocuments({ $expr: { $lt: ['$nextAttemptAt', null] } })).toBe(1);
  });

  it('renews leases with a pipeline $set on a dotted path, fenced by token', async () => {
    const c = h.db.collection<any>('renew');
    const old = new Date(Date.now() - 1000);
    await c.insertMany([
      { _id: 1, lock: { owner: 'w', token: 't', at: old, leaseUntil: old } },
      { _id: 2, lock: { owner: 'w', token: 't', at: old, leaseUntil: old } },
      { _id: 3, lock: { owner: 'x', token: 'other', at: old, leaseUntil: old } },
    ]);
    const r = await c.updateMany({ _id: { $in: [1, 2, 3] }, 'lock.token': 't' }, [
      { $set: { 'lock.leaseUntil': { $add: ['$$NOW', LEASE_MS] } } },
    ]);
    expect(r).toMatchObject({ matchedCount: 2, modifiedCount: 2 });
    const [a, b, other] = await c.find({}, { sort: { _id: 1 } }).toArray();
    expect(a.lock.leaseUntil.getTime()).toBeGreaterThan(Date.now() + LEASE_MS - 60_000);
    expect(a.lock.leaseUntil).toEqual(b.lock.leaseUntil);
    expect(a.lock).toEqual({ owner: 'w', token: 't', at: old, leaseUntil: a.lock.leaseUntil });
    expect(other.lock.leaseUntil).toEqual(old);
  });

  it('sweeps expired leases with $expr arithmetic in deleteMany', async () => {
    const c = h.db.collection<any>('sweep');
    const now = Date.now();
    await c.insertMany([
      { _id: 'expired', leaseUntil: new Date(now - 10_000) },
      { _id: 'in-grace', leaseUntil: new Date(now - 500) },
      { _id: 'live', leaseUntil: new Date(now + 10_000) },
    ]);
    const r = await c.deleteMany({ $expr: { $lt: [{ $add: ['$leaseUntil', 2000] }, '$$NOW'] } });
    expect(r.deletedCount).toBe(1);
    expect((await c.find().toArray()).map((d) => d._id).sort()).toEqual(['in-grace', 'live']);
  });

  it('merges a nested $set spec into an embedded document, replaces a scalar, maps over an array', async () => {
    const c = h.db.collection<any>('merge');
    await c.insertMany([
      { _id: 'doc', lock: { token: 'old', stolenFrom: 'x' } },
      { _id: 'scalar', lock: 5 },
      { _id: 'array', lock: [{ token: 'a' }, 3] },
      { _id: 'missing' },
    ]);
    await c.updateMany({}, [{ $set: { lock: { owner: 'w', token: 'new' } } }]);
    const byId = Object.fromEntries((await c.find().toArray()).map((d) => [d._id, d.lock]));
    expect(byId.doc).toEqual({ token: 'new', stolenFrom: 'x', owner: 'w' });
    expect(Object.keys(byId.doc)).toEqual(['token', 'stolenFrom', 'owner']);
    expect(byId.scalar).toEqual({ owner: 'w', token: 'new' });
    expect(byId.array).toEqual([
      { token: 'new', owner: 'w' },
      { owner: 'w', token: 'new' },
    ]);
    expect(byId.missing).toEqual({ owner: 'w', token: 'new' });
    // A whole new value needs an expression: $literal (or $mergeObjects, $replaceWith) replaces.
    await c.updateOne({ _id: 'doc' }, [{ $set: { lock: { $literal: { owner: 'z' } } } }]);
    expect((await c.findOne({ _id: 'doc' }))!.lock).toEqual({ owner: 'z' });
  });

  it('evaluates every expression of a stage against the stage input and removes fields set to missing', async () => {
    const c = h.db.collection<any>('stage_input');
    await c.insertOne({ _id: 1, a: 0, gone: true, keep: 1 });
    await c.updateOne({ _id: 1 }, [{ $set: { a: 1, b: '$a', gone: '$$REMOVE', c: '$nosuch' } }, { $set: { d: '$a' } }]);
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1, keep: 1, b: 0, d: 1 });
  });

  it('computes the expressions a delivery worker needs, with the types MongoDB returns', async () => {
    const c = h.db.collection<any>('exprs');
    const t0 = new Date('2024-01-01T00:00:00.000Z');
    await c.insertOne({ _id: 1, at: t0, n: 5, arr: [1, 2, 3], o: { a: 1 }, nil: null, history: [{ n: 1 }, { n: 2 }] });
    await c.updateOne({ _id: 1 }, [
      {
        $set: {
          plus: { $add: ['$at', 30_000] },
          plusFraction: { $add: ['$at', 1.5] },
          minusMs: { $subtract: ['$at', 1000] },
          diff: { $subtract: [{ $add: ['$at', 2500] }, '$at'] },
          sum: { $add: ['$n', 2, 0.5] },
          ifNull: { $ifNull: ['$nosuch', '$nil', 'default'] },
          cond: { $cond: [{ $gt: ['$n', 3] }, 'big', 'small'] },
          cat: { $concatArrays: ['$arr', [4]] },
          last2: { $slice: ['$arr', -2] },
          history: { $slice: [{ $concatArrays: ['$history', [{ n: 3 }]] }, -2] },
          latest: { $max: ['$at', new Date(0), '$nosuch'] },
          earliest: { $min: ['$at', new Date(0)] },
          literal: { $literal: '$$NOW' },
          merged: { $mergeObjects: ['$o', { b: 2 }, null] },
        },
      },
      { $unset: ['o', 'nil'] },
    ]);
    const d = await c.findOne({ _id: 1 });
    expect(d).toMatchObject({
      plus: new Date(t0.getTime() + 30_000),
      // A sum becomes a date rounded half away from zero (MongoDB's DoubleDoubleSummation::getLong).
      plusFraction: new Date(t0.getTime() + 2),
      minusMs: new Date(t0.getTime() - 1000),
      diff: 2500,
      sum: 7.5,
      ifNull: 'default',
      cond: 'big',
      cat: [1, 2, 3, 4],
      last2: [2, 3],
      history: [{ n: 2 }, { n: 3 }],
      latest: t0,
      earliest: new Date(0),
      literal: '$$NOW',
      merged: { a: 1, b: 2 },
    });
    expect(d).not.toHaveProperty('o');
    expect(d).not.toHaveProperty('nil');
    expect(d!.plus).toBeInstanceOf(Date);
    expect(typeof d!.diff).toBe('number');
  });

  it('runs $project, $replaceWith and $replaceRoot stages, keeping _id', async () => {
    const c = h.db.collection<any>('replace');
    await c.insertMany([
      { _id: 1, a: 1, b: { x: 1 } },
      { _id: 2, a: 2, b: { x: 2 } },
      { _id: 3, a: 3 },
    ]);
    await c.updateOne({ _id: 1 }, [{ $project: { a: 1 } }]);
    await c.updateOne({ _id: 2 }, [{ $replaceWith: { $mergeObjects: ['$b', { from: '$a' }] } }]);
    await c.updateOne({ _id: 3 }, [{ $replaceRoot: { newRoot: { only: '$a' } } }]);
    expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
      { _id: 1, a: 1 },
      { _id: 2, x: 2, from: 2 },
      { _id: 3, only: 3 },
    ]);
  });

  it('answers pipeline errors with MongoDB codes', async () => {
    const c = h.db.collection<any>('pipeline_errors');
    await c.insertOne({ _id: 1, a: 1 });
    await expect(c.updateOne({ _id: 1 }, [{ $match: { a: 1 } }])).rejects.toMatchObject({ code: 72 });
    await expect(c.updateOne({ _id: 99 }, [{ $group: { _id: null } }])).rejects.toMatchObject({ code: 72 });
    await expect(c.updateOne({ _id: 1 }, [{ $nosuchstage: {} }])).rejects.toMatchObject({ code: 40324 });
    await expect(c.updateOne({ _id: 1 }, [{ $set: { _id: 2 } }])).rejects.toMatchObject({ code: 66 });
    await expect(c.updateOne({ _id: 1 }, [{ $unset: [] }])).rejects.toMatchObject({ code: 31119 });
    await expect(c.updateOne({ _id: 1 }, [{ $set: { d: { $add: ['$$NOW', '$$NOW'] } } }])).rejects.toMatchObject({ code: 16612 });
    await expect(c.updateOne({ _id: 99 }, [{ $set: { d: { $nosuchop: 1 } } }])).rejects.toMatchObject({ code: 168 });
    await expect(c.find({ $expr: { $nosuchop: 1 } }).toArray()).rejects.toMatchObject({ code: 168 });
    expect(await c.findOne({ _id: 1 })).toEqual({ _id: 1, a: 1 });
  });

  it('uses $expr with let variables in update, delete, findAndModify and count filters', async () => {
    const c = h.db.collection<any>('expr_let');
    await c.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i, n: i })));
    const filter = { $expr: { $gte: ['$n', '$$min'] } };
    const opts = { let: { min: 7 } };
    expect(await c.countDocuments(filter, opts as never)).toBe(3);
    expect(await c.updateMany(filter, { $set: { hi: true } }, opts)).toMatchObject({ matchedCount: 3, modifiedCount: 3 });
    const one = await c.findOneAndUpdate(filter, [{ $set: { seen: '$$min' } }], { ...opts, sort: { n: 1 }, returnDocument: 'after' });
    expect(one).toEqual({ _id: 7, n: 7, hi: true, seen: 7 });
    expect(await c.findOneAndDelete({ $expr: { $eq: ['$n', '$$k'] } }, { let: { k: 9 } })).toMatchObject({ _id: 9 });
    expect(await c.deleteMany({ $expr: { $lt: ['$n', '$$k'] } }, { let: { k: 2 } })).toMatchObject({ deletedCount: 2 });
    expect(await c.countDocuments({})).toBe(7);
    const count = await h.db.command({ count: 'expr_let', query: { $expr: { $gt: ['$n', 5] } } });
    expect(count.n).toBe(3);
    // let values are evaluated before any document: they may use earlier ones, never a field.
    expect(await c.countDocuments({ $expr: { $gte: ['$n', '$$b'] } }, { let: { a: 3, b: { $add: ['$$a', 3] } } } as never)).toBe(3);
    await expect(c.countDocuments({ $expr: { $gte: ['$n', '$$a'] } }, { let: { a: '$n' } } as never)).rejects.toMatchObject({
      code: 4890500,
    });
  });
});

describe('stand-in upserts with pipelines and $expr', () => {
  const h = useStandin();

  it('seeds an upsert from the filter equalities and applies the pipeline', async () => {
    const c = h.db.collection<any>('locks');
    const r = await c.updateOne({ _id: 'dest-1', state: 'free' }, [{ $set: { owner: 'w', leaseUntil: { $add: ['$$NOW', LEASE_MS] } } }], {
      upsert: true,
    });
    expect(r).toMatchObject({ matchedCount: 0, upsertedCount: 1, upsertedId: 'dest-1' });
    const d = await c.findOne({ _id: 'dest-1' });
    expect(Object.keys(d!)).toEqual(['_id', 'state', 'owner', 'leaseUntil']);
    expect(d!.leaseUntil).toBeInstanceOf(Date);
    const withOid = await c.updateOne({ kind: 'x', n: { $gt: 1 } }, [{ $set: { made: true } }], { upsert: true });
    expect(withOid.upsertedId).toBeInstanceOf(ObjectId);
    expect(await c.findOne({ _id: withOid.upsertedId! })).toEqual({ _id: withOid.upsertedId, kind: 'x', made: true });
  });

  it('answers E11000 when the upsert inserts an _id that exists but did not match (no server retry: not an equality-only filter)', async () => {
    const c = h.db.collection<any>('steal');
    const live = new Date(Date.now() + 60_000);
    await c.insertOne({ _id: 'dest', owner: 'a', leaseUntil: live });
    const err = await c
      .updateOne({ _id: 'dest', leaseUntil: { $lt: new Date() } }, [{ $set: { owner: 'b', leaseUntil: { $add: ['$$NOW', LEASE_MS] } } }], {
        upsert: true,
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 11000, keyValue: { _id: 'dest' } });
    expect((err as Error).message).toMatch(
      /^E11000 duplicate key error collection: standin_test\.steal index: _id_ dup key: \{ _id: "dest" \}/,
    );
    expect(await c.findOne({ _id: 'dest' })).toEqual({ _id: 'dest', owner: 'a', leaseUntil: live });
  });

  it('refuses $expr in the query of any upsert with 224, matched or not, as MongoDB does', async () => {
    const c = h.db.collection<any>('expr_upsert');
    await c.insertOne({ _id: 'dest', leaseUntil: new Date(0) });
    const filter = { _id: 'dest', $expr: { $lt: ['$leaseUntil', '$$NOW'] } };
    const err = await c.updateOne(filter, [{ $set: { owner: 'b' } }], { upsert: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err).toMatchObject({ code: 224, errmsg: '$expr is not allowed in the query predicate for an upsert' });
    await expect(c.findOneAndUpdate({ $and: [filter] }, [{ $set: { owner: 'b' } }], { upsert: true })).rejects.toMatchObject({ code: 224 });
    await expect(c.replaceOne({ $or: [filter] }, { owner: 'b' }, { upsert: true })).rejects.toMatchObject({ code: 224 });
    expect(await c.findOne({ _id: 'dest' })).toEqual({ _id: 'dest', leaseUntil: new Date(0) });
    // Without upsert the same filter is fine.
    expect(await c.updateOne(filter, [{ $set: { owner: 'b' } }])).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
  });

  it('takes a lock over only when free with the condition in the pipeline (the form an upsert allows)', async () => {
    const c = h.db.collection<any>('cond_locks');
    const live = new Date(Date.now() + 60_000);
    await c.insertMany([
      { _id: 'busy', owner: 'a', leaseUntil: live },
      { _id: 'stale', owner: 'a', leaseUntil: new Date(0) },
    ]);
    const free = { $lte: [{ $add: [{ $ifNull: ['$leaseUntil', new Date(0)] }, 2000] }, '$$NOW'] };
    const take = (field: string, ours: unknown): unknown => ({ $cond: [free, ours, `$${field}`] });
    const r = await c.bulkWrite(
      ['busy', 'stale', 'new'].map((_id) => ({
        updateOne: {
          filter: { _id },
          update: [{ $set: { owner: take('owner', { $literal: 'b' }), leaseUntil: take('leaseUntil', { $add: ['$$NOW', LEASE_MS] }) } }],
          upsert: true,
        },
      })),
      { ordered: false },
    );
    expect(r.upsertedIds).toEqual({ 2: 'new' });
    expect(r).toMatchObject({ matchedCount: 2, modifiedCount: 1 });
    const byId = Object.fromEntries((await c.find().toArray()).map((d) => [d._id, d]));
    expect(byId.busy).toEqual({ _id: 'busy', owner: 'a', leaseUntil: live });
    expect(byId.stale.owner).toBe('b');
    expect(byId.new.owner).toBe('b');
    expect(byId.new.leaseUntil).toEqual(byId.stale.leaseUntil);
  });

  it('reports an unordered bulk of upserts per operation: upsertedIds and writeErrors by index, counts', async () => {
    const c = h.db.collection<any>('bulk_upserts');
    const live = new Date(Date.now() + 60_000);
    await c.insertMany([
      { _id: 'held', leaseUntil: live },
      { _id: 'mine', owner: 'w', n: 0 },
    ]);
    const err = (await c
      .bulkWrite(
        [
          { updateOne: { filter: { _id: 'new' }, update: [{ $set: { owner: 'w', at: '$$NOW' } }], upsert: true } },
          { updateOne: { filter: { _id: 'held', leaseUntil: { $lt: new Date() } }, update: [{ $set: { owner: 'w' } }], upsert: true } },
          {
            updateOne: { filter: { _id: 'x', $expr: { $lt: ['$leaseUntil', '$$NOW'] } }, update: [{ $set: { owner: 'w' } }], upsert: true },
          },
          { updateOne: { filter: { _id: 'mine', owner: 'w' }, update: [{ $set: { n: { $add: ['$n', 1] } } }], upsert: true } },
          { updateOne: { filter: { _id: 'new2' }, update: { $set: { owner: 'w' } }, upsert: true } },
        ],
        { ordered: false },
      )
      .catch((e: unknown) => e)) as MongoBulkWriteError;
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    const errors = (Array.isArray(err.writeErrors) ? err.writeErrors : [err.writeErrors]).map((e) => ({ index: e.index, code: e.code }));
    expect(errors).toEqual([
      { index: 1, code: 11000 },
      { index: 2, code: 224 },
    ]);
    expect(err.result.upsertedIds).toEqual({ 0: 'new', 4: 'new2' });
    expect(err.result).toMatchObject({ upsertedCount: 2, matchedCount: 1, modifiedCount: 1 });
    expect(await c.findOne({ _id: 'mine' })).toEqual({ _id: 'mine', owner: 'w', n: 1 });
    expect(await c.countDocuments({})).toBe(4);
  });
});
