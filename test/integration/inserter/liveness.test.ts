import net from 'node:net';
import smpp from 'smpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';
import { until } from '../../support/until.ts';

const t = useTestDb('inserter_liveness');
let run: RunningInserter;

beforeAll(async () => {
  run = await startInserter(t.db, {
    accounts: [{ systemId: 'live', password: 'pw' }],
    inserter: { enquireLinkIntervalMs: 150, inactivityTimeoutMs: 600 },
  });
});

afterAll(async () => {
  await run.stop();
});

describe('session liveness', () => {
  it('sends enquire_link to an idle ESME and keeps a responsive one bound', async () => {
    const esme = await TestEsme.bound(run.port, 'live', 'pw');
    await until(() => esme.received.some((p) => p.command === 'enquire_link'), 10_000, 'an enquire_link from the inserter');
    expect(esme.received.filter((p) => p.command === 'enquire_link').length).toBeGreaterThanOrEqual(1);
    expect(esme.closed).toBe(false);
    expect((await esme.submit({})).command_status).toBe(0);
    esme.close();
  });

  it('closes a session that stays silent past the inactivity timeout', async () => {
    const socket = net.connect(run.port, '127.0.0.1');
    await new Promise((r) => socket.once('connect', r));
    socket.write(new smpp.PDU('bind_transmitter', { system_id: 'live', password: 'pw', sequence_number: 1 }).toBuffer());
    socket.on('data', () => {}); // reads, never answers enquire_link
    const started = Date.now();
    await new Promise((r) => socket.once('close', r));
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(500);
    expect(elapsed).toBeLessThan(3_000);
  });
});

describe('bind timeout', () => {
  it('closes a connection that does not bind in time', async () => {
    const quick = await startInserter(t.db, { inserter: { bindTimeoutMs: 200, inactivityTimeoutMs: 0, enquireLinkIntervalMs: 0 } });
    try {
      const esme = await TestEsme.connect(quick.port);
      expect((await esme.request('enquire_link')).command_status).toBe(0); // talking is not binding
      const started = Date.now();
      await esme.waitClosed(3_000);
      expect(Date.now() - started).toBeLessThan(2_000);
    } finally {
      await quick.stop();
    }
  });
});
