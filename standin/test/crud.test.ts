import { describe, expect, it } from 'vitest';
import { Decimal128, Long, ObjectId, Timestamp } from 'mongodb';
import { useStandin } from './harness.ts';

describe('stand-in CRUD semantics', () => {
  const h = useStandin();

  it('applies $set $unset $inc $min $max $push/$each/$slice $pull $addToSet $currentDate', async () => {
    const c = h.db.collection<any>('ops');
    await c.insertOne({ _id: 1, a: 1, b: 'x', n: 5, lo: 10, hi: 10, arr: [1, 2], tags: ['a'], nested: { k: 1 } });
    const res = await c.updateOne({ _id: 1 }, {
      $set: { 'nested.j': 2, c: true },
      $unset: { b: '' },
      $inc: { n: 2 },
      $min: { lo: 3 },
      $max: { hi: 30 },
      $push: { arr: { $each: [3, 4, 5], $slice: -3 } },
      $addToSet: { tags: { $each: ['a', 'b'] } },
      $currentDate: { at: true, ts: { $type: 'timestamp' } },
    } as any);
    expect(res).toMatchObject({ matchedCount: 1, modifiedCount: 1 });
    const d = await c.findOne({ _id: 1 });
    expect(d).toMatchObject({ a: 1, n: 7, lo: 3, hi: 30, arr: [3, 4, 5], tags: ['a', 'b'], nested: { k: 1, j: 2 }, c: true });
    expect(d).not.toHaveProperty('b');
    expect(d!.at).toBeInstanceOf(Date);
    expect(d!.ts).toBeInstanceOf(Timestamp);
    await c.updateOne({ _id: 1 }, { $pull: { arr: { $gte: 4 } } } as any);
    expect((await c.findOne({ _id: 1 }))!.arr).toEqual([3]);
  });

  it('pushes with $each and $slice on nested and missing arrays, leaving other arrays alone', async () => {
    const c = h.db.collection<any>('push');
    await c.insertOne({ _id: 1, attempts: [{ n: 1 }], meta: { log: ['a'] }, other: [1] });
    await c.updateOne({ _id: 1 }, {
      $push: { attempts: { $each: [{ n: 2 }, { n: 3 }], $slice: -2 }, 'meta.log': 'b', fresh: { $each: [1, 2, 3], $slice: 2 } },
    } as any);
    const d = await c.findOne({ _id: 1 });
    expect(d).toEqual({ _id: 1, attempts: [{ n: 2 }, { n: 3 }], meta: { log: ['a', 'b'] }, other: [1], fresh: [1, 2] });
    await c.updateOne({ _id: 1 }, { $push: { attempts: { $each: [{ n: 0 }], $position: 0 } } } as any);
    expect((await c.findOne({ _id: 1 }))!.attempts).toEqual([{ n: 0 }, { n: 2 }, { n: 3 }]);
    await c.insertOne({ _id: 2, s: 'text' });
    await expect(c.updateOne({ _id: 2 }, { $push: { s: 1 } } as any)).rejects.toBeInstanceOf(Error);
  });

  it('reports a no-op update as matched but not modified', async () => {
    const c = h.db.collection<any>('noop');
    await c.insertOne({ _id: 1, a: 1 });
    await expect(c.updateOne({ _id: 1 }, { $set: { a: 1 } })).resolves.toMatchObject({ matchedCount: 1, modifiedCount: 0 });
  });

  it('rejects $inc on a string (14), _id changes (66) and conflicting paths (40)', async () => {
    const c = h.db.collection<any>('bad');
    await c.insertOne({ _id: 1, s: 'str' });
    await expect(c.updateOne({ _id: 1 }, { $inc: { s: 1 } })).rejects.toMatchObject({ code: 14 });
    await expect(c.updateOne({ _id: 1 }, { $set: { _id: 2 } })).rejects.toMatchObject({ code: 66 });
    await expect(c.updateOne({ _id: 1 }, { $set: { a: 1 }, $inc: { a: 1 } })).rejects.toMatchObject({ code: 40 });
  });

  it('upserts seed from the filter, apply $setOnInsert and report upserted ids', async () => {
    const c = h.db.collection<any>('ups');
    const r = await c.updateOne({ key: 'k1', n: { $gt: 3 } }, { $set: { v: 1 }, $setOnInsert: { created: true } }, { upsert: true });
    expect(r.upsertedCount).toBe(1);
    expect(r.matchedCount).toBe(0);
    const d = await c.findOne({ _id: r.upsertedId! });
    expect(d).toMatchObject({ key: 'k1', v: 1, created: true });
    expect(d).not.toHaveProperty('n');
    const again = await c.updateOne({ key: 'k1' }, { $set: { v: 2 }, $setOnInsert: { created: false } }, { upsert: true });
    expect(again).toMatchObject({ matchedCount: 1, modifiedCount: 1, upsertedCount: 0 });
    expect(await c.findOne({ key: 'k1' })).toMatchObject({ v: 2, created: true });
    const withId = await c.updateOne({ _id: 'fixed' }, { $set: { z: 1 } }, { upsert: true });
    expect(withId.upsertedId).toBe('fixed');
    const repl = await c.replaceOne({ _id: 'r1' }, { whole: true }, { upsert: true });
    expect(repl.upsertedId).toBe('r1');
    expect(await c.findOne({ _id: 'r1' })).toEqual({ _id: 'r1', whole: true });
  });

  it('findAndModify honours sort, new, fields, upsert and remove', async () => {
    const c = h.db.collection<any>('fam');
    await c.insertMany([
      { _id: 1, q: 'a', p: 3 },
      { _id: 2, q: 'a', p: 1 },
      { _id: 3, q: 'a', p: 2 },
    ]);
    const before = await c.findOneAndUpdate({ q: 'a' }, { $set: { taken: true } }, { sort: { p: 1 } });
    expect(before).toEqual({ _id: 2, q: 'a', p: 1 });
    const after = await c.findOneAndUpdate(
      { q: 'a', taken: { $exists: false } },
      { $set: { taken: true } },
      { sort: { p: -1 }, returnDocument: 'after', projection: { taken: 1 } },
    );
    expect(after).toEqual({ _id: 1, taken: true });
    const meta = await c.findOneAndUpdate(
      { q: 'zzz' },
      { $set: { x: 1 } },
      { upsert: true, returnDocument: 'before', includeResultMetadata: true },
    );
    expect(meta.value).toBeNull();
    expect(meta.lastErrorObject).toMatchObject({ n: 1, updatedExisting: false });
    expect(meta.lastErrorObject!.upserted).toBeInstanceOf(ObjectId);
    const removed = await c.findOneAndDelete({ q: 'a' }, { sort: { p: -1 } });
    expect(removed).toMatchObject({ _id: 1 });
    expect(await c.countDocuments({ q: 'a' })).toBe(2);
    const replaced = await c.findOneAndReplace({ _id: 3 }, { q: 'b' }, { returnDocument: 'after' });
    expect(replaced).toEqual({ _id: 3, q: 'b' });
    await expect(c.findOneAndUpdate({ _id: 99 }, { $set: { a: 1 } })).resolves.toBeNull();
  });

  it('sorts and compares across BSON types in MongoDB order', async () => {
    const c = h.db.collection<any>('order');
    const oid = new ObjectId();
    await c.insertMany([
      { _id: 1, v: 'str' },
      { _id: 2, v: 5 },
      { _id: 3, v: null },
      { _id: 4 },
      { _id: 5, v: new Date(0) },
      { _id: 6, v: oid },
      { _id: 7, v: true },
      { _id: 8, v: Long.fromString('9007199254740993') },
      { _id: 9, v: Decimal128.fromString('5.5') },
      { _id: 10, v: { o: 1 } },
      { _id: 11, v: 2.5 },
    ]);
    const asc = (await c.find({}, { sort: { v: 1, _id: 1 } }).toArray()).map((d) => d._id);
    expect(asc).toEqual([3, 4, 11, 2, 9, 8, 1, 10, 6, 7, 5]);
    const numbers = (await c.find({ v: { $gt: 3 } }, { sort: { v: 1 } }).toArray()).map((d) => d._id);
    expect(numbers).toEqual([2, 9, 8]);
    expect((await c.find({ v: null }).toArray()).map((d) => d._id).sort()).toEqual([3, 4]);
    expect((await c.find({ v: { $lt: Long.fromString('9007199254740993') } }).toArray()).map((d) => d._id).sort()).toEqual(
      [11, 2, 9].sort(),
    );
  });

  it('returns the same first documents for sort+limit as for a full sort (ties in natural order)', async () => {
    const c = h.db.collection<any>('topk');
    const docs = Array.from({ length: 3000 }, (_, i) => ({ _id: i, p: (i * 7919) % 13, q: (i * 104729) % 101 }));
    await c.insertMany(docs);
    const expected = [...docs].sort((a, b) => b.p - a.p || a.q - b.q || a._id - b._id).map((d) => d._id);
    for (const [skip, limit] of [
      [0, 1],
      [0, 10],
      [5, 50],
      [0, 999],
    ]) {
      const got = (await c.find({}, { sort: { p: -1, q: 1 }, skip, limit }).toArray()).map((d) => d._id);
      expect(got).toEqual(expected.slice(skip, skip + limit));
    }
  });

  it('matches $type by BSON type name and number, including objectId, long and arrays', async () => {
    const c = h.db.collection<any>('types');
    await c.insertMany([
      { _id: 1, v: new ObjectId() },
      { _id: 2, v: Long.fromString('9007199254740993') },
      { _id: 3, v: 'text' },
      { _id: 4, v: 3 },
      { _id: 5, v: 2.5 },
      { _id: 6, v: ['a', 1] },
      { _id: 7, v: null },
      { _id: 8 },
    ]);
    const ids = async (t: unknown): Promise<number[]> =>
      (await c.find({ v: { $type: t } } as any, { sort: { _id: 1 } }).toArray()).map((d) => d._id);
    expect(await ids('objectId')).toEqual([1]);
    expect(await ids('long')).toEqual([2]);
    expect(await ids('string')).toEqual([3, 6]);
    expect(await ids('number')).toEqual([2, 4, 5, 6]);
    expect(await ids(1)).toEqual([5]);
    expect(await ids('array')).toEqual([6]);
    expect(await ids('null')).toEqual([7]);
    expect(await ids(['int', 'double'])).toEqual([4, 5, 6]);
  });

  it('applies inclusion, exclusion, dotted and $slice projections', async () => {
    const c = h.db.collection<any>('proj');
    await c.insertOne({ _id: 1, a: 1, b: 2, sub: { x: 1, y: 2 }, arr: [1, 2, 3, 4] });
    expect(await c.findOne({}, { projection: { a: 1 } })).toEqual({ _id: 1, a: 1 });
    expect(await c.findOne({}, { projection: { a: 0, sub: 0, arr: 0 } })).toEqual({ _id: 1, b: 2 });
    expect(await c.findOne({}, { projection: { _id: 0, 'sub.x': 1 } })).toEqual({ sub: { x: 1 } });
    expect(await c.findOne({}, { projection: { arr: { $slice: 2 }, a: 1 } })).toEqual({ _id: 1, a: 1, arr: [1, 2] });
  });

  it('returns copies: mutating a result never changes the store', async () => {
    const c = h.db.collection<any>('copies');
    await c.insertOne({ _id: 1, nested: { list: [1] } });
    const cursor = c.find({}, { batchSize: 1 });
    const first = await cursor.next();
    first!.nested.list.push(2);
    await c.updateOne({ _id: 1 }, { $push: { 'nested.list': 9 } } as any);
    expect((await c.findOne({ _id: 1 }))!.nested.list).toEqual([1, 9]);
    await cursor.close();
  });

  it('supports count, distinct, countDocuments, estimatedDocumentCount and aggregation', async () => {
    const c = h.db.collection<any>('agg');
    await c.insertMany([
      { g: 'x', v: 1, t: ['a', 'b'] },
      { g: 'x', v: 2, t: ['b'] },
      { g: 'y', v: 5 },
    ]);
    expect(await c.countDocuments({ g: 'x' })).toBe(2);
    expect(await c.countDocuments({}, { skip: 1, limit: 5 })).toBe(2);
    expect(await c.estimatedDocumentCount()).toBe(3);
    expect(await c.distinct('t')).toEqual(['a', 'b']);
    expect(await c.distinct('g', { v: { $lt: 5 } })).toEqual(['x']);
    const grouped = await c
      .aggregate([{ $match: { v: { $gte: 1 } } }, { $group: { _id: '$g', s: { $sum: '$v' } } }, { $sort: { _id: 1 } }])
      .toArray();
    expect(grouped).toEqual([
      { _id: 'x', s: 3 },
      { _id: 'y', s: 5 },
    ]);
    expect(await h.db.collection<any>('nothing').countDocuments({})).toBe(0);
  });

  it('deletes one or many and reports counts', async () => {
    const c = h.db.collection<any>('del');
    await c.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }]);
    await expect(c.deleteOne({ k: 1 })).resolves.toMatchObject({ deletedCount: 1 });
    await expect(c.deleteMany({})).resolves.toMatchObject({ deletedCount: 2 });
  });

  it('reads through views and refuses writes to them (166)', async () => {
    const src = h.db.collection<any>('viewsrc');
    await src.insertMany([
      { _id: 1, k: 'a' },
      { _id: 2, k: 'b' },
      { _id: 3, k: 'b' },
    ]);
    await h.db.createCollection('bview', { viewOn: 'viewsrc', pipeline: [{ $match: { k: 'b' } }] });
    const v = h.db.collection<any>('bview');
    expect((await v.find({}, { sort: { _id: -1 } }).toArray()).map((d) => d._id)).toEqual([3, 2]);
    expect(await v.countDocuments({})).toBe(2);
    expect(await v.estimatedDocumentCount()).toBe(2);
    await src.insertOne({ _id: 4, k: 'b' });
    expect(await v.countDocuments({ _id: { $gt: 2 } })).toBe(2);
    await expect(v.insertOne({ k: 'b' })).rejects.toMatchObject({ code: 166 });
    const info = await h.db.listCollections({ name: 'bview' }, { nameOnly: false }).toArray();
    expect(info[0]).toMatchObject({ type: 'view', options: { viewOn: 'viewsrc' } });
    expect(await v.drop()).toBe(true);
  });

  it('creates, lists, drops collections and indexes', async () => {
    await h.db.createCollection('ddl');
    await expect(h.db.createCollection('ddl')).rejects.toMatchObject({ code: 48 });
    const c = h.db.collection<any>('ddl');
    await c.createIndex({ a: 1, b: -1 }, { name: 'ab' });
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_', 'ab']);
    await c.dropIndex('ab');
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_']);
    const names = (await h.db.listCollections({}, { nameOnly: true }).toArray()).map((x) => x.name);
    expect(names).toContain('ddl');
    expect(await c.drop()).toBe(true);
    await expect(h.db.collection<any>('ddl').indexes()).rejects.toMatchObject({ code: 26 });
    // The server answers 26 (NamespaceNotFound); the driver turns that into `false`.
    expect(await h.db.collection<any>('never').drop()).toBe(false);
    await expect(h.db.command({ drop: 'never' })).rejects.toMatchObject({ code: 26 });
  });
});
