import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountStore } from '../../../src/accounts/index.ts';
import { MessageState, parseReceipt } from '../../../src/codec/index.ts';
import { startSink, type Sink } from '../../../src/sink/index.ts';
import { connectSmpp, type ShortMessage, type SmppSession } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import type { ReadyProcess } from '../../support/spawn-ready.ts';
import { routeAllTo, startDeliverer } from '../delivery/harness.ts';
import { until } from '../../support/until.ts';
import { spawnInserter, type InserterChild } from '../inserter/spawn-inserter.ts';

// Real processes (inserter, deliverer), real sockets (the downstream simulator runs in this
// process so the test can make it send MO). Every check reads what the ESME received.

const t = useTestDb('receipts_e2e');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
let sink: Sink;
let inserter: InserterChild;
let deliverer: ReadyProcess;
const sessions: SmppSession[] = [];

beforeAll(async () => {
  await ensureSchema(t.db);
  const accounts = new AccountStore(t.db);
  for (const systemId of ['esme1', 'esme2', 'esme3', 'cli', 'moapp']) await accounts.add({ systemId, password: 'pw' });
  sink = await startSink({
    port: 0,
    receipts: { enabled: true, delayMs: 0 },
    rules: [
      { prefix: '4478', stat: 'UNDELIV' },
      { prefix: '4466', status: 'throttled' },
    ],
  });
  await routeAllTo(t.db, sink.port);
  await t.db
    .collection(Collections.routes)
    .insertOne({ prefix: '555', connectors: [], esme: 'moapp', priority: 0, weight: 1, enabled: true });
  [inserter, deliverer] = await Promise.all([spawnInserter(t.uri, t.dbName), startDeliverer(t.uri, t.dbName)]);
}, 60_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.close().catch(() => undefined)));
  await Promise.all([inserter?.stop(), deliverer?.stop()]);
  await sink?.close();
});

interface Esme {
  session: SmppSession;
  received: ShortMessage[];
}

async function esme(
  systemId: string,
  mode: 'transceiver' | 'receiver' | 'transmitter' = 'transceiver',
  received: ShortMessage[] = [],
): Promise<Esme> {
  const session = await connectSmpp({ host: '127.0.0.1', port: inserter.port });
  session.on('error', () => {});
  session.handle('deliverSm', (msg) => {
    received.push(msg);
  });
  sessions.push(session);
  await session.bind(mode, { systemId, password: 'pw' });
  return { session, received };
}

function submit(e: Esme, to: string, text: string, extra: Record<string, unknown> = {}): Promise<string> {
  return e.session
    .submitSm({
      source: { ton: 1, npi: 1, addr: '4930123456' },
      dest: { ton: 1, npi: 1, addr: to },
      registeredDelivery: 1,
      shortMessage: Buffer.from(text),
      ...extra,
    })
    .then((r) => r.messageId);
}

/** What one receipt deliver_sm says, read from its TLVs and its text. */
function readReceipt(msg: ShortMessage) {
  const text = msg.shortMessage.toString('latin1');
  const nec = msg.tlvs.networkErrorCode;
  return {
    esmClass: msg.esmClass,
    tlvId: msg.tlvs.receiptedMessageId,
    tlvState: msg.tlvs.messageState,
    networkErrorCode: Buffer.isBuffer(nec) ? nec.readUInt16BE(1) : null,
    ...parseReceipt(text),
  };
}

const receiptsFor = (e: Esme, ids: string[]) => e.received.filter((m) => ids.includes(String(m.tlvs.receiptedMessageId)));

describe('receipts end to end', () => {
  it('one receipt per message, DELIVRD or UNDELIV as the downstream said, with id, stat and TLVs', async () => {
    const e = await esme('esme1');
    const delivered = await Promise.all(['491701000001', '491701000002', '491701000003'].map((to, i) => submit(e, to, `hello ${i}`)));
    const failed = await Promise.all(['447800000001', '447800000002'].map((to, i) => submit(e, to, `fail ${i}`)));
    await until(() => receiptsFor(e, [...delivered, ...failed]).length >= 5, 20_000, 'five receipts');
    await new Promise((r) => setTimeout(r, 1000));
    const all = receiptsFor(e, [...delivered, ...failed]).map(readReceipt);
    expect(all).toHaveLength(5);
    for (const r of all) {
      expect(r.esmClass).toBe(0x04);
      expect(r.id).toBe(r.tlvId);
      expect(r.sub).toBe(1);
      expect(r.submitDate?.date).toBeInstanceOf(Date);
      expect(r.doneDate?.date).toBeInstanceOf(Date);
      if (delivered.includes(String(r.tlvId))) {
        expect(r).toMatchObject({ stat: 'DELIVRD', tlvState: MessageState.DELIVERED, dlvrd: 1, err: '000', networkErrorCode: 0 });
        expect(r.text).toMatch(/^hello \d$/);
      } else {
        // The sink reports network error 1 on failures; it is passed on.
        expect(r).toMatchObject({ stat: 'UNDELIV', tlvState: MessageState.UNDELIVERABLE, dlvrd: 0, err: '001', networkErrorCode: 1 });
      }
    }
    expect(new Set(all.map((r) => r.tlvId)).size).toBe(5);
    // Receipts from the sink go out right after submit_sm_resp, usually before our correlation write: none was lost.
    expect(await t.db.collection('orphanReceipts').countDocuments()).toBe(0);
  }, 40_000);

  it('expiry gives EXPIRED; cancel_sm gives DELETED', async () => {
    // Each test binds its own account: a receipt goes to any receiving bind of its system_id.
    const e = await esme('esme3');
    // The downstream keeps throttling this one until its 3 s validity runs out.
    const expiring = await submit(e, '446600000001', 'too late', { validityPeriod: '000000000003000R' });
    // Scheduled a minute ahead, then cancelled while queued.
    const scheduled = await submit(e, '491702000001', 'never', { scheduleDeliveryTime: '000000000100000R' });
    await e.session.request('cancel_sm', {
      service_type: '',
      message_id: scheduled,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '4930123456',
      dest_addr_ton: 1,
      dest_addr_npi: 1,
      destination_addr: '491702000001',
    });
    await until(() => receiptsFor(e, [expiring, scheduled]).length >= 2, 20_000, 'EXPIRED and DELETED receipts').catch(async (error) => {
      console.log(
        JSON.stringify(
          await t.db
            .collection(Collections.sms)
            .find({ $or: [{ messageId: { $in: [expiring, scheduled] } }, { 'receipt.messageId': { $in: [expiring, scheduled] } }] })
            .toArray(),
          null,
          1,
        ),
      );
      throw error;
    });
    const byId = new Map(receiptsFor(e, [expiring, scheduled]).map((m) => [String(m.tlvs.receiptedMessageId), readReceipt(m)]));
    expect(byId.get(expiring)).toMatchObject({ stat: 'EXPIRED', tlvState: MessageState.EXPIRED });
    expect(byId.get(scheduled)).toMatchObject({ stat: 'DELETED', tlvState: MessageState.DELETED, text: 'never' });
  }, 40_000);

  it('receipts wait while the ESME has no receiving bind and arrive once it binds', async () => {
    const tx = await esme('esme2', 'transmitter');
    const ids = await Promise.all(['491703000001', '491703000002'].map((to) => submit(tx, to, 'later')));
    await until(
      async () => (await t.db.collection(Collections.sms).countDocuments({ direction: 'receipt', 'target.systemId': 'esme2' })) >= 2,
      20_000,
      'receipts stored',
    );
    await tx.session.close();
    const rx = await esme('esme2', 'receiver');
    await until(() => receiptsFor(rx, ids).length >= 2, 15_000, 'queued receipts after bind');
    expect(receiptsFor(rx, ids).map((m) => readReceipt(m).stat)).toEqual(['DELIVRD', 'DELIVRD']);
  }, 40_000);

  it('MO from the downstream reaches the ESME its route names', async () => {
    const app = await esme('moapp', 'receiver');
    await sink.sendMo({ from: '491704000001', to: '5550', text: 'JOIN news' });
    await until(() => app.received.length >= 1, 15_000, 'MO at the ESME');
    expect(app.received[0]).toMatchObject({ esmClass: 0, source: { addr: '491704000001' }, dest: { addr: '5550' } });
    expect(app.received[0].shortMessage.toString('latin1')).toBe('JOIN news');
  }, 30_000);

  it('`smsc submit --dlr` prints the receipt', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        path.join(repoRoot, 'bin/smsc.mjs'),
        'submit',
        '--host',
        '127.0.0.1',
        '--port',
        String(inserter.port),
        '--system-id',
        'cli',
        '--password',
        'pw',
        '--from',
        '12345',
        '--to',
        '491705000001',
        '--text',
        'Hi',
        '--dlr',
      ],
      { cwd: repoRoot, timeout: 30_000 },
    );
    expect(stdout).toMatch(/Receipt for [0-9a-f]{24}: DELIVRD/);
    expect(stdout).toMatch(/stat:DELIVRD err:000 text:Hi/);
  }, 40_000);
});
