import { describe, expect, it, beforeEach } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { silentLogger } from '../../../src/logging/logger.ts';
import { DeliveryRound, emptyStats, newToken } from '../../../src/delivery/delivery-round.ts';
import { resolveDeliveryOptions } from '../../../src/delivery/delivery-options.ts';
import { DestinationLocks } from '../../../src/delivery/destination-locks.ts';
import { LeaseRenewer } from '../../../src/delivery/lease-renewer.ts';
import { MessageLocks } from '../../../src/delivery/message-locks.ts';
import { Collections, ensureSchema } from '../../../src/store/collections.ts';
import type { LockDocument, SmsDocument } from '../../../src/store/sms-document.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSeries, makeSms } from '../../support/sms-factory.ts';
import { RecordingSender } from './recording-sender.ts';

// Near the real time: correlations carry a TTL index on createdAt, which the server applies.
const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const options = resolveDeliveryOptions({ leaseMs: 30_000 });

describe('delivery locking protocol', () => {
  const handle = useTestDb('delivery_protocol');
  let clock: ManualClock;
  let sender: RecordingSender;
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);
  const locks = () => handle.db.collection<LockDocument>(Collections.locks);
  const round = (owner = 'w1', s: RecordingSender = sender) =>
    new DeliveryRound({ db: handle.db, clock, owner, logger: silentLogger, sender: s, options, claimFilter: { 'target.kind': 'connector' } });

  beforeEach(async () => {
    await ensureSchema(handle.db);
    await sms().deleteMany({});
    await locks().deleteMany({});
    await handle.db.collection(Collections.correlations).deleteMany({});
    clock = new ManualClock(t0.getTime() + 1000);
    sender = new RecordingSender();
  });

  it('claims by priority, then due time, and only due messages', async () => {
    await insertSms(handle.db, [
      makeSms({ destKey: 'a', arrivedAt: t0, nextAttemptAt: t0 }),
      makeSms({ destKey: 'b', arrivedAt: t0, nextAttemptAt: new Date(t0.getTime() + 10), priority: 1 }),
      makeSms({ destKey: 'c', arrivedAt: t0, nextAttemptAt: new Date(t0.getTime() + 60_000) }),
    ]);
    const r = round();
    const first = await r.messages.claimOne([], 'w1', 'tok1');
    expect(first?.destKey).toBe('b');
    expect(first?.state).toBe('locked');
    expect(first?.lock).toMatchObject({ owner: 'w1', token: 'tok1', leaseUntil: new Date(clock.now().getTime() + 30_000) });
    expect((await r.messages.claimOne([], 'w1', 'tok2'))?.destKey).toBe('a');
    expect(await r.messages.claimOne([], 'w1', 'tok3')).toBeNull();
  });

  it('skips excluded destinations', async () => {
    await insertSms(handle.db, [makeSms({ destKey: 'a', nextAttemptAt: t0 }), makeSms({ destKey: 'b', nextAttemptAt: new Date(t0.getTime() + 1) })]);
    const claimed = await round().messages.claimOne(['a'], 'w1', 'tok');
    expect(claimed?.destKey).toBe('b');
    expect(await round().messages.claimOne(['a', 'b'], 'w1', 'tok')).toBeNull();
  });

  it('a busy destination: the message is released by CAS and the destination excluded for the round', async () => {
    await insertSms(handle.db, [...makeSeries('a', 2, t0), ...makeSeries('b', 1, new Date(t0.getTime() + 10))]);
    await locks().insertOne({ _id: 'a', owner: 'other', token: 'theirs', at: clock.now(), leaseUntil: new Date(clock.now().getTime() + 5000) });
    const stats = await round().run(undefined, emptyStats());
    expect(stats.busyDestinations).toBe(1);
    expect(sender.sent.map((s) => s.destKey)).toEqual(['b']);
    const a = await sms().find({ destKey: 'a' }).toArray();
    expect(a.every((doc) => doc.state === 'queued' && doc.lock === undefined)).toBe(true);
    expect(await locks().findOne({ _id: 'a' })).toMatchObject({ token: 'theirs' });
  });

  it('steals a destination lock only after its lease ran out', async () => {
    const r = round();
    await locks().insertOne({ _id: 'a', owner: 'dead', token: 'old', at: clock.now(), leaseUntil: new Date(clock.now().getTime() + 5000) });
    expect(await r.destinations.acquire('a', 'w1', 't1')).toBe('busy');
    clock.advance(5000);
    expect(await r.destinations.acquire('a', 'w1', 't1')).toBe('stolen');
    expect(await round('w2').destinations.acquire('a', 'w2', 't2')).toBe('busy');
    // The dead holder's release matches nothing and leaves ours.
    expect(await r.destinations.release('a', 'dead', 'old')).toBe(false);
    expect(await locks().findOne({ _id: 'a' })).toMatchObject({ owner: 'w1', token: 't1' });
    // Renewal is fenced too.
    expect(await r.destinations.renew('a', 'old')).toBe(false);
    expect(await r.destinations.renew('a', 't1')).toBe(true);
  });

  it('delivers batches of at most 4 per destination in arrival order, and releases the destination', async () => {
    await insertSms(handle.db, makeSeries('a', 10, t0));
    const stats = await round().run();
    expect(stats.batchSizes).toEqual([4, 4, 2]);
    expect(sender.sent.map((s) => s.text)).toEqual(Array.from({ length: 10 }, (_, i) => `a#${i}`));
    expect(await sms().countDocuments({ state: 'submitted' })).toBe(10);
    expect(await locks().countDocuments()).toBe(0);
    const correlations = await handle.db.collection(Collections.correlations).find().toArray();
    expect(correlations).toHaveLength(10);
    const doc = await sms().findOne({ destKey: 'a' }, { sort: { arrivedAt: 1 } });
    expect(doc).toMatchObject({ state: 'submitted', attempts: 1, remote: { connector: 'fake' } });
    expect(doc?.lock).toBeUndefined();
    expect(doc?.history.at(-1)).toMatchObject({ outcome: 'submitted', by: 'w1' });
  });

  it('the batch takes over messages another worker locked but could not deliver', async () => {
    await insertSms(handle.db, makeSeries('a', 3, t0));
    const loser = round('w2');
    const theirs = await loser.messages.claimOne([], 'w2', 'their-token');
    expect(theirs?.destKey).toBe('a');
    // w1 claims the next one and holds the destination; its batch includes w2's message.
    const stats = await round('w1').run();
    expect(stats.batchSizes).toEqual([3]);
    expect(sender.sent.map((s) => s.text)).toEqual(['a#0', 'a#1', 'a#2']);
    // w2's release CAS fails harmlessly.
    expect(await loser.messages.release([theirs!._id], 'their-token')).toBe(0);
    expect(await sms().countDocuments({ state: 'submitted' })).toBe(3);
  });

  it('fencing: a worker whose lease was taken over writes nothing', async () => {
    await insertSms(handle.db, makeSeries('a', 1, t0));
    const stale = round('stale');
    const claimed = await stale.messages.claimOne([], 'stale', 'stale-token');
    expect(await stale.destinations.acquire('a', 'stale', 'stale-token')).toBe('acquired');
    // The stale worker stalls past its lease; the lease is released and another worker delivers.
    clock.advance(options.leaseMs + 1);
    expect(await stale.messages.releaseExpired('cleanup')).toBe(1);
    expect(await stale.destinations.releaseExpired()).toBe(1);
    const fresh = await round('fresh').run();
    expect(fresh.submitted).toBe(1);
    // Now the stale worker wakes up and tries to record a failure: fenced off.
    const matched = await stale.messages.applyFenced('stale-token', [{ id: claimed!._id, update: { $set: { state: 'undeliverable' } } }]);
    expect(matched).toBe(0);
    expect(await stale.messages.renew([claimed!._id], 'stale-token')).toBe(0);
    expect(await stale.destinations.renew('a', 'stale-token')).toBe(false);
    expect(await sms().findOne({ _id: claimed!._id })).toMatchObject({ state: 'submitted' });
  });

  it('temporary failure: attempts+1, backoff, and the rest of the destination waits with it', async () => {
    await insertSms(handle.db, [...makeSeries('a', 6, t0)]);
    sender.script = (doc, n) =>
      doc.payload && n === 1 ? { kind: 'temporary', connector: 'fake', status: 0x58, error: 'throttled' } : { kind: 'accepted', connector: 'fake', remoteId: `r${n}` };
    await round().run();
    const docs = await sms().find({ destKey: 'a' }).sort({ arrivedAt: 1 }).toArray();
    const retryAt = new Date(clock.now().getTime() + 60_000);
    expect(docs.map((d) => d.state)).toEqual(['submitted', 'queued', 'queued', 'queued', 'queued', 'queued']);
    expect(docs[1]).toMatchObject({ attempts: 1, nextAttemptAt: retryAt, error: { status: 0x58 } });
    // Deferred batch members and the messages behind them wait for the same moment, unattempted.
    for (const doc of docs.slice(2)) expect(doc).toMatchObject({ attempts: 0, nextAttemptAt: retryAt });
    // Nothing is due before the retry; then order resumes.
    expect(await round().run()).toMatchObject({ claims: 0 });
    clock.set(retryAt);
    sender.script = (_doc, n) => ({ kind: 'accepted', connector: 'fake', remoteId: `s${n}` });
    await round().run();
    expect(sender.sent.map((s) => s.text)).toEqual(['a#0', 'a#1', 'a#1', 'a#2', 'a#3', 'a#4', 'a#5']);
    expect((await sms().findOne({ _id: docs[1]._id }))?.history.map((h) => h.outcome)).toEqual(['retry', 'submitted']);
  });

  it('retries follow the schedule until the attempt limit makes the message undeliverable', async () => {
    const limited = resolveDeliveryOptions({ maxAttempts: 3, backoffBaseMs: 1000, backoffMaxMs: 3000 });
    await insertSms(handle.db, makeSeries('a', 1, t0));
    sender.script = () => ({ kind: 'temporary', error: 'timeout' });
    const r = new DeliveryRound({ db: handle.db, clock, owner: 'w1', logger: silentLogger, sender, options: limited });
    const due: number[] = [];
    for (let i = 0; i < 3; i++) {
      await r.run();
      const doc = await sms().findOne({ destKey: 'a' });
      due.push(doc!.nextAttemptAt.getTime() - clock.now().getTime());
      clock.set(doc!.nextAttemptAt);
    }
    const doc = await sms().findOne({ destKey: 'a' });
    expect(due.slice(0, 2)).toEqual([1000, 2000]);
    expect(doc).toMatchObject({ state: 'undeliverable', attempts: 3 });
    expect(doc!.history.map((h) => h.outcome)).toEqual(['retry', 'retry', 'attempt-limit']);
  });

  it('permanent failure is final and does not block the rest of the batch', async () => {
    await insertSms(handle.db, makeSeries('a', 3, t0));
    sender.script = (_doc, n) => (n === 0 ? { kind: 'permanent', status: 0x0b, error: 'invalid destination' } : { kind: 'accepted', connector: 'fake', remoteId: `r${n}` });
    await round().run();
    const states = (await sms().find({ destKey: 'a' }).sort({ arrivedAt: 1 }).toArray()).map((d) => d.state);
    expect(states).toEqual(['undeliverable', 'submitted', 'submitted']);
  });

  it('messages past validUntil expire instead of being sent', async () => {
    await insertSms(handle.db, [makeSms({ destKey: 'a', arrivedAt: t0, nextAttemptAt: t0, validUntil: new Date(t0.getTime() + 500) }), ...makeSeries('a', 1, new Date(t0.getTime() + 1))]);
    const stats = await round().run();
    expect(stats.expired).toBe(1);
    expect(sender.sent).toHaveLength(1);
    expect(await sms().countDocuments({ state: 'expired', finalAt: clock.now() })).toBe(1);
  });

  it('no route is permanent, no bound connector is temporary', async () => {
    await insertSms(handle.db, makeSeries('a', 2, t0));
    sender.selectOutcome = { kind: 'temporary', error: 'no bound connector' };
    await round().run();
    expect((await sms().find({ destKey: 'a' }).toArray()).map((d) => [d.state, d.attempts])).toEqual([
      ['queued', 1],
      ['queued', 0],
    ]);
    clock.advance(60_000);
    sender.selectOutcome = { kind: 'permanent', error: 'no route' };
    await round().run();
    // No route for the destination: the whole batch is undeliverable.
    expect(await sms().countDocuments({ state: 'undeliverable', 'error.message': 'no route' })).toBe(2);
  });

  it('racing claimers never share a message or a destination', async () => {
    const dests = Array.from({ length: 20 }, (_, i) => `d${i}`);
    await insertSms(handle.db, dests.flatMap((d, i) => makeSeries(d, 1 + (i % 5), t0)));
    sender.delayMs = 3;
    const workers = ['w1', 'w2', 'w3', 'w4'].map((w) => round(w));
    await Promise.all(workers.map((w) => w.run()));
    // Some workers may have stopped while others still held destinations: drain.
    await round('w5').run();
    expect(sender.concurrentViolations).toBe(0);
    expect(await sms().countDocuments({ state: 'submitted' })).toBe(await sms().countDocuments());
    expect(new Set(sender.sent.map((s) => s.id)).size).toBe(sender.sent.length);
    for (const d of dests) {
      const texts = sender.sent.filter((s) => s.destKey === d).map((s) => s.text);
      expect(texts).toEqual([...texts].sort((x, y) => Number(x.split('#')[1]) - Number(y.split('#')[1])));
    }
  });

  it('the lease renewer extends both leases at half the lease and reports a lost destination once', async () => {
    const leaseMs = 400;
    const real = { now: () => new Date() };
    const destinations = new DestinationLocks(handle.db, real, { leaseMs });
    const messages = new MessageLocks(handle.db, real, { leaseMs, historyLimit: 5 });
    await insertSms(handle.db, makeSeries('r', 1, t0));
    const claimed = await messages.claimOne([], 'w1', 'tok');
    expect(await destinations.acquire('r', 'w1', 'tok')).toBe('acquired');
    const lost: string[] = [];
    const renewer = new LeaseRenewer(destinations, messages, silentLogger, { destKey: 'r', token: 'tok', leaseMs, messageIds: () => [claimed!._id], onLost: (why) => lost.push(why) });
    renewer.start();
    await new Promise((r) => setTimeout(r, 1000)); // 2.5 leases: alive only through renewals
    const lock = await locks().findOne({ _id: 'r' });
    const doc = await sms().findOne({ _id: claimed!._id });
    expect(lock!.leaseUntil.getTime()).toBeGreaterThan(Date.now());
    expect(doc!.lock!.leaseUntil.getTime()).toBeGreaterThan(Date.now());
    // Someone steals the destination (e.g. cleanup after a stall): the renewer stops and says so.
    await locks().updateOne({ _id: 'r' }, { $set: { token: 'thief' } });
    await new Promise((r) => setTimeout(r, 500));
    expect(lost).toEqual(['destination lease lost']);
    await renewer.close();
  });

  it('newToken gives distinct tokens', () => {
    expect(new Set(Array.from({ length: 100 }, newToken)).size).toBe(100);
  });
});
