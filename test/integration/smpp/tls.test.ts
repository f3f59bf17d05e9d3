import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { systemClock, type SmsDocument } from '../../../src/domain/index.ts';
import { ConnectorPool, ConnectorSender, validateConnector, OutboundConnector } from '../../../src/connectors/index.ts';
import { resolveDeliveryOptions, DeliveryWorker } from '../../../src/delivery/index.ts';
import { Inserter } from '../../../src/inserter/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { Router } from '../../../src/routing/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { connectSmpp, type SmppClientTls, type SmppSession } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema, GroupCommitWriter } from '../../../src/store/index.ts';
import { createRateLimiter } from '../../../src/throttle/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { makeTestCertificates, type TestCertificates } from '../../support/tls-certificates.ts';
import { CHEAP_SCRYPT } from '../inserter/harness.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

// One metric set for the components this file builds (fresh per file: counts never mix with another's).
const metrics = createMetrics();

const t = useTestDb('smpp_tls');
let certs: TestCertificates;
const closers: (() => Promise<unknown>)[] = [];

async function bindOver(
  port: number,
  tls: SmppClientTls | undefined,
  credentials = { systemId: 'acme', password: 'pw' },
): Promise<SmppSession> {
  const session = await connectSmpp({ host: '127.0.0.1', port, tls, connectTimeoutMs: 5000, responseTimeoutMs: 5000 });
  session.on('error', () => {});
  closers.push(() => session.close());
  await session.bind('transceiver', credentials);
  return session;
}

beforeAll(async () => {
  certs = makeTestCertificates();
  await ensureSchema(t.db);
});

afterAll(async () => {
  for (const close of closers.reverse()) await close().catch(() => undefined);
  certs?.remove();
});

describe('SMPP over TLS', () => {
  let sink: Sink;
  let strictSink: Sink;

  beforeAll(async () => {
    sink = await startSink({ port: 0, tls: { cert: certs.serverCert, key: certs.serverKey } });
    strictSink = await startSink({ port: 0, tls: { cert: certs.serverCert, key: certs.serverKey, clientCa: certs.ca } });
    closers.push(
      () => sink.close(),
      () => strictSink.close(),
    );
  });

  it('a client that trusts the CA binds and submits; one that does not is refused at the handshake', async () => {
    const session = await bindOver(sink.port, { ca: certs.ca });
    await expect(
      session.submitSm({ dest: { ton: 1, npi: 1, addr: '447700900123' }, shortMessage: Buffer.from('over tls') }),
    ).resolves.toMatchObject({ messageId: expect.any(String) });
    expect(sink.received.at(-1)?.text).toBe('over tls');
    await expect(connectSmpp({ host: '127.0.0.1', port: sink.port, tls: { ca: certs.rogueCa }, connectTimeoutMs: 5000 })).rejects.toThrow(
      /self[- ]signed|unable to verify|certificate/i,
    );
    // Without verification (--tls-insecure) the same client gets through.
    await bindOver(sink.port, { ca: certs.rogueCa, rejectUnauthorized: false });
  });

  it('a server that demands a client certificate refuses a client without one', async () => {
    await expect(bindOver(strictSink.port, { ca: certs.ca })).rejects.toThrow();
    const session = await bindOver(strictSink.port, { ca: certs.ca, cert: certs.clientCert, key: certs.clientKey });
    expect(session.state).toBe('open');
  });

  it('a connector stored with --tls, --tls-ca and a client certificate binds and delivers', async () => {
    const config = validateConnector({
      name: 'tls-op',
      host: '127.0.0.1',
      port: strictSink.port,
      systemId: 'smsc',
      password: 'pw',
      tls: true,
      tlsCa: certs.ca,
      tlsCert: certs.clientCert,
      tlsKey: certs.clientKey,
    });
    await t.db.collection(Collections.connectors).insertOne({ ...config });
    await t.db.collection(Collections.routes).insertOne({ prefix: '', connectors: ['tls-op'], priority: 0, weight: 1, enabled: true });
    const pool = new ConnectorPool(t.db, { clock: systemClock, logger: silentLogger, metrics, backoffScale: 0.01, refreshMs: 200 });
    await pool.start();
    closers.push(() => pool.close());
    await until(() => pool.get('tls-op')?.bound === true, 10_000, 'TLS connector bound');
    const worker = new DeliveryWorker({
      db: t.db,
      clock: systemClock,
      logger: silentLogger,
      metrics,
      sender: new ConnectorSender(pool, new Router(t.db, silentLogger, { refreshMs: 200 }), { metrics }),
      delivery: resolveDeliveryOptions({ leaseMs: 5000, backoffBaseMs: 200, backoffMaxMs: 400 }),
      worker: { lanes: 2, sweepMs: 200, busyRetryMs: 50, tailEvents: false },
    });
    worker.start();
    closers.push(() => worker.close());
    const m = makeSms({ dest: { ton: 1, npi: 1, addr: '447700900777' }, destKey: '447700900777', text: 'via tls connector' });
    await insertSms(t.db, [m]);
    await until(
      async () => (await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: m._id }))?.state === 'submitted',
      15_000,
      'submitted',
    );
    expect(strictSink.received.some((r) => r.text === 'via tls connector')).toBe(true);
  });

  it('a connector whose CA does not sign the downstream certificate never binds', async () => {
    const connector = new OutboundConnector(
      validateConnector({
        name: 'bad-ca',
        host: '127.0.0.1',
        port: sink.port,
        systemId: 'smsc',
        password: 'pw',
        tls: true,
        tlsCa: certs.rogueCa,
      }),
      {
        clock: systemClock,
        logger: silentLogger,
        metrics,
        backoffScale: 0.002,
      },
    );
    closers.push(() => connector.close());
    const bindsBefore = sink.counters.binds;
    connector.start();
    await until(() => connector.attempts.length >= 3, 10_000, 'three attempts');
    expect(connector.bound).toBe(false);
    expect(sink.counters.binds).toBe(bindsBefore);
  });
});

describe('the inserter on a TLS port', () => {
  let plainPort = 0;
  let tlsPort = 0;

  beforeAll(async () => {
    const accounts = new AccountStore(t.db, { scryptCost: CHEAP_SCRYPT });
    await accounts.add({ systemId: 'acme', password: 'pw' });
    const writer = new GroupCommitWriter(t.db, { writeConcern: { w: 1 } });
    const limiter = createRateLimiter({ keyPrefix: 'test:tls', logger: silentLogger });
    const inserter = new Inserter(
      { db: t.db, accounts, writer, rateLimiter: limiter, logger: silentLogger, metrics },
      { host: '127.0.0.1', port: 0, tls: { port: 0, cert: certs.serverCert, key: certs.serverKey } },
    );
    const started = await inserter.start();
    plainPort = started.port;
    tlsPort = started.tlsPort!;
    closers.push(async () => {
      await inserter.shutdown(2000);
      await writer.close();
      await limiter.close();
    });
  });

  it('an ESME binds over TLS and its message is stored; the plain port works beside it', async () => {
    expect(tlsPort).toBeGreaterThan(0);
    expect(tlsPort).not.toBe(plainPort);
    const secure = await bindOver(tlsPort, { ca: certs.ca, servername: 'localhost' });
    const { messageId } = await secure.submitSm({
      source: { ton: 1, npi: 1, addr: '447700900001' },
      dest: { ton: 1, npi: 1, addr: '447700900002' },
      shortMessage: Buffer.from('secret'),
    });
    expect(await t.db.collection(Collections.sms).countDocuments({ messageId })).toBe(1);
    const plain = await bindOver(plainPort, undefined);
    await expect(
      plain.submitSm({
        source: { ton: 1, npi: 1, addr: '447700900001' },
        dest: { ton: 1, npi: 1, addr: '447700900003' },
        shortMessage: Buffer.from('plain'),
      }),
    ).resolves.toBeDefined();
  });

  it('a plain SMPP client on the TLS port gets no session (closed, not hung)', async () => {
    const started = Date.now();
    await expect(bindOver(tlsPort, undefined)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(12_000);
  });
});
