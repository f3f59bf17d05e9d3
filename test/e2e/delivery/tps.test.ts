import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import type { SmsDocument } from '../../../src/domain/index.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { testRedisUrl, useTestDb } from '../../support/mongo.ts';
import { makeSms } from '../../support/sms-factory.ts';
import { routeAllTo, startDeliverer } from './harness.ts';
import { until } from '../../support/until.ts';

const TPS = 10;
const redisUrl = testRedisUrl();

describe.skipIf(!redisUrl)('connector TPS cap shared by two deliverer processes through Redis', () => {
  const handle = useTestDb('delivery_e2e_tps');
  let sink: Sink;
  const procs: ReadyProcess[] = [];

  beforeAll(async () => {
    await ensureSchema(handle.db);
    sink = await startSink({ port: 0 });
    await routeAllTo(handle.db, sink.port, { tps: TPS });
  });

  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop('SIGKILL')));
    await sink?.close();
  });

  it(`never lets more than ${TPS} submits per second through, across both processes`, async () => {
    const now = new Date();
    const docs = Array.from({ length: 40 }, (_, i) =>
      makeSms({ destKey: `4917${i}`, dest: { ton: 1, npi: 1, addr: `4917${i}` }, arrivedAt: now, nextAttemptAt: now }),
    );
    const env = { REDIS_URL: redisUrl, SMSC_TEST_KEY: handle.dbName };
    procs.push(...(await Promise.all([1, 2].map(() => startDeliverer(handle.uri, handle.dbName, ['--lanes', '4'], env)))));
    await handle.db.collection<SmsDocument>(Collections.sms).insertMany(docs);
    await until(
      async () => (await handle.db.collection(Collections.sms).countDocuments({ state: 'submitted' })) === docs.length,
      30_000,
      'all submitted',
    );
    const perSecond = new Map<number, number>();
    for (const m of sink.received) {
      const second = Math.floor(m.arrivedAt.getTime() / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    const sessions = new Set(sink.received.map((m) => m.sessionId));
    console.log(`[tps] per second: ${[...perSecond.values()].join(', ')}; sessions ${sessions.size}`);
    expect(sessions.size).toBe(2); // both processes sent
    // The limiter counts one-second windows of the senders' clocks; the sink stamps arrival, so a
    // submit sent at x.999 may land in second x+1: allow that transit, no more.
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(TPS + 2);
    // Unlimited, 40 submits take ~0.1 s; at 10/s in fixed one-second windows shared by both
    // processes they need 4 windows, so the first and last are more than 2 s apart.
    const times = sink.received.map((m) => m.arrivedAt.getTime());
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan((docs.length / TPS - 2) * 1000);
  }, 60_000);
});
