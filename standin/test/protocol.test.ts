import { describe, expect, it } from 'vitest';
import { MongoClient, MongoServerError } from 'mongodb';
import { useStandin } from './harness.ts';

describe('stand-in protocol and admin commands', () => {
  const h = useStandin();

  it('presents itself as a standalone MongoDB 7.0 with sessions', async () => {
    const hello = await h.db.admin().command({ hello: 1 });
    expect(hello).toMatchObject({
      isWritablePrimary: true,
      maxWireVersion: 21,
      minWireVersion: 0,
      logicalSessionTimeoutMinutes: 30,
      ok: 1,
    });
    expect(hello).not.toHaveProperty('setName');
    expect(hello.topologyVersion?.processId).toBeDefined(); // as mongod 4.4+: drivers monitor with the streaming protocol
    const info = await h.db.admin().command({ buildInfo: 1 });
    expect(info.version).toMatch(/^7\.0\./);
    expect(info.versionArray.slice(0, 2)).toEqual([7, 0]);
  });

  it('answers unknown commands with CommandNotFound (59), never a silent ok', async () => {
    const err = await h.db.command({ frobnicate: 1 }).catch((e) => e);
    expect(err).toBeInstanceOf(MongoServerError);
    expect(err.code).toBe(59);
    expect(err.codeName).toBe('CommandNotFound');
    expect(err.message).toBe("no such command: 'frobnicate'");
  });

  it('answers the admin commands mongosh and drivers send', async () => {
    const admin = h.db.admin();
    await expect(admin.command({ ping: 1 })).resolves.toMatchObject({ ok: 1 });
    await expect(admin.command({ getParameter: 1, featureCompatibilityVersion: 1 })).resolves.toMatchObject({
      featureCompatibilityVersion: { version: '7.0' },
    });
    await expect(admin.command({ getLog: 'startupWarnings' })).resolves.toMatchObject({ totalLinesWritten: 0, log: [] });
    await expect(admin.command({ hostInfo: 1 })).resolves.toHaveProperty('system');
    await expect(admin.command({ serverStatus: 1 })).resolves.toHaveProperty('connections');
    await expect(admin.command({ connectionStatus: 1 })).resolves.toHaveProperty('authInfo');
    await expect(admin.command({ whatsmyuri: 1 })).resolves.toHaveProperty('you');
    await expect(admin.command({ killAllSessions: [] })).resolves.toMatchObject({ ok: 1 });
    const atlas = await admin.command({ atlasVersion: 1 }).catch((e) => e);
    expect(atlas.code).toBe(59);
  });

  it('lists databases that hold collections', async () => {
    await h.db.collection<any>('listed').insertOne({ a: 1 });
    const { databases } = await h.db.admin().listDatabases();
    expect(databases.map((d) => d.name)).toContain('standin_test');
  });

  it('processes w:0 writes (moreToCome) without replying and keeps the connection usable', async () => {
    const coll = h.db.collection<any>('w0');
    await coll.insertOne({ n: 1 }, { writeConcern: { w: 0 } });
    await coll.insertOne({ n: 2 }, { writeConcern: { w: 0 } });
    expect(await coll.countDocuments({})).toBe(2);
  });

  it('accepts comment, writeConcern majority+j, readConcern and maxTimeMS on commands', async () => {
    const coll = h.db.collection<any>('opts', { writeConcern: { w: 'majority', j: true }, readConcern: { level: 'local' } });
    await coll.insertOne({ a: 1 }, { comment: { why: 'test' } });
    const found = await coll.find({}, { comment: 'x', maxTimeMS: 1000 }).toArray();
    expect(found).toHaveLength(1);
    await expect(coll.updateOne({ a: 1 }, { $set: { b: 2 } }, { comment: 7 })).resolves.toMatchObject({ modifiedCount: 1 });
  });

  it('rejects transactions with code 20 as a standalone does', async () => {
    const session = h.client.startSession();
    session.startTransaction();
    const err = await h.db
      .collection<any>('txn')
      .insertOne({ a: 1 }, { session })
      .catch((e) => e);
    await session.abortTransaction().catch(() => {});
    await session.endSession();
    expect(err).toBeInstanceOf(Error);
    expect(err.code === 20 || /Transaction numbers|does not support|replica set/i.test(err.message)).toBe(true);
  });

  it('returns results in batches through getMore, honouring batchSize and limit', async () => {
    const coll = h.db.collection<any>('batches');
    await coll.insertMany(Array.from({ length: 10 }, (_, i) => ({ _id: i })));
    const events: string[] = [];
    const client = new MongoClient(h.standin.uri, { monitorCommands: true });
    client.on('commandStarted', (e) => events.push(e.commandName));
    try {
      const docs = await client
        .db('standin_test')
        .collection<any>('batches')
        .find({}, { batchSize: 3, limit: 7, sort: { _id: 1 } })
        .toArray();
      expect(docs.map((d) => d._id)).toEqual([0, 1, 2, 3, 4, 5, 6]);
      expect(events.filter((e) => e === 'getMore')).toHaveLength(2);
    } finally {
      await client.close();
    }
  });

  it('kills cursors and answers getMore on a dead cursor with CursorNotFound (43)', async () => {
    const coll = h.db.collection<any>('batches');
    const cursor = coll.find({}, { batchSize: 2 });
    await cursor.next();
    const id = cursor.id!;
    await cursor.close();
    const err = await h.db.command({ getMore: id, collection: 'batches' }).catch((e) => e);
    expect(err.code).toBe(43);
  });
});
