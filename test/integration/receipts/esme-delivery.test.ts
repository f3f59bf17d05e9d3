import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, SmsState } from '../../../src/domain/index.ts';
import { decodeText, parseInboundPart, parseReceipt } from '../../../src/codec/index.ts';
import { EsmeDeliveryService } from '../../../src/esme-delivery/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { MoIntake } from '../../../src/mo/index.ts';
import { MoRoutes } from '../../../src/routing/index.ts';
import { ensureReceiptSchema } from '../../../src/receipts/index.ts';
import { connectSmpp, type ShortMessage, createSmppServer, type SmppServer, type SmppSession } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { shortMessage } from '../../support/short-message.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const t = useTestDb('receipts_esme');

interface Node {
  service: EsmeDeliveryService;
  server: SmppServer;
}
const nodes: Node[] = [];
const clients: SmppSession[] = [];

beforeAll(async () => {
  await ensureSchema(t.db);
  await ensureReceiptSchema(t.db);
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  for (const node of nodes) {
    await node.service.close(1000);
    await node.server.close();
  }
});

/** An inserter-like node: an SMPP server whose sessions the ESME delivery service tracks. */
async function startNode(name: string): Promise<Node> {
  const service = new EsmeDeliveryService(
    { db: t.db, clock: systemClock, logger: silentLogger, metrics: createMetrics(), owner: name },
    {
      sweepMs: 200,
      emitter: { pollMs: 50 },
      delivery: { leaseMs: 5000, backoffBaseMs: 200, backoffMaxMs: 1000 },
      routesRefreshMs: 100,
      moRetryMs: 200,
    },
  );
  await service.start();
  const server = await createSmppServer({ port: 0, host: '127.0.0.1' }, (session) => {
    session.handle('bind', () => ({ systemId: 'smsc' }));
    service.attach(session);
  });
  const node = { service, server };
  nodes.push(node);
  return node;
}

async function bindEsme(
  port: number,
  systemId: string,
  received: ShortMessage[],
  answer?: (msg: ShortMessage) => void,
): Promise<SmppSession> {
  const session = await connectSmpp({ host: '127.0.0.1', port });
  session.on('error', () => {});
  session.handle('deliverSm', (msg) => {
    answer?.(msg);
    received.push(msg);
  });
  clients.push(session);
  await session.bind('receiver', { systemId, password: 'x' });
  return session;
}

const text = (msg: ShortMessage) => msg.shortMessage.toString('latin1');

/** Final MT messages of `account`, flagged for the receipt outbox. */
async function finals(account: string, subscribers: string[], perSubscriber: number) {
  const docs = subscribers.flatMap((sub) =>
    Array.from({ length: perSubscriber }, (_, i) =>
      makeSms({
        account,
        registeredDelivery: 1,
        state: SmsState.delivered,
        finalAt: new Date(),
        dest: { ton: 1, npi: 1, addr: sub },
        destKey: sub,
        text: `${sub}#${i}`,
        receiptDue: true,
      } as never),
    ),
  );
  await insertSms(t.db, docs);
  return docs;
}

describe('delivering receipts to bound ESMEs', () => {
  it('receipts wait while the ESME is unbound and arrive, once each and in order, after it binds', async () => {
    const node = await startNode('n1');
    const docs = await finals('waiter', ['4911', '4922'], 3);
    await until(
      async () =>
        (await t.db.collection(Collections.sms).countDocuments({ direction: 'receipt', target: { kind: 'esme', systemId: 'waiter' } })) ===
        6,
      10_000,
      'six receipts stored',
    );
    await new Promise((r) => setTimeout(r, 400));
    expect(
      await t.db.collection(Collections.sms).countDocuments({ direction: 'receipt', 'target.systemId': 'waiter', state: 'queued' }),
    ).toBe(6);
    const received: ShortMessage[] = [];
    await bindEsme(node.server.port, 'waiter', received);
    await until(() => received.length >= 6, 10_000, 'six receipts received');
    await new Promise((r) => setTimeout(r, 300));
    expect(received).toHaveLength(6);
    const ids = received.map((m) => m.tlvs.receiptedMessageId);
    expect(new Set(ids).size).toBe(6);
    expect(new Set(ids)).toEqual(new Set(docs.map((d) => d.messageId)));
    for (const msg of received) {
      expect(msg.esmClass).toBe(0x04);
      expect(msg.tlvs.messageState).toBe(2);
      expect(parseReceipt(text(msg))).toMatchObject({ id: msg.tlvs.receiptedMessageId, stat: 'DELIVRD' });
    }
    for (const sub of ['4911', '4922']) {
      const order = received.filter((m) => m.source.addr === sub).map((m) => parseReceipt(text(m)).text);
      expect(order).toEqual([0, 1, 2].map((i) => `${sub}#${i}`));
    }
    await until(
      async () =>
        (await t.db
          .collection(Collections.sms)
          .countDocuments({ direction: 'receipt', 'target.systemId': 'waiter', state: 'delivered' })) === 6,
      10_000,
      'six receipts delivered',
    );
  });

  it('two inserters holding binds for one system_id share the work without duplicates', async () => {
    const a = await startNode('na');
    const b = await startNode('nb');
    const onA: ShortMessage[] = [];
    const onB: ShortMessage[] = [];
    await bindEsme(a.server.port, 'shared', onA);
    await bindEsme(b.server.port, 'shared', onB);
    const docs = await finals('shared', ['4931', '4932', '4933', '4934', '4935'], 8);
    await until(() => onA.length + onB.length >= docs.length, 20_000, 'every receipt on A or B');
    await new Promise((r) => setTimeout(r, 300));
    const ids = [...onA, ...onB].map((m) => String(m.tlvs.receiptedMessageId));
    expect(ids).toHaveLength(docs.length);
    expect(new Set(ids).size).toBe(docs.length);
    expect(a.service.stats.delivered + b.service.stats.delivered).toBe(docs.length);
  });

  it('an ESME that answers with an error gets the receipt again later', async () => {
    const node = await startNode('n-err');
    let refusals = 1;
    const received: ShortMessage[] = [];
    const session = await connectSmpp({ host: '127.0.0.1', port: node.server.port });
    session.on('error', () => {});
    clients.push(session);
    session.handle('deliverSm', (msg) => {
      if (refusals-- > 0) throw Object.assign(new Error('busy'), {});
      received.push(msg);
    });
    await session.bind('transceiver', { systemId: 'flaky', password: 'x' });
    const [doc] = await finals('flaky', ['4941'], 1);
    await until(() => received.length === 1, 10_000, 'the receipt received');
    await until(
      async () => (await t.db.collection(Collections.sms).findOne({ 'receipt.smsId': doc._id }))?.state === 'delivered',
      10_000,
      'the receipt delivered',
    );
    const receipt = await t.db.collection(Collections.sms).findOne({ 'receipt.smsId': doc._id });
    expect(receipt?.attempts).toBe(2);
  });
});

describe('MO to ESMEs', () => {
  it('is routed by destination prefix and delivered as deliver_sm; a long one keeps its parts together and in order', async () => {
    await t.db
      .collection(Collections.routes)
      .insertOne({ prefix: '777', connectors: [], esme: 'moapp', priority: 0, weight: 1, enabled: true });
    const node = await startNode('n-mo');
    const received: ShortMessage[] = [];
    await bindEsme(node.server.port, 'moapp', received);
    const mo = new MoIntake({
      db: t.db,
      clock: systemClock,
      logger: silentLogger,
      routes: new MoRoutes(t.db, silentLogger, { refreshMs: 0 }),
      writeConcern: { w: 1 },
    });
    const base = shortMessage({
      source: { ton: 1, npi: 1, addr: '491709999999' },
      dest: { ton: 0, npi: 1, addr: '7771' },
      shortMessage: Buffer.from('STOP'),
    });
    await mo.store('sink', base);
    const long = 'A'.repeat(150) + 'B'.repeat(150) + 'C'.repeat(100);
    await mo.store('sink', { ...base, shortMessage: Buffer.alloc(0), tlvs: { messagePayload: Buffer.from(long, 'latin1') } });
    await until(() => received.length >= 4, 10_000, 'four MOs received');
    expect(received[0]).toMatchObject({ source: { addr: '491709999999' }, dest: { addr: '7771' }, esmClass: 0 });
    expect(text(received[0])).toBe('STOP');
    const parts = received
      .slice(1)
      .map((m) => parseInboundPart({ shortMessage: m.shortMessage, esmClass: m.esmClass, messagePayload: null }));
    expect(parts.map((p) => p.sequence)).toEqual([1, 2, 3]);
    expect(parts.map((p) => decodeText(p.payload, 0)).join('')).toBe(long);
    // The delivered state is written right after the ESME's answers.
    await until(
      async () =>
        (await t.db.collection(Collections.sms).countDocuments({ direction: 'mo', 'target.systemId': 'moapp', state: 'delivered' })) === 4,
      10_000,
      'four MOs delivered',
    );
    const stored = await t.db.collection(Collections.sms).find({ direction: 'mo', 'target.systemId': 'moapp' }).toArray();
    expect(new Set(stored.map((d) => d.destKey))).toEqual(new Set(['esme:moapp:+491709999999']));
  });

  it('MO without a route waits unrouted and is routed once a route appears', async () => {
    const node = await startNode('n-late');
    const received: ShortMessage[] = [];
    await bindEsme(node.server.port, 'lateapp', received);
    const mo = new MoIntake({
      db: t.db,
      clock: systemClock,
      logger: silentLogger,
      routes: new MoRoutes(t.db, silentLogger, { refreshMs: 0 }),
      writeConcern: { w: 1 },
    });
    const id = await mo.store(
      'sink',
      shortMessage({
        source: { ton: 1, npi: 1, addr: '491708888888' },
        dest: { ton: 0, npi: 1, addr: '8881' },
        shortMessage: Buffer.from('late'),
      }),
    );
    expect((await t.db.collection(Collections.sms).findOne({ messageId: id }))?.target).toEqual({ kind: 'esme', systemId: '' });
    await t.db
      .collection(Collections.routes)
      .insertOne({ prefix: '888', connectors: [], esme: 'lateapp', priority: 0, weight: 1, enabled: true });
    await until(() => received.length === 1, 15_000, 'one message received');
    expect(text(received[0])).toBe('late');
  });
});
