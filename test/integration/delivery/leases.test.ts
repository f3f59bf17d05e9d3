import { MongoClient, type Db } from 'mongodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  systemClock,
  type OutboundSession,
  type SelectFailure,
  type Sender,
  type SubmitContext,
  type SubmitOutcome,
  type LockDocument,
  type SmsDocument,
} from '../../../src/domain/index.ts';
import { resolveDeliveryOptions, type DeliveryOptions, DeliveryWorker } from '../../../src/delivery/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSeries, textOf } from '../../support/sms-factory.ts';
import { testRound, type TestRound } from './round-harness.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

/** One downstream seen by several workers: who sent what, and whether two submits to one destination ever overlapped. */
class Downstream {
  readonly sent: { by: string; text: string }[] = [];
  readonly #inFlight = new Map<string, number>();
  overlaps = 0;
  #n = 0;

  senderFor(by: string, afterAnswer?: (text: string) => Promise<void>): Sender {
    return {
      acceptedState: 'submitted',
      correlates: true,
      select: async (): Promise<OutboundSession | SelectFailure> => ({
        connector: 'down',
        submit: (sms, context) => this.#submit(by, sms, context, afterAnswer),
      }),
    };
  }

  async #submit(
    by: string,
    sms: SmsDocument,
    context: SubmitContext,
    afterAnswer?: (text: string) => Promise<void>,
  ): Promise<SubmitOutcome> {
    if ((await context.beforePart(10_000)) === false) return { kind: 'temporary', connector: 'down', error: 'lease not safe' };
    const inFlight = (this.#inFlight.get(sms.destKey) ?? 0) + 1;
    this.#inFlight.set(sms.destKey, inFlight);
    if (inFlight > 1) this.overlaps++;
    await new Promise((resolve) => setTimeout(resolve, 5));
    this.sent.push({ by, text: textOf(sms) });
    this.#inFlight.set(sms.destKey, inFlight - 1);
    const remoteId = `r${this.#n++}`;
    context.onPartAccepted(remoteId);
    // The answer has arrived; the worker may now stall (GC, a paused process) before it goes on.
    await afterAnswer?.(textOf(sms));
    return { kind: 'accepted', connector: 'down', remoteId };
  }
}

describe('leases under pauses and failing writes', () => {
  const handle = useTestDb('delivery_leases');
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);
  const locks = () => handle.db.collection<LockDocument>(Collections.locks);
  const closers: (() => Promise<unknown>)[] = [];
  const t0 = () => new Date(Date.now() - 1000);

  beforeEach(async () => {
    await ensureSchema(handle.db);
    await sms().deleteMany({});
    await locks().deleteMany({});
    await handle.db.collection(Collections.correlations).deleteMany({});
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  it('a holder that stalls past its lease sends nothing more; a worker with due work takes over within the lease plus the grace', async () => {
    const delivery = resolveDeliveryOptions({ leaseMs: 1000, leaseGraceMs: 200 });
    const downstream = new Downstream();
    await insertSms(handle.db, makeSeries('p', 4, t0()));
    const stalled: { round?: TestRound } = {};
    let stallStarted = 0;
    const a = testRound(handle.db, systemClock, {
      owner: 'A',
      delivery,
      startLeases: true,
      sender: downstream.senderFor('A', async (text) => {
        if (text !== 'p#0') return;
        // Frozen right after the first answer: no renewals, no sends, for well past the lease.
        stallStarted = Date.now();
        await stalled.round!.leases.close();
        await new Promise((resolve) => setTimeout(resolve, 2500));
      }),
    });
    stalled.round = a;
    closers.push(() => a.close());
    const aRun = a.round.run();
    await until(() => downstream.sent.length === 1, 10_000, 'A sent p#0');

    // B has due work for the destination (A's locked batch) and nothing else wakes it: no events, a sweep a minute away.
    const b = new DeliveryWorker({
      db: handle.db,
      clock: systemClock,
      logger: silentLogger,
      metrics: createMetrics(),
      sender: downstream.senderFor('B'),
      delivery,
      owner: 'B',
      worker: { lanes: 2, sweepMs: 60_000, tailEvents: false },
    });
    closers.push(() => b.close());
    b.start();
    await until(() => downstream.sent.filter((s) => s.by === 'B').length === 4, 10_000, 'B delivered the destination');
    const takenOverAfter = Date.now() - stallStarted;
    const stats = await aRun;

    expect(downstream.overlaps).toBe(0);
    // A sent only what it had sent before it stalled; it stopped at its safe deadline.
    expect(downstream.sent.filter((s) => s.by === 'A').map((s) => s.text)).toEqual(['p#0']);
    expect(stats.leaseStops).toBeGreaterThanOrEqual(1);
    // B resent only the message A had on the wire at the pause, and kept the order.
    expect(downstream.sent.filter((s) => s.by === 'B').map((s) => s.text)).toEqual(['p#0', 'p#1', 'p#2', 'p#3']);
    expect(takenOverAfter).toBeLessThan(delivery.leaseMs + 2000);
    await until(async () => (await sms().countDocuments({ state: 'submitted' })) === 4, 5000, 'all submitted');
    await until(async () => (await locks().countDocuments()) === 0, 5000, 'destination released');
  });

  describe('an outcome write that fails', () => {
    let victim: MongoClient;
    let victimDb: Db;
    const appName = `outcome-victim-${process.pid}`;

    beforeAll(async () => {
      victim = new MongoClient(handle.uri, { appName, serverSelectionTimeoutMS: 10_000 });
      await victim.connect();
      victimDb = victim.db(handle.dbName);
    });

    afterAll(async () => {
      await handle.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
      await victim?.close();
    });

    /** Worker B on a healthy connection: looks for work (sweeps every 100 ms) once started. */
    function otherWorker(downstream: Downstream, delivery: DeliveryOptions): DeliveryWorker {
      const b = new DeliveryWorker({
        db: handle.db,
        clock: systemClock,
        logger: silentLogger,
        metrics: createMetrics(),
        sender: downstream.senderFor('B'),
        delivery,
        owner: 'B',
        worker: { lanes: 2, sweepMs: 100, busyRetryMs: 20, tailEvents: false },
      });
      closers.push(() => b.close());
      return b;
    }

    it('is retried while the destination stays held: nothing the downstream accepted is sent again, and the outcomes land once the fault clears', async () => {
      // A lease short enough that, were the destination let go with its messages still locked,
      // the other worker would take them over and resend them well within this test.
      const delivery = resolveDeliveryOptions({ leaseMs: 1500, leaseGraceMs: 200 });
      const downstream = new Downstream();
      await insertSms(handle.db, makeSeries('f', 4, t0()));
      const b = otherWorker(downstream, delivery);
      let faultAt = 0;
      const a = testRound(victimDb, systemClock, {
        owner: 'A',
        delivery,
        startLeases: true,
        sender: downstream.senderFor('A', async (text) => {
          if (text !== 'f#3') return;
          // Once the last correlation is stored, this process's next three writes fail: its
          // outcome write (and any renewal); another worker keeps looking for work meanwhile.
          await until(
            async () => (await handle.db.collection(Collections.correlations).countDocuments({ connector: 'down' })) === 4,
            5000,
            'correlations stored',
          );
          await handle.client.db('admin').command({
            configureFailPoint: 'failCommand',
            mode: { times: 3 },
            data: { failCommands: ['update'], appName, errorCode: 91, errorLabels: [] },
          });
          faultAt = Date.now();
          b.start();
        }),
      });
      closers.push(() => a.close());
      const stats = await a.round.run();
      expect(a.outcomes.stats.failures).toBeGreaterThanOrEqual(1);
      expect(stats.submitted).toBe(4);
      expect(await sms().countDocuments({ state: 'submitted' })).toBe(4);
      expect(await locks().countDocuments()).toBe(0);
      // Past the lease and its grace after the fault: B's sweeps found nothing to take over.
      await until(() => Date.now() - faultAt > delivery.leaseMs + delivery.leaseGraceMs + 500, 10_000, 'lease and grace after the fault');
      await b.sweep();
      expect(downstream.sent.map((s) => `${s.by}:${s.text}`)).toEqual(['A:f#0', 'A:f#1', 'A:f#2', 'A:f#3']);
      expect(downstream.overlaps).toBe(0);
    });

    it('a failed release is retried with the destination still held; the lane goes on once it lands, and nothing is sent twice or out of order', async () => {
      const delivery = resolveDeliveryOptions({ leaseMs: 1500, leaseGraceMs: 200 });
      const downstream = new Downstream();
      await insertSms(handle.db, makeSeries('g', 8, t0()));
      const b = otherWorker(downstream, delivery);
      // This process's first three deletes fail: the release of its first batch's destination lock.
      // (UnknownError: a plain failed write. ShutdownInProgress would also make the driver forget
      // the server until its monitor's next awaited hello, which is not what is tested here.)
      await handle.client.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: { times: 3 },
        data: { failCommands: ['delete'], appName, errorCode: 8, errorLabels: [] },
      });
      const a = testRound(victimDb, systemClock, {
        owner: 'A',
        delivery,
        startLeases: true,
        sender: downstream.senderFor('A', async (text) => {
          // Another worker looks for work while A's release is failing.
          if (text === 'g#3') b.start();
        }),
      });
      closers.push(() => a.close());
      await a.round.run();
      expect(a.outcomes.stats.failures).toBeGreaterThanOrEqual(1);
      await until(async () => (await sms().countDocuments({ state: 'submitted' })) === 8, 15_000, 'all 8 submitted');
      await until(async () => (await locks().countDocuments()) === 0, 10_000, 'the destination released');
      const texts = downstream.sent.map((s) => s.text);
      expect(texts).toEqual(['g#0', 'g#1', 'g#2', 'g#3', 'g#4', 'g#5', 'g#6', 'g#7']);
      expect(downstream.sent.slice(0, 4).every((s) => s.by === 'A')).toBe(true);
      expect(downstream.overlaps).toBe(0);
    });
  });
});
