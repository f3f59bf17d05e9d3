import { Binary, Long, ObjectId } from 'mongodb';
import { describe, expect, it } from 'vitest';
import { selectorOf } from '../../../src/cli/index.ts';
import { toPlain, formatDuration, REQUEUEABLE_STATES } from '../../../src/ops/index.ts';

describe('toPlain (--json output)', () => {
  it('turns BSON values into plain JSON values scripts can use', () => {
    const id = new ObjectId('6650a1f0c2b4e83f1d2a9b10');
    const at = new Date(Date.UTC(2026, 0, 2, 3, 4, 5));
    expect(
      toPlain({
        _id: id,
        at,
        body: new Binary(Buffer.from([0xde, 0xad])),
        n: Long.fromNumber(7),
        list: [id, { at }],
        missing: undefined,
        nil: null,
      }),
    ).toEqual({
      _id: '6650a1f0c2b4e83f1d2a9b10',
      at: '2026-01-02T03:04:05.000Z',
      body: 'dead',
      n: 7,
      list: ['6650a1f0c2b4e83f1d2a9b10', { at: '2026-01-02T03:04:05.000Z' }],
      nil: null,
    });
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0s'],
    [59, '59s'],
    [61, '1m01s'],
    [5400, '1h30m'],
    [90_061, '1d01h'],
    [-5, '0s'],
  ])('%d s -> %s', (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe('requeue selector', () => {
  it('wants exactly one of message id, --dest, --state', () => {
    expect(selectorOf({ messageId: 'abc' })).toEqual({ messageId: 'abc' });
    expect(selectorOf({ dest: '4477' })).toEqual({ destKey: '4477' });
    expect(selectorOf({ state: 'expired' })).toEqual({ state: 'expired' });
    expect(() => selectorOf({})).toThrow(/exactly one/);
    expect(() => selectorOf({ messageId: 'a', dest: 'b' })).toThrow(/exactly one/);
  });

  it('never lists locked or submitted as requeueable', () => {
    expect(REQUEUEABLE_STATES).not.toContain('locked');
    expect(REQUEUEABLE_STATES).not.toContain('submitted');
    expect(Object.isFrozen(REQUEUEABLE_STATES)).toBe(true);
  });
});
