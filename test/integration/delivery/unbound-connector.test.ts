/**
 * A connector that is not bound (the operator's SMSC is down, or refuses our bind) is our side's
 * outage, not the message's: its messages wait, in order, without using attempts, and go as soon
 * as the connector binds again — instead of climbing the backoff towards the attempt limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type SmsDocument } from '../../../src/domain/index.ts';
import { ConnectorPool, ConnectorSender, validateConnector } from '../../../src/connectors/index.ts';
import { resolveDeliveryOptions, DeliveryWorker } from '../../../src/delivery/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { validateRoute, Router } from '../../../src/routing/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSeries, textOf } from '../../support/sms-factory.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const t = useTestDb('unbound_connector');
const closers: (() => Promise<unknown>)[] = [];
const sms = () => t.db.collection<SmsDocument>(Collections.sms);
let port: number;
let pool: ConnectorPool;

beforeAll(async () => {
  await ensureSchema(t.db);
  // A port nothing listens on (yet): the connector cannot bind.
  const probe = await startSink({ port: 0 });
  port = probe.port;
  await probe.close();
  await t.db
    .collection(Collections.connectors)
    .insertOne({ ...validateConnector({ name: 'op', host: '127.0.0.1', port, systemId: 'a', password: 'pw' }) });
  await t.db.collection(Collections.routes).insertOne({ ...validateRoute({ prefix: '', connectors: ['op'] }) });
  const metrics = createMetrics();
  pool = new ConnectorPool(t.db, { clock: systemClock, logger: silentLogger, metrics, backoffScale: 0.01, refreshMs: 200 });
  await pool.start();
  const worker = new DeliveryWorker({
    db: t.db,
    clock: systemClock,
    logger: silentLogger,
    metrics,
    sender: new ConnectorSender(pool, new Router(t.db, silentLogger, { refreshMs: 200 }), { metrics }),
    // A counted attempt would put the next one a minute away; the wait for a bind is short.
    delivery: resolveDeliveryOptions({ leaseMs: 5000, backoffBaseMs: 60_000, unboundRetryMs: 300 }),
    worker: { lanes: 4, sweepMs: 200, busyRetryMs: 50, tailEvents: false },
  });
  worker.start();
  closers.push(
    () => worker.close(),
    () => pool.close(),
  );
});

afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

describe('a connector that is not bound', () => {
  it('holds its messages without an attempt, then delivers them in order once it binds', async () => {
    const docs = makeSeries('447700900001', 3, new Date());
    await insertSms(t.db, docs);
    // Tried (and put off) more than once while the connector is down.
    const tries = new Set<number>();
    await until(
      async () => {
        const head = await sms().findOne({ _id: docs[0]._id });
        if (head?.error?.message === 'no bound connector among op') tries.add(head.nextAttemptAt.getTime());
        return tries.size >= 3;
      },
      15_000,
      'the destination put off three times',
    );
    const waiting = await sms().find({ destKey: docs[0].destKey }).sort({ arrivedAt: 1 }).toArray();
    expect(waiting.map((d) => [d.state, d.attempts])).toEqual(docs.map(() => ['queued', 0]));
    expect(waiting.map((d) => d.history.length)).toEqual(docs.map((d) => d.history.length));

    const sink: Sink = await startSink({ port });
    closers.push(() => sink.close());
    await until(() => sink.received.length >= 3, 15_000, 'all three delivered after the bind');
    expect(sink.received.map((m) => m.text)).toEqual(docs.map((d) => textOf(d)));
    const sent = await sms().find({ destKey: docs[0].destKey }).sort({ arrivedAt: 1 }).toArray();
    expect(sent.map((d) => [d.state, d.attempts])).toEqual(docs.map(() => ['submitted', 1]));
  });
});
