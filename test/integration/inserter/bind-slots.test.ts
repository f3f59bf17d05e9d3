import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createBindSlots } from '../../../src/inserter/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { testRedisUrl, useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';
import { until } from '../../support/until.ts';

const t = useTestDb('inserter_bind_slots');
const redisUrl = testRedisUrl();
const cleanup: (() => Promise<unknown> | void)[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn();
});

async function redisClient(): Promise<Redis> {
  const redis = new Redis(redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
  redis.on('error', () => {});
  await redis.connect();
  cleanup.push(() => redis.disconnect());
  return redis;
}

describe('max binds across inserters (Redis)', () => {
  it.skipIf(!redisUrl)('counts binds of one account on every inserter', async () => {
    const keyPrefix = `test:binds:${randomBytes(4).toString('hex')}`;
    const runs: RunningInserter[] = [];
    for (let i = 0; i < 2; i++) {
      const bindSlots = createBindSlots({ redis: await redisClient(), keyPrefix, logger: silentLogger });
      const run = await startInserter(t.db, { accounts: [{ systemId: 'multi', password: 'pw', maxBinds: 2 }], bindSlots });
      runs.push(run);
      cleanup.push(() => run.stop());
    }
    const a1 = await TestEsme.bound(runs[0].port, 'multi', 'pw');
    const b1 = await TestEsme.bound(runs[1].port, 'multi', 'pw');
    const a2 = await TestEsme.connect(runs[0].port);
    cleanup.push(
      () => a1.close(),
      () => b1.close(),
      () => a2.close(),
    );
    expect((await a2.request('bind_transmitter', { system_id: 'multi', password: 'pw' })).command_status).toBe(
      CommandStatus.ESME_RBINDFAIL,
    );
    b1.close();
    await b1.waitClosed();
    await sleep(100);
    expect((await a2.request('bind_transmitter', { system_id: 'multi', password: 'pw' })).command_status).toBe(0);
  });

  it.skipIf(!redisUrl)("a vanished inserter's slots expire", async () => {
    const keyPrefix = `test:binds:${randomBytes(4).toString('hex')}`;
    const crashed = await redisClient();
    const gone = createBindSlots({ redis: crashed, keyPrefix, logger: silentLogger, ttlMs: 300 });
    expect(await gone.acquire('acct', 's1', 1)).toBe(true);
    crashed.disconnect(); // the process died: nobody refreshes or releases its slot
    const live = createBindSlots({ redis: await redisClient(), keyPrefix, logger: silentLogger, ttlMs: 300 });
    cleanup.push(
      () => live.close(),
      () => gone.close(),
    );
    expect(await live.acquire('acct', 's2', 1)).toBe(false);
    await until(() => live.acquire('acct', 's2', 1), 5_000, 'the vanished slot expired');
  });

  it.skipIf(!redisUrl)('keeps live slots alive past the TTL', async () => {
    const keyPrefix = `test:binds:${randomBytes(4).toString('hex')}`;
    const slots = createBindSlots({ redis: await redisClient(), keyPrefix, logger: silentLogger, ttlMs: 300 });
    const other = createBindSlots({ redis: await redisClient(), keyPrefix, logger: silentLogger, ttlMs: 300 });
    cleanup.push(
      () => slots.close(),
      () => other.close(),
    );
    expect(await slots.acquire('acct', 's1', 1)).toBe(true);
    await sleep(700);
    expect(await other.acquire('acct', 's9', 1)).toBe(false);
    slots.release('acct', 's1');
    await until(() => other.acquire('acct', 's9', 1), 5_000, 'the released slot free on the other inserter');
  });
});

describe('max binds without Redis', () => {
  it('counts per process', async () => {
    const slots = createBindSlots({ logger: silentLogger });
    expect(await slots.acquire('a', 's1', 1)).toBe(true);
    expect(await slots.acquire('a', 's2', 1)).toBe(false);
    slots.release('a', 's1');
    expect(await slots.acquire('a', 's2', 1)).toBe(true);
    await slots.close();
  });
});
