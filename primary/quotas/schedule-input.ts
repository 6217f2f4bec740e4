/**
 * A quota schedule as people type it (the CLI's `quotas add` flags, the admin page's form) turned
 * into a NewQuotaSchedule: one place for the parsing, so both edges accept exactly the same input.
 * QuotaService.create then checks the schedule itself (name, amounts, period, group).
 */
import { parseAmount } from '../../common/money';
import { ValidationError } from '../../common/errors';
import type { Period } from './periods';
import type { NewQuotaSchedule, QuotaMode } from './quota-service';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export const PERIODS: readonly Period[] = ['daily', 'weekly', 'monthly', 'cron'];
export const MODES: readonly QuotaMode[] = ['add', 'reset'];

/** The text of a new schedule; absent (undefined) and, for the optional fields, empty mean "not given". */
export interface ScheduleText {
  name: string;
  /** a group name; empty or absent with allUsers */
  group?: string | undefined;
  allUsers?: boolean | undefined;
  /** a shared account's name: the schedule pays the account */
  account?: string | undefined;
  period: string;
  /** weekly: sun..sat (or a longer name) or 0-7 */
  weekday?: string | undefined;
  /** monthly: 1-31 */
  day?: string | undefined;
  /** HH:MM, default 00:00 */
  at?: string | undefined;
  cron?: string | undefined;
  /** in the site's currency, e.g. "2.00" */
  amount: string;
  /** add or reset, default add */
  mode?: string | undefined;
  /** add mode: accumulate only up to this balance */
  cap?: string | undefined;
  disabled?: boolean | undefined;
}

const given = (v: string | undefined): v is string => v !== undefined && v.trim() !== '';

/** sun..sat (any name starting so, e.g. "monday") or 0-7 (7 is Sunday too) -> 0..6. */
export function parseWeekday(text: string): number {
  const v = text.trim().toLowerCase();
  const byName = WEEKDAYS.findIndex((d) => v.startsWith(d));
  if (byName >= 0 && v.length >= 3) return byName;
  if (/^[0-7]$/.test(v)) return Number(v) % 7;
  throw new ValidationError(`weekday takes sun..sat or 0-6, got ${JSON.stringify(text)}`, { field: 'weekday' });
}

export function parseDayOfMonth(text: string): number {
  if (!/^\d{1,2}$/.test(text.trim())) throw new ValidationError(`day takes a day of the month 1-31, got ${JSON.stringify(text)}`, { field: 'day' });
  return Number(text.trim());
}

/** Parses the text of a schedule; `decimals` is the site currency's. Throws a ValidationError naming the field. */
export function parseScheduleText(input: ScheduleText, decimals: number): NewQuotaSchedule {
  const period = input.period.trim() as Period;
  if (!PERIODS.includes(period))
    throw new ValidationError(`period must be daily, weekly, monthly or cron, got ${JSON.stringify(input.period)}`, { field: 'period' });
  const mode = (given(input.mode) ? input.mode.trim() : 'add') as QuotaMode;
  if (!MODES.includes(mode)) throw new ValidationError(`mode must be add or reset, got ${JSON.stringify(input.mode)}`, { field: 'mode' });
  return {
    name: input.name,
    group: given(input.group) ? input.group.trim() : null,
    allUsers: Boolean(input.allUsers),
    account: given(input.account) ? input.account.trim() : null,
    period,
    // Only the field the period uses is read, so a form that sends every field works.
    weekday: period === 'weekly' && given(input.weekday) ? parseWeekday(input.weekday) : null,
    dayOfMonth: period === 'monthly' && given(input.day) ? parseDayOfMonth(input.day) : null,
    atTime: given(input.at) ? input.at.trim() : '00:00',
    cron: period === 'cron' && given(input.cron) ? input.cron.trim() : null,
    mode,
    amount: parseAmount(input.amount, decimals, 'amount'),
    cap: given(input.cap) ? parseAmount(input.cap, decimals, 'cap') : null,
    enabled: !input.disabled,
  };
}

/** A time in the primary's zone, e.g. "2026-03-09 00:00" (the caller names the zone). */
export function localTime(ms: number | null, timezone: string): string {
  if (ms === null) return '-';
  return new Intl.DateTimeFormat('sv-SE', { timeZone: timezone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' }).format(
    new Date(ms),
  );
}
