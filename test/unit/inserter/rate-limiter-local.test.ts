import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/index.ts';
import { silentLogger } from '../../../src/logging/index.ts';
import { createRateLimiter, defaultLeaseSize } from '../../../src/throttle/index.ts';

describe('rate limiter without Redis', () => {
  it('allows tps units per second per key, then refuses until the next second', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0, 0));
    const limiter = createRateLimiter({ keyPrefix: 't', logger: silentLogger, clock });
    expect(limiter.mode).toBe('local');
    const results = await Promise.all(Array.from({ length: 12 }, () => limiter.tryAcquire('a', 10)));
    expect(results.filter(Boolean)).toHaveLength(10);
    expect(await limiter.tryAcquire('b', 10)).toBe(true);
    clock.advance(1000);
    expect(await limiter.tryAcquire('a', 10)).toBe(true);
    await limiter.close();
  });

  it('treats tps 0 as unlimited', async () => {
    const limiter = createRateLimiter({ keyPrefix: 't', logger: silentLogger });
    for (let i = 0; i < 1000; i++) expect(await limiter.tryAcquire('a', 0)).toBe(true);
  });

  it('leases a small share of the limit per Redis round trip', () => {
    expect(defaultLeaseSize(5)).toBe(1);
    expect(defaultLeaseSize(1000)).toBe(50);
    expect(defaultLeaseSize(100_000)).toBe(200);
  });
});
