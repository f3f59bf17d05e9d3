import { describe, expect, it } from 'vitest';
import { useStandin } from './harness.ts';

describe('stand-in capped collections and tailable cursors', () => {
  const h = useStandin();

  it('keeps insertion order and evicts the oldest documents past max', async () => {
    await h.db.createCollection('cap_max', { capped: true, size: 100_000, max: 3 });
    const c = h.db.collection<any>('cap_max');
    for (let i = 0; i < 5; i++) await c.insertOne({ i });
    expect((await c.find().toArray()).map((d) => d.i)).toEqual([2, 3, 4]);
    expect((await c.find({}, { sort: { $natural: -1 } }).toArray()).map((d) => d.i)).toEqual([4, 3, 2]);
    const info = await h.db.listCollections({ name: 'cap_max' }, { nameOnly: false }).toArray();
    expect(info[0].options).toMatchObject({ capped: true, size: 100_000, max: 3 });
  });

  it('evicts by size when the byte limit is reached first', async () => {
    await h.db.createCollection('cap_size', { capped: true, size: 1000 });
    const c = h.db.collection<any>('cap_size');
    for (let i = 0; i < 50; i++) await c.insertOne({ i, pad: 'x'.repeat(80) });
    const left = (await c.find().toArray()).map((d) => d.i);
    expect(left.length).toBeLessThan(12);
    expect(left.length).toBeGreaterThan(5);
    expect(left[left.length - 1]).toBe(49);
    expect(left).toEqual([...left].sort((a, b) => a - b));
  });

  it('requires size for a capped collection', async () => {
    await expect(h.db.command({ create: 'nosize', capped: true })).rejects.toMatchObject({ code: 72 });
  });

  it('wakes an awaitData getMore as soon as a document is inserted', async () => {
    await h.db.createCollection('tail_wake', { capped: true, size: 100_000 });
    const c = h.db.collection<any>('tail_wake');
    await c.insertOne({ i: 0 });
    const cursor = c.find({}, { tailable: true, awaitData: true, maxAwaitTimeMS: 5000 });
    expect(await cursor.next()).toMatchObject({ i: 0 });
    const started = Date.now();
    setTimeout(() => void c.insertOne({ i: 1 }), 150);
    expect(await cursor.next()).toMatchObject({ i: 1 });
    const waited = Date.now() - started;
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(1500);
    await cursor.close();
  });

  it('returns an empty batch with the same cursor id when the wait times out (default 1 s)', async () => {
    await h.db.createCollection('tail_timeout', { capped: true, size: 100_000 });
    const c = h.db.collection<any>('tail_timeout');
    await c.insertOne({ i: 0 });
    const first = await h.db.command({ find: 'tail_timeout', filter: {}, tailable: true, awaitData: true });
    const id = first.cursor.id;
    expect(first.cursor.firstBatch).toHaveLength(1);
    let t = Date.now();
    const more = await h.db.command({ getMore: id, collection: 'tail_timeout', maxTimeMS: 200 });
    expect(Date.now() - t).toBeGreaterThanOrEqual(190);
    expect(more.cursor.nextBatch).toEqual([]);
    expect(String(more.cursor.id)).toBe(String(id));
    t = Date.now();
    const dflt = await h.db.command({ getMore: id, collection: 'tail_timeout' });
    const waited = Date.now() - t;
    expect(waited).toBeGreaterThanOrEqual(950);
    expect(waited).toBeLessThan(2500);
    expect(dflt.cursor.nextBatch).toEqual([]);
    await h.db.command({ killCursors: 'tail_timeout', cursors: [id] });
  });

  it('only returns documents matching the tailable filter, and a waiting cursor does not block others', async () => {
    await h.db.createCollection('tail_filter', { capped: true, size: 100_000 });
    const c = h.db.collection<any>('tail_filter');
    await c.insertOne({ kind: 'a', i: 0 });
    const cursor = c.find({ kind: 'b' }, { tailable: true, awaitData: true, maxAwaitTimeMS: 3000 });
    const next = cursor.next();
    await new Promise((r) => setTimeout(r, 50));
    await c.insertOne({ kind: 'a', i: 1 });
    expect(await c.countDocuments({})).toBe(2);
    await c.insertOne({ kind: 'b', i: 2 });
    expect(await next).toMatchObject({ kind: 'b', i: 2 });
    await cursor.close();
  });

  it('closes a tailable cursor at once on an empty capped collection (id 0)', async () => {
    await h.db.createCollection('tail_empty', { capped: true, size: 4096 });
    const reply = await h.db.command({ find: 'tail_empty', filter: {}, tailable: true, awaitData: true });
    expect(String(reply.cursor.id)).toBe('0');
  });

  it('fails a getMore with CappedPositionLost (136) once its position was evicted', async () => {
    await h.db.createCollection('tail_lost', { capped: true, size: 100_000, max: 2 });
    const c = h.db.collection<any>('tail_lost');
    await c.insertMany([{ i: 0 }, { i: 1 }]);
    const first = await h.db.command({ find: 'tail_lost', filter: {}, tailable: true, batchSize: 1 });
    expect(first.cursor.firstBatch).toEqual([expect.objectContaining({ i: 0 })]);
    await c.insertMany([{ i: 2 }, { i: 3 }]);
    const err = await h.db.command({ getMore: first.cursor.id, collection: 'tail_lost' }).catch((e) => e);
    expect(err.code).toBe(136);
    expect(err.codeName).toBe('CappedPositionLost');
    const gone = await h.db.command({ getMore: first.cursor.id, collection: 'tail_lost' }).catch((e) => e);
    expect(gone.code).toBe(43);
  });

  it('rejects tailable cursors on non-capped collections with code 2', async () => {
    await h.db.collection<any>('plain').insertOne({ a: 1 });
    const err = await h.db.command({ find: 'plain', filter: {}, tailable: true }).catch((e) => e);
    expect(err.code).toBe(2);
    expect(err.message).toMatch(/tailable cursor requested on non capped collection/);
    const bad = await h.db.command({ find: 'plain', filter: {}, awaitData: true }).catch((e) => e);
    expect(bad.code).toBe(9);
  });

  it('allows updates and deletes on capped collections (7.0 behaviour)', async () => {
    await h.db.createCollection('cap_mut', { capped: true, size: 10_000 });
    const c = h.db.collection<any>('cap_mut');
    await c.insertMany([{ i: 0 }, { i: 1 }, { i: 2 }]);
    await c.updateOne({ i: 1 }, { $set: { big: 'y'.repeat(100) } });
    await c.deleteOne({ i: 0 });
    expect((await c.find().toArray()).map((d) => d.i)).toEqual([1, 2]);
  });
});
