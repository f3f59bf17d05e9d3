import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/index.ts';
import { createLogger, silentLogger } from '../../../src/logging/index.ts';
import { createRateLimiter } from '../../../src/throttle/index.ts';
import { freePort } from '../../support/free-port.ts';
import { testRedisUrl } from '../../support/mongo.ts';

const redisUrl = testRedisUrl();

describe('rate limiter with Redis', () => {
  it.skipIf(!redisUrl)('shares one budget between limiters (replicas) per key and second', async () => {
    const keyPrefix = `test:rl:${randomBytes(4).toString('hex')}`;
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const a = createRateLimiter({ redis: redisUrl, keyPrefix, logger: silentLogger, clock });
    const b = createRateLimiter({ redis: redisUrl, keyPrefix, logger: silentLogger, clock });
    await Promise.all([a.ready(), b.ready()]);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? a : b).tryAcquire('acct', 40)));
    expect(results.filter(Boolean)).toHaveLength(40);
    expect(await a.tryAcquire('other', 40)).toBe(true);
    clock.advance(1000);
    expect(await b.tryAcquire('acct', 40)).toBe(true);
    await a.close();
    await b.close();
  });

  it('falls back to a per-process limit, with a warning, when Redis is unreachable', async () => {
    const port = await freePort();
    const lines: string[] = [];
    const logger = createLogger('test');
    const warn = logger.warn.bind(logger);
    logger.warn = ((obj: unknown, msg?: string) => {
      lines.push(String(msg ?? obj));
      return warn(obj as object, msg);
    }) as typeof logger.warn;
    const limiter = createRateLimiter({ redis: `redis://127.0.0.1:${port}`, keyPrefix: 'x', logger });
    const results = [];
    for (let i = 0; i < 8; i++) results.push(await limiter.tryAcquire('k', 5));
    expect(results.filter(Boolean).length).toBeLessThanOrEqual(5 * 2); // at most two windows if a second ticked
    expect(results.filter(Boolean).length).toBeGreaterThanOrEqual(5);
    expect(lines.some((l) => /per process/.test(l))).toBe(true);
    await limiter.close();
  });
});
