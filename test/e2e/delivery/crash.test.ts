import type { Filter } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSeries } from '../../support/sms-factory.ts';
import { routeAllTo, startDeliverer } from './harness.ts';
import { until } from '../../support/until.ts';

const LANES = 2;
const BATCH = 4;

describe('a deliverer killed mid-batch', () => {
  const handle = useTestDb('delivery_e2e_crash');
  let sink: Sink;
  const procs: ReadyProcess[] = [];

  beforeAll(async () => {
    await ensureSchema(handle.db);
    // Slow enough that a batch of 4 takes a while, so the kill lands inside one.
    sink = await startSink({ port: 0, latencyMs: { min: 40, max: 80 } });
    await routeAllTo(handle.db, sink.port);
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sink?.close();
  });

  it('loses nothing: the survivor delivers its messages after the lease; duplicates stay within the batches in flight', async () => {
    const start = new Date();
    const docs = Array.from({ length: 30 }, (_, i) =>
      makeSeries(`49160${String(i).padStart(4, '0')}`, 8, new Date(start.getTime() + i)),
    ).flat();
    await handle.db.collection<SmsDocument>(Collections.sms).insertMany(docs);
    const args = ['--lanes', String(LANES), '--lease-ms', '2000'];
    const [victim, survivor] = await Promise.all([
      startDeliverer(handle.uri, handle.dbName, args),
      startDeliverer(handle.uri, handle.dbName, args),
    ]);
    procs.push(victim, survivor);
    await sink.waitForMessages(20, 30_000);
    // Kill it while it holds a batch (every lane is busy with 40-80 ms submits).
    const heldByVictim: Filter<SmsDocument> = { state: 'locked', 'lock.owner': { $regex: `:${victim.child.pid}:` } };
    await until(
      async () => (await handle.db.collection<SmsDocument>(Collections.sms).countDocuments(heldByVictim)) > 0,
      10_000,
      'victim holds a batch',
    );
    victim.child.kill('SIGKILL');
    await new Promise((resolve) => victim.child.once('exit', resolve));
    const stranded = await handle.db.collection<SmsDocument>(Collections.sms).countDocuments(heldByVictim);
    const killedAt = Date.now();
    await until(
      async () => (await handle.db.collection(Collections.sms).countDocuments({ state: 'submitted' })) === docs.length,
      60_000,
      'all submitted',
    );
    const tookMs = Date.now() - killedAt;

    const texts = sink.received.map((m) => m.text);
    const unique = new Set(texts);
    const duplicates = texts.length - unique.size;
    console.log(
      `[crash] ${docs.length} messages; killed holding ${stranded} locked; recovered in ${tookMs} ms; duplicates ${duplicates} (bound ${LANES * BATCH})`,
    );
    expect(unique.size).toBe(docs.length);
    expect(survivor.child.exitCode).toBeNull();
    expect(duplicates).toBeLessThanOrEqual(LANES * BATCH);
    expect(sink.overlappingDestinations.size).toBe(0);
    // The destination locks go in the write after the last outcome is stored: wait for it.
    await until(async () => (await handle.db.collection(Collections.locks).countDocuments()) === 0, 5_000, 'no destination lock left');
  }, 90_000);
});
