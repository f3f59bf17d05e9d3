import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type SmsDocument } from '../../../src/domain/index.ts';
import { ConnectorPool, ConnectorSender, validateConnector } from '../../../src/connectors/index.ts';
import { resolveDeliveryOptions, DeliveryWorker } from '../../../src/delivery/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ChargingClient, ChargingGate, validateRoute, type RouteDocument, Router } from '../../../src/routing/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// One metric set for the components this file builds (fresh per file: counts never mix with another's).
const metrics = createMetrics();

const t = useTestDb('routing_delivery');
const closers: (() => Promise<unknown>)[] = [];
let sinkA: Sink;
let sinkB: Sink;
/** What the charging stub was asked, in order. */
const chargeRequests: { messageId: string; to: string; account: string; route?: string; connector: string }[] = [];

async function body(request: IncomingMessage): Promise<Record<string, string>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>;
}

/**
 * A charging system: 4470… yes (with a reference), 4471… no, 4472… fails twice (HTTP 500)
 * before it says yes, 4475… yes.
 */
async function startChargingStub(): Promise<Server> {
  const failures = new Map<string, number>();
  const server = createServer((request, response) => {
    void body(request).then((charge) => {
      chargeRequests.push(charge as never);
      const reply = (status: number, payload: unknown) =>
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(payload));
      if (charge.to.startsWith('4471')) return reply(200, { allowed: false, reason: 'insufficient credit' });
      if (charge.to.startsWith('4472')) {
        const seen = failures.get(charge.messageId) ?? 0;
        failures.set(charge.messageId, seen + 1);
        if (seen < 2) return reply(500, { error: 'database busy' });
      }
      return reply(200, { allowed: true, reference: `ch-${chargeRequests.length}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const sms = () => t.db.collection<SmsDocument & { charge?: { result: string; reference?: string } }>(Collections.sms);
const doc = (messageId: string) => sms().findOne({ messageId });

beforeAll(async () => {
  await ensureSchema(t.db);
  sinkA = await startSink({ port: 0 });
  sinkB = await startSink({ port: 0, rules: [{ prefix: '4475', status: 'systemError' }] });
  closers.push(
    () => sinkA.close(),
    () => sinkB.close(),
  );
  const stub = await startChargingStub();
  closers.push(() => new Promise((resolve) => stub.close(resolve)));
  const chargingUrl = `http://127.0.0.1:${(stub.address() as AddressInfo).port}/charge`;

  await t.db
    .collection(Collections.connectors)
    .insertMany([
      { ...validateConnector({ name: 'opA', host: '127.0.0.1', port: sinkA.port, systemId: 'a', password: 'pw' }) },
      { ...validateConnector({ name: 'opB', host: '127.0.0.1', port: sinkB.port, systemId: 'b', password: 'pw' }) },
    ]);
  const routes: Partial<RouteDocument>[] = [
    { prefix: '44', connectors: ['opA'] },
    { prefix: '4470', connectors: ['opB'], charged: true },
    { prefix: '4471', connectors: ['opB'], charged: true },
    { prefix: '4472', connectors: ['opB'], charged: true },
    { prefix: '4475', connectors: ['opB'], charged: true },
    // Same destination, another account: another connector.
    { prefix: '4473', account: 'beta', connectors: ['opB'] },
    // A number the HLR says moved to network 26203 leaves over that network's connector.
    { prefix: '', network: '26203', connectors: ['opB'] },
  ];
  await t.db.collection(Collections.routes).insertMany(routes.map((r) => ({ ...validateRoute(r) })));

  const pool = new ConnectorPool(t.db, { clock: systemClock, logger: silentLogger, metrics, backoffScale: 0.01, refreshMs: 200 });
  await pool.start();
  await until(() => pool.list().every((c) => c.bound), 10_000, 'connectors bound');
  const gate = new ChargingGate(t.db, new ChargingClient({ url: chargingUrl, timeoutMs: 2000 }), systemClock, silentLogger);
  const worker = new DeliveryWorker({
    db: t.db,
    clock: systemClock,
    logger: silentLogger,
    metrics,
    sender: new ConnectorSender(pool, new Router(t.db, silentLogger, { refreshMs: 200 }), { metrics, charging: gate }),
    delivery: resolveDeliveryOptions({ leaseMs: 5000, backoffBaseMs: 200, backoffMaxMs: 400 }),
    worker: { lanes: 4, sweepMs: 200, busyRetryMs: 50, tailEvents: false },
  });
  worker.start();
  closers.push(
    () => worker.close(),
    () => pool.close(),
  );
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

const to = (addr: string) => ({ dest: { ton: 1, npi: 1, addr }, destKey: addr });

describe('routing at delivery', () => {
  it('a charged route asks the charging endpoint first and records the answer in the history', async () => {
    const m = makeSms({ ...to('447000000001'), account: 'alpha' });
    await insertSms(t.db, [m]);
    await until(async () => (await doc(m.messageId))?.state === 'submitted', 15_000, 'submitted');
    const stored = await doc(m.messageId);
    expect(stored?.remote?.connector).toBe('opB');
    expect(stored?.charge).toMatchObject({ result: 'accepted', reference: expect.stringMatching(/^ch-/) });
    expect(stored?.history.map((h) => [h.by === 'charging' ? 'charging' : 'deliverer', h.outcome])).toEqual([
      ['charging', 'charged'],
      ['deliverer', 'submitted'],
    ]);
    const asked = chargeRequests.filter((r) => r.messageId === m.messageId);
    expect(asked).toEqual([
      expect.objectContaining({ to: '447000000001', account: 'alpha', connector: 'opB', route: expect.stringMatching(/^[0-9a-f]{24}$/) }),
    ]);
    expect(sinkB.received.some((r) => r.dest.addr === '447000000001')).toBe(true);
  });

  it('a negative answer refuses the message: undeliverable, the reason in its history, nothing sent', async () => {
    const m = makeSms({ ...to('447100000001'), account: 'alpha' });
    await insertSms(t.db, [m]);
    await until(async () => (await doc(m.messageId))?.state === 'undeliverable', 15_000, 'undeliverable');
    const stored = await doc(m.messageId);
    expect(stored?.error?.message).toBe('charging refused: insufficient credit');
    expect(stored?.history.at(-1)).toMatchObject({ outcome: 'undeliverable', error: 'charging refused: insufficient credit' });
    expect([...sinkA.received, ...sinkB.received].some((r) => r.dest.addr === '447100000001')).toBe(false);
  });

  it('no answer is a temporary failure: asked again on the next attempt, then delivered', async () => {
    const m = makeSms({ ...to('447200000001'), account: 'alpha' });
    await insertSms(t.db, [m]);
    await until(async () => (await doc(m.messageId))?.state === 'submitted', 20_000, 'submitted after retries');
    const stored = await doc(m.messageId);
    expect(stored?.history.filter((h) => h.outcome === 'retry').map((h) => h.error)).toEqual([
      'charging unavailable: HTTP 500',
      'charging unavailable: HTTP 500',
    ]);
    expect(chargeRequests.filter((r) => r.messageId === m.messageId)).toHaveLength(3);
  });

  it('an accepted charge is not asked again when the submit itself is retried', async () => {
    const m = makeSms({ ...to('447500000001'), account: 'alpha' });
    await insertSms(t.db, [m]);
    await until(async () => ((await doc(m.messageId))?.attempts ?? 0) >= 3, 20_000, 'three attempts');
    expect(chargeRequests.filter((r) => r.messageId === m.messageId)).toHaveLength(1);
    expect((await doc(m.messageId))?.history.filter((h) => h.outcome === 'charged')).toHaveLength(1);
  });

  it('routes each message of a batch by its own account', async () => {
    const start = Date.now();
    const alpha = makeSms({ ...to('447300000001'), account: 'alpha', arrivedAt: new Date(start), nextAttemptAt: new Date(start) });
    const beta = makeSms({ ...to('447300000001'), account: 'beta', arrivedAt: new Date(start + 1), nextAttemptAt: new Date(start + 1) });
    await insertSms(t.db, [alpha, beta]);
    await until(async () => (await sms().countDocuments({ destKey: '447300000001', state: 'submitted' })) === 2, 15_000, 'both submitted');
    expect((await doc(alpha.messageId))?.remote?.connector).toBe('opA');
    expect((await doc(beta.messageId))?.remote?.connector).toBe('opB');
  });

  it("a ported number (HLR network on the message) leaves over its network's route, not its prefix's", async () => {
    const ported = makeSms({
      ...to('447400000001'),
      account: 'alpha',
      hlr: { status: 'reachable', network: '26203', at: new Date() },
    } as never);
    const plain = makeSms({ ...to('447400000002'), account: 'alpha' });
    await insertSms(t.db, [ported, plain]);
    await until(
      async () => (await sms().countDocuments({ _id: { $in: [ported._id, plain._id] }, state: 'submitted' })) === 2,
      15_000,
      'both submitted',
    );
    expect((await doc(ported.messageId))?.remote?.connector).toBe('opB');
    expect((await doc(plain.messageId))?.remote?.connector).toBe('opA');
  });
});
