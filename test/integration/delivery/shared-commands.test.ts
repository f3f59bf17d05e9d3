import { describe, expect, it, beforeEach } from 'vitest';
import { ManualClock, type LockDocument, type SmsDocument } from '../../../src/domain/index.ts';
import { Coalescer } from '../../../src/delivery/index.ts';
import { lockBatch, readPending } from '../../../src/protocol/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSeries, textOf } from '../../support/sms-factory.ts';

const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
const filter = { 'target.kind': 'connector' } as const;

// The commands the lanes of one process share (group commit): each lane must get exactly the
// answer it would have had alone.
describe('commands shared by the lanes of a deliverer', () => {
  const handle = useTestDb('delivery_shared_commands');
  let clock: ManualClock;
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);
  const locks = () => handle.db.collection<LockDocument>(Collections.locks);
  const read = (destKeys: string[], limit: number) => readPending(sms(), { destKeys, limit, claimFilter: filter, now: clock.now() });

  beforeEach(async () => {
    await ensureSchema(handle.db);
    await sms().deleteMany({});
    await locks().deleteMany({});
    clock = new ManualClock(t0.getTime() + 1000);
  });

  it('one read serves several destinations, each its oldest waiting messages in arrival order, at most the limit', async () => {
    await insertSms(handle.db, [
      ...makeSeries('a', 6, t0),
      ...makeSeries('b', 2, new Date(t0.getTime() + 100)),
      ...makeSeries('c', 1, new Date(t0.getTime() + 60_000)), // backing off: listed (it holds what comes after it)
      ...makeSeries('s', 1, t0, { scheduledAt: new Date(t0.getTime() + 60_000), nextAttemptAt: new Date(t0.getTime() + 60_000) }), // scheduled: not yet arrived
    ]);
    const [a, b, c, s, none] = await read(['a', 'b', 'c', 's', 'none'], 4);
    expect(a.map(textOf)).toEqual(['a#0', 'a#1', 'a#2', 'a#3']);
    expect(b.map(textOf)).toEqual(['b#0', 'b#1']);
    expect(c.map(textOf)).toEqual(['c#0']);
    expect(s).toEqual([]);
    expect(none).toEqual([]);
  });

  it('a destination crowded out by the overall limit is read on its own', async () => {
    // 'hot' has many older messages: the shared query (limit 2 × 2 destinations × 2 = 8) returns only hot's.
    await insertSms(handle.db, [...makeSeries('hot', 20, t0), ...makeSeries('late', 3, new Date(t0.getTime() + 500))]);
    const [hot, late] = await read(['hot', 'late'], 2);
    expect(hot.map(textOf)).toEqual(['hot#0', 'hot#1']);
    expect(late.map(textOf)).toEqual(['late#0', 'late#1']);
  });

  it('one lock of several batches; each learns which of its messages it got', async () => {
    const docs = [...makeSeries('a', 2, t0), ...makeSeries('b', 2, t0)];
    await insertSms(handle.db, docs);
    // b#1 was finished meanwhile (another holder after our lease ran out): no longer ours to take.
    await sms().updateOne({ _id: docs[3]._id }, { $set: { state: 'submitted' } });
    const [gotA, gotB] = await lockBatch(
      sms(),
      [
        { destKey: 'a', docs: [docs[0], docs[1]], owner: 'w1', token: 'ta' },
        { destKey: 'b', docs: [docs[2], docs[3]], owner: 'w1', token: 'tb' },
      ],
      30_000,
      clock.dbNow(),
    );
    expect([...gotA].sort()).toEqual([docs[0]._id.toHexString(), docs[1]._id.toHexString()].sort());
    expect([...gotB]).toEqual([docs[2]._id.toHexString()]);
    expect((await sms().findOne({ _id: docs[2]._id }))?.lock).toMatchObject({
      owner: 'w1',
      token: 'tb',
      at: clock.now(),
      leaseUntil: new Date(clock.now().getTime() + 30_000),
    });
    expect((await sms().findOne({ _id: docs[3]._id }))?.state).toBe('submitted');
  });

  it('the coalescer sends what is asked in one turn as one group, and fails only the request that failed', async () => {
    const groups: number[][] = [];
    const c = new Coalescer<number, number>(async (xs) => {
      groups.push(xs);
      return xs.map((x) => (x < 0 ? new Error(`bad ${x}`) : x * 2));
    });
    const answers = await Promise.allSettled([c.submit(1), c.submit(-1), c.submit(3)]);
    expect(groups).toEqual([[1, -1, 3]]);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : (a.reason as Error).message))).toEqual([2, 'bad -1', 6]);
    // While a group is in flight, new requests wait for the next group.
    const first = c.submit(5);
    await new Promise((resolve) => setImmediate(resolve));
    const second = c.submit(7);
    expect(await Promise.all([first, second])).toEqual([10, 14]);
    expect(groups.slice(1)).toEqual([[5], [7]]);
  });
});
