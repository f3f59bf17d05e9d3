import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/domain/index.ts';
import { BindGuard, bindGuardKeys } from '../../../src/inserter/index.ts';

describe('BindGuard', () => {
  it('slows down after a few failures, then refuses the address and the pair, never the system_id alone', () => {
    const clock = new ManualClock();
    const guard = new BindGuard({ slowAfter: 2, refuseAfter: 4, refuseForMs: 10_000, windowMs: 60_000 }, clock);
    const keys = bindGuardKeys('1.2.3.4', 'acme');
    expect(guard.check(keys)).toEqual({ refuse: false, delayMs: 0 });
    guard.recordFailure(keys);
    expect(guard.check(keys).delayMs).toBe(0);
    guard.recordFailure(keys);
    expect(guard.check(keys)).toEqual({ refuse: false, delayMs: 250 });
    guard.recordFailure(keys);
    expect(guard.check(keys).delayMs).toBe(500);
    expect(guard.recordFailure(keys)).toEqual(['pair:1.2.3.4|acme', 'addr:1.2.3.4']);
    expect(guard.check(keys).refuse).toBe(true);
    // The guessing address is refused whatever system_id it names…
    expect(guard.check(bindGuardKeys('1.2.3.4', 'other')).refuse).toBe(true);
    // …while the real ESME elsewhere is only slowed down (the system_id's failures), not locked out.
    expect(guard.check(bindGuardKeys('9.9.9.9', 'acme'))).toEqual({ refuse: false, delayMs: 1000 });
    expect(guard.check(bindGuardKeys('9.9.9.9', 'other'))).toEqual({ refuse: false, delayMs: 0 });
    clock.advance(10_001);
    expect(guard.check(keys).refuse).toBe(false);
  });

  it('a system_id is never refused however many addresses fail for it; the delay is capped', () => {
    const clock = new ManualClock();
    const guard = new BindGuard({ slowAfter: 3, refuseAfter: 10, maxDelayMs: 2_000 }, clock);
    for (let i = 0; i < 500; i++) guard.recordFailure(bindGuardKeys(`10.0.${i >> 8}.${i & 255}`, 'acme'));
    expect(guard.check(bindGuardKeys('192.0.2.1', 'acme'))).toEqual({ refuse: false, delayMs: 2_000 });
  });

  it('forgets failures after the window; a success clears the address and pair but not the system_id', () => {
    const clock = new ManualClock();
    const guard = new BindGuard({ slowAfter: 1, windowMs: 1_000 }, clock);
    guard.recordFailure(['k']);
    expect(guard.check(['k']).delayMs).toBeGreaterThan(0);
    clock.advance(1_001);
    expect(guard.check(['k']).delayMs).toBe(0);
    const keys = bindGuardKeys('1.2.3.4', 'acme');
    guard.recordFailure(keys);
    guard.recordSuccess(keys);
    expect(guard.check(bindGuardKeys('1.2.3.4', 'zzz')).delayMs).toBe(0);
    expect(guard.check(bindGuardKeys('5.6.7.8', 'acme')).delayMs).toBeGreaterThan(0);
  });

  it('keeps memory bounded under many distinct addresses', () => {
    const guard = new BindGuard({ maxKeys: 100 });
    for (let i = 0; i < 10_000; i++) guard.recordFailure([`addr:${i}`]);
    expect(guard.size).toBeLessThanOrEqual(100);
  });
});

describe('BindGuard concurrency', () => {
  it('lets only a few password checks run at once per address; the system_id is not limited', () => {
    const guard = new BindGuard({ maxConcurrentPerKey: 2 });
    expect(guard.begin(bindGuardKeys('a', 'x'))).toBe(true);
    expect(guard.begin(bindGuardKeys('a', 'y'))).toBe(true);
    expect(guard.begin(bindGuardKeys('a', 'z'))).toBe(false);
    expect(guard.begin(bindGuardKeys('b', 'z'))).toBe(true); // nothing was claimed by the refused call
    expect(guard.begin(bindGuardKeys('c', 'z'))).toBe(true);
    expect(guard.begin(bindGuardKeys('d', 'z'))).toBe(true); // a flood elsewhere takes no slot of z's ESME
    guard.end(bindGuardKeys('a', 'x'));
    expect(guard.begin(bindGuardKeys('a', 'w'))).toBe(true); // addr:a has a free slot again
  });
});
