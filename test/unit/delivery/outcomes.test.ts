import { describe, expect, it } from 'vitest';
import { backoffMs, DEFAULT_DELIVERY_OPTIONS, resolveDeliveryOptions, retryAt } from '../../../src/delivery/index.ts';
import { duePrefix, updateFor } from '../../../src/protocol/index.ts';
import { makeSms } from '../../support/sms-factory.ts';

const options = DEFAULT_DELIVERY_OPTIONS;
const now = new Date(Date.UTC(2026, 0, 2));

describe('retry schedule', () => {
  it('starts at 1 minute, doubles, and caps at 1 hour', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((n) => backoffMs(n, options) / 60_000)).toEqual([1, 2, 4, 8, 16, 32, 60, 60, 60]);
  });

  it('never schedules a retry after the message expires', () => {
    const sms = makeSms({ attempts: 6, validUntil: new Date(now.getTime() + 10 * 60_000) });
    expect(retryAt(sms, now, options)).toEqual(sms.validUntil);
    expect(retryAt({ ...sms, attempts: 0, validUntil: new Date(now.getTime() + 3600_000) }, now, options)).toEqual(
      new Date(now.getTime() + 60_000),
    );
  });

  it('rejects nonsense options with every problem listed', () => {
    expect(() => resolveDeliveryOptions({ leaseMs: 0, batchSize: -1, leaseGraceMs: -1 })).toThrow(/leaseMs.*batchSize.*leaseGraceMs/);
    expect(resolveDeliveryOptions({ leaseMs: 5000 }).leaseMs).toBe(5000);
  });
});

describe('outcome updates', () => {
  const ctx = { now, by: 'w1', historyLimit: 3 };

  it('a temporary failure requeues with attempts+1 at the given time, keeping history bounded', () => {
    const sms = makeSms({ attempts: 2, validUntil: new Date(now.getTime() + 86_400_000) });
    const at = new Date(now.getTime() + 4 * 60_000);
    const update = updateFor(sms, { kind: 'retry', status: 0x58, connector: 'c1', error: 'throttled', at }, ctx);
    expect(update.$set.state).toBe('queued');
    expect(update.$set.nextAttemptAt).toEqual(at);
    expect(update.$inc).toEqual({ attempts: 1 });
    expect(update.$unset).toHaveProperty('lock');
    expect(update.$unset).toHaveProperty('progress');
    expect(update.$push.history.$slice).toBe(-3);
    expect(update.$push.history.$each[0]).toMatchObject({ outcome: 'retry', status: 0x58, connector: 'c1', by: 'w1' });
  });

  it('a retry after some parts were accepted keeps them, so only the rest is sent again', () => {
    const progress = { connector: 'c1', remoteIds: ['p1'] };
    const update = updateFor(makeSms(), { kind: 'retry', error: 'throttled', at: now, progress }, ctx);
    expect(update.$set.progress).toEqual(progress);
    expect(update.$unset).not.toHaveProperty('progress');
  });

  it('the attempt limit is final and says so', () => {
    const update = updateFor(makeSms(), { kind: 'failed', error: 'attempt limit reached (30): timeout', attemptLimit: true }, ctx);
    expect(update.$set).toMatchObject({ state: 'undeliverable', finalAt: now });
    expect(update.$push.history.$each[0]).toMatchObject({ outcome: 'attempt-limit' });
  });

  it("acceptance records every part's remote id; to an ESME it is final; permanent failure and expiry are final", () => {
    const sms = makeSms();
    const ok = updateFor(sms, { kind: 'accepted', connector: 'c1', remoteIds: ['abc', 'def'], final: false }, ctx);
    expect(ok.$set).toMatchObject({ state: 'submitted', remote: { connector: 'c1', messageId: 'abc', otherIds: ['def'] } });
    expect(ok.$unset).toHaveProperty('progress');
    expect(updateFor(sms, { kind: 'accepted', connector: 'esme:1', remoteIds: [''], final: true }, ctx).$set).toMatchObject({
      state: 'delivered',
      finalAt: now,
    });
    expect(updateFor(sms, { kind: 'failed', status: 0x0b, error: 'bad dest' }, ctx).$set).toMatchObject({
      state: 'undeliverable',
      error: { status: 0x0b },
    });
    expect(updateFor(sms, { kind: 'expired' }, ctx).$set).toMatchObject({ state: 'expired', finalAt: now });
    const deferred = updateFor(sms, { kind: 'deferred', until: new Date(now.getTime() + 5) }, ctx);
    expect(deferred.$set).toEqual({ state: 'queued', nextAttemptAt: new Date(now.getTime() + 5) });
    expect(deferred.$inc).toBeUndefined();
  });
});

describe('the due prefix of a destination', () => {
  const at = (ms: number) => new Date(now.getTime() + ms);
  it('is every due message up to the first that is not due; a head not due blocks all and says until when', () => {
    const [a, b, c, d] = [0, 1, 2, 3].map((i) => makeSms({ destKey: 'x', arrivedAt: at(i), nextAttemptAt: at(i) }));
    expect(duePrefix([a, b, c, d], now).batch).toEqual([a]);
    expect(duePrefix([a, b, c, d], at(5)).batch).toEqual([a, b, c, d]);
    const late = { ...b, nextAttemptAt: at(60_000) };
    expect(duePrefix([a, late, c], at(5))).toEqual({ batch: [a] });
    expect(duePrefix([late, c], at(5))).toEqual({ batch: [], blockedUntil: at(60_000) });
  });
});
