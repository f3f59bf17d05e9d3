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

// Real processes (inserter, deliverer, `smsc requeue`), real sockets; the check reads what the ESME received.

const t = useTestDb('requeue_receipt_e2e');
const repoRoot = path.resolve(import.meta.dirname, '../../..');
let sink: Sink;
let inserter: InserterChild;
let deliverer: ReadyProcess;
let session: SmppSession | undefined;

beforeAll(async () => {
  await ensureSchema(t.db);
  await new AccountStore(t.db).add({ systemId: 'esme1', password: 'pw' });
  sink = await startSink({ port: 0, receipts: { enabled: true, delayMs: 0 }, rules: [{ prefix: '4478', stat: 'UNDELIV' }] });
  await routeAllTo(t.db, sink.port);
  [inserter, deliverer] = await Promise.all([spawnInserter(t.uri, t.dbName), startDeliverer(t.uri, t.dbName)]);
}, 60_000);

afterAll(async () => {
  await session?.close().catch(() => undefined);
  await Promise.all([inserter?.stop(), deliverer?.stop()]);
  await sink?.close();
});

describe('requeue after UNDELIV', () => {
  it('the ESME that heard UNDELIV hears DELIVRD once the requeued message is delivered, exactly once', async () => {
    const received: ShortMessage[] = [];
    session = await connectSmpp({ host: '127.0.0.1', port: inserter.port });
    session.on('error', () => {});
    session.handle('deliverSm', (msg) => {
      received.push(msg);
    });
    await session.bind('transceiver', { systemId: 'esme1', password: 'pw' });
    const { messageId } = await session.submitSm({
      source: { ton: 1, npi: 1, addr: '4930123456' },
      dest: { ton: 1, npi: 1, addr: '447800000001' },
      registeredDelivery: 1,
      shortMessage: Buffer.from('try again'),
    });
    const receiptsFor = () =>
      received
        .filter((m) => String(m.tlvs.receiptedMessageId) === messageId)
        .map((m) => ({ tlvState: m.tlvs.messageState, ...parseReceipt(m.shortMessage.toString('latin1')) }));
    await until(() => receiptsFor().length >= 1, 20_000, 'the UNDELIV receipt');
    expect(receiptsFor()).toMatchObject([{ stat: 'UNDELIV', tlvState: MessageState.UNDELIVERABLE }]);

    // The operator fixes the cause downstream and requeues the message.
    sink.configure({ rules: [] });
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(repoRoot, 'bin/smsc.mjs'), 'requeue', messageId, '--mongodb-uri', t.uri, '--db', t.dbName],
      {
        cwd: repoRoot,
        // A CLI start (tsx) on a loaded 2-core machine can take a while.
        timeout: 90_000,
      },
    );
    expect(stdout).toContain('Requeued 1 message(s).');

    await until(() => receiptsFor().length >= 2, 20_000, 'the DELIVRD receipt');
    // Time for a duplicate to show up, if there were one.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiptsFor()).toMatchObject([
      { stat: 'UNDELIV', tlvState: MessageState.UNDELIVERABLE, id: messageId },
      { stat: 'DELIVRD', tlvState: MessageState.DELIVERED, id: messageId, dlvrd: 1, err: '000' },
    ]);
    expect(receiptsFor()).toHaveLength(2);
    const stored = await t.db.collection(Collections.sms).findOne({ messageId });
    expect(stored).toMatchObject({ state: 'delivered', requeues: 1 });
    expect(stored?.history.map((h: { outcome: string }) => h.outcome)).toContain('requeued');
  }, 150_000);
});
