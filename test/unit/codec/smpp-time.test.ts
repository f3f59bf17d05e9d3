import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  SmppTimeError,
  formatSmppAbsolute,
  formatSmppRelative,
  formatSmppTime,
  parseSmppTime,
  parseSmppTimeString,
} from '../../../src/codec/index.ts';
import { anyUnits, onlyCodecErrors, vectors } from './support.ts';

const NOW = new Date('2025-06-30T12:00:00.000Z');

function errorOf(fn: () => unknown): SmppTimeError {
  try {
    fn();
  } catch (e) {
    return e as SmppTimeError;
  }
  throw new Error('expected an error');
}

describe('SMPP time format', () => {
  it.each(vectors.smppTimes)('$value from $now is $instant', ({ value, now, instant }) => {
    expect(parseSmppTime(value, new Date(now), 'validity_period')?.toISOString()).toBe(instant);
  });

  it('empty means "not given"', () => {
    expect(parseSmppTime('', NOW, 'schedule_delivery_time')).toBeNull();
    expect(parseSmppTime(null, NOW, 'schedule_delivery_time')).toBeNull();
  });

  it('quarter-hour offsets: the same instant written in +08:45 and -03:30', () => {
    const a = parseSmppTime('250630204500035+', NOW, 'validity_period');
    const b = parseSmppTime('250630083000014-', NOW, 'validity_period');
    expect(a?.toISOString()).toBe('2025-06-30T12:00:00.000Z');
    expect(b?.toISOString()).toBe('2025-06-30T12:00:00.000Z');
  });

  it('relative times add calendar parts to now', () => {
    expect(parseSmppTime('000100000000000R', new Date('2025-01-31T00:00:00Z'), 'validity_period')?.toISOString()).toBe(
      '2025-03-03T00:00:00.000Z',
    );
    expect(parseSmppTime('000002000000000R', NOW, 'validity_period')?.toISOString()).toBe('2025-07-02T12:00:00.000Z');
  });

  it.each([
    ['too short', '2506301200000'],
    ['bad last character', '250630120000000X'],
    ['month 13', '251330120000000+'],
    ['30 February', '250230120000000+'],
    ['hour 24', '250630240000000+'],
    ['offset beyond 48 quarter hours', '250630120000049+'],
    ['letters', '25063O120000000+'],
    ['non-digit tnn in relative', '0000010000000x0R'],
  ])('rejects %s with an error naming the field', (_name, value) => {
    const v = errorOf(() => parseSmppTime(value, NOW, 'validity_period'));
    expect(v).toBeInstanceOf(SmppTimeError);
    expect(v.code).toBe('INVALID_TIME');
    expect(v.field).toBe('validity_period');
    expect(v.commandStatusName).toBe('ESME_RINVEXPIRY');
    const s = errorOf(() => parseSmppTime(value, NOW, 'schedule_delivery_time'));
    expect(s.field).toBe('schedule_delivery_time');
    expect(s.commandStatusName).toBe('ESME_RINVSCHED');
  });

  it('formats absolute times in UTC or a quarter-hour offset', () => {
    const d = new Date('2025-06-30T12:00:00.700Z');
    expect(formatSmppAbsolute(d)).toBe('250630120000700+');
    expect(formatSmppAbsolute(d, 8)).toBe('250630140000708+');
    expect(formatSmppAbsolute(d, -14)).toBe('250630083000714-');
    expect(() => formatSmppAbsolute(new Date('1999-12-31T00:00:00Z'))).toThrow(SmppTimeError);
    expect(() => formatSmppAbsolute(d, 49)).toThrow(SmppTimeError);
  });

  it('formats relative times from parts or a duration', () => {
    expect(formatSmppRelative(2 * 86400_000 + 3 * 3600_000 + 4 * 60_000 + 5_000)).toBe('000002030405000R');
    expect(formatSmppRelative({ years: 1, months: 2, days: 3, hours: 4, minutes: 5, seconds: 6 })).toBe('010203040506000R');
    expect(() => formatSmppRelative(100 * 86400_000)).toThrow(SmppTimeError);
  });

  it('format(parse(x)) = x for valid absolute and relative strings (property)', () => {
    const absolute = fc
      .record({
        date: fc.date({ min: new Date('2000-01-02T00:00:00Z'), max: new Date('2099-12-30T00:00:00Z'), noInvalidDate: true }),
        q: fc.integer({ min: -48, max: 48 }),
      })
      .map(({ date, q }) => formatSmppAbsolute(date, q));
    const relative = fc
      .array(fc.integer({ min: 0, max: 99 }), { minLength: 6, maxLength: 6 })
      .map((a) => a.map((n) => String(n).padStart(2, '0')).join('') + '000R');
    fc.assert(
      fc.property(fc.oneof(absolute, relative), (value) => {
        const parsed = parseSmppTimeString(value, 'validity_period');
        expect(parsed).not.toBeNull();
        expect(formatSmppTime(parsed!)).toBe(value);
      }),
    );
  });

  it('absolute instants survive format then parse at any offset (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('2000-01-02T00:00:00Z'), max: new Date('2099-12-30T00:00:00Z'), noInvalidDate: true }),
        fc.integer({ min: -48, max: 48 }),
        (date, q) => {
          const back = parseSmppTime(formatSmppAbsolute(date, q), NOW, 'schedule_delivery_time')!;
          expect(back.getTime()).toBe(date.getTime() - (date.getTime() % 100));
        },
      ),
    );
  });

  it('only returns or throws CodecError for random strings (fuzz)', () => {
    const timeish = fc
      .array(fc.constantFrom('0', '1', '2', '5', '9', '+', '-', 'R', 'x'), { minLength: 14, maxLength: 17 })
      .map((a) => a.join(''));
    fc.assert(
      fc.property(fc.oneof(anyUnits(20), timeish), (s) => {
        onlyCodecErrors(() => parseSmppTime(s, NOW, 'validity_period'));
      }),
      { numRuns: 300 },
    );
  });
});
