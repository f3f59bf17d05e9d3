import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { CommandStatus } from '../../../src/smpp/index.ts';
import { testRedisUrl, useTestDb } from '../../support/mongo.ts';
import { startInserter, TestEsme, type RunningInserter } from './harness.ts';

const t = useTestDb('inserter_throttle');
const redisUrl = testRedisUrl();
const running: RunningInserter[] = [];
const esmes: TestEsme[] = [];

afterAll(async () => {
  for (const esme of esmes) esme.close();
  for (const run of running) await run.stop();
});

/** Waits until just after a second boundary, so a burst stays inside one fixed window. */
async function startOfSecond(): Promise<void> {
  const ms = Date.now() % 1000;
  await new Promise((r) => setTimeout(r, 1000 - ms + 20));
}

/** Sends `total` submits at once; returns their statuses and how many one-second windows they spanned. */
async function burst(clients: TestEsme[], total: number): Promise<{ statuses: number[]; windows: number }> {
  await startOfSecond();
  const startedAt = Date.now();
  const sends = Array.from({ length: total }, (_, i) => clients[i % clients.length].submit({}));
  const statuses = (await Promise.all(sends)).map((r) => r.command_status);
  // On a loaded machine a burst may cross a second boundary: the next window's budget then applies too.
  const windows = Math.floor(Date.now() / 1000) - Math.floor(startedAt / 1000) + 1;
  return { statuses, windows };
}

function expectLimited({ statuses, windows }: { statuses: number[]; windows: number }, tps: number): void {
  const ok = statuses.filter((s) => s === 0).length;
  expect(ok).toBeGreaterThanOrEqual(Math.min(tps, statuses.length));
  expect(ok).toBeLessThanOrEqual(tps * windows);
  expect(statuses.filter((s) => s === CommandStatus.ESME_RTHROTTLED)).toHaveLength(statuses.length - ok);
  if (windows === 1) expect(ok).toBe(tps);
}

describe('per-account TPS', () => {
  it.skipIf(!redisUrl)('is shared by two inserters through Redis: ESME_RTHROTTLED beyond the limit', async () => {
    const keyPrefix = `test:tps:${randomBytes(4).toString('hex')}`;
    const a = await startInserter(t.db, { accounts: [{ systemId: 'shared', password: 'pw', tps: 10, maxBinds: 4 }], redisUrl, keyPrefix });
    const b = await startInserter(t.db, { redisUrl, keyPrefix });
    running.push(a, b);
    expect(a.limiter.mode).toBe('redis');
    const clients = [await TestEsme.bound(a.port, 'shared', 'pw'), await TestEsme.bound(b.port, 'shared', 'pw')];
    esmes.push(...clients);
    expectLimited(await burst(clients, 30), 10);
    // The next second has a fresh budget.
    const next = await burst(clients, 4);
    expect(next.statuses).toEqual([0, 0, 0, 0]);
  });

  it('without Redis is enforced per process', async () => {
    const run = await startInserter(t.db, { accounts: [{ systemId: 'solo', password: 'pw', tps: 5 }] });
    running.push(run);
    expect(run.limiter.mode).toBe('local');
    const client = await TestEsme.bound(run.port, 'solo', 'pw');
    esmes.push(client);
    expectLimited(await burst([client], 12), 5);
  });
});

describe('per-session window', () => {
  it('stops reading a session with `windowSize` unanswered PDUs until responses drain', async () => {
    // A slow store (each batch waits 200 ms) makes the window visible: never more than 5 in a batch.
    const run = await startInserter(t.db, {
      accounts: [{ systemId: 'win', password: 'pw' }],
      inserter: { windowSize: 5 },
      writer: { maxDelayMs: 200, maxBatchDocs: 1000 },
    });
    running.push(run);
    const client = await TestEsme.bound(run.port, 'win', 'pw');
    esmes.push(client);
    const started = Date.now();
    const statuses = (await Promise.all(Array.from({ length: 20 }, () => client.submit({}, 10_000)))).map((r) => r.command_status);
    expect(statuses.every((s) => s === 0)).toBe(true);
    expect(run.writer.stats.largestBatch).toBeLessThanOrEqual(5);
    expect(run.writer.stats.batches).toBeGreaterThanOrEqual(4);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * 200 - 50);
  });
});
