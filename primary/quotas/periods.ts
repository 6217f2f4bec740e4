/**
 * When quota periods start: a schedule's cron expression, and its occurrences in the primary's
 * time zone (cron-parser does the time-zone arithmetic). Pure functions, no database.
 *
 * Rules (docs/quotas.md): a period starts at each occurrence and ends at the next. A local time
 * that does not exist on a spring-forward day runs at the same offset after the gap (02:30 in
 * New York on the spring-forward day runs at 03:30 EDT); a local time that happens twice on a
 * fall-back day runs once, at the first. Monthly on day 29-31 runs on the month's last day in
 * shorter months (31st -> 30 April, 28 or 29 February).
 */
import { CronExpressionParser } from 'cron-parser';
import { ValidationError } from '../../common/errors';

export type Period = 'daily' | 'weekly' | 'monthly' | 'cron';

export interface PeriodSpec {
  period: Period;
  /** weekly: 0 = Sunday .. 6 = Saturday */
  weekday: number | null;
  /** monthly: 1..31 */
  dayOfMonth: number | null;
  /** HH:MM local time (daily, weekly, monthly) */
  atTime: string;
  /** period = cron: a five-field cron expression */
  cron: string | null;
}

const AT_TIME = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** Checks a cron expression; throws a ValidationError that says what is wrong. */
export function validateCron(expression: string, field = 'cron'): void {
  const fields = expression.trim().split(/\s+/);
  if (fields.length !== 5)
    throw new ValidationError(`${field} must have five fields (minute hour day-of-month month day-of-week), got "${expression}"`, { field });
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' });
  } catch (err) {
    throw new ValidationError(`${field} "${expression}" is not a valid cron expression: ${(err as Error).message}`, { field });
  }
}

export function checkSpec(spec: PeriodSpec): void {
  const m = AT_TIME.exec(spec.atTime);
  if (!m) throw new ValidationError('at must be a local time HH:MM, e.g. 00:00 or 06:30', { field: 'at' });
  switch (spec.period) {
    case 'daily':
      return;
    case 'weekly':
      if (spec.weekday === null || !Number.isInteger(spec.weekday) || spec.weekday < 0 || spec.weekday > 6) {
        throw new ValidationError('weekly schedules need a weekday (0-6 or sun..sat)', { field: 'weekday' });
      }
      return;
    case 'monthly':
      if (spec.dayOfMonth === null || !Number.isInteger(spec.dayOfMonth) || spec.dayOfMonth < 1 || spec.dayOfMonth > 31) {
        throw new ValidationError('monthly schedules need a day of the month, 1 to 31', { field: 'day' });
      }
      return;
    case 'cron':
      if (!spec.cron) throw new ValidationError('cron schedules need a cron expression', { field: 'cron' });
      validateCron(spec.cron);
      return;
    default:
      throw new ValidationError(`period must be daily, weekly, monthly or cron, got ${String(spec.period)}`, { field: 'period' });
  }
}

/** The cron expression a schedule fires on. Monthly on day 29-31 also fires on the last day (L); `occurrences` keeps the right one. */
export function cronOf(spec: PeriodSpec): string {
  if (spec.period === 'cron') return (spec.cron ?? '').trim();
  const [hh, mm] = spec.atTime.split(':').map(Number);
  const base = `${mm ?? 0} ${hh ?? 0}`;
  if (spec.period === 'daily') return `${base} * * *`;
  if (spec.period === 'weekly') return `${base} * * ${spec.weekday ?? 0}`;
  const day = spec.dayOfMonth ?? 1;
  return day >= 29 ? `${base} ${day},L * *` : `${base} ${day} * *`;
}

const partsCache = new Map<string, Intl.DateTimeFormat>();

/** The local calendar date (year, month 1-12, day) of an instant in a time zone. */
export function localDate(ms: number, timezone: string): { year: number; month: number; day: number } {
  let f = partsCache.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit' });
    partsCache.set(timezone, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
}

const clockCache = new Map<string, Intl.DateTimeFormat>();

/** How far a time zone's wall clock is ahead of UTC at an instant, in ms. */
function offsetAt(ms: number, timezone: string): number {
  let f = clockCache.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    clockCache.set(timezone, f);
  }
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour, p.minute, p.second) - (ms - (ms % 1000));
}

/**
 * The instant a local calendar day begins (its midnight) in a time zone; month 1-12, and a day
 * past the month's end rolls over (31 April is 1 May). Two passes, so a day just after a
 * daylight-saving change gets that day's own offset.
 */
export function localDayStart(year: number, month: number, day: number, timezone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  const first = wall - offsetAt(wall, timezone);
  return wall - offsetAt(first, timezone);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** Whether an occurrence of cronOf(spec) starts a period (drops the extra "L" day of monthly 29-31). */
function keeps(spec: PeriodSpec, ms: number, timezone: string): boolean {
  if (spec.period !== 'monthly' || (spec.dayOfMonth ?? 1) < 29) return true;
  const d = localDate(ms, timezone);
  return d.day === Math.min(spec.dayOfMonth ?? 1, daysInMonth(d.year, d.month));
}

/**
 * Period starts in (from, to], oldest first, at most `limit` of them. cron-parser yields each
 * instant once, also across daylight-saving changes; duplicates are dropped anyway.
 */
export function occurrences(spec: PeriodSpec, timezone: string, from: number, to: number, limit = 10_000): number[] {
  const it = CronExpressionParser.parse(cronOf(spec), { tz: timezone, currentDate: new Date(from), endDate: new Date(to + 1) });
  const out: number[] = [];
  while (out.length < limit && it.hasNext()) {
    const ms = it.next().getTime();
    if (ms > to) break;
    if (ms <= from || out.at(-1) === ms || !keeps(spec, ms, timezone)) continue;
    out.push(ms);
  }
  return out;
}

/** The start of the period that contains `at` (the latest occurrence at or before it), or undefined. */
export function periodStartAt(spec: PeriodSpec, timezone: string, at: number): number | undefined {
  const it = CronExpressionParser.parse(cronOf(spec), { tz: timezone, currentDate: new Date(at + 1) });
  for (let i = 0; i < 1000 && it.hasPrev(); i++) {
    const ms = it.prev().getTime();
    if (ms <= at && keeps(spec, ms, timezone)) return ms;
  }
  return undefined;
}

/** The next `count` period starts after `at`. */
export function nextStarts(spec: PeriodSpec, timezone: string, at: number, count: number): number[] {
  const it = CronExpressionParser.parse(cronOf(spec), { tz: timezone, currentDate: new Date(at) });
  const out: number[] = [];
  for (let i = 0; out.length < count && i < 1000 && it.hasNext(); i++) {
    const ms = it.next().getTime();
    if (ms > at && out.at(-1) !== ms && keeps(spec, ms, timezone)) out.push(ms);
  }
  return out;
}
