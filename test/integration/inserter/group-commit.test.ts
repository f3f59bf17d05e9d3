import { Binary, MongoClient, ObjectId } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureSchema, GroupCommitWriter, StoreWriteError } from '../../../src/store/index.ts';
import { commandStatusOf } from '../../../src/smpp/index.ts';
import { messageIdOf, type SmsDocument } from '../../../src/domain/index.ts';
import { freePort } from '../../support/free-port.ts';
import { useTestDb } from '../../support/mongo.ts';
import { spawnStandin } from '../../../standin/test/spawn-standin.ts';
import { until } from '../../support/until.ts';

const t = useTestDb('group_commit');

function doc(destKey = '+447700900123', id = new ObjectId()): SmsDocument {
  const now = new Date();
  return {
    _id: id,
    messageId: messageIdOf(id),
    direction: 'mt',
    account: 'acme',
    arrivedAt: now,
    source: { ton: 5, npi: 0, addr: 'ACME' },
    dest: { ton: 1, npi: 1, addr: destKey.slice(1) },
    destKey,
    priority: 0,
    registeredDelivery: 0,
    validUntil: new Date(now.getTime() + 3600_000),
    nextAttemptAt: now,
    attempts: 0,
    state: 'queued',
    target: { kind: 'connector' },
    payload: { dataCoding: 0, esmClass: 0, shortMessage: new Binary(Buffer.from('hi')) },
    history: [],
  };
}

describe('GroupCommitWriter', () => {
  it('writes documents that arrive together in one insertMany and one event', async () => {
    await ensureSchema(t.db);
    // onBatch is how the process edge records smsc_batch_size{kind="insert"}.
    const batchSizes: number[] = [];
    const writer = new GroupCommitWriter(t.db, {
      maxDelayMs: 5,
      maxBatchDocs: 256,
      writeConcern: { w: 1 },
      onBatch: (n) => batchSizes.push(n),
    });
    const docs = Array.from({ length: 50 }, (_, i) => doc(`+4477009${String(i).padStart(5, '0')}`));
    const eventsBefore = await t.db.collection('events').countDocuments();
    await Promise.all(docs.map((d) => writer.write(d)));
    expect(writer.stats.batches).toBe(1);
    expect(batchSizes).toEqual([50]);
    expect(writer.stats.documents).toBe(50);
    expect(await t.db.collection('sms').countDocuments({ _id: { $in: docs.map((d) => d._id) } })).toBe(50);
    await until(async () => (await t.db.collection('events').countDocuments()) > eventsBefore, 5_000, "the batch's event");
    const events = await t.db.collection('events').find().toArray();
    expect(events.length - eventsBefore).toBe(1);
    expect(events.at(-1)).toMatchObject({ count: 50 });
    await writer.close();
  });

  it('merges the wake-ups of batches stored while an events write is in flight, losing no count', async () => {
    await ensureSchema(t.db);
    const writer = new GroupCommitWriter(t.db, { maxDelayMs: 0, maxBatchDocs: 1, maxInFlight: 8, writeConcern: { w: 1 } });
    const before = await t.db.collection('events').countDocuments();
    const docs = Array.from({ length: 40 }, (_, i) => doc(i % 2 ? '+447700900111' : '+447700900222'));
    await Promise.all(docs.map((d) => writer.write(d)));
    await writer.close();
    expect(writer.stats.batches).toBe(40);
    const events = (await t.db.collection('events').find().toArray()).slice(before);
    expect(events.length).toBe(writer.stats.events);
    expect(events.length).toBeLessThan(40);
    expect(events.reduce((n, e) => n + (e.count as number), 0)).toBe(40);
    // Merged per destKey: each event still names the one destination it is about.
    for (const event of events) expect(['+447700900111', '+447700900222']).toContain(event.destKey);
  });

  it('with maxDelayMs 0 batches what arrives in the same I/O turn', async () => {
    const writer = new GroupCommitWriter(t.db, { maxDelayMs: 0, writeConcern: { w: 1 } });
    await Promise.all(Array.from({ length: 20 }, () => writer.write(doc())));
    expect(writer.stats.batches).toBe(1);
    await writer.close();
  });

  it('splits at maxBatchDocs', async () => {
    const writer = new GroupCommitWriter(t.db, { maxDelayMs: 5, maxBatchDocs: 10, writeConcern: { w: 1 } });
    await Promise.all(Array.from({ length: 35 }, () => writer.write(doc())));
    expect(writer.stats.batches).toBe(4);
    expect(writer.stats.largestBatch).toBe(10);
    await writer.close();
  });

  it('fails only the documents the server refused (duplicate _id), not their batch mates', async () => {
    const writer = new GroupCommitWriter(t.db, { maxDelayMs: 5, writeConcern: { w: 1 } });
    const existing = doc();
    await writer.write(existing);
    const fresh = [doc(), doc()];
    const results = await writer.writeAll([fresh[0], { ...existing }, fresh[1]]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const reason = (results[1] as PromiseRejectedResult).reason as StoreWriteError;
    expect(reason).toBeInstanceOf(StoreWriteError);
    expect(commandStatusOf(reason)).toBe(0x08);
    await writer.close();
  });

  it('refuses with ESME_RMSGQFUL when too much waits, and after close', async () => {
    const writer = new GroupCommitWriter(t.db, { maxDelayMs: 50, maxQueuedDocs: 3, writeConcern: { w: 1 } });
    const results = await writer.writeAll([doc(), doc(), doc(), doc()]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected']);
    expect(commandStatusOf((results[3] as PromiseRejectedResult).reason)).toBe(0x14);
    await writer.close();
    await expect(writer.write(doc())).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('sends a batch cut off by a dropped connection again, and counts a duplicate _id on that retry as stored', async () => {
    // A server of its own: the failCommand fail point is a test command a production MongoDB refuses.
    const server = await spawnStandin(['--port', '0']);
    const client = new MongoClient(server.uri);
    try {
      const db = client.db('group_commit_retry');
      await ensureSchema(db);
      const [lost, fresh] = [doc('+447700900201'), doc('+447700900202')];
      // As if the cut-off attempt had stored `lost` before the connection dropped.
      await db.collection<SmsDocument>('sms').insertOne({ ...lost });
      await db
        .admin()
        .command({ configureFailPoint: 'failCommand', mode: { times: 1 }, data: { failCommands: ['insert'], closeConnection: true } });
      const writer = new GroupCommitWriter(db, { maxDelayMs: 5, writeConcern: { w: 1 }, timeoutMs: 5000 });
      const results = await writer.writeAll([lost, fresh]);
      await writer.close();
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled']);
      expect(writer.stats).toMatchObject({ documents: 2, failedDocuments: 0 });
      expect(await db.collection('sms').countDocuments({ _id: { $in: [lost._id, fresh._id] } })).toBe(2);
    } finally {
      await client.close();
      server.proc.kill('SIGKILL');
      await server.exited;
    }
  });

  it('answers a storage failure as ESME_RSYSERR', async () => {
    // A MongoDB nobody listens on: server selection fails, the whole batch is unacknowledged.
    const port = await freePort();
    const client = new MongoClient(`mongodb://127.0.0.1:${port}`, { serverSelectionTimeoutMS: 300 });
    // It keeps trying (the server may be restarting) until the batch's deadline, then gives up.
    const writer = new GroupCommitWriter(client.db('x'), { maxDelayMs: 1, writeConcern: { w: 1 }, timeoutMs: 1500 });
    const results = await writer.writeAll([doc(), doc()]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    const reason = (results[0] as PromiseRejectedResult).reason as StoreWriteError;
    expect(commandStatusOf(reason)).toBe(0x08);
    expect(['STORE_WRITE_FAILED', 'STORE_WRITE_TIMEOUT']).toContain(reason.code);
    await writer.close();
    await client.close();
  });
});

describe('GroupCommitWriter without idle waiting', () => {
  // A server of its own: the failCommand fail point (blockConnection) holds one insert in flight.
  let server: Awaited<ReturnType<typeof spawnStandin>>;
  let client: MongoClient;

  beforeAll(async () => {
    server = await spawnStandin(['--port', '0']);
    client = new MongoClient(server.uri);
  }, 60_000);

  afterAll(async () => {
    await client?.close();
    server?.proc.kill('SIGKILL');
    if (server) await server.exited;
  });

  /** Writes a first document whose insert the server holds for `blockMs`; resolves once it is in flight. */
  async function holdFirstInsert(writer: GroupCommitWriter, blockMs: number, order: string[]): Promise<{ first: Promise<void> }> {
    await client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: { failCommands: ['insert'], blockConnection: true, blockTimeMS: blockMs },
    });
    const first = writer.write(doc()).then(() => void order.push('first'));
    // Nothing else is in flight, so it goes out at the end of this I/O turn, without a timer.
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    return { first };
  }

  it('sends what arrives while an insert is in flight as one batch when that insert is acknowledged', async () => {
    const db = client.db('group_commit_in_flight');
    await ensureSchema(db);
    const writer = new GroupCommitWriter(db, { writeConcern: { w: 1 } });
    const order: string[] = [];
    const { first } = await holdFirstInsert(writer, 400, order);
    const later: Promise<void>[] = [];
    for (let i = 0; i < 3; i++) {
      later.push(writer.write(doc()).then(() => void order.push(`later ${i}`)));
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all([first, ...later]);
    await writer.close();
    expect(order[0]).toBe('first');
    expect(writer.stats).toMatchObject({ batches: 2, documents: 4, largestBatch: 3, maxInFlight: 1 });
  });

  it('sends a full batch at once, beside the insert in flight', async () => {
    const db = client.db('group_commit_full_batch');
    await ensureSchema(db);
    const writer = new GroupCommitWriter(db, { maxBatchDocs: 3, writeConcern: { w: 1 } });
    const order: string[] = [];
    const { first } = await holdFirstInsert(writer, 1000, order);
    const full = Promise.all([writer.write(doc()), writer.write(doc()), writer.write(doc())]).then(() => void order.push('full batch'));
    await Promise.all([first, full]);
    await writer.close();
    expect(order).toEqual(['full batch', 'first']);
    expect(writer.stats).toMatchObject({ batches: 2, documents: 4, maxInFlight: 2 });
  });
});
