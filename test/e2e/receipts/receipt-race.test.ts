import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { ORPHAN_RECEIPTS } from '../../../src/receipts/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { connectSmpp, type ShortMessage, type SmppSession } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { routeAllTo, startDeliverer } from '../delivery/harness.ts';
import { until } from '../../support/until.ts';
import { spawnInserter, type InserterChild } from '../inserter/spawn-inserter.ts';

// A downstream that answers submit_sm up to a second late and sends each receipt at once, before
// its submit_sm_resp (as some operators do): every receipt overtakes its correlation and the
// batch's state write. Real inserter and deliverer processes; the checks read what the ESME got.

const MESSAGES = Number(process.env.SMSC_E2E_RECEIPT_RACE ?? 1000);
const t = useTestDb('receipts_race');
let sink: Sink;
let inserter: InserterChild;
const deliverers: ReadyProcess[] = [];
let esme: SmppSession;

beforeAll(async () => {
  await ensureSchema(t.db);
  await new AccountStore(t.db).add({ systemId: 'race', password: 'pw' });
  sink = await startSink({ port: 0, latencyMs: { min: 0, max: 1000 }, receipts: { enabled: true, beforeResponse: true } });
  await routeAllTo(t.db, sink.port, { window: 100 });
  inserter = await spawnInserter(t.uri, t.dbName);
  deliverers.push(
    ...(await Promise.all([startDeliverer(t.uri, t.dbName, ['--lanes', '16']), startDeliverer(t.uri, t.dbName, ['--lanes', '16'])])),
  );
}, 90_000);

afterAll(async () => {
  await esme?.close().catch(() => undefined);
  await Promise.all([inserter?.stop(), ...deliverers.map((d) => d.stop())]);
  await sink?.close();
});

describe('receipts that overtake their submit_sm_resp', () => {
  it(`${MESSAGES} messages: one final receipt each at the ESME, none left submitted, no receipt left waiting`, async () => {
    const received: ShortMessage[] = [];
    esme = await connectSmpp({ host: '127.0.0.1', port: inserter.port, windowSize: 50, responseTimeoutMs: 60_000 });
    esme.on('error', () => {});
    esme.handle('deliverSm', (msg) => {
      received.push(msg);
    });
    await esme.bind('transceiver', { systemId: 'race', password: 'pw' });
    const ids = await Promise.all(
      Array.from({ length: MESSAGES }, (_, i) =>
        esme
          .submitSm({
            source: { ton: 1, npi: 1, addr: '4930123456' },
            dest: { ton: 1, npi: 1, addr: `4917${String(i % 200).padStart(7, '0')}` },
            registeredDelivery: 1,
            shortMessage: Buffer.from(`race ${i}`),
          })
          .then((r) => r.messageId),
      ),
    );
    await until(() => received.length >= MESSAGES, 150_000, `${MESSAGES} receipts`);
    // Anything more would be a second receipt for some message: give it a moment to show.
    await until(async () => (await t.db.collection(Collections.sms).countDocuments({ receiptDue: true })) === 0, 20_000, 'outbox empty');
    const byId = new Map<string, number>();
    for (const msg of received) byId.set(String(msg.tlvs.receiptedMessageId), (byId.get(String(msg.tlvs.receiptedMessageId)) ?? 0) + 1);
    expect(received).toHaveLength(MESSAGES);
    expect(new Set(ids).size).toBe(MESSAGES);
    expect(ids.every((id) => byId.get(id) === 1)).toBe(true);
    expect(received.every((msg) => msg.tlvs.messageState === 2)).toBe(true);
    expect(await t.db.collection(Collections.sms).countDocuments({ direction: 'mt', state: { $ne: 'delivered' } })).toBe(0);
    expect(await t.db.collection(ORPHAN_RECEIPTS).countDocuments()).toBe(0);
  }, 240_000);
});
