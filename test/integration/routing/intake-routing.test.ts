import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { systemClock, SmsDirection, type SmsDocument } from '../../../src/domain/index.ts';
import { decodeText, parseReceipt } from '../../../src/codec/index.ts';
import { EsmeDeliveryService } from '../../../src/esme-delivery/index.ts';
import { Inserter } from '../../../src/inserter/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ensureReceiptSchema } from '../../../src/receipts/index.ts';
import { IntakeRouting, addRoute, Router } from '../../../src/routing/index.ts';
import { connectSmpp, type ShortMessage, type SmppSession } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema, GroupCommitWriter } from '../../../src/store/index.ts';
import { createRateLimiter } from '../../../src/throttle/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { CHEAP_SCRYPT } from '../inserter/harness.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// One metric set for the components this file builds (fresh per file: counts never mix with another's).
const metrics = createMetrics();

const t = useTestDb('routing_intake');
const closers: (() => Promise<unknown>)[] = [];
/** ESME sessions of the current test: closed after it, so the next test's receipts and MO reach its own. */
const sessions: SmppSession[] = [];
let port = 0;

/** An ESME bound as transceiver that keeps every deliver_sm it gets (receipts and MO). */
async function esme(systemId: string): Promise<{ session: SmppSession; received: ShortMessage[] }> {
  const received: ShortMessage[] = [];
  const session = await connectSmpp({ host: '127.0.0.1', port });
  session.on('error', () => {});
  session.handle('deliverSm', (msg) => {
    received.push(msg);
  });
  await session.bind('transceiver', { systemId, password: 'pw' });
  sessions.push(session);
  return { session, received };
}

const sms = () => t.db.collection<SmsDocument & { receiptDue?: boolean }>(Collections.sms);

beforeAll(async () => {
  await ensureSchema(t.db);
  await ensureReceiptSchema(t.db);
  const accounts = new AccountStore(t.db, { scryptCost: CHEAP_SCRYPT });
  for (const systemId of ['acme', 'other']) await accounts.add({ systemId, password: 'pw' });
  await t.db.collection(Collections.connectors).insertOne({
    name: 'op1',
    host: '127.0.0.1',
    port: 1,
    systemId: 'x',
    password: 'x',
    bind: 'transceiver',
    tps: 0,
    window: 10,
    long: 'udh8',
    enabled: true,
  });
  const now = new Date();
  await addRoute(t.db, { prefix: '44', connectors: ['op1'] }, now);
  await addRoute(t.db, { prefix: '4490', action: 'drop' }, now);
  // acme's traffic to 4491 is dropped; everyone else's is delivered.
  await addRoute(t.db, { prefix: '4491', connectors: ['op1'] }, now);
  await addRoute(t.db, { prefix: '4491', account: 'acme', action: 'drop' }, now);
  await addRoute(
    t.db,
    { prefix: '4412345', action: 'auto-reply', replyText: 'This number is no longer in service. Call 0800 123 instead — thank you!' },
    now,
  );

  const service = new EsmeDeliveryService(
    { db: t.db, clock: systemClock, logger: silentLogger, metrics, owner: 'routing-test' },
    { sweepMs: 200, emitter: { pollMs: 50 }, delivery: { leaseMs: 5000, backoffBaseMs: 200, backoffMaxMs: 1000 }, routesRefreshMs: 100 },
  );
  await service.start();
  const routing = new IntakeRouting(new Router(t.db, silentLogger, { refreshMs: 100 }), systemClock, silentLogger, metrics);
  await routing.start();
  const writer = new GroupCommitWriter(t.db, { writeConcern: { w: 1 } });
  const limiter = createRateLimiter({ keyPrefix: 'test:routing', logger: silentLogger });
  const inserter = new Inserter(
    {
      db: t.db,
      accounts: new AccountStore(t.db, { scryptCost: CHEAP_SCRYPT }),
      writer,
      rateLimiter: limiter,
      logger: silentLogger,
      metrics,
      esmeSessions: service,
      routing,
    },
    { host: '127.0.0.1', port: 0 },
  );
  port = (await inserter.start()).port;
  closers.push(async () => {
    await inserter.shutdown(2000);
    await service.close(1000);
    await writer.close();
    await limiter.close();
  });
});

afterEach(async () => {
  await Promise.all(sessions.splice(0).map((s) => s.close().catch(() => undefined)));
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
});

/** smsc_route_decisions_total{stage="intake", action} as this file's metrics report it now. */
async function intakeDecisions(action: string): Promise<number> {
  const metric = await metrics.routeDecisionsTotal.get();
  return metric.values.find((v) => v.labels.stage === 'intake' && v.labels.action === action)?.value ?? 0;
}

describe('routes that act at intake', () => {
  it('drop: the message ends rejected at once and the ESME gets exactly one REJECTD receipt', async () => {
    const { session, received } = await esme('acme');
    const dropsBefore = await intakeDecisions('drop');
    const { messageId } = await session.submitSm({
      source: { ton: 1, npi: 1, addr: '447700900001' },
      dest: { ton: 1, npi: 1, addr: '449012345678' },
      registeredDelivery: 1,
      shortMessage: Buffer.from('premium'),
    });
    expect(await intakeDecisions('drop')).toBe(dropsBefore + 1);
    await until(() => received.length >= 1, 15_000, 'the receipt');
    const receipt = parseReceipt(received[0].shortMessage.toString('latin1'));
    expect(receipt).toMatchObject({ id: messageId, stat: 'REJECTD' });
    const doc = await sms().findOne({ messageId });
    expect(doc).toMatchObject({ state: 'rejected', routing: { action: 'drop' } });
    expect(doc?.history.at(-1)).toMatchObject({ by: 'routing', outcome: 'dropped' });
    expect(doc?.receiptDue).toBeUndefined();
    // Still one receipt after the outbox has had many more passes.
    await new Promise((r) => setTimeout(r, 800));
    expect(received.filter((m) => m.tlvs.receiptedMessageId === messageId)).toHaveLength(1);
    expect(await sms().countDocuments({ 'receipt.smsId': doc!._id })).toBe(1);
  });

  it('drop applies to the account the route names only', async () => {
    const { session: acme } = await esme('acme');
    const { session: other } = await esme('other');
    const dropped = await acme.submitSm({
      source: { addr: '12345' },
      dest: { ton: 1, npi: 1, addr: '449112345678' },
      shortMessage: Buffer.from('x'),
    });
    const kept = await other.submitSm({
      source: { addr: '12345' },
      dest: { ton: 1, npi: 1, addr: '449112345678' },
      shortMessage: Buffer.from('x'),
    });
    expect((await sms().findOne({ messageId: dropped.messageId }))?.state).toBe('rejected');
    expect((await sms().findOne({ messageId: kept.messageId }))?.state).toBe('queued');
  });

  it('auto-reply: the sender gets the text as an MO from the destination, and a DELIVRD receipt', async () => {
    const { session, received } = await esme('acme');
    const { messageId } = await session.submitSm({
      source: { ton: 1, npi: 1, addr: '447700900002' },
      dest: { ton: 1, npi: 1, addr: '4412345' },
      registeredDelivery: 1,
      shortMessage: Buffer.from('hello?'),
    });
    // The reply is longer than one part: two MO parts, then the receipt (in any order).
    await until(() => received.length >= 3, 15_000, 'reply parts and receipt');
    const mo = received.filter((m) => (m.esmClass & 0x3c) === 0);
    const receipts = received.filter((m) => (m.esmClass & 0x3c) === 0x04);
    expect(receipts.map((r) => parseReceipt(r.shortMessage.toString('latin1'))).map((r) => [r.id, r.stat])).toEqual([
      [messageId, 'DELIVRD'],
    ]);
    expect(mo).toHaveLength(2);
    expect(mo[0].source.addr).toBe('4412345');
    expect(mo[0].dest.addr).toBe('447700900002');
    const text = mo.map((m) => decodeText(m.shortMessage.subarray(6), m.dataCoding)).join('');
    expect(text).toBe('This number is no longer in service. Call 0800 123 instead — thank you!');
    const original = await sms().findOne({ messageId });
    expect(original).toMatchObject({ state: 'delivered', routing: { action: 'auto-reply' } });
    const replies = await sms().find({ direction: SmsDirection.mo, 'routing.action': 'auto-reply' }).toArray();
    expect(replies.map((r) => r.state)).toEqual(['delivered', 'delivered']);
  });

  it('delivers as usual when no route acts at intake', async () => {
    const { session } = await esme('other');
    const { messageId } = await session.submitSm({
      source: { addr: '12345' },
      dest: { ton: 1, npi: 1, addr: '447700900003' },
      shortMessage: Buffer.from('x'),
    });
    const doc = await sms().findOne({ messageId });
    expect(doc).toMatchObject({ state: 'queued', history: [] });
    expect(doc?.routing).toBeUndefined();
  });
});
