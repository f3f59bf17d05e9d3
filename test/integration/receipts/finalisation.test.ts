import { ObjectId } from 'mongodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { systemClock, SmsState, type SmsDocument } from '../../../src/domain/index.ts';
import { CleanupPass } from '../../../src/cleanup/index.ts';
import { MessageState, parseReceipt } from '../../../src/codec/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { ReceiptEmitter, finaliseUnanswered, ReceiptIntake, ensureReceiptSchema, ORPHAN_RECEIPTS } from '../../../src/receipts/index.ts';
import type { ShortMessage } from '../../../src/smpp/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { updateFor, recordCorrelations, type CorrelationDocument } from '../../../src/protocol/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { shortMessage } from '../../support/short-message.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const t = useTestDb('receipts_final');

beforeAll(async () => {
  await ensureSchema(t.db);
  await ensureReceiptSchema(t.db);
});

function receiptPdu(id: string, stat: string, state: number, err = 0): ShortMessage {
  return shortMessage({
    dest: { ton: 0, npi: 0, addr: 'ACME' },
    esmClass: 0x04,
    shortMessage: Buffer.from(
      `id:${id} sub:001 dlvrd:000 submit date:2611220100 done date:2611220101 stat:${stat} err:${String(err).padStart(3, '0')} text:`,
    ),
    tlvs: { receiptedMessageId: id, messageState: state, networkErrorCode: Buffer.from([3, 0, err]) },
  });
}

const emitter = () => new ReceiptEmitter(t.db, systemClock, silentLogger, createMetrics());
const intake = () =>
  new ReceiptIntake({ db: t.db, clock: systemClock, logger: silentLogger, metrics: createMetrics(), by: 'test', emitter: emitter() });

async function submitted(remoteId: string, connector = 'op', overrides: Partial<SmsDocument> = {}): Promise<SmsDocument> {
  const sms = makeSms({
    account: 'acme',
    registeredDelivery: 1,
    state: SmsState.submitted,
    attempts: 1,
    remote: { connector, messageId: remoteId, submittedAt: new Date() },
    ...overrides,
  });
  await insertSms(t.db, [sms]);
  await t.db.collection(Collections.correlations).insertOne({ connector, remoteId, smsId: sms._id, createdAt: new Date() });
  return sms;
}

const receiptsFor = (smsId: ObjectId) =>
  t.db
    .collection<SmsDocument>(Collections.sms)
    .find({ direction: 'receipt', 'receipt.smsId': smsId })
    .sort({ arrivedAt: 1, _id: 1 })
    .toArray();
const load = (id: ObjectId) => t.db.collection<SmsDocument>(Collections.sms).findOne({ _id: id });
const textOf = (doc: SmsDocument) => Buffer.from(doc.payload.shortMessage.buffer).toString('latin1');

describe('receipts from downstream', () => {
  it('a DELIVRD receipt finalises the message and creates one receipt document for its ESME', async () => {
    const sms = await submitted('r-1');
    await intake().onMessage({ name: 'op' }, receiptPdu('r-1', 'DELIVRD', MessageState.DELIVERED));
    expect((await load(sms._id))?.state).toBe('delivered');
    const receipts = await receiptsFor(sms._id);
    expect(receipts).toHaveLength(1);
    expect(receipts[0].target).toEqual({ kind: 'esme', systemId: 'acme' });
    expect(parseReceipt(textOf(receipts[0]))).toMatchObject({ id: sms.messageId, stat: 'DELIVRD' });
  });

  it('records the network error code of a failure and reports it in err:', async () => {
    const sms = await submitted('r-2');
    await intake().onMessage({ name: 'op' }, receiptPdu('r-2', 'UNDELIV', MessageState.UNDELIVERABLE, 34));
    const after = await load(sms._id);
    expect(after?.state).toBe('undeliverable');
    expect(after?.error?.networkErrorCode).toBe(34);
    const [receipt] = await receiptsFor(sms._id);
    expect(parseReceipt(textOf(receipt))).toMatchObject({ stat: 'UNDELIV', err: '034' });
  });

  it('ENROUTE keeps the message submitted; the final receipt still comes through', async () => {
    const sms = await submitted('r-3');
    await intake().onMessage({ name: 'op' }, receiptPdu('r-3', 'ENROUTE', MessageState.ENROUTE));
    expect((await load(sms._id))?.state).toBe('submitted');
    await intake().onMessage({ name: 'op' }, receiptPdu('r-3', 'DELIVRD', MessageState.DELIVERED));
    expect((await load(sms._id))?.state).toBe('delivered');
  });

  it('exactly one final state and one receipt when receipts, cleanups and outboxes race', async () => {
    const sms = await submitted('r-race', 'op', { validUntil: new Date(Date.now() - 3600_000) });
    const racers = intake();
    await Promise.all([
      ...Array.from({ length: 6 }, () => racers.onMessage({ name: 'op' }, receiptPdu('r-race', 'DELIVRD', MessageState.DELIVERED))),
      ...Array.from({ length: 6 }, () => racers.onMessage({ name: 'op' }, receiptPdu('r-race', 'UNDELIV', MessageState.UNDELIVERABLE))),
      finaliseUnanswered(t.db, systemClock, { by: 'cleanup-a', graceMs: 0 }),
      finaliseUnanswered(t.db, systemClock, { by: 'cleanup-b', graceMs: 0 }),
      emitter().runOnce(),
      emitter().runOnce(),
    ]);
    await Promise.all([emitter().runOnce(), emitter().runOnce(), emitter().runOnce()]);
    const after = await load(sms._id);
    const receipts = await receiptsFor(sms._id);
    expect(receipts).toHaveLength(1);
    const stat = parseReceipt(textOf(receipts[0])).stat;
    const expected = { delivered: 'DELIVRD', undeliverable: 'UNDELIV', expired: 'UNKNOWN' } as Record<string, string>;
    expect(stat).toBe(expected[after!.state]);
    expect(after?.receiptDue).toBeUndefined();
  });

  it('a receipt that overtakes the correlation and the state write waits, answered at once, and is applied when the batch lands', async () => {
    const sms = makeSms({ account: 'acme', registeredDelivery: 1, state: SmsState.locked, attempts: 0 });
    await insertSms(t.db, [sms]);
    const i = intake();
    // Nothing known yet: stored with the waiting receipts; the deliver_sm is answered without waiting.
    await i.onMessage({ name: 'op' }, receiptPdu('r-early', 'DELIVRD', MessageState.DELIVERED));
    expect(i.stats.waiting).toBe(1);
    expect(await t.db.collection(ORPHAN_RECEIPTS).findOne({ ids: 'r-early' })).toMatchObject({ reason: 'unknown-id', connector: 'op' });
    // The correlation lands (as the submit_sm_resp arrives): still waiting for the state.
    await t.db
      .collection(Collections.correlations)
      .insertOne({ connector: 'op', remoteId: 'r-early', smsId: sms._id, createdAt: new Date() });
    expect(await i.orphans.matchAccepted([{ connector: 'op', remoteIds: ['r-early'] }])).toBe(0);
    // The deliverer's fenced state write, then its look for waiting receipts.
    await t.db.collection(Collections.sms).updateOne(
      { _id: sms._id },
      {
        $set: { state: SmsState.submitted, remote: { connector: 'op', messageId: 'r-early', submittedAt: new Date() } },
        $unset: { lock: '' },
      },
    );
    expect(await i.orphans.matchAccepted([{ connector: 'op', remoteIds: ['r-early'] }])).toBe(1);
    expect((await load(sms._id))?.state).toBe('delivered');
    expect(await receiptsFor(sms._id)).toHaveLength(1);
    expect(await t.db.collection(ORPHAN_RECEIPTS).countDocuments({ ids: 'r-early' })).toBe(0);
    // Matching again finds nothing: it was applied once.
    expect(await i.orphans.matchAccepted([{ connector: 'op', remoteIds: ['r-early'] }])).toBe(0);
  });

  it('a receipt parked by another process: this process does not look (it parked nothing), and the sweep applies it once', async () => {
    const sms = makeSms({ account: 'acme', registeredDelivery: 1, state: SmsState.locked, attempts: 0 });
    await insertSms(t.db, [sms]);
    const parker = intake();
    const deliverer = intake();
    await parker.onMessage({ name: 'op' }, receiptPdu('r-other', 'DELIVRD', MessageState.DELIVERED));
    expect(parker.stats.waiting).toBe(1);
    await t.db
      .collection(Collections.correlations)
      .insertOne({ connector: 'op', remoteId: 'r-other', smsId: sms._id, createdAt: new Date() });
    await t.db.collection(Collections.sms).updateOne(
      { _id: sms._id },
      {
        $set: { state: SmsState.submitted, remote: { connector: 'op', messageId: 'r-other', submittedAt: new Date() } },
        $unset: { lock: '' },
      },
    );
    // The deliverer that stored the outcome parked nothing lately: it does not query, and leaves the receipt waiting.
    expect(await deliverer.orphans.matchAccepted([{ connector: 'op', remoteIds: ['r-other'] }])).toBe(0);
    expect(await t.db.collection(ORPHAN_RECEIPTS).countDocuments({ ids: 'r-other' })).toBe(1);
    // Either process's sweep, once the re-check is due, applies it: exactly once.
    await t.db.collection(ORPHAN_RECEIPTS).updateMany({ ids: 'r-other' }, { $set: { nextCheckAt: new Date(0) } });
    // (A sweep counts a receipt another process took first as settled too.)
    const swept = await Promise.all([deliverer.orphans.sweep(), parker.orphans.sweep()]);
    expect(swept).toContain(1);
    expect(await t.db.collection(ORPHAN_RECEIPTS).countDocuments({ ids: 'r-other' })).toBe(0);
    expect((await load(sms._id))?.state).toBe('delivered');
    expect(await receiptsFor(sms._id)).toHaveLength(1);
  });

  it('every early receipt of a message is kept: an intermediate and the final one, applied in order', async () => {
    const sms = makeSms({ account: 'acme', registeredDelivery: 1, state: SmsState.locked, attempts: 0 });
    await insertSms(t.db, [sms]);
    await t.db
      .collection(Collections.correlations)
      .insertOne({ connector: 'op', remoteId: 'r-two', smsId: sms._id, createdAt: new Date() });
    const i = intake();
    await i.onMessage({ name: 'op' }, receiptPdu('r-two', 'ENROUTE', MessageState.ENROUTE));
    await i.onMessage({ name: 'op' }, receiptPdu('r-two', 'UNDELIV', MessageState.UNDELIVERABLE, 9));
    expect(await t.db.collection(ORPHAN_RECEIPTS).countDocuments({ ids: 'r-two' })).toBe(2);
    await t.db.collection(Collections.sms).updateOne({ _id: sms._id }, { $set: { state: SmsState.submitted }, $unset: { lock: '' } });
    // The safety sweep (no deliverer looked): the re-check is due once its first pause passed.
    await t.db.collection(ORPHAN_RECEIPTS).updateMany({ ids: 'r-two' }, { $set: { nextCheckAt: new Date(0) } });
    expect(await i.orphans.sweep()).toBe(2);
    const after = await load(sms._id);
    expect(after).toMatchObject({ state: 'undeliverable', error: { networkErrorCode: 9 } });
    expect(after?.history.map((h) => h.outcome)).toEqual(['receipt ENROUTE', 'receipt UNDELIV']);
    await emitter().runOnce();
    expect((await receiptsFor(sms._id)).map((r) => parseReceipt(textOf(r)).stat)).toEqual(['UNDELIV']);
  });

  it('a receipt for an id nobody knows waits, and the sweep looks again less and less often', async () => {
    const i = intake();
    await i.onMessage({ name: 'op' }, receiptPdu('nobody-knows', 'DELIVRD', MessageState.DELIVERED));
    expect(i.stats.waiting).toBe(1);
    const orphan = await t.db.collection(ORPHAN_RECEIPTS).findOne({ ids: 'nobody-knows' });
    expect(orphan).toMatchObject({ connector: 'op', reason: 'unknown-id', messageState: 2, checks: 0 });
    await t.db.collection(ORPHAN_RECEIPTS).updateOne({ ids: 'nobody-knows' }, { $set: { nextCheckAt: new Date(0) } });
    expect(await i.orphans.sweep()).toBe(0);
    const later = await t.db.collection(ORPHAN_RECEIPTS).findOne({ ids: 'nobody-knows' });
    expect(later?.checks).toBe(1);
    expect(later?.nextCheckAt.getTime()).toBeGreaterThan(Date.now() + 1000);
  });

  it('a remote id the downstream reuses (after its restart) resolves to the newest submission', async () => {
    const older = await submitted('reused-1');
    const newer = makeSms({
      account: 'acme',
      registeredDelivery: 1,
      state: SmsState.submitted,
      attempts: 1,
      remote: { connector: 'op', messageId: 'reused-1', submittedAt: new Date() },
    });
    await insertSms(t.db, [newer]);
    const correlations = t.db.collection<CorrelationDocument>(Collections.correlations);
    expect(
      await recordCorrelations(correlations, [{ connector: 'op', remoteId: 'reused-1', smsId: newer._id, createdAt: new Date() }]),
    ).toEqual(['reused-1']);
    // Sent again after a lost answer: already ours, nothing reused.
    expect(
      await recordCorrelations(correlations, [{ connector: 'op', remoteId: 'reused-1', smsId: newer._id, createdAt: new Date() }]),
    ).toEqual([]);
    await intake().onMessage({ name: 'op' }, receiptPdu('reused-1', 'DELIVRD', MessageState.DELIVERED));
    expect((await load(newer._id))?.state).toBe('delivered');
    expect((await load(older._id))?.state).toBe('submitted');
  });

  it('a late receipt for an earlier submission of a message (before a requeue) does not finalise the current one', async () => {
    const sms = await submitted('second-send');
    await t.db
      .collection(Collections.correlations)
      .insertOne({ connector: 'op', remoteId: 'first-send', smsId: sms._id, createdAt: new Date() });
    await intake().onMessage({ name: 'op' }, receiptPdu('first-send', 'UNDELIV', MessageState.UNDELIVERABLE));
    expect((await load(sms._id))?.state).toBe('submitted');
    await intake().onMessage({ name: 'op' }, receiptPdu('second-send', 'DELIVRD', MessageState.DELIVERED));
    expect((await load(sms._id))?.state).toBe('delivered');
  });

  it('matches ids through the connector id forms (hex submit_sm_resp, decimal receipt)', async () => {
    // The connector stored the submit_sm_resp id "00FF" in its comparable form.
    const sms = await submitted('255', 'hexop');
    await intake().onMessage(
      { name: 'hexop', messageIdForm: { submit: 'hex', receipt: 'decimal' } },
      receiptPdu('0255', 'DELIVRD', MessageState.DELIVERED),
    );
    expect((await load(sms._id))?.state).toBe('delivered');
  });

  it('a message that left as several submits is final when every part is', async () => {
    const sms = await submitted('p-1', 'op', { remote: { connector: 'op', messageId: 'p-1', submittedAt: new Date(), otherIds: ['p-2'] } });
    await t.db.collection(Collections.correlations).insertOne({ connector: 'op', remoteId: 'p-2', smsId: sms._id, createdAt: new Date() });
    await intake().onMessage({ name: 'op' }, receiptPdu('p-1', 'DELIVRD', MessageState.DELIVERED));
    await intake().onMessage({ name: 'op' }, receiptPdu('p-1', 'DELIVRD', MessageState.DELIVERED));
    expect((await load(sms._id))?.state).toBe('submitted');
    await intake().onMessage({ name: 'op' }, receiptPdu('p-2', 'UNDELIV', MessageState.UNDELIVERABLE));
    expect((await load(sms._id))?.state).toBe('undeliverable');
    expect(await receiptsFor(sms._id)).toHaveLength(1);
  });
});

describe('finalisation without a downstream receipt', () => {
  it('submitted past validity + grace becomes final and reports UNKNOWN', async () => {
    const sms = await submitted('silent', 'op', { validUntil: new Date(Date.now() - 120_000) });
    const fresh = await submitted('silent-2', 'op', { validUntil: new Date(Date.now() - 10_000) });
    expect(await finaliseUnanswered(t.db, systemClock, { by: 'test', graceMs: 60_000 })).toBe(1);
    expect((await load(fresh._id))?.state).toBe('submitted');
    await emitter().runOnce();
    const [receipt] = await receiptsFor(sms._id);
    expect(parseReceipt(textOf(receipt))).toMatchObject({ stat: 'UNKNOWN' });
    expect((receipt.payload.tlvs as Record<string, unknown>).messageState).toBe(MessageState.UNKNOWN);
  });

  it('cleanup expiry gives an EXPIRED receipt to ESMEs that asked, none to those that did not', async () => {
    const asked = makeSms({ account: 'acme', registeredDelivery: 1, validUntil: new Date(Date.now() - 1000) });
    const silent = makeSms({ account: 'acme', registeredDelivery: 0, validUntil: new Date(Date.now() - 1000) });
    const failuresOnly = makeSms({ account: 'acme', registeredDelivery: 2, validUntil: new Date(Date.now() - 1000) });
    await insertSms(t.db, [asked, silent, failuresOnly]);
    await new CleanupPass(t.db, systemClock, 'cleanup', createMetrics()).run();
    await emitter().runOnce();
    expect(parseReceipt(textOf((await receiptsFor(asked._id))[0])).stat).toBe('EXPIRED');
    expect(await receiptsFor(silent._id)).toHaveLength(0);
    expect(await receiptsFor(failuresOnly._id)).toHaveLength(1);
    expect(await t.db.collection(Collections.sms).countDocuments({ receiptDue: true })).toBe(0);
  });
});

describe('notifications from deliverer outcomes', () => {
  const ctx = () => ({ now: new Date(), by: 'worker', historyLimit: 20 });

  it('a temporary failure sends an ENROUTE intermediate notification when registered_delivery has 0x10, once per attempt', async () => {
    const sms = makeSms({ account: 'acme', registeredDelivery: 0x11, state: SmsState.locked, attempts: 0 });
    const plain = makeSms({ account: 'acme', registeredDelivery: 0x01, state: SmsState.locked, attempts: 0 });
    await insertSms(t.db, [sms, plain]);
    const retry = { kind: 'retry' as const, connector: 'op', status: 0x58, error: 'ESME_RTHROTTLED', at: new Date(Date.now() + 60_000) };
    for (const doc of [sms, plain]) await t.db.collection(Collections.sms).updateOne({ _id: doc._id }, updateFor(doc, retry, ctx()));
    await emitter().runOnce();
    await emitter().runOnce();
    const [note] = await receiptsFor(sms._id);
    expect(note.payload.esmClass).toBe(0x20);
    expect(parseReceipt(textOf(note)).stat).toBe('ENROUTE');
    expect(note.receipt?.final).toBe(false);
    expect(await receiptsFor(plain._id)).toHaveLength(0);
    // The message then fails for good: its final receipt follows the notification.
    const again = (await load(sms._id))!;
    await t.db
      .collection(Collections.sms)
      .updateOne({ _id: sms._id }, updateFor(again, { kind: 'failed', connector: 'op', status: 0x0b, error: 'ESME_RINVDSTADR' }, ctx()));
    await emitter().runOnce();
    const all = await receiptsFor(sms._id);
    expect(all.map((r) => r.receipt?.stat)).toEqual(['ENROUTE', 'UNDELIV']);
  });

  it('receipts arriving as data_sm are applied the same way', async () => {
    const sms = await submitted('d-1');
    const handlers = intake().handlersFor({ name: 'op' });
    await handlers.dataSm!(receiptPdu('d-1', 'REJECTD', MessageState.REJECTED), {} as never);
    expect((await load(sms._id))?.state).toBe('rejected');
    expect(parseReceipt(textOf((await receiptsFor(sms._id))[0])).stat).toBe('REJECTD');
  });
});
