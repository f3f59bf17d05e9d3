import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { BindGuard } from '../../../src/inserter/bind-guard.ts';

describe('BindGuard', () => {
  it('slows down after a few failures, then refuses for a while', () => {
    const clock = new ManualClock();
    const guard = new BindGuard({ slowAfter: 2, refuseAfter: 4, refuseForMs: 10_000, windowMs: 60_000 }, clock);
    const keys = ['addr:1.2.3.4', 'sys:acme'];
    expect(guard.check(keys)).toEqual({ refuse: false, delayMs: 0 });
    guard.recordFailure(keys);
    expect(guard.check(keys).delayMs).toBe(0);
    guard.recordFailure(keys);
    expect(guard.check(keys)).toEqual({ refuse: false, delayMs: 250 });
    guard.recordFailure(keys);
    expect(guard.check(keys).delayMs).toBe(500);
    expect(guard.recordFailure(keys)).toEqual(keys);
    expect(guard.check(keys).refuse).toBe(true);
    // Another system_id from the same address is refused too; the same system_id from elsewhere as well.
    expect(guard.check(['addr:1.2.3.4', 'sys:other']).refuse).toBe(true);
    expect(guard.check(['addr:9.9.9.9', 'sys:acme']).refuse).toBe(true);
    expect(guard.check(['addr:9.9.9.9', 'sys:other']).refuse).toBe(false);
    clock.advance(10_001);
    expect(guard.check(keys).refuse).toBe(false);
  });

  it('forgets failures after the window and on success', () => {
    const clock = new ManualClock();
    const guard = new BindGuard({ slowAfter: 1, windowMs: 1_000 }, clock);
    guard.recordFailure(['k']);
    expect(guard.check(['k']).delayMs).toBeGreaterThan(0);
    clock.advance(1_001);
    expect(guard.check(['k']).delayMs).toBe(0);
    guard.recordFailure(['k']);
    guard.recordSuccess(['k']);
    expect(guard.check(['k']).delayMs).toBe(0);
  });

  it('keeps memory bounded under many distinct addresses', () => {
    const guard = new BindGuard({ maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) guard.recordFailure([`addr:${i}`]);
    expect(guard.size).toBeLessThanOrEqual(100);
  });
});

describe('BindGuard concurrency', () => {
  it('lets only a few password checks run at once per key', () => {
    const guard = new BindGuard({ maxConcurrentPerKey: 2 });
    expect(guard.begin(['addr:a', 'sys:x'])).toBe(true);
    expect(guard.begin(['addr:a', 'sys:y'])).toBe(true);
    expect(guard.begin(['addr:a', 'sys:z'])).toBe(false);
    expect(guard.begin(['addr:b', 'sys:z'])).toBe(true); // nothing was claimed by the refused call
    expect(guard.begin(['addr:c', 'sys:z'])).toBe(true);
    expect(guard.begin(['addr:d', 'sys:z'])).toBe(false); // sys:z is at its limit from two addresses
    guard.end(['addr:a', 'sys:x']);
    expect(guard.begin(['addr:a', 'sys:w'])).toBe(true); // addr:a has a free slot again
  });
});
