/**
 * SMPP 3.4 time format (§7.1.1) for validity_period and schedule_delivery_time:
 *   absolute  YYMMDDhhmmsstnnp  t = tenths, nn = offset from UTC in quarter hours, p = '+' | '-'
 *   relative  YYMMDDhhmmss000R  an interval added to "now"
 * Errors are SmppTimeError, carrying the field so the inserter answers
 * ESME_RINVEXPIRY or ESME_RINVSCHED.
 */
import { SmppTimeError, type SmppTimeFieldName } from './errors.ts';

export interface SmppAbsoluteTime {
  readonly kind: 'absolute';
  /** Full year, 2000-2099. */
  readonly year: number;
  readonly month: number;
  readonly day: number;
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly tenths: number;
  /** Offset of the written local time from UTC, in quarter hours (-48..48). */
  readonly quarterHours: number;
}

export interface SmppRelativeTime {
  readonly kind: 'relative';
  readonly years: number;
  readonly months: number;
  readonly days: number;
  readonly hours: number;
  readonly minutes: number;
  readonly seconds: number;
}

export type SmppTime = SmppAbsoluteTime | SmppRelativeTime;

const DIGIT_0 = 48;

function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - DIGIT_0;
  const b = s.charCodeAt(i + 1) - DIGIT_0;
  return a < 0 || a > 9 || b < 0 || b > 9 ? -1 : a * 10 + b;
}

/** Parses the string form without resolving it; '' (and null) mean "not given" and return null. */
export function parseSmppTimeString(value: string | null | undefined, field: SmppTimeFieldName): SmppTime | null {
  if (value === null || value === undefined || value === '') return null;
  if (typeof value !== 'string') throw new SmppTimeError(field, String(value), 'not a string');
  if (value.length !== 16) throw new SmppTimeError(field, value, `must be 16 characters, got ${value.length}`);
  const parts: number[] = [];
  for (let i = 0; i < 12; i += 2) {
    const v = twoDigits(value, i);
    if (v < 0) throw new SmppTimeError(field, value, `characters ${i + 1}-${i + 2} are not digits`);
    parts.push(v);
  }
  const t = value.charCodeAt(12) - DIGIT_0;
  const nn = twoDigits(value, 13);
  if (t < 0 || t > 9 || nn < 0) throw new SmppTimeError(field, value, 'characters 13-15 (tnn) are not digits');
  const p = value[15];
  const [yy, mo, dd, hh, mi, ss] = parts;
  if (p === 'R') {
    return { kind: 'relative', years: yy, months: mo, days: dd, hours: hh, minutes: mi, seconds: ss };
  }
  if (p !== '+' && p !== '-') throw new SmppTimeError(field, value, `last character must be '+', '-' or 'R', got ${JSON.stringify(p)}`);
  if (mo < 1 || mo > 12) throw new SmppTimeError(field, value, `month ${mo} is not 01-12`);
  const daysInMonth = new Date(Date.UTC(2000 + yy, mo, 0)).getUTCDate();
  if (dd < 1 || dd > daysInMonth) throw new SmppTimeError(field, value, `day ${dd} is not in month ${mo}`);
  if (hh > 23) throw new SmppTimeError(field, value, `hour ${hh} is not 00-23`);
  if (mi > 59) throw new SmppTimeError(field, value, `minute ${mi} is not 00-59`);
  if (ss > 59) throw new SmppTimeError(field, value, `second ${ss} is not 00-59`);
  if (nn > 48) throw new SmppTimeError(field, value, `UTC offset ${nn} quarter hours exceeds 48`);
  return {
    kind: 'absolute',
    year: 2000 + yy,
    month: mo,
    day: dd,
    hour: hh,
    minute: mi,
    second: ss,
    tenths: t,
    quarterHours: p === '-' ? -nn : nn,
  };
}

/** The instant a parsed time denotes; relative times are added to `now` on the UTC calendar. */
export function resolveSmppTime(time: SmppTime, now: Date): Date {
  if (time.kind === 'relative') {
    return new Date(
      Date.UTC(
        now.getUTCFullYear() + time.years,
        now.getUTCMonth() + time.months,
        now.getUTCDate() + time.days,
        now.getUTCHours() + time.hours,
        now.getUTCMinutes() + time.minutes,
        now.getUTCSeconds() + time.seconds,
        now.getUTCMilliseconds(),
      ),
    );
  }
  const local = Date.UTC(time.year, time.month - 1, time.day, time.hour, time.minute, time.second, time.tenths * 100);
  return new Date(local - time.quarterHours * 15 * 60_000);
}

/** String -> instant (null when the field is empty). Invalid strings throw SmppTimeError for `field`. */
export function parseSmppTime(value: string | null | undefined, now: Date, field: SmppTimeFieldName): Date | null {
  const parsed = parseSmppTimeString(value, field);
  return parsed === null ? null : resolveSmppTime(parsed, now);
}

const pad2 = (n: number): string => (n < 10 ? '0' : '') + n;

/**
 * Absolute form of an instant, written in the local time of `quarterHours` (default UTC,
 * "00+"). Years outside 2000-2099 cannot be written and throw.
 */
export function formatSmppAbsolute(date: Date, quarterHours = 0, field: SmppTimeFieldName = 'validity_period'): string {
  if (!Number.isInteger(quarterHours) || quarterHours < -48 || quarterHours > 48) {
    throw new SmppTimeError(field, String(quarterHours), 'UTC offset must be -48..48 quarter hours');
  }
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new SmppTimeError(field, 'Invalid Date', 'not a valid date');
  const local = new Date(ms + quarterHours * 15 * 60_000);
  const year = local.getUTCFullYear();
  if (year < 2000 || year > 2099) throw new SmppTimeError(field, local.toISOString(), 'year outside 2000-2099');
  return (
    pad2(year % 100) +
    pad2(local.getUTCMonth() + 1) +
    pad2(local.getUTCDate()) +
    pad2(local.getUTCHours()) +
    pad2(local.getUTCMinutes()) +
    pad2(local.getUTCSeconds()) +
    Math.floor(local.getUTCMilliseconds() / 100) +
    pad2(Math.abs(quarterHours)) +
    (quarterHours < 0 ? '-' : '+')
  );
}

/** Relative form; accepts the parts or a duration in milliseconds (split into days/hours/minutes/seconds). */
export function formatSmppRelative(
  interval: Omit<SmppRelativeTime, 'kind'> | number,
  field: SmppTimeFieldName = 'validity_period',
): string {
  let r: Omit<SmppRelativeTime, 'kind'>;
  if (typeof interval === 'number') {
    if (!Number.isFinite(interval) || interval < 0) throw new SmppTimeError(field, String(interval), 'duration must be >= 0 ms');
    let s = Math.floor(interval / 1000);
    const seconds = s % 60;
    s = Math.floor(s / 60);
    const minutes = s % 60;
    s = Math.floor(s / 60);
    const hours = s % 24;
    const days = Math.floor(s / 24);
    r = { years: 0, months: 0, days, hours, minutes, seconds };
  } else {
    r = interval;
  }
  const vals = [r.years, r.months, r.days, r.hours, r.minutes, r.seconds];
  if (vals.some((v) => !Number.isInteger(v) || v < 0 || v > 99)) {
    throw new SmppTimeError(field, JSON.stringify(r), 'each relative component must be 0..99');
  }
  return vals.map(pad2).join('') + '000R';
}

export function formatSmppTime(time: SmppTime, field: SmppTimeFieldName = 'validity_period'): string {
  if (time.kind === 'relative') return formatSmppRelative(time, field);
  const digits = [time.year - 2000, time.month, time.day, time.hour, time.minute, time.second];
  return digits.map(pad2).join('') + String(time.tenths) + pad2(Math.abs(time.quarterHours)) + (time.quarterHours < 0 ? '-' : '+');
}
