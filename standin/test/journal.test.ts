import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { startStandin } from '../server.ts';
import { spawnStandin } from './spawn-standin.ts';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'standin-journal-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function withClient<T>(uri: string, fn: (c: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(uri);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

describe('stand-in durability with --dbpath', () => {
  it('keeps documents, indexes and capped collections across a restart', async () => {
    const dbpath = tempDir();
    const first = await startStandin({ port: 0, dbpath });
    await withClient(first.uri, async (client) => {
      const db = client.db('dur');
      const c = db.collection<any>('sms');
      await c.createIndex({ ref: 1 }, { unique: true });
      await c.insertMany([
        { _id: 1, ref: 'a' },
        { _id: 2, ref: 'b' },
        { _id: 3, ref: 'c' },
      ]);
      await c.updateOne({ _id: 2 }, { $set: { state: 'sent' } });
      await c.deleteOne({ _id: 3 });
      await db.createCollection('log', { capped: true, size: 100_000, max: 2 });
      await db.collection('log').insertMany([{ i: 1 }, { i: 2 }, { i: 3 }]);
      await db.collection('gone').insertOne({ x: 1 });
      await db.collection('gone').drop();
    });
    await first.close();

    const second = await startStandin({ port: 0, dbpath });
    try {
      await withClient(second.uri, async (client) => {
        const db = client.db('dur');
        const c = db.collection<any>('sms');
        expect(await c.find({}, { sort: { _id: 1 } }).toArray()).toEqual([
          { _id: 1, ref: 'a' },
          { _id: 2, ref: 'b', state: 'sent' },
        ]);
        await expect(c.insertOne({ ref: 'a' })).rejects.toMatchObject({ code: 11000 });
        expect((await db.collection('log').find().toArray()).map((d) => d.i)).toEqual([2, 3]);
        const names = (await db.listCollections().toArray()).map((x) => x.name).sort();
        expect(names).toEqual(['log', 'sms']);
        const log = (await db.listCollections({ name: 'log' }, { nameOnly: false }).toArray())[0] as any;
        expect(log.options).toMatchObject({ capped: true, max: 2 });
      });
    } finally {
      await second.close();
    }
  });

  it('has j:true writes on disk when acknowledged, even if the process is killed', async () => {
    const dbpath = tempDir();
    const child = await spawnStandin(['--port', '0', '--dbpath', dbpath]);
    await withClient(child.uri, async (client) => {
      const c = client.db('dur').collection<any>('acked', { writeConcern: { w: 'majority', j: true } });
      await Promise.all(Array.from({ length: 20 }, (_, i) => c.insertOne({ _id: i })));
      await c.updateOne({ _id: 0 }, { $set: { last: true } });
    });
    child.proc.kill('SIGKILL');
    await child.exited;

    const again = await startStandin({ port: 0, dbpath });
    try {
      await withClient(again.uri, async (client) => {
        const c = client.db('dur').collection<any>('acked');
        expect(await c.countDocuments({})).toBe(20);
        expect(await c.findOne({ _id: 0 })).toEqual({ _id: 0, last: true });
      });
    } finally {
      await again.close();
    }
  }, 60_000);

  it('keeps nothing without --dbpath', async () => {
    const a = await startStandin({ port: 0 });
    await withClient(a.uri, (c) => c.db('mem').collection('x').insertOne({ a: 1 }));
    await a.close();
    const b = await startStandin({ port: 0 });
    try {
      expect(await withClient(b.uri, (c) => c.db('mem').collection('x').countDocuments({}))).toBe(0);
    } finally {
      await b.close();
    }
  });
});

describe('stand-in command line', () => {
  it('prints its URI when ready and exits cleanly on SIGTERM', async () => {
    const child = await spawnStandin(['--port', '0']);
    expect(child.uri).toMatch(/^mongodb:\/\/127\.0\.0\.1:\d+$/);
    const pong = await withClient(child.uri, (c) => c.db('admin').command({ ping: 1 }));
    expect(pong.ok).toBe(1);
    child.proc.kill('SIGTERM');
    expect(await child.exited).toBe(0);
  }, 60_000);

  it('rejects a bad port with a precise message', async () => {
    await expect(spawnStandin(['--port', 'abc'])).rejects.toThrow(/--port must be an integer/);
  }, 60_000);
});
