/**
 * Receipts racing what else happens to their message, with a process stalled in the middle:
 * - a waiting receipt is applied by whoever claims it, and stays stored until it is applied: a
 *   process that stalls (or dies) while applying it loses nothing, because the claim runs out and
 *   another process's sweep applies it, once;
 * - a receipt applied while its message was finalised, requeued and submitted anew leaves the new
 *   submission alone.
 */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, SmsState, type SmsDocument, type Clock } from '../../../src/domain/index.ts';
import { MessageState } from '../../../src/codec/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ReceiptEmitter, ReceiptIntake, ensureReceiptSchema, ORPHAN_RECEIPTS } from '../../../src/receipts/index.ts';
import type { ShortMessage } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import type { Db } from 'mongodb';
import { useTestDb } from '../../support/mongo.ts';
import { shortMessage } from '../../support/short-message.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { until } from '../../support/until.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const t = useTestDb('orphan_claims');
const appName = `stalled-receipts-${process.pid}`;
let stalledClient: MongoClient;

beforeAll(async () => {
  await ensureSchema(t.db);
  await ensureReceiptSchema(t.db);
  stalledClient = new MongoClient(t.uri, { appName, serverSelectionTimeoutMS: 10_000, monitorCommands: true });
  await stalledClient.connect();
});

afterAll(async () => {
  await t.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
  await stalledClient?.close(true);
});

function receiptPdu(id: string): ShortMessage {
  return shortMessage({
    dest: { ton: 0, npi: 0, addr: 'ACME' },
    esmClass: 0x04,
    shortMessage: Buffer.from(`id:${id} sub:001 dlvrd:001 submit date:2611220100 done date:2611220101 stat:DELIVRD err:000 text:`),
    tlvs: { receiptedMessageId: id, messageState: MessageState.DELIVERED },
  });
}

const intake = (db: Db, clock: Clock) =>
  new ReceiptIntake({
    db,
    clock,
    logger: silentLogger,
    metrics: createMetrics(),
    by: 'test',
    emitter: new ReceiptEmitter(db, clock, silentLogger, createMetrics()),
  });

describe('claims on waiting receipts', () => {
  it('a process that stalls while applying one: the claim runs out, another applies it, exactly once', async () => {
    const sms = makeSms({ account: 'acme', registeredDelivery: 1, state: SmsState.locked, attempts: 0 });
    await insertSms(t.db, [sms]);
    await t.db
      .collection(Collections.correlations)
      .insertOne({ connector: 'op', remoteId: 'r-stall', smsId: sms._id, createdAt: new Date() });
    const stalled = intake(stalledClient.db(t.dbName), systemClock);
    // The receipt overtook the state write: it waits.
    await stalled.onMessage({ name: 'op' }, receiptPdu('r-stall'));
    expect(await t.db.collection(ORPHAN_RECEIPTS).countDocuments({ ids: 'r-stall' })).toBe(1);
    await t.db.collection(Collections.sms).updateOne(
      { _id: sms._id },
      {
        $set: { state: SmsState.submitted, remote: { connector: 'op', messageId: 'r-stall', submittedAt: new Date() } },
        $unset: { lock: '' },
      },
    );

    // Its write to the message hangs (a paused process, as far as the database can tell).
    await t.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: {
        failCommands: ['findAndModify'],
        appName,
        namespace: `${t.dbName}.${Collections.sms}`,
        blockConnection: true,
        blockTimeMS: 4000,
      },
    });
    const stalledApply = stalled.orphans.matchAccepted([{ connector: 'op', remoteIds: ['r-stall'] }]).catch(() => 0);
    // Taken by the stalled process (claimed, or under the old claim-by-delete, gone) before its write hangs.
    await until(
      async () => {
        const orphan = await t.db.collection(ORPHAN_RECEIPTS).findOne({ ids: 'r-stall' });
        return orphan === null || orphan.claim !== undefined;
      },
      3000,
      'taken by the stalled process',
    );
    expect((await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: sms._id }))?.state).toBe('submitted');

    // Another process, once the claim has run out (its clock past the claim's end), sweeps it up.
    const other = intake(t.db, new ManualClock(Date.now() + 31_000));
    expect(await other.orphans.sweep()).toBe(1);
    const after = await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: sms._id });
    expect(after?.state).toBe('delivered');
    expect(await t.db.collection(ORPHAN_RECEIPTS).countDocuments({ ids: 'r-stall' })).toBe(0);

    // The stalled process wakes up and finishes: a duplicate, nothing changes.
    await stalledApply;
    const receipts = await t.db.collection(Collections.sms).find({ direction: 'receipt', 'receipt.smsId': sms._id }).toArray();
    expect(receipts).toHaveLength(1);
    expect(
      (await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: sms._id }))?.history.filter((h) =>
        h.outcome.startsWith('receipt '),
      ),
    ).toHaveLength(1);
  }, 30_000);

  it('a receipt whose message was submitted anew while it was applied does not finish the new submission', async () => {
    const firstSubmission = new Date(Date.now() - 60_000);
    const sms = makeSms({
      account: 'acme',
      registeredDelivery: 1,
      state: SmsState.submitted,
      attempts: 1,
      remote: { connector: 'op', messageId: 'r-old', submittedAt: firstSubmission },
    });
    await insertSms(t.db, [sms]);
    await t.db
      .collection(Collections.correlations)
      .insertOne({ connector: 'op', remoteId: 'r-old', smsId: sms._id, createdAt: new Date() });
    await t.client.db('admin').command({
      configureFailPoint: 'failCommand',
      mode: { times: 1 },
      data: {
        failCommands: ['findAndModify'],
        appName,
        namespace: `${t.dbName}.${Collections.sms}`,
        blockConnection: true,
        blockTimeMS: 2000,
      },
    });
    // The stalled process has read the message and sent its final write, which hangs.
    let writing = false;
    const onStarted = (event: { commandName: string }) => {
      if (event.commandName === 'findAndModify') writing = true;
    };
    stalledClient.on('commandStarted', onStarted);
    const applying = intake(stalledClient.db(t.dbName), systemClock).onMessage({ name: 'op' }, receiptPdu('r-old'));
    await until(() => writing, 5000, 'the final write sent');
    stalledClient.off('commandStarted', onStarted);
    // Meanwhile: finalised (cleanup), requeued by an operator, and submitted again by a deliverer.
    const resubmittedAt = new Date();
    await t.db
      .collection(Collections.sms)
      .updateOne(
        { _id: sms._id },
        { $set: { state: SmsState.submitted, attempts: 1, remote: { connector: 'op', messageId: 'r-new', submittedAt: resubmittedAt } } },
      );
    await applying;
    const after = await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: sms._id });
    expect(after?.state).toBe('submitted');
    expect(after?.remote).toMatchObject({ messageId: 'r-new', submittedAt: resubmittedAt });
    expect(after?.history.some((h) => h.outcome.startsWith('receipt '))).toBe(false);
  }, 30_000);
});
