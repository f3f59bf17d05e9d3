import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type LockDocument, type SmsDocument } from '../../../src/domain/index.ts';
import { emptyStats, newToken, resolveDeliveryOptions, type DeliveryOptions } from '../../../src/delivery/index.ts';
import {
  duePrefix,
  lockBatch,
  readPending,
  claimOne,
  acquireDestinations,
  releaseDestinations,
  releaseExpiredDestinations,
  renewDestinations,
  applyOutcomes,
  releaseClaims,
  releaseExpiredMessages,
  renewMessages,
} from '../../../src/protocol/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSeries, makeSms, textOf } from '../../support/sms-factory.ts';
import { RecordingSender } from './recording-sender.ts';
import { testRound, type TestRound } from './round-harness.ts';

// Near the real time: correlations carry a TTL index on createdAt, which the server applies.
const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const options = resolveDeliveryOptions({ leaseMs: 30_000, leaseGraceMs: 2000 });
const filter = { 'target.kind': 'connector' } as const;

describe('delivery locking protocol', () => {
  const handle = useTestDb('delivery_protocol');
  let clock: ManualClock;
  let sender: RecordingSender;
  const opened: TestRound[] = [];
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);
  const locks = () => handle.db.collection<LockDocument>(Collections.locks);
  const round = (owner = 'w1', s: RecordingSender = sender, delivery: Readonly<DeliveryOptions> = options) => {
    const r = testRound(handle.db, clock, { owner, sender: s, delivery });
    opened.push(r);
    return r.round;
  };
  const claim = (owner: string, token: string, excluded: string[] = []) =>
    claimOne(sms(), { claimFilter: filter, excluded, owner, token, leaseMs: options.leaseMs, dueBy: clock.now(), dbNow: clock.dbNow() });
  const acquire = (destKey: string, owner: string, token: string) =>
    acquireDestinations(locks(), [{ destKey, owner, token }], {
      leaseMs: options.leaseMs,
      graceMs: options.leaseGraceMs,
      dbNow: clock.dbNow(),
    }).then((r) => r[0]);

  beforeEach(async () => {
    await ensureSchema(handle.db);
    await sms().deleteMany({});
    await locks().deleteMany({});
    await handle.db.collection(Collections.correlations).deleteMany({});
    clock = new ManualClock(t0.getTime() + 1000);
    sender = new RecordingSender();
  });

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((r) => r.close()));
  });

  it('claims by priority, then due time, and only due messages; the lease is on the database clock', async () => {
    await insertSms(handle.db, [
      makeSms({ destKey: 'a', arrivedAt: t0, nextAttemptAt: t0 }),
      makeSms({ destKey: 'b', arrivedAt: t0, nextAttemptAt: new Date(t0.getTime() + 10), priority: 1 }),
      makeSms({ destKey: 'c', arrivedAt: t0, nextAttemptAt: new Date(t0.getTime() + 60_000) }),
    ]);
    const first = await claim('w1', 'tok1');
    expect(first?.destKey).toBe('b');
    expect(first?.state).toBe('locked');
    expect(first?.lock).toMatchObject({
      owner: 'w1',
      token: 'tok1',
      at: clock.now(),
      leaseUntil: new Date(clock.now().getTime() + 30_000),
    });
    expect((await claim('w1', 'tok2'))?.destKey).toBe('a');
    expect(await claim('w1', 'tok3')).toBeNull();
  });

  it('skips excluded destinations', async () => {
    await insertSms(handle.db, [
      makeSms({ destKey: 'a', nextAttemptAt: t0 }),
      makeSms({ destKey: 'b', nextAttemptAt: new Date(t0.getTime() + 1) }),
    ]);
    expect((await claim('w1', 'tok', ['a']))?.destKey).toBe('b');
    expect(await claim('w1', 'tok', ['a', 'b'])).toBeNull();
  });

  it('a busy destination: the message is released by CAS and the destination excluded for the round', async () => {
    await insertSms(handle.db, [...makeSeries('a', 2, t0), ...makeSeries('b', 1, new Date(t0.getTime() + 10))]);
    await locks().insertOne({
      _id: 'a',
      owner: 'other',
      token: 'theirs',
      at: clock.now(),
      leaseUntil: new Date(clock.now().getTime() + 5000),
    });
    const stats = await round().run(undefined, emptyStats());
    expect(stats.busyDestinations).toBe(1);
    expect(sender.sent.map((s) => s.destKey)).toEqual(['b']);
    const a = await sms().find({ destKey: 'a' }).toArray();
    expect(a.every((doc) => doc.state === 'queued' && doc.lock === undefined)).toBe(true);
    expect(await locks().findOne({ _id: 'a' })).toMatchObject({ token: 'theirs' });
  });

  it('takes over a destination only after its lease and the grace ran out, on the database clock', async () => {
    await locks().insertOne({ _id: 'a', owner: 'dead', token: 'old', at: clock.now(), leaseUntil: new Date(clock.now().getTime() + 5000) });
    expect(await acquire('a', 'w1', 't1')).toBe('busy');
    clock.advance(5000 + options.leaseGraceMs - 1);
    expect(await acquire('a', 'w1', 't1')).toBe('busy');
    clock.advance(1);
    expect(await acquire('a', 'w1', 't1')).toBe('stolen');
    expect(await acquire('a', 'w2', 't2')).toBe('busy');
    // The dead holder's release and renewal match nothing and leave ours.
    expect(await releaseDestinations(locks(), [{ destKey: 'a', token: 'old' }])).toBe(0);
    expect(await renewDestinations(locks(), [{ destKey: 'a', token: 'old' }], 30_000, clock.dbNow())).toBe(0);
    expect(await locks().findOne({ _id: 'a' })).toMatchObject({
      owner: 'w1',
      token: 't1',
      leaseUntil: new Date(clock.now().getTime() + 30_000),
    });
    expect(await renewDestinations(locks(), [{ destKey: 'a', token: 't1' }], 30_000, clock.dbNow())).toBe(1);
  });

  it('one command acquires several destinations: free ones acquired, held ones busy, expired ones stolen', async () => {
    const now = clock.now().getTime();
    await locks().insertMany([
      { _id: 'held', owner: 'other', token: 'theirs', at: clock.now(), leaseUntil: new Date(now + 5000) },
      { _id: 'dead', owner: 'gone', token: 'old', at: clock.now(), leaseUntil: new Date(now - 1 - options.leaseGraceMs) },
    ]);
    const results = await acquireDestinations(
      locks(),
      [
        { destKey: 'a', owner: 'w1', token: 't1' },
        { destKey: 'held', owner: 'w1', token: 't2' },
        { destKey: 'b', owner: 'w1', token: 't3' },
        { destKey: 'dead', owner: 'w1', token: 't4' },
      ],
      { leaseMs: 30_000, graceMs: options.leaseGraceMs, dbNow: clock.dbNow() },
    );
    expect(results).toEqual(['acquired', 'busy', 'acquired', 'stolen']);
    const byId = Object.fromEntries((await locks().find().toArray()).map((l) => [l._id, l.token]));
    expect(byId).toEqual({ a: 't1', held: 'theirs', b: 't3', dead: 't4' });
  });

  it('delivers batches of at most 4 per destination in arrival order, correlates each, and releases the destination', async () => {
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
    const theirs = await claim('w2', 'their-token');
    expect(theirs?.destKey).toBe('a');
    // w1 claims the next one and holds the destination; its batch includes w2's message.
    const stats = await round('w1').run();
    expect(stats.batchSizes).toEqual([3]);
    expect(sender.sent.map((s) => s.text)).toEqual(['a#0', 'a#1', 'a#2']);
    // w2's release CAS fails harmlessly.
    expect(await releaseClaims(sms(), [{ ids: [theirs!._id], token: 'their-token' }])).toBe(0);
    expect(await sms().countDocuments({ state: 'submitted' })).toBe(3);
  });

  it('fencing: a worker whose lease was taken over writes nothing', async () => {
    await insertSms(handle.db, makeSeries('a', 1, t0));
    const claimed = await claim('stale', 'stale-token');
    expect(await acquire('a', 'stale', 'stale-token')).toBe('acquired');
    // The stale worker stalls past its lease and grace; the sweep releases and another worker delivers.
    clock.advance(options.leaseMs + options.leaseGraceMs);
    const released = await releaseExpiredMessages(sms(), {
      by: 'sweep',
      graceMs: options.leaseGraceMs,
      historyLimit: 5,
      now: clock.now(),
      dbNow: clock.dbNow(),
    });
    expect(released).toBe(1);
    expect(await releaseExpiredDestinations(locks(), options.leaseGraceMs, clock.dbNow())).toBe(1);
    const fresh = await round('fresh').run();
    expect(fresh.submitted).toBe(1);
    // Now the stale worker wakes up and tries to record a failure: fenced off.
    const matched = await applyOutcomes(sms(), [{ id: claimed!._id, token: 'stale-token', update: { $set: { state: 'undeliverable' } } }]);
    expect(matched).toBe(0);
    expect(await renewMessages(sms(), [claimed!._id], ['stale-token'], 30_000, clock.dbNow())).toBe(0);
    expect(await sms().findOne({ _id: claimed!._id })).toMatchObject({ state: 'submitted' });
  });

  it('temporary failure: attempts+1, backoff, and the rest of the destination waits with it', async () => {
    await insertSms(handle.db, [...makeSeries('a', 6, t0)]);
    sender.script = (_doc, n) =>
      n === 1
        ? { kind: 'temporary', connector: 'fake', status: 0x58, error: 'throttled' }
        : { kind: 'accepted', connector: 'fake', remoteId: `r${n}` };
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

  it('a message that arrives while its destination backs off goes after the older one, even when pulled forward', async () => {
    await insertSms(handle.db, makeSeries('a', 1, t0));
    sender.script = (_doc, n) =>
      n === 0
        ? { kind: 'temporary', connector: 'fake', error: 'absent subscriber' }
        : { kind: 'accepted', connector: 'fake', remoteId: `r${n}` };
    await round().run();
    const retryAt = new Date(clock.now().getTime() + 60_000);
    // m2 arrives a second later, due at once (nothing pushed it back: it did not exist yet).
    clock.advance(1000);
    const [m2] = makeSeries('a', 1, clock.now(), { text: 'late' } as Partial<SmsDocument>);
    await insertSms(handle.db, [{ ...m2, payload: { ...m2.payload } }]);
    let stats = await round().run();
    expect(sender.sent.map((s) => s.text)).toEqual(['a#0']);
    // The claim found the head backing off: m2 now waits for the same moment.
    expect(stats.claims).toBe(1);
    expect(await sms().findOne({ _id: m2._id })).toMatchObject({ state: 'queued', nextAttemptAt: retryAt, attempts: 0 });
    // An operator (or an ESME bind) pulls m2 forward: still nothing overtakes the head.
    await sms().updateOne({ _id: m2._id }, { $set: { nextAttemptAt: clock.now() } });
    stats = await round().run();
    expect(sender.sent).toHaveLength(1);
    clock.set(retryAt);
    await round().run();
    expect(sender.sent.map((s) => s.text)).toEqual(['a#0', 'a#0', textOf(m2)]);
  });

  it('after the last allowed attempt fails the destination is not held: the rest goes at once', async () => {
    const limited = resolveDeliveryOptions({ maxAttempts: 2, leaseGraceMs: 2000 });
    await insertSms(handle.db, [
      makeSms({ destKey: 'a', arrivedAt: t0, nextAttemptAt: t0, attempts: 1, text: 'tired' }),
      ...makeSeries('a', 2, new Date(t0.getTime() + 1)),
    ]);
    sender.script = (doc, n) =>
      textOf(doc) === 'tired' ? { kind: 'temporary', error: 'timeout' } : { kind: 'accepted', connector: 'fake', remoteId: `r${n}` };
    await round('w1', sender, limited).run();
    const docs = await sms().find({ destKey: 'a' }).sort({ arrivedAt: 1 }).toArray();
    expect(docs.map((d) => d.state)).toEqual(['undeliverable', 'submitted', 'submitted']);
    expect(docs[0].history.at(-1)).toMatchObject({ outcome: 'attempt-limit' });
  });

  it('retries follow the schedule until the attempt limit makes the message undeliverable', async () => {
    const limited = resolveDeliveryOptions({ maxAttempts: 3, backoffBaseMs: 1000, backoffMaxMs: 3000 });
    await insertSms(handle.db, makeSeries('a', 1, t0));
    sender.script = () => ({ kind: 'temporary', error: 'timeout' });
    const r = round('w1', sender, limited);
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
    sender.script = (_doc, n) =>
      n === 0
        ? { kind: 'permanent', status: 0x0b, error: 'invalid destination' }
        : { kind: 'accepted', connector: 'fake', remoteId: `r${n}` };
    await round().run();
    const states = (await sms().find({ destKey: 'a' }).sort({ arrivedAt: 1 }).toArray()).map((d) => d.state);
    expect(states).toEqual(['undeliverable', 'submitted', 'submitted']);
  });

  it('messages past validUntil expire instead of being sent', async () => {
    await insertSms(handle.db, [
      makeSms({ destKey: 'a', arrivedAt: t0, nextAttemptAt: t0, validUntil: new Date(t0.getTime() + 500) }),
      ...makeSeries('a', 1, new Date(t0.getTime() + 1)),
    ]);
    const stats = await round().run();
    expect(stats.expired).toBe(1);
    expect(sender.sent).toHaveLength(1);
    expect(await sms().countDocuments({ state: 'expired', finalAt: clock.now() })).toBe(1);
  });

  it('no route is permanent, no bound connector is temporary', async () => {
    await insertSms(handle.db, makeSeries('a', 2, t0));
    sender.selectOutcome = { kind: 'temporary', error: 'no bound connector' };
    await round().run();
    expect((await sms().find({ destKey: 'a' }).sort({ arrivedAt: 1 }).toArray()).map((d) => [d.state, d.attempts])).toEqual([
      ['queued', 1],
      ['queued', 0],
    ]);
    clock.advance(60_000);
    sender.selectOutcome = { kind: 'permanent', error: 'no route' };
    await round().run();
    // No route for the destination: the whole batch is undeliverable.
    expect(await sms().countDocuments({ state: 'undeliverable', 'error.message': 'no route' })).toBe(2);
  });

  it('nothing bound to send over: the destination waits without an attempt or a history entry, then goes in order', async () => {
    const docs = makeSeries('a', 6, t0);
    await insertSms(handle.db, docs);
    sender.selectOutcome = { kind: 'waiting', error: 'no bound connector among op1' };
    const stats = await round().run();
    expect(stats.waiting).toBe(1);
    expect(sender.sent).toHaveLength(0);
    const waitingUntil = new Date(clock.now().getTime() + options.unboundRetryMs);
    const after = await sms().find({ destKey: 'a' }).sort({ arrivedAt: 1 }).toArray();
    // The batch and, through the hold, the rest of the destination: due together again, unattempted.
    expect(after.map((d) => [d.state, d.attempts, d.nextAttemptAt.getTime()])).toEqual(
      docs.map(() => ['queued', 0, waitingUntil.getTime()]),
    );
    expect(after.map((d) => d.history.length)).toEqual(docs.map((d) => d.history.length));
    expect(after[0].error?.message).toBe('no bound connector among op1');
    expect(await locks().countDocuments({})).toBe(0);
    // Not due before the wait is over: a round now finds nothing.
    sender.selectOutcome = undefined;
    expect((await round().run()).claims).toBe(0);
    clock.advance(options.unboundRetryMs);
    await round().run();
    expect(sender.sent.map((m) => m.text)).toEqual(docs.map((d) => textOf(d)));
    expect((await sms().find({ destKey: 'a' }).toArray()).map((d) => [d.state, d.attempts])).toEqual(docs.map(() => ['submitted', 1]));
  });

  it('a message due before its schedule (requeued early) waits for the schedule instead of being claimed again and again', async () => {
    const scheduledAt = new Date(clock.now().getTime() + 3_600_000);
    const [early] = makeSeries('a', 1, t0, { scheduledAt, nextAttemptAt: t0 });
    await insertSms(handle.db, [early]);
    const stop = AbortSignal.timeout(3000);
    const stats = await round().run(stop);
    expect(stop.aborted).toBe(false);
    expect(stats.claims).toBe(1);
    expect(sender.sent).toHaveLength(0);
    expect(await sms().findOne({ _id: early._id })).toMatchObject({ state: 'queued', nextAttemptAt: scheduledAt });
  });

  it('content changed by replace_sm after the batch read it is not locked, and nothing after it goes', async () => {
    const docs = makeSeries('a', 3, t0);
    await insertSms(handle.db, docs);
    const [pending] = await readPending(sms(), { destKeys: ['a'], limit: 4, claimFilter: filter, now: clock.now() });
    const { batch } = duePrefix(pending, clock.now());
    expect(batch).toHaveLength(3);
    // replace_sm lands between the read and the lock (it bumps the revision, as MessageOps.replace does).
    await sms().updateOne(
      { _id: docs[1]._id, state: 'queued' },
      { $set: { 'payload.shortMessage': Buffer.from('new') }, $inc: { rev: 1 } },
    );
    const [got] = await lockBatch(sms(), [{ destKey: 'a', docs: batch, owner: 'w1', token: 'tok' }], 30_000, clock.dbNow());
    expect([...got].sort()).toEqual([docs[0]._id.toHexString(), docs[2]._id.toHexString()].sort());
    // Through a whole round: the replaced text is what goes, in order.
    await releaseClaims(sms(), [{ ids: docs.map((d) => d._id), token: 'tok' }]);
    await round().run();
    expect(sender.sent.map((s) => s.text)).toEqual(['a#0', 'new', 'a#2']);
  });

  it('racing claimers never share a message or a destination', async () => {
    const dests = Array.from({ length: 20 }, (_, i) => `d${i}`);
    await insertSms(
      handle.db,
      dests.flatMap((d, i) => makeSeries(d, 1 + (i % 5), t0)),
    );
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

  it('newToken gives distinct tokens', () => {
    expect(new Set(Array.from({ length: 100 }, newToken)).size).toBe(100);
  });
});
