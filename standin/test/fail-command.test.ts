import { afterEach, describe, expect, it } from 'vitest';
import { MongoClient, MongoNetworkError, MongoServerError, MongoWriteConcernError, type Document } from 'mongodb';
import { useStandin } from './harness.ts';

/** The `failCommand` fail point as mongod implements it, driven through the official driver. */
describe('stand-in failCommand fail point', () => {
  const h = useStandin({}, 'failcommand_test');
  const extra: MongoClient[] = [];

  async function client(appName?: string, options: Record<string, unknown> = {}): Promise<MongoClient> {
    const c = new MongoClient(h.standin.uri, { appName, serverSelectionTimeoutMS: 5000, ...options });
    await c.connect();
    extra.push(c);
    return c;
  }

  function configure(mode: unknown, data: Document = {}): Promise<Document> {
    return h.client.db('admin').command({ configureFailPoint: 'failCommand', mode, data });
  }

  afterEach(async () => {
    await configure('off');
    await Promise.all(extra.splice(0).map((c) => c.close()));
  });

  it('fails the listed command n times with errorCode and errorLabels, then turns itself off', async () => {
    const coll = h.db.collection<any>('times');
    await configure({ times: 2 }, { failCommands: ['insert'], errorCode: 91, errorLabels: ['ExampleLabel'] });
    expect(await coll.countDocuments({})).toBe(0);
    for (let i = 0; i < 2; i++) {
      const err = await coll.insertOne({ _id: i }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MongoServerError);
      expect(err).toMatchObject({ code: 91, codeName: 'ShutdownInProgress', errmsg: "Failing command via 'failCommand' failpoint" });
      expect((err as MongoServerError).hasErrorLabel('ExampleLabel')).toBe(true);
    }
    await coll.insertOne({ _id: 'ok' });
    expect(await coll.find().toArray()).toEqual([{ _id: 'ok' }]);
    // count: how many times the fail point has been entered so far.
    expect((await configure('off')).count).toBeGreaterThanOrEqual(2);
  });

  it('fails only commands from connections whose handshake appName matches, and counts only those', async () => {
    const a = await client('deliverer-a');
    const b = await client('deliverer-b');
    await a.db('failcommand_test').collection<{ _id: number; n: number }>('app').insertOne({ _id: 1, n: 0 });
    await configure({ times: 3 }, { appName: 'deliverer-a', failCommands: ['update'], errorCode: 8 });
    const collA = a.db('failcommand_test').collection<any>('app');
    const collB = b.db('failcommand_test').collection<any>('app');
    for (let i = 0; i < 5; i++) await collB.updateOne({ _id: 1 }, { $inc: { n: 1 } });
    const outcomes: Array<number | 'ok'> = [];
    for (let i = 0; i < 4; i++) {
      outcomes.push(
        await collA.updateOne({ _id: 1 }, { $inc: { n: 100 } }).then(
          () => 'ok' as const,
          (e: MongoServerError) => e.code as number,
        ),
      );
    }
    expect(outcomes).toEqual([8, 8, 8, 'ok']);
    expect((await collA.findOne({ _id: 1 }))!.n).toBe(105);
  });

  it('skips the first n matching commands, then fails every one ({skip: n})', async () => {
    const coll = h.db.collection<any>('skip');
    await configure({ skip: 2 }, { failCommands: ['insert'], errorCode: 8 });
    const outcomes = [];
    for (let i = 0; i < 4; i++)
      outcomes.push(
        await coll.insertOne({ _id: i }).then(
          () => 'ok',
          (e: MongoServerError) => e.code,
        ),
      );
    expect(outcomes).toEqual(['ok', 'ok', 8, 8]);
  });

  it('fails every matching command while alwaysOn, until mode off', async () => {
    const coll = h.db.collection<any>('always');
    const before = (await configure('alwaysOn', { failCommands: ['find', 'delete'], errorCode: 8, namespace: 'failcommand_test.always' }))
      .count;
    await expect(coll.findOne({})).rejects.toMatchObject({ code: 8 });
    await expect(coll.deleteMany({})).rejects.toMatchObject({ code: 8 });
    await expect(coll.findOne({})).rejects.toMatchObject({ code: 8 });
    // Another namespace does not match.
    expect(await h.db.collection('elsewhere').findOne({})).toBeNull();
    const off = await configure('off');
    expect(off.count - before).toBe(3);
    expect(await coll.findOne({})).toBeNull();
  });

  it('blocks a matching command for blockTimeMS without holding up other connections', async () => {
    const blocked = await client('slow-app');
    const other = await client('other-app');
    await configure({ times: 1 }, { appName: 'slow-app', failCommands: ['find'], blockConnection: true, blockTimeMS: 400 });
    const started = Date.now();
    const order: string[] = [];
    const slow = blocked
      .db('failcommand_test')
      .collection('block')
      .findOne({})
      .then(() => order.push('blocked find'));
    await other.db('failcommand_test').collection('block').findOne({});
    order.push('other find');
    await slow;
    expect(order).toEqual(['other find', 'blocked find']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(390);
    await configure({ times: 1 }, { failCommands: ['find'], blockConnection: true });
    await expect(h.db.collection('block').findOne({})).rejects.toMatchObject({ code: 72 });
  });

  it('closes the connection instead of answering (closeConnection)', async () => {
    const c = await client('closer', { retryReads: false });
    const coll = c.db('failcommand_test').collection('close');
    await configure({ times: 1 }, { appName: 'closer', failCommands: ['find'], closeConnection: true });
    await expect(coll.findOne({})).rejects.toBeInstanceOf(MongoNetworkError);
    expect(await coll.findOne({})).toBeNull();
  });

  it('adds writeConcernError to a successful write, which still happens; reads are not counted', async () => {
    const coll = h.db.collection<any>('wce');
    const wce = { code: 64, codeName: 'WriteConcernFailed', errmsg: 'waiting for replication timed out', errInfo: { wtimeout: true } };
    await configure({ times: 1 }, { failCommands: ['insert', 'find'], writeConcernError: wce, errorLabels: ['RetryableWriteError'] });
    expect(await coll.findOne({})).toBeNull();
    const err = await coll.insertOne({ _id: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MongoWriteConcernError);
    expect(err).toMatchObject({ code: 64 });
    expect((err as MongoWriteConcernError).hasErrorLabel('RetryableWriteError')).toBe(true);
    expect(await coll.findOne({ _id: 1 })).toEqual({ _id: 1 });
    await coll.insertOne({ _id: 2 });
  });

  it('is not counted by a writeConcernError-only check before the command, nor by unlisted commands', async () => {
    const coll = h.db.collection<any>('counting');
    const start = (await configure({ times: 2 }, { failCommands: ['update'], writeConcernError: { code: 64, errmsg: 'x' } })).count;
    await coll.insertOne({ _id: 1 });
    await coll.findOne({});
    await expect(coll.updateOne({ _id: 1 }, { $set: { a: 1 } })).rejects.toBeInstanceOf(MongoWriteConcernError);
    await expect(coll.updateOne({ _id: 1 }, { $set: { a: 2 } })).rejects.toBeInstanceOf(MongoWriteConcernError);
    await coll.updateOne({ _id: 1 }, { $set: { a: 3 } });
    expect((await coll.findOne({ _id: 1 }))!.a).toBe(3);
    expect((await configure('off')).count - start).toBe(2);
  });

  it('lets a test wait until the fail point was entered (waitForFailPoint)', async () => {
    const coll = h.db.collection<any>('wait');
    const { count } = await configure('alwaysOn', { failCommands: ['insert'], errorCode: 8 });
    const waiting = h.client.db('admin').command({ waitForFailPoint: 'failCommand', timesEntered: count + 2, maxTimeMS: 10_000 });
    await expect(coll.insertOne({ _id: 1 })).rejects.toMatchObject({ code: 8 });
    await expect(coll.insertOne({ _id: 2 })).rejects.toMatchObject({ code: 8 });
    await expect(waiting).resolves.toMatchObject({ ok: 1 });
    await expect(
      h.client.db('admin').command({ waitForFailPoint: 'failCommand', timesEntered: count + 100, maxTimeMS: 50 }),
    ).rejects.toMatchObject({ code: 50 });
  });

  it('is configured on the admin database only, with modes mongod accepts', async () => {
    await expect(h.db.command({ configureFailPoint: 'failCommand', mode: 'alwaysOn', data: {} })).rejects.toMatchObject({ code: 13 });
    await expect(configure({ times: -1 }, {})).rejects.toMatchObject({ code: 2 });
    await expect(configure('sometimes', {})).rejects.toMatchObject({ code: 2 });
    await expect(h.client.db('admin').command({ configureFailPoint: 'noSuchFailPoint', mode: 'off' })).rejects.toBeInstanceOf(
      MongoServerError,
    );
  });
});
