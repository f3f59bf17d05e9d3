import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type SmsDocument } from '../../../src/domain/index.ts';
import { runRequeue, type RequeueArgs } from '../../../src/cli/index.ts';
import { MessageState } from '../../../src/codec/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ReceiptEmitter, ReceiptFinaliser } from '../../../src/receipts/index.ts';
import { Collections } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { makeSms } from './sms-fixtures.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const t = useTestDb('ops_requeue');
const NOW = new Date(Date.UTC(2026, 2, 1, 10, 0, 0));
const clock = new ManualClock(NOW);
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000);

async function requeue(args: Partial<RequeueArgs>): Promise<string> {
  const out: string[] = [];
  await runRequeue({ mongodbUri: t.uri, db: t.dbName, ...args }, { print: (s) => out.push(s), clock, env: {} });
  return out.join('\n');
}

const sms = () => t.db.collection<SmsDocument>(Collections.sms);

describe('smsc requeue', () => {
  beforeEach(async () => {
    await sms().deleteMany({});
    await t.db.collection(Collections.events).deleteMany({});
  });

  it('sends one undeliverable message back to queued, due now, attempts reset, with a history entry', async () => {
    const doc = makeSms(NOW, {
      state: 'undeliverable',
      attempts: 5,
      finalAt: minutes(-3),
      nextAttemptAt: minutes(-30),
      history: [{ at: minutes(-3), by: 'w1', outcome: 'undeliverable', error: 'no route' }],
    });
    await sms().insertOne(doc);
    expect(await requeue({ messageId: doc.messageId })).toBe('Requeued 1 message(s).');
    const after = await sms().findOne({ _id: doc._id });
    expect(after).toMatchObject({ state: 'queued', attempts: 0, nextAttemptAt: NOW, validUntil: doc.validUntil });
    expect(after?.finalAt).toBeUndefined();
    expect(after?.history.map((h) => h.outcome)).toEqual(['undeliverable', 'requeued']);
    // Deliverers are woken at once instead of at their next sweep.
    expect(await t.db.collection(Collections.events).countDocuments({ due: NOW })).toBe(1);
  });

  it('a queued message keeps the parts the downstream took; a final one is sent whole again', async () => {
    const progress = { connector: 'op', remoteIds: ['r1'] };
    const queued = makeSms(NOW, { state: 'queued', attempts: 2, nextAttemptAt: minutes(30), progress });
    const failed = makeSms(NOW, { state: 'undeliverable', attempts: 3, finalAt: minutes(-1), progress });
    await sms().insertMany([queued, failed]);
    expect(await requeue({ messageId: queued.messageId })).toBe('Requeued 1 message(s).');
    expect(await requeue({ messageId: failed.messageId })).toBe('Requeued 1 message(s).');
    expect(await sms().findOne({ _id: queued._id })).toMatchObject({ state: 'queued', attempts: 0, nextAttemptAt: NOW, progress });
    const again = await sms().findOne({ _id: failed._id });
    expect(again).toMatchObject({ state: 'queued', attempts: 0 });
    expect(again?.progress).toBeUndefined();
  });

  it('never touches a locked message; says so in one sentence', async () => {
    const doc = makeSms(NOW, { state: 'locked', lock: { owner: 'w1', token: 't', at: minutes(-1), leaseUntil: minutes(1) } });
    await sms().insertOne(doc);
    await expect(requeue({ messageId: doc.messageId })).rejects.toThrow(`Message ${doc.messageId} is locked and was not requeued`);
    expect(await sms().findOne({ _id: doc._id })).toMatchObject({ state: 'locked', lock: { token: 't' } });
  });

  it('requeues every requeueable message to one destination and leaves the rest', async () => {
    const dest = { ton: 1, npi: 1, addr: '447700900777' };
    const other = makeSms(NOW, { state: 'undeliverable' });
    const docs = [
      makeSms(NOW, { dest, destKey: dest.addr, state: 'undeliverable' }),
      makeSms(NOW, { dest, destKey: dest.addr, state: 'queued', nextAttemptAt: minutes(50) }),
      makeSms(NOW, { dest, destKey: dest.addr, state: 'submitted' }),
      makeSms(NOW, { dest, destKey: dest.addr, state: 'delivered' }),
      makeSms(NOW, { dest, destKey: dest.addr, state: 'locked', lock: { owner: 'w', token: 'x', at: NOW, leaseUntil: minutes(1) } }),
    ];
    await sms().insertMany([...docs, other]);
    expect(await requeue({ dest: dest.addr, json: true })).toBe(JSON.stringify({ requeued: 2, validityExtended: 0, pendingReceipts: 0 }));
    const states = await sms().find({ destKey: dest.addr }).sort({ _id: 1 }).toArray();
    expect(states.map((d) => d.state)).toEqual(['queued', 'queued', 'submitted', 'delivered', 'locked']);
    expect(states[1].nextAttemptAt).toEqual(NOW);
    expect((await sms().findOne({ _id: other._id }))?.state).toBe('undeliverable');
  });

  it('--dest takes the number in any form the destKey rule maps to its key, and the key as stored', async () => {
    const intl = makeSms(NOW, { dest: { ton: 1, npi: 1, addr: '447700900888' }, destKey: '+447700900888', state: 'undeliverable' });
    const national = makeSms(NOW, { dest: { ton: 2, npi: 1, addr: '07700900999' }, destKey: '+447700900999', state: 'undeliverable' });
    await sms().insertMany([intl, national]);
    expect(await requeue({ dest: '447700900888' })).toBe('Requeued 1 message(s).');
    // The key itself matches too (queued is requeueable: a second requeue pulls it to now again).
    expect(await requeue({ dest: '+447700900888' })).toBe('Requeued 1 message(s).');
    expect((await sms().findOne({ _id: intl._id }))?.requeues).toBe(2);
    // With the deployment's country code, a national form finds the international key.
    const out: string[] = [];
    await runRequeue(
      { mongodbUri: t.uri, db: t.dbName, dest: '07700900999' },
      { print: (line) => out.push(line), clock, env: { ADDRESS_COUNTRY_CODE: '44' } },
    );
    expect(out).toEqual(['Requeued 1 message(s).']);
    expect((await sms().find({}).toArray()).map((d) => d.state)).toEqual(['queued', 'queued']);
  });

  it('requeues by state and extends the validity of expired messages so cleanup does not expire them again', async () => {
    const stillValid = makeSms(NOW, { state: 'expired', validUntil: minutes(5) });
    const pastValidity = makeSms(NOW, { state: 'expired', validUntil: minutes(-5) });
    await sms().insertMany([stillValid, pastValidity, makeSms(NOW, { state: 'undeliverable' })]);
    expect(await requeue({ state: 'expired', extendValidityHours: 2 })).toBe('Requeued 2 message(s) (1 past validity got an extension).');
    expect((await sms().findOne({ _id: stillValid._id }))?.validUntil).toEqual(minutes(5));
    expect((await sms().findOne({ _id: pastValidity._id }))?.validUntil).toEqual(minutes(120));
    expect(await sms().countDocuments({ state: 'undeliverable' })).toBe(1);
  });

  it('refuses states that must not be requeued, and unclear selectors', async () => {
    await expect(requeue({ state: 'locked' })).rejects.toThrow(
      'Messages in state locked cannot be requeued; requeueable states are queued, undeliverable, expired, rejected.',
    );
    await expect(requeue({ state: 'lost' })).rejects.toThrow('Unknown state "lost"');
    await expect(requeue({})).rejects.toThrow('Name exactly one of');
    await expect(requeue({ dest: '1', state: 'expired' })).rejects.toThrow('Name exactly one of');
    await expect(requeue({ messageId: 'nope' })).rejects.toThrow('No message with id nope.');
  });
});

describe('smsc requeue and receipts', () => {
  const receipts = (smsId: unknown) =>
    t.db
      .collection<SmsDocument>(Collections.sms)
      .find({ direction: 'receipt', 'receipt.smsId': smsId })
      .sort({ arrivedAt: 1, _id: 1 })
      .toArray();
  const emitter = () => new ReceiptEmitter(t.db, clock, silentLogger, createMetrics());

  beforeEach(async () => {
    await sms().deleteMany({});
    await t.db.collection(Collections.correlations).deleteMany({});
  });

  it('UNDELIV, requeue, delivered: the ESME gets exactly one DELIVRD receipt besides the UNDELIV one', async () => {
    // Finalised UNDELIV by the downstream's receipt, flagged for the ESME in the same write.
    const doc = makeSms(NOW, { state: 'submitted', attempts: 1, remote: { connector: 'op1', messageId: 'r1', submittedAt: minutes(-2) } });
    await sms().insertOne(doc);
    const finaliser = new ReceiptFinaliser(t.db, clock, { by: 'test' });
    const first = await finaliser.applyTo(
      { smsId: doc._id, remoteId: 'r1' },
      { connector: 'op1', messageState: MessageState.UNDELIVERABLE, networkErrorCode: 1 },
    );
    expect(first.kind).toBe('final');
    await emitter().runOnce();
    expect((await receipts(doc._id)).map((r) => r.receipt?.stat)).toEqual(['UNDELIV']);

    expect(await requeue({ messageId: doc.messageId })).toBe('Requeued 1 message(s).');
    const requeued = await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: doc._id });
    expect(requeued).toMatchObject({ state: 'queued', attempts: 0, requeues: 1 });
    // The last outcome's stat and error would otherwise colour the next receipt.
    expect(requeued?.finalStat).toBeUndefined();
    expect(requeued?.error).toBeUndefined();

    // Delivered on the second try (as a deliverer's outcome write, then the downstream's receipt).
    await sms().updateOne(
      { _id: doc._id },
      { $set: { state: 'submitted', attempts: 1, remote: { connector: 'op1', messageId: 'r2', submittedAt: NOW } } },
    );
    const second = await finaliser.applyTo(
      { smsId: doc._id, remoteId: 'r2' },
      { connector: 'op1', messageState: MessageState.DELIVERED, networkErrorCode: null },
    );
    expect(second.kind).toBe('final');
    // Whoever runs the outbox, however often: one more receipt, DELIVRD.
    if (second.kind === 'final') await emitter().emitFor([second.doc]);
    await emitter().runOnce();
    await emitter().emitFor([(await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: doc._id }))!]);
    const all = await receipts(doc._id);
    expect(all.map((r) => `${r.receipt?.stat} ${r.payload.tlvs?.messageState}`).sort()).toEqual([
      `DELIVRD ${MessageState.DELIVERED}`,
      `UNDELIV ${MessageState.UNDELIVERABLE}`,
    ]);
    expect(new Set(all.map((r) => r.messageId)).size).toBe(2);
    expect((await sms().findOne({ _id: doc._id }))?.state).toBe('delivered');
  });

  it('a receipt still in the outbox for the replaced outcome is created before the requeue', async () => {
    // A long message the downstream accepted in part before failing for good.
    const doc = {
      ...makeSms(NOW, { state: 'undeliverable', attempts: 1, finalAt: minutes(-1), progress: { connector: 'op1', remoteIds: ['r0'] } }),
      receiptDue: true,
    };
    await sms().insertOne(doc);
    expect(await requeue({ messageId: doc.messageId, json: true })).toBe(
      JSON.stringify({ requeued: 1, validityExtended: 0, pendingReceipts: 1 }),
    );
    expect((await receipts(doc._id)).map((r) => r.receipt?.stat)).toEqual(['UNDELIV']);
    const after = await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: doc._id });
    expect(after).toMatchObject({ state: 'queued', requeues: 1 });
    expect(after?.receiptDue).toBeUndefined();
    // Sent whole again: the receipts of the parts accepted before went unheard while it was final.
    expect(after?.progress).toBeUndefined();
  });

  it("an outbox pass that read the message before a requeue does not clear the next generation's flag", async () => {
    const doc = { ...makeSms(NOW, { state: 'undeliverable', attempts: 1, finalAt: minutes(-1) }), receiptDue: true };
    await sms().insertOne(doc);
    const staleRead = await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: doc._id });
    await requeue({ messageId: doc.messageId });
    // It fails again the same way (same state, same attempt count), flagged again.
    await sms().updateOne(
      { _id: doc._id },
      { $set: { state: 'undeliverable', attempts: 1, finalAt: NOW, receiptDue: true } as Partial<SmsDocument> },
    );
    await emitter().emitFor([staleRead!]);
    expect((await t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: doc._id }))?.receiptDue).toBe(true);
    await emitter().runOnce();
    expect((await receipts(doc._id)).map((r) => r.receipt?.stat)).toEqual(['UNDELIV', 'UNDELIV']);
    expect(await emitter().runOnce()).toBe(0);
  });
});
