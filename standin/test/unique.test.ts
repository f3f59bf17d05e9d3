import { describe, expect, it } from 'vitest';
import { MongoBulkWriteError, MongoServerError, ObjectId } from 'mongodb';
import { useStandin } from './harness.ts';

describe('stand-in unique indexes', () => {
  const h = useStandin();

  it("rejects a duplicate on a single-field unique index with MongoDB's exact error", async () => {
    const c = h.db.collection<any>('single');
    await c.createIndex({ phone: 1 }, { unique: true });
    await c.insertOne({ phone: '555' });
    const err = await c.insertOne({ phone: '555' }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.message).toBe('E11000 duplicate key error collection: standin_test.single index: phone_1 dup key: { phone: "555" }');
    expect(err.keyPattern).toEqual({ phone: 1 });
    expect(err.keyValue).toEqual({ phone: '555' });
  });

  it('enforces _id uniqueness with index _id_ and shell-style ObjectId rendering', async () => {
    const c = h.db.collection<any>('ids');
    const id = new ObjectId();
    await c.insertOne({ _id: id });
    const err = await c.insertOne({ _id: id }).catch((e) => e);
    expect(err.message).toBe(
      `E11000 duplicate key error collection: standin_test.ids index: _id_ dup key: { _id: ObjectId('${id.toHexString()}') }`,
    );
    expect(err.keyPattern).toEqual({ _id: 1 });
  });

  it('enforces compound unique indexes on the combination only', async () => {
    const c = h.db.collection<any>('compound');
    await c.createIndex({ a: 1, b: 1 }, { unique: true, name: 'a_b' });
    await c.insertMany([
      { a: 1, b: 1 },
      { a: 1, b: 2 },
      { a: 2, b: 1 },
    ]);
    const err = await c.insertOne({ a: 1, b: 2 }).catch((e) => e);
    expect(err.code).toBe(11000);
    expect(err.message).toBe('E11000 duplicate key error collection: standin_test.compound index: a_b dup key: { a: 1, b: 2 }');
    expect(err.keyValue).toEqual({ a: 1, b: 2 });
  });

  it('applies partialFilterExpression: only matching documents take part', async () => {
    const c = h.db.collection<any>('partial');
    await c.createIndex({ ref: 1 }, { unique: true, partialFilterExpression: { state: 'open' } });
    await c.insertMany([
      { ref: 'r', state: 'done' },
      { ref: 'r', state: 'done' },
      { ref: 'r', state: 'open' },
    ]);
    await expect(c.insertOne({ ref: 'r', state: 'open' })).rejects.toMatchObject({ code: 11000 });
    await expect(c.updateOne({ ref: 'r', state: 'open' }, { $set: { state: 'done' } })).resolves.toMatchObject({ modifiedCount: 1 });
    await expect(c.insertOne({ ref: 'r', state: 'open' })).resolves.toBeTruthy();
  });

  it('reports insertMany duplicates as writeErrors with the right index, ordered', async () => {
    const c = h.db.collection<any>('many_ordered');
    await c.createIndex({ k: 1 }, { unique: true });
    const err = await c.insertMany([{ k: 1 }, { k: 2 }, { k: 1 }, { k: 3 }]).catch((e) => e);
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    expect(err.code).toBe(11000);
    expect(err.writeErrors).toHaveLength(1);
    expect(err.writeErrors[0].index).toBe(2);
    expect(err.result.insertedCount).toBe(2);
    expect(await c.countDocuments({})).toBe(2);
  });

  it('reports insertMany duplicates as writeErrors with the right indexes, unordered', async () => {
    const c = h.db.collection<any>('many_unordered');
    await c.createIndex({ k: 1 }, { unique: true });
    const err = await c.insertMany([{ k: 1 }, { k: 1 }, { k: 2 }, { k: 2 }, { k: 3 }], { ordered: false }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoBulkWriteError);
    expect(err.writeErrors.map((w: { index: number }) => w.index)).toEqual([1, 3]);
    expect(err.result.insertedCount).toBe(3);
    expect(await c.countDocuments({})).toBe(3);
  });

  it('rejects an update that would create a duplicate, and findAndModify at top level', async () => {
    const c = h.db.collection<any>('upd');
    await c.createIndex({ u: 1 }, { unique: true });
    await c.insertMany([
      { _id: 1, u: 'a' },
      { _id: 2, u: 'b' },
    ]);
    await expect(c.updateOne({ _id: 2 }, { $set: { u: 'a' } })).rejects.toMatchObject({ code: 11000, keyValue: { u: 'a' } });
    const err = await c.findOneAndUpdate({ _id: 2 }, { $set: { u: 'a' } }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(11000);
    expect(err.codeName).toBe('DuplicateKey');
    expect(err.keyPattern).toEqual({ u: 1 });
    expect(await c.findOne({ _id: 2 })).toEqual({ _id: 2, u: 'b' });
  });

  it('treats a repeated createIndex as a no-op and a conflicting one as IndexOptionsConflict (85)', async () => {
    const c = h.db.collection<any>('idem');
    await c.createIndex({ k: 1 }, { unique: true, name: 'k_1' });
    await expect(c.createIndex({ k: 1 }, { unique: true, name: 'k_1' })).resolves.toBe('k_1');
    await expect(c.createIndex({ k: 1 }, { name: 'k_1' })).rejects.toMatchObject({ code: 85 });
    await expect(c.createIndex({ k: 1 }, { name: 'other' })).rejects.toMatchObject({ code: 85 });
    await expect(c.createIndex({ k: -1 }, { name: 'k_1' })).rejects.toMatchObject({ code: 86 });
  });

  it('refuses to build a unique index over existing duplicates', async () => {
    const c = h.db.collection<any>('build');
    await c.insertMany([{ x: 1 }, { x: 1 }]);
    await expect(c.createIndex({ x: 1 }, { unique: true })).rejects.toMatchObject({ code: 11000 });
    expect((await c.indexes()).map((i) => i.name)).toEqual(['_id_']);
  });

  it('treats missing fields as null in a non-sparse unique index, and skips them when sparse', async () => {
    const c = h.db.collection<any>('nulls');
    await c.createIndex({ m: 1 }, { unique: true });
    await c.insertOne({ a: 1 });
    await expect(c.insertOne({ a: 2 })).rejects.toMatchObject({ code: 11000, keyValue: { m: null } });
    const s = h.db.collection<any>('sparse');
    await s.createIndex({ m: 1 }, { unique: true, sparse: true });
    await s.insertMany([{ a: 1 }, { a: 2 }]);
    expect(await s.countDocuments({})).toBe(2);
  });
});
