import { describe, expect, it } from 'vitest';
import { Binary, Decimal128, deserialize, Long, ObjectId, serialize } from 'bson';
import { DocStore } from '../storage/doc-store.ts';
import { useStandin } from './harness.ts';

const sample = () => ({
  _id: new ObjectId(),
  at: new Date(1_700_000_000_123),
  text: 'grüße',
  payload: { shortMessage: new Binary(Buffer.from('hello')), tlvs: { a: [1, 2.5, null, 'x'] } },
  big: Long.fromString('9007199254740993'),
  price: Decimal128.fromString('1.10'),
  history: [],
});

/** Reads enough other documents to push earlier reads out of the decoded-document cache. */
function evictCache(store: DocStore): void {
  for (let i = 0; i < 2_000; i++) store.set(100 + i, { _id: i });
  for (let i = 0; i < 2_000; i++) store.get(100 + i);
}

describe('DocStore', () => {
  it('gives back what bson would decode from the stored bytes, once the document is no longer cached', () => {
    const store = new DocStore();
    const doc = sample();
    store.set(1, doc);
    const read = store.get(1)!;
    expect(read).not.toBe(doc);
    expect(read).toEqual(deserialize(serialize(doc)));
    expect(serialize(read)).toEqual(serialize(doc));
  });

  it('hands out the same object for repeated reads of one document (updates compare values by identity)', () => {
    const store = new DocStore();
    store.set(1, sample());
    const first = store.get(1);
    expect(store.get(1)).toBe(first);
    evictCache(store);
    expect(store.get(1)).not.toBe(first); // only recent reads are kept
  });

  it('does not let a later replacement change binaries read earlier', () => {
    const store = new DocStore();
    store.set(1, { _id: 1, bin: new Binary(Buffer.from('first')) });
    const before = store.get(1)!.bin as Binary;
    store.set(1, { _id: 1, bin: new Binary(Buffer.from('other')) });
    expect(Buffer.from(before.buffer).toString()).toBe('first');
    expect(Buffer.from((store.get(1)!.bin as Binary).buffer).toString()).toBe('other');
  });

  it('keeps count, sizes and the total BSON size through inserts, replacements and deletes', () => {
    const store = new DocStore();
    const a = { _id: 1, s: 'x'.repeat(100) };
    const b = { _id: 2, s: 'y' };
    expect(store.set(1, a)).toBe(serialize(a).length);
    store.set(2, b);
    expect(store.totalBytes).toBe(serialize(a).length + serialize(b).length);
    const a2 = { _id: 1, s: 'short' };
    store.set(1, a2);
    expect(store.sizeOf(1)).toBe(serialize(a2).length);
    expect(store.totalBytes).toBe(serialize(a2).length + serialize(b).length);
    expect(store.delete(2)).toBe(true);
    expect(store.delete(2)).toBe(false);
    expect(store.has(2)).toBe(false);
    expect(store.get(2)).toBeUndefined();
    expect(store.size).toBe(1);
    expect(store.totalBytes).toBe(serialize(a2).length);
    expect([...store.keys()]).toEqual([1]);
  });

  it('iterates in insertion order', () => {
    const store = new DocStore();
    for (const rid of [5, 3, 9]) store.set(rid, { _id: rid });
    expect([...store.values()].map((d) => d._id)).toEqual([5, 3, 9]);
    expect([...store].map(([rid]) => rid)).toEqual([5, 3, 9]);
  });
});

describe('documents inserted through the wire', () => {
  const h = useStandin();

  it('read back the same, whether stored from the bytes sent (_id first) or encoded again (_id appended by the driver)', async () => {
    const c = h.db.collection<Record<string, unknown>>('sent_bytes');
    const idFirst = Array.from({ length: 50 }, (_, i) => ({
      _id: new ObjectId(),
      i,
      at: new Date(1_700_000_000_000 + i),
      bin: new Binary(Buffer.from(`m${i}`)),
      n: Long.fromNumber(2 ** 40 + i),
    }));
    const idLast: Array<Record<string, unknown>> = Array.from({ length: 50 }, (_, i) => ({ i: 100 + i, nested: { a: [i, 'x'] } }));
    await c.insertMany(idFirst);
    await c.insertMany(idLast); // the driver adds _id as the last field
    // Written documents are not kept decoded: this read decodes what was stored.
    const stored = await c.find({}, { sort: { i: 1 } }).toArray();
    expect(stored.slice(0, 50)).toEqual(idFirst.map((d) => ({ ...d, n: 2 ** 40 + d.i })));
    expect(stored.slice(50).map((d) => Object.keys(d)[0])).toEqual(idLast.map(() => '_id'));
    expect(stored.slice(50).map(({ _id, ...rest }) => rest)).toEqual(idLast.map(({ _id, ...rest }) => rest));
  });

  it('stores the bytes as sent: an int64 keeps its 8 bytes (encoding the decoded number again would give an int32)', async () => {
    const sent = { _id: 1, n: Long.fromNumber(5) };
    // insertMany, because the driver sends a document sequence (OP_MSG kind 1) only for bulk writes.
    await h.db.collection<{ _id: number; n: Long }>('sent_size').insertMany([sent]);
    const stats = await h.db.command({ collStats: 'sent_size' });
    expect(stats.size).toBe(serialize(sent).length);
    expect(serialize({ _id: 1, n: 5 }).length).toBe(stats.size - 4);
  });

  it('finds documents by dates that share an index slot but differ in value', async () => {
    // Index keys reuse a recently kept equal Date; 4096 ms apart lands in the same slot of that cache.
    const c = h.db.collection<{ _id: number; at: Date }>('shared_dates');
    await c.createIndex({ at: 1 });
    const base = 1_800_000_000_000;
    const docs = [0, 4096, 0, 8192, 4096].map((offset, i) => ({ _id: i, at: new Date(base + offset) }));
    for (const d of docs) await c.insertOne(d);
    for (const offset of [0, 4096, 8192]) {
      const found = await c.find({ at: new Date(base + offset) }).toArray();
      expect(found.map((d) => d._id).sort()).toEqual(docs.filter((d) => d.at.getTime() === base + offset).map((d) => d._id));
    }
    const range = await c.find({ at: { $gt: new Date(base), $lt: new Date(base + 8192) } }).toArray();
    expect(range.map((d) => d._id).sort()).toEqual([1, 4]);
  });
});
