import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Binary } from 'mongodb';
import { systemClock, type SubmitContext, type SmsDocument } from '../../../src/domain/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import {
  ConnectorPool,
  ConnectorSender,
  OutboundConnector,
  validateConnector,
  type ConnectorDocument,
} from '../../../src/connectors/index.ts';
import { resolveDeliveryOptions, DeliveryWorker } from '../../../src/delivery/index.ts';
import { Router } from '../../../src/routing/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { freePort } from '../../support/free-port.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSeries, makeSms } from '../../support/sms-factory.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// One metric set for the components this file builds (fresh per file: counts never mix with another's).
const metrics = createMetrics();

/** What the round gives a session when nothing limits it (a lease far from its end). */
const freely = (): SubmitContext => ({
  signal: new AbortController().signal,
  skipParts: 0,
  beforePart: async (timeoutMs) => timeoutMs,
  onPartAccepted: () => {},
});

const connector = (name: string, port: number, extra: Partial<ConnectorDocument> = {}) =>
  validateConnector({ name, host: '127.0.0.1', port, systemId: name.slice(0, 15), password: 'pw', ...extra });

describe('outbound connectors against the sink', () => {
  const handle = useTestDb('delivery_connectors');
  const cleanups: (() => Promise<unknown>)[] = [];
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);

  beforeAll(async () => {
    await ensureSchema(handle.db);
  });

  afterEach(async () => {
    for (const close of cleanups.splice(0).reverse()) await close();
    await sms().deleteMany({});
    await handle.db.collection(Collections.routes).deleteMany({});
    await handle.db.collection(Collections.connectors).deleteMany({});
  });

  async function sink(options: Parameters<typeof startSink>[0] = {}): Promise<Sink> {
    const s = await startSink({ port: 0, ...options });
    cleanups.push(() => s.close());
    return s;
  }

  async function pipeline(connectors: ConnectorDocument[], routes: object[]) {
    await handle.db.collection(Collections.connectors).insertMany(connectors.map((c) => ({ ...c })));
    await handle.db.collection(Collections.routes).insertMany(routes.map((r) => ({ priority: 0, weight: 1, enabled: true, ...r })));
    const pool = new ConnectorPool(handle.db, { clock: systemClock, logger: silentLogger, metrics, backoffScale: 0.01, refreshMs: 200 });
    await pool.start();
    cleanups.push(() => pool.close());
    const worker = new DeliveryWorker({
      db: handle.db,
      clock: systemClock,
      logger: silentLogger,
      metrics,
      sender: new ConnectorSender(pool, new Router(handle.db, silentLogger, { refreshMs: 200 }), { metrics }),
      delivery: resolveDeliveryOptions({ leaseMs: 5000, backoffBaseMs: 200, backoffMaxMs: 400 }),
      worker: { lanes: 4, sweepMs: 500, busyRetryMs: 50, tailEvents: false },
    });
    cleanups.push(() => worker.close());
    worker.start();
    return { pool, worker };
  }

  it('reconnects on the 5/10/20/40/60 s schedule (scaled) and resets after a bind', async () => {
    const port = await freePort();
    const c = new OutboundConnector(connector('late', port), { clock: systemClock, logger: silentLogger, metrics, backoffScale: 0.02 });
    cleanups.push(() => c.close());
    c.start();
    await until(() => c.attempts.length >= 6, 10_000, 'six connection attempts');
    const gaps = c.attempts.slice(1, 6).map((t, i) => t - c.attempts[i]);
    // 100, 200, 400, 800, 1200 ms: each gap at least its delay, and never wildly more.
    [100, 200, 400, 800, 1200].forEach((delay, i) => {
      expect(gaps[i]).toBeGreaterThanOrEqual(delay - 5);
      expect(gaps[i]).toBeLessThan(delay + 400);
    });
    expect(c.state).not.toBe('BOUND');
    const s = await sink({ port });
    await until(() => c.state === 'BOUND', 5000, 'bound once the downstream is up');
    // After a bind the schedule starts over at 5 s (scaled: 100 ms).
    const before = c.attempts.length;
    for (const session of s.sessions) session.destroy('test drops the link');
    await until(() => c.attempts.length > before, 3000, 'a reconnect');
    const lostAt = Date.now();
    await until(() => c.state === 'BOUND', 3000, 'bound again');
    expect(Date.now() - lostAt).toBeLessThan(1000);
  });

  it('delivers through the route, fails over to the backup when the primary is not bound', async () => {
    const s = await sink();
    const deadPort = await freePort();
    await pipeline([connector('primary', deadPort), connector('backup', s.port)], [{ prefix: '49', connectors: ['primary', 'backup'] }]);
    await insertSms(handle.db, makeSeries('4915000001', 3, new Date()));
    await s.waitForMessages(3, 10_000);
    await until(async () => (await sms().countDocuments({ state: 'submitted' })) === 3, 5000, 'submitted');
    const docs = await sms().find().toArray();
    expect(docs.every((d) => d.remote?.connector === 'backup')).toBe(true);
    expect(s.received.map((m) => m.text)).toEqual(['4915000001#0', '4915000001#1', '4915000001#2']);
    const correlations = await handle.db.collection(Collections.correlations).find().toArray();
    expect(correlations.map((c) => c.remoteId).sort()).toEqual(s.received.map((m) => m.messageId).sort());
  });

  it('no route: undeliverable; route changes apply without a restart', async () => {
    const s = await sink();
    await pipeline([connector('only', s.port)], [{ prefix: '33', connectors: ['only'] }]);
    await insertSms(handle.db, [makeSms({ destKey: '4477', dest: { ton: 1, npi: 1, addr: '4477' } })]);
    await until(async () => (await sms().countDocuments({ state: 'undeliverable' })) === 1, 5000, 'undeliverable');
    await handle.db.collection(Collections.routes).insertOne({ prefix: '', connectors: ['only'], priority: 0, weight: 1, enabled: true });
    await new Promise((r) => setTimeout(r, 300));
    await insertSms(handle.db, [makeSms({ destKey: '4478', dest: { ton: 1, npi: 1, addr: '4478' } })]);
    await s.waitForMessages(1, 5000);
    expect(s.received[0].dest.addr).toBe('4478');
  });

  it('keeps at most `window` submits outstanding', async () => {
    const s = await sink({ latencyMs: 60 });
    const c = new OutboundConnector(connector('win', s.port, { window: 2 }), { clock: systemClock, logger: silentLogger, metrics });
    cleanups.push(() => c.close());
    c.start();
    await until(() => c.bound, 5000, 'bound');
    let maxOutstanding = 0;
    const sampler = setInterval(() => {
      const total = [...s.inFlight.values()].reduce((a, b) => a + b, 0);
      maxOutstanding = Math.max(maxOutstanding, total);
    }, 2);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => c.submit(makeSms({ destKey: `4490${i}`, dest: { ton: 1, npi: 1, addr: `4490${i}` } }), freely())),
    );
    clearInterval(sampler);
    expect(outcomes.every((o) => o.kind === 'accepted')).toBe(true);
    expect(maxOutstanding).toBe(2);
  });

  it('ESME_RTHROTTLED is temporary and slows the connector down; invalid destination is permanent', async () => {
    const s = await sink({
      rules: [
        { prefix: '4499', status: 'throttled' },
        { prefix: '4488', status: 'invalidDest' },
      ],
    });
    const c = new OutboundConnector(connector('thr', s.port), { clock: systemClock, logger: silentLogger, metrics, throttlePauseMs: 300 });
    cleanups.push(() => c.close());
    c.start();
    await until(() => c.bound, 5000, 'bound');
    const throttled = await c.submit(makeSms({ destKey: '44991', dest: { ton: 1, npi: 1, addr: '44991' } }), freely());
    expect(throttled).toMatchObject({ kind: 'temporary', status: 0x58 });
    const started = Date.now();
    const ok = await c.submit(makeSms({ destKey: '44771', dest: { ton: 1, npi: 1, addr: '44771' } }), freely());
    expect(ok.kind).toBe('accepted');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    expect(await c.submit(makeSms({ destKey: '44881', dest: { ton: 1, npi: 1, addr: '44881' } }), freely())).toMatchObject({
      kind: 'permanent',
      status: 0x0b,
    });
  });

  it('a transmitter bind gets a receiver beside it, and receipts arrive on it', async () => {
    const s = await sink({ receipts: { enabled: true, when: 'always' } });
    const receipts: string[] = [];
    const c = new OutboundConnector(connector('txrx', s.port, { bind: 'transmitter' }), {
      clock: systemClock,
      logger: silentLogger,
      metrics,
      handlers: {
        deliverSm: (msg) => {
          receipts.push(msg.tlvs.receiptedMessageId ?? '');
        },
      },
    });
    cleanups.push(() => c.close());
    c.start();
    await until(() => c.bound && c.receiverBound, 5000, 'TX and RX bound');
    expect([...s.sessions].map((session) => session.bindMode).sort()).toEqual(['receiver', 'transmitter']);
    const outcome = await c.submit(makeSms({ destKey: '4455', dest: { ton: 1, npi: 1, addr: '4455' } }), freely());
    expect(outcome.kind).toBe('accepted');
    await until(() => receipts.length === 1, 5000, 'receipt on the receiver');
    expect(receipts[0].toLowerCase()).toBe(s.received[0].messageId?.toLowerCase());
  });

  it('re-splits a long message_payload into the connector form', async () => {
    const s = await sink();
    const c = new OutboundConnector(connector('long', s.port, { long: 'sar' }), { clock: systemClock, logger: silentLogger, metrics });
    cleanups.push(() => c.close());
    c.start();
    await until(() => c.bound, 5000, 'bound');
    const text = 'x'.repeat(300);
    const long = makeSms({ destKey: '4466', dest: { ton: 1, npi: 1, addr: '4466' } });
    long.payload = {
      dataCoding: 0,
      esmClass: 0,
      shortMessage: new Binary(Buffer.alloc(0)),
      tlvs: { messagePayload: new Binary(Buffer.from(text, 'latin1')) },
    };
    const outcome = await c.submit(long, freely());
    expect(outcome).toMatchObject({ kind: 'accepted' });
    expect(s.received).toHaveLength(2);
    expect(s.received.map((m) => m.part?.form)).toEqual(['sar', 'sar']);
    expect(s.received.map((m) => m.text).join('')).toBe(text);
    expect(outcome.kind === 'accepted' && outcome.otherRemoteIds).toHaveLength(1);
  });

  it('a 3-part message whose second part fails once: the accepted part is not sent again, the resend keeps the reference, every part correlates', async () => {
    let failedOnce = false;
    const s = await sink({
      decide: (m) => {
        if (m.part?.sequence === 2 && !failedOnce) {
          failedOnce = true;
          return 0x58; // ESME_RTHROTTLED: temporary
        }
        return undefined;
      },
    });
    await pipeline([connector('parts', s.port, { long: 'udh8' })], [{ prefix: '', connectors: ['parts'] }]);
    const text = 'z'.repeat(400);
    const long = makeSms({ destKey: '4433', dest: { ton: 1, npi: 1, addr: '4433' } });
    long.payload = {
      dataCoding: 0,
      esmClass: 0,
      shortMessage: new Binary(Buffer.alloc(0)),
      tlvs: { messagePayload: new Binary(Buffer.from(text, 'latin1')) },
    };
    await insertSms(handle.db, [long]);
    await until(async () => (await sms().countDocuments({ state: 'submitted' })) === 1, 10_000, 'submitted');
    const sequences = s.received.map((m) => m.part?.sequence);
    // 1 accepted, 2 refused, then 2 and 3: part 1 never twice.
    expect(sequences).toEqual([1, 2, 2, 3]);
    expect(new Set(s.received.map((m) => m.part?.reference)).size).toBe(1);
    const accepted = s.received.filter((m) => m.status === 0).map((m) => m.messageId);
    const doc = await sms().findOne({ _id: long._id });
    expect([doc?.remote?.messageId, ...(doc?.remote?.otherIds ?? [])]).toEqual(accepted);
    expect(doc).toMatchObject({ attempts: 2 });
    expect(doc?.progress).toBeUndefined();
    const correlations = await handle.db.collection(Collections.correlations).find({ smsId: long._id }).toArray();
    expect(correlations.map((c) => c.remoteId).sort()).toEqual([...accepted].sort());
  });
});
