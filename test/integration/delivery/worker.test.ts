import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type EventDocument, type SmsDocument } from '../../../src/domain/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { resolveDeliveryOptions, DeliveryWorker } from '../../../src/delivery/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSeries } from '../../support/sms-factory.ts';
import { RecordingSender } from './recording-sender.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

describe('delivery worker loop', () => {
  const handle = useTestDb('delivery_worker');
  const workers: DeliveryWorker[] = [];
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);
  const start = (sender: RecordingSender, worker: Partial<ConstructorParameters<typeof DeliveryWorker>[0]['worker']> = {}) => {
    const w = new DeliveryWorker({
      db: handle.db,
      clock: systemClock,
      logger: silentLogger,
      metrics: createMetrics(),
      sender,
      delivery: resolveDeliveryOptions({ leaseMs: 2000 }),
      worker: { sweepMs: 60_000, lanes: 2, ...worker },
    });
    workers.push(w);
    w.start();
    return w;
  };

  beforeAll(async () => {
    await ensureSchema(handle.db, { eventsSizeBytes: 64 * 1024 });
  });

  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.close()));
    await sms().deleteMany({});
  });

  it('wakes on an event in the capped collection', async () => {
    const sender = new RecordingSender();
    const w = start(sender);
    await new Promise((r) => setTimeout(r, 300)); // idle: tail open, nothing due
    const docs = makeSeries('4911', 3, new Date());
    await insertSms(handle.db, docs);
    await handle.db.collection<EventDocument>(Collections.events).insertOne({ ts: new Date(), due: new Date(), count: 3 });
    const woken = Date.now();
    await until(async () => sender.sent.length === 3, 5000, 'three sent');
    expect(Date.now() - woken).toBeLessThan(3000); // far below the 60 s sweep
    expect(w.stats.submitted).toBe(3);
  });

  it('reopens the tail when its cursor dies (collection dropped and recreated) and finds the work', async () => {
    const sender = new RecordingSender();
    start(sender);
    await new Promise((r) => setTimeout(r, 300));
    await handle.db.collection(Collections.events).drop();
    await ensureSchema(handle.db, { eventsSizeBytes: 64 * 1024 });
    await insertSms(handle.db, makeSeries('4944', 2, new Date()));
    await handle.db.collection<EventDocument>(Collections.events).insertOne({ ts: new Date(), due: new Date(), count: 2 });
    const woken = Date.now();
    await until(async () => sender.sent.length === 2, 10_000, 'two sent');
    expect(Date.now() - woken).toBeLessThan(8000); // the 60 s sweep did not do it
  });

  it('wakes when a scheduled message falls due, without any event', async () => {
    const sender = new RecordingSender();
    const dueAt = new Date(Date.now() + 700);
    await insertSms(handle.db, makeSeries('4922', 1, new Date(), { nextAttemptAt: dueAt }));
    start(sender, { tailEvents: false });
    await until(async () => sender.sent.length === 1, 5000, 'one sent');
    expect(Date.now()).toBeGreaterThanOrEqual(dueAt.getTime());
  });

  it('the safety sweep finds work whose notification was lost, and recovers expired leases', async () => {
    const sender = new RecordingSender();
    const now = new Date();
    // A message stranded in `locked` by a dead worker whose lease ended long ago.
    await insertSms(
      handle.db,
      makeSeries('4933', 1, now, {
        state: 'locked',
        lock: { owner: 'dead', token: 'dead', at: now, leaseUntil: new Date(now.getTime() - 10_000) },
      }),
    );
    await handle.db
      .collection(Collections.locks)
      .insertOne({ _id: '4933' as never, owner: 'dead', token: 'dead', at: now, leaseUntil: new Date(now.getTime() - 10_000) });
    start(sender, { tailEvents: false, sweepMs: 300 });
    await until(async () => (await sms().countDocuments({ destKey: '4933', state: 'submitted' })) === 1, 5000, 'submitted');
    expect(sender.sent).toHaveLength(1);
    await until(
      async () => (await handle.db.collection(Collections.locks).countDocuments({ _id: '4933' as never })) === 0,
      2000,
      'destination released',
    );
  });

  it('several workers share the work without concurrent submits to one destination', async () => {
    const sender = new RecordingSender();
    sender.delayMs = 4;
    const dests = Array.from({ length: 30 }, (_, i) => `49${100 + i}`);
    const docs = dests.flatMap((d, i) => makeSeries(d, 1 + (i % 7), new Date()));
    await insertSms(handle.db, docs);
    for (let i = 0; i < 3; i++) start(sender, { lanes: 3, tailEvents: false, busyRetryMs: 50 });
    await until(async () => (await sms().countDocuments({ state: 'submitted' })) === docs.length, 20_000, 'all submitted');
    expect(sender.concurrentViolations).toBe(0);
    expect(sender.sent.length).toBe(docs.length);
  });
});
