import { ConfigError } from '../domain/errors.ts';

/**
 * When a route applies: from `from` (inclusive) to `to` (exclusive), minutes after local
 * midnight in `timeZone` (UTC when absent), on `days` (0 = Sunday … 6 = Saturday; every day when
 * absent). `from > to` is a window across midnight (22:00-06:00); its days are those on which it
 * starts, so `22:00-06:00` on `fri` covers Friday night until Saturday 06:00.
 */
export interface TimeWindow {
  from: number;
  to: number;
  days?: number[];
  timeZone?: string;
}

const DAY_NAMES = Object.freeze(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const);

function minutesOf(text: string): number | undefined {
  const match = /^([01]?\d|2[0-3]):([0-5]\d)$/.exec(text.trim());
  if (!match) return text.trim() === '24:00' ? 24 * 60 : undefined;
  return Number(match[1]) * 60 + Number(match[2]);
}

/** `HH:MM-HH:MM` -> minutes; `24:00` may end a window. */
export function parseTimeWindow(text: string): Pick<TimeWindow, 'from' | 'to'> {
  const [fromText, toText, extra] = text.split('-');
  const from = fromText === undefined ? undefined : minutesOf(fromText);
  const to = toText === undefined ? undefined : minutesOf(toText);
  if (extra !== undefined || from === undefined || to === undefined || from === 24 * 60) {
    throw new ConfigError(`Time window "${text}" must look like HH:MM-HH:MM (e.g. 08:00-20:00, or 22:00-06:00 across midnight).`);
  }
  if (from === to) throw new ConfigError(`Time window "${text}" is empty; leave the window out for a route that always applies.`);
  return { from, to };
}

/** `mon-fri`, `sat,sun`, `mon,wed-fri` -> sorted day numbers (0 = Sunday). */
export function parseDays(text: string): number[] {
  const days = new Set<number>();
  for (const part of text
    .toLowerCase()
    .split(',')
    .map((p) => p.trim())) {
    const [a, b, extra] = part.split('-');
    const start = DAY_NAMES.indexOf(a as (typeof DAY_NAMES)[number]);
    const end = b === undefined ? start : DAY_NAMES.indexOf(b as (typeof DAY_NAMES)[number]);
    if (extra !== undefined || start < 0 || end < 0)
      throw new ConfigError(`Days "${text}" must be day names (sun mon tue wed thu fri sat), ranges (mon-fri) or lists (sat,sun).`);
    for (let d = start; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === end) break;
    }
  }
  return [...days].sort((x, y) => x - y);
}

export function validTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local day of week and minutes after midnight of `at` in `timeZone`. */
export function localTime(at: Date, timeZone = 'UTC'): { day: number; minutes: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    formatters.set(timeZone, format);
  }
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(at)) {
    if (part.type === 'weekday') day = DAY_NAMES.indexOf(part.value.toLowerCase().slice(0, 3) as (typeof DAY_NAMES)[number]);
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, minutes: hour * 60 + minute };
}

/** Whether `at` falls inside the window. */
export function inTimeWindow(window: TimeWindow, at: Date): boolean {
  const { day, minutes } = localTime(at, window.timeZone);
  const dayOk = (d: number) => !window.days || window.days.includes(d);
  if (window.from < window.to) return minutes >= window.from && minutes < window.to && dayOk(day);
  // Across midnight: the evening part belongs to today, the morning part to the day before.
  if (minutes >= window.from) return dayOk(day);
  if (minutes < window.to) return dayOk((day + 6) % 7);
  return false;
}

function hhmm(minutes: number): string {
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** `08:00-20:00 mon,tue,wed,thu,fri Europe/Berlin`: how lists and explanations show a window. */
export function describeTimeWindow(window: TimeWindow): string {
  const days = window.days ? ` ${window.days.map((d) => DAY_NAMES[d]).join(',')}` : '';
  return `${hhmm(window.from)}-${hhmm(window.to)}${days} ${window.timeZone ?? 'UTC'}`;
}
