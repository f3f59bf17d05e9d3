import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema, GroupCommitWriter } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import { freePort } from '../../support/free-port.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { makeSeries } from '../../support/sms-factory.ts';
import { spawnStandin, type StandinChild } from '../../../standin/test/spawn-standin.ts';
import { routeAllTo, startDeliverer } from './harness.ts';
import { until } from '../../support/until.ts';

/**
 * The deliverer outlives its MongoDB: the server is killed (SIGKILL) and started again on the same
 * port and data directory, and work stored afterwards is delivered without restarting the
 * deliverer. It needs a server it can kill, so it runs its own: the project's stand-in with a
 * journal (`--dbpath`), whatever server the rest of the suite uses.
 */
describe('a deliverer across a restart of MongoDB', () => {
  const dbName = 'delivery_e2e_mongo_restart';
  const dbpath = mkdtempSync(path.join(tmpdir(), 'smsc-restart-'));
  let server: StandinChild | undefined;
  let deliverer: ReadyProcess | undefined;
  let sink: Sink | undefined;

  afterAll(async () => {
    await deliverer?.stop('SIGKILL');
    server?.proc.kill('SIGKILL');
    await server?.exited;
    await sink?.close();
    rmSync(dbpath, { recursive: true, force: true });
  });

  /** Stores messages the way the inserter does: group commit, with a notification in `events`. */
  async function store(uri: string, docs: SmsDocument[]): Promise<void> {
    const client = new MongoClient(uri);
    try {
      const writer = new GroupCommitWriter(client.db(dbName), { writeConcern: { w: 1, j: true } });
      await Promise.all(docs.map((doc) => writer.write(doc)));
      await writer.close();
    } finally {
      await client.close();
    }
  }

  it('reopens its events tail and delivers what is stored after MongoDB comes back', async () => {
    const port = await freePort();
    const serverArgs = ['--port', String(port), '--dbpath', dbpath];
    server = await spawnStandin(serverArgs);
    const admin = new MongoClient(server.uri);
    await admin.connect();
    await ensureSchema(admin.db(dbName));
    sink = await startSink({ port: 0 });
    await routeAllTo(admin.db(dbName), sink.port);
    await admin.close();

    // No safety sweep within the test's time: only the events tail (or the due timer) can find new work.
    deliverer = await startDeliverer(server.uri, dbName, ['--lanes', '4'], { DELIVERER_SWEEP_INTERVAL_MS: '600000' });
    const before = Array.from({ length: 5 }, (_, i) => makeSeries(`4917100${i}`, 4, new Date())).flat();
    await store(server.uri, before);
    await sink.waitForMessages(before.length, 20_000);
    // Killed only once the outcomes are stored: this test is about reconnecting, not about a crash mid-batch.
    const probe = new MongoClient(server.uri);
    try {
      await until(
        async () => (await probe.db(dbName).collection(Collections.sms).countDocuments({ state: 'submitted' })) === before.length,
        10_000,
        'first messages submitted',
      );
    } finally {
      await probe.close();
    }

    server.proc.kill('SIGKILL');
    await server.exited;
    // Long enough for the deliverer's cursor and pool to fail and start retrying.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    server = await spawnStandin(serverArgs);

    const after = Array.from({ length: 5 }, (_, i) => makeSeries(`4917200${i}`, 4, new Date())).flat();
    const storedAt = Date.now();
    await store(server.uri, after);
    await sink.waitForMessages(before.length + after.length, 30_000);
    const tookMs = Date.now() - storedAt;
    console.log(`[mongo-restart] ${after.length} messages stored after the restart were delivered in ${tookMs} ms`);

    const check = new MongoClient(server.uri);
    try {
      await until(
        async () =>
          (await check.db(dbName).collection(Collections.sms).countDocuments({ state: 'submitted' })) === before.length + after.length,
        10_000,
        'all submitted',
      );
    } finally {
      await check.close();
    }
    const texts = sink.received.map((m) => m.text);
    expect(new Set(texts).size).toBe(before.length + after.length);
    expect(texts.length).toBe(before.length + after.length);
    expect(deliverer.child.exitCode).toBeNull();
  }, 90_000);
});
