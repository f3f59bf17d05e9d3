import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_DELIVERY_OPTIONS, resolveDeliveryOptions } from '../../../src/delivery/delivery-options.ts';
import { retryAt, updateFor } from '../../../src/delivery/outcome-writes.ts';
import { makeSms } from '../../support/sms-factory.ts';

const options = DEFAULT_DELIVERY_OPTIONS;
const now = new Date(Date.UTC(2026, 0, 2));

describe('retry schedule', () => {
  it('starts at 1 minute, doubles, and caps at 1 hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffMs(n, options) / 60_000)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it('never schedules a retry after the message expires', () => {
    const sms = makeSms({ attempts: 6, validUntil: new Date(now.getTime() + 10 * 60_000) });
    expect(retryAt(sms, { now, options })).toEqual(sms.validUntil);
    expect(retryAt({ ...sms, attempts: 0, validUntil: new Date(now.getTime() + 3600_000) }, { now, options })).toEqual(new Date(now.getTime() + 60_000));
  });

  it('rejects nonsense options with every problem listed', () => {
    expect(() => resolveDeliveryOptions({ leaseMs: 0, batchSize: -1 })).toThrow(/leaseMs.*batchSize/);
    expect(resolveDeliveryOptions({ leaseMs: 5000 }).leaseMs).toBe(5000);
  });
});

describe('outcome updates', () => {
  const ctx = { now, by: 'w1', options: { ...options, historyLimit: 3 } };

  it('a temporary failure requeues with attempts+1 and the backoff, keeping history bounded', () => {
    const sms = makeSms({ attempts: 2, validUntil: new Date(now.getTime() + 86_400_000) });
    const update = updateFor(sms, { kind: 'retry', outcome: { kind: 'temporary', status: 0x58, connector: 'c1', error: 'throttled' } }, ctx);
    expect(update.$set.state).toBe('queued');
    expect(update.$set.nextAttemptAt).toEqual(new Date(now.getTime() + 4 * 60_000));
    expect(update.$inc).toEqual({ attempts: 1 });
    expect(update.$unset).toHaveProperty('lock');
    expect(update.$push.history.$slice).toBe(-3);
    expect(update.$push.history.$each[0]).toMatchObject({ outcome: 'retry', status: 0x58, connector: 'c1', by: 'w1' });
  });

  it('the last allowed attempt failing makes the message undeliverable', () => {
    const sms = makeSms({ attempts: options.maxAttempts - 1 });
    const update = updateFor(sms, { kind: 'retry', outcome: { kind: 'temporary', error: 'timeout' } }, ctx);
    expect(update.$set.state).toBe('undeliverable');
    expect(update.$set.finalAt).toEqual(now);
    expect(update.$set.error.message).toMatch(/attempt limit/);
  });

  it('success records the remote id; permanent failure and expiry are final', () => {
    const sms = makeSms();
    const ok = updateFor(sms, { kind: 'submitted', outcome: { kind: 'accepted', connector: 'c1', remoteId: 'abc' } }, ctx);
    expect(ok.$set).toMatchObject({ state: 'submitted', remote: { connector: 'c1', messageId: 'abc' } });
    expect(updateFor(sms, { kind: 'failed', outcome: { kind: 'permanent', status: 0x0b, error: 'bad dest' } }, ctx).$set).toMatchObject({ state: 'undeliverable', error: { status: 0x0b } });
    expect(updateFor(sms, { kind: 'expired' }, ctx).$set).toMatchObject({ state: 'expired', finalAt: now });
    const deferred = updateFor(sms, { kind: 'deferred', until: new Date(now.getTime() + 5) }, ctx);
    expect(deferred.$set).toEqual({ state: 'queued', nextAttemptAt: new Date(now.getTime() + 5) });
    expect(deferred.$inc).toBeUndefined();
  });
});
