import { beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, type LockDocument, type SmsDocument } from '../../../src/domain/index.ts';
import { CleanupPass } from '../../../src/cleanup/index.ts';
import { renewDestinations } from '../../../src/protocol/index.ts';
import { Collections, ensureSchema } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { insertSms, makeSms } from '../../support/sms-factory.ts';
import { createMetrics } from '../../../src/metrics/index.ts';

const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);

describe('cleanup pass', () => {
  const handle = useTestDb('delivery_cleanup');
  let clock: ManualClock;
  const sms = () => handle.db.collection<SmsDocument>(Collections.sms);
  const locks = () => handle.db.collection<LockDocument>(Collections.locks);

  beforeEach(async () => {
    await ensureSchema(handle.db);
    await sms().deleteMany({});
    await locks().deleteMany({});
    clock = new ManualClock(t0);
  });

  it('releases expired leases, expires overdue messages, marks the attempt limit, purges old final ones', async () => {
    const lease = (ms: number) => ({ owner: 'w', token: `t${ms}`, at: t0, leaseUntil: new Date(t0.getTime() + ms) });
    await insertSms(handle.db, [
      makeSms({ destKey: 'stale', state: 'locked', lock: lease(-5000) }),
      makeSms({ destKey: 'live', state: 'locked', lock: lease(30_000) }),
      makeSms({ destKey: 'old', validUntil: new Date(t0.getTime() - 1) }),
      makeSms({ destKey: 'tired', attempts: 5 }),
      makeSms({ destKey: 'done-long-ago', state: 'delivered', finalAt: new Date(t0.getTime() - 8 * 86_400_000) }),
      makeSms({ destKey: 'done-recently', state: 'delivered', finalAt: new Date(t0.getTime() - 86_400_000) }),
      makeSms({ destKey: 'waiting', state: 'submitted' }),
    ]);
    await locks().insertMany([
      { _id: 'stale', ...lease(-5000) },
      { _id: 'live', ...lease(30_000) },
    ]);
    const counts = await new CleanupPass(handle.db, clock, 'cleanup-test', createMetrics(), { maxAttempts: 5 }).run();
    expect(counts).toEqual({ messageLocksReleased: 1, destinationLocksReleased: 1, expired: 1, attemptLimit: 1, purged: 1, unanswered: 0 });
    const byDest = Object.fromEntries((await sms().find().toArray()).map((d) => [d.destKey, d]));
    expect(byDest.stale).toMatchObject({ state: 'queued' });
    expect(byDest.stale.lock).toBeUndefined();
    expect(byDest.live).toMatchObject({ state: 'locked', lock: { token: 't30000' } });
    expect(byDest.old).toMatchObject({ state: 'expired', finalAt: t0 });
    expect(byDest.tired).toMatchObject({ state: 'undeliverable' });
    expect(byDest['done-long-ago']).toBeUndefined();
    expect(byDest['done-recently']).toBeDefined();
    expect(byDest.waiting).toMatchObject({ state: 'submitted' });
    expect((await locks().find().toArray()).map((l) => l._id)).toEqual(['live']);
    // A second pass finds nothing more to do.
    expect(
      Object.values(await new CleanupPass(handle.db, clock, 'c2', createMetrics(), { maxAttempts: 5 }).run()).every((n) => n === 0),
    ).toBe(true);
  });

  it('is safe with concurrent cleanups and with a holder renewing at the same moment', async () => {
    const docs = Array.from({ length: 40 }, (_, i) =>
      makeSms({
        destKey: `d${i}`,
        state: 'locked',
        lock: { owner: 'w', token: `t${i}`, at: t0, leaseUntil: new Date(t0.getTime() + 1000) },
      }),
    );
    await insertSms(handle.db, docs);
    await locks().insertMany(
      docs.map((d, i) => ({ _id: d.destKey, owner: 'w', token: `t${i}`, at: t0, leaseUntil: new Date(t0.getTime() + 1000) })),
    );
    clock.advance(3001);
    // The holder of d0..d9 renews its destination locks while three cleanups run.
    const passes = [1, 2, 3].map((n) => new CleanupPass(handle.db, clock, `c${n}`, createMetrics(), { leaseGraceMs: 2000 }));
    const [renewed, ...results] = await Promise.all([
      Promise.all(
        docs
          .slice(0, 10)
          .map(async (d, i) => (await renewDestinations(locks(), [{ destKey: d.destKey, token: `t${i}` }], 30_000, clock.dbNow())) === 1),
      ),
      ...passes.map((p) => p.run()),
    ]);
    const released = (results as Awaited<ReturnType<CleanupPass['run']>>[]).reduce((sum, c) => sum + c.destinationLocksReleased, 0);
    const renewedCount = (renewed as boolean[]).filter(Boolean).length;
    // Every lock is either renewed (kept) or released exactly once, never both.
    expect(released + renewedCount).toBe(40);
    expect(await locks().countDocuments()).toBe(renewedCount);
    expect((results as Awaited<ReturnType<CleanupPass['run']>>[]).reduce((sum, c) => sum + c.messageLocksReleased, 0)).toBe(40);
  });
});
