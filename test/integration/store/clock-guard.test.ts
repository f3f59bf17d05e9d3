import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../../src/domain/index.ts';
import { createLogger } from '../../../src/logging/index.ts';
import { ClockGuard } from '../../../src/store/index.ts';
import { useTestDb } from '../../support/mongo.ts';
import { until } from '../../support/until.ts';

/** This host's clock, off by `shiftMs` (what faketime does to a whole process). */
function shiftedClock(shift: { ms: number }): Clock {
  return { now: () => new Date(Date.now() + shift.ms), monotonic: () => systemClock.monotonic(), dbNow: () => systemClock.dbNow() };
}

describe('ClockGuard: the clock offset from the database', () => {
  const handle = useTestDb('clock_guard');
  const appName = 'clock-guard-slow-hello';
  let slowClient: MongoClient;
  beforeAll(async () => {
    slowClient = new MongoClient(handle.uri, { appName });
    await slowClient.connect();
  });
  afterAll(async () => {
    await handle.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
    await slowClient?.close();
  });

  it('refuses while this host is off by more than the bound, and resumes within its re-check period once fixed', async () => {
    const shift = { ms: 10_000 };
    const guard = new ClockGuard(handle.db, shiftedClock(shift), createLogger('test'), {
      maxOffsetMs: 2_000,
      intervalMs: 60_000,
      recheckMs: 50,
    });
    try {
      await guard.start();
      expect(guard.ok).toBe(false);
      expect(guard.last!.offsetMs).toBeLessThan(-8_000);
      shift.ms = 0;
      // Well before the 60 s interval: while out of bounds it measures every recheckMs.
      await until(() => guard.ok, 5_000, 'the guard to clear the fixed clock');
      expect(Math.abs(guard.last!.offsetMs)).toBeLessThan(2_000);
    } finally {
      await guard.close();
    }
  });

  it('lets a measurement whose round trip is too slow to be precise decide nothing', async () => {
    const shift = { ms: 0 };
    const guard = new ClockGuard(slowClient.db(handle.dbName), shiftedClock(shift), createLogger('test'), {
      maxOffsetMs: 100,
      intervalMs: 60_000,
      recheckMs: 60_000,
    });
    try {
      expect(await guard.check()).toBeDefined();
      expect(guard.ok).toBe(true);
      const before = guard.last;
      // Every hello of this client now takes 400 ms: the offset is only known within 200 ms, over the bound.
      await handle.client.db('admin').command({
        configureFailPoint: 'failCommand',
        mode: 'alwaysOn',
        data: { failCommands: ['hello', 'isMaster'], blockConnection: true, blockTimeMS: 400, appName },
      });
      shift.ms = 5_000;
      expect(await guard.check()).toBeUndefined();
      expect(guard.ok).toBe(true);
      expect(guard.last).toBe(before);
      await handle.client.db('admin').command({ configureFailPoint: 'failCommand', mode: 'off' });
      // A precise measurement still decides.
      expect(await guard.check()).toBeDefined();
      expect(guard.ok).toBe(false);
    } finally {
      await guard.close();
    }
  });
});
