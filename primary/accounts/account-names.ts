/**
 * The shapes people type for shared accounts, checked once: names with a `parent\sub` hierarchy,
 * codes, PINs, and the `CODE` or `CODE-PIN` a print job carries (`-o job-account-id=…`).
 */
import { ValidationError } from '../../common/errors';
import { localDate, localDayStart } from '../quotas/periods';

/** Between the levels of a hierarchical name: `Science\Physics\Lab 2`. */
export const NAME_SEPARATOR = '\\';
export const NAME_MAX = 255;
export const CODE_MAX = 64;

/**
 * A shared account's full name, trimmed, each level trimmed: `Science \ Physics` is
 * `Science\Physics`. Refused: empty levels (`\x`, `a\\b`, `a\`), control characters, more than
 * 255 characters. Slashes and quotes are ordinary characters (only the backslash separates).
 */
export function parseAccountName(text: string): string {
  const levels = text.split(NAME_SEPARATOR).map((level) => level.trim());
  if (levels.some((level) => level === '')) throw new ValidationError('name must not be empty, nor have an empty level between backslashes', { field: 'name' });
  if (/\p{Cc}|\p{Cf}/u.test(text)) throw new ValidationError('name contains control characters', { field: 'name' });
  const name = levels.join(NAME_SEPARATOR);
  if (name.length > NAME_MAX) throw new ValidationError(`name is longer than ${NAME_MAX} characters`, { field: 'name' });
  return name;
}

/** The parent's full name (`Science` for `Science\Physics`), or undefined at the top level. */
export function parentName(name: string): string | undefined {
  const at = name.lastIndexOf(NAME_SEPARATOR);
  return at < 0 ? undefined : name.slice(0, at);
}

/** What makes two names the same account: case folded, so `Physics` and `PHYSICS` collide. */
export function nameKey(name: string): string {
  return name.normalize('NFC').toLowerCase();
}

/**
 * A code, upper-cased (codes are compared after case folding: `abc` and `ABC` are one code).
 * Letters, digits, `.` and `_`: no `-`, which separates the PIN in `CODE-PIN`.
 */
export function parseCode(text: string): string {
  const code = text.trim().toUpperCase();
  if (!/^[A-Z0-9._]+$/.test(code)) throw new ValidationError('code may hold only letters, digits, "." and "_"', { field: 'code' });
  if (code.length > CODE_MAX) throw new ValidationError(`code is longer than ${CODE_MAX} characters`, { field: 'code' });
  return code;
}

/** A PIN: 1 to 16 digits, kept as text so leading zeros count (`0042` is not `42`). */
export function parsePin(text: string): string {
  if (!/^[0-9]{1,16}$/.test(text)) throw new ValidationError('PIN must be 1 to 16 digits', { field: 'pin' });
  return text;
}

/** A job's account option: `CODE` or `CODE-PIN` (the code upper-cased; the PIN as typed). */
export function parseJobAccount(text: string): { code: string; pin: string | undefined } {
  const at = text.indexOf('-');
  const code = (at < 0 ? text : text.slice(0, at)).trim().toUpperCase();
  return { code, pin: at < 0 ? undefined : text.slice(at + 1).trim() };
}

/**
 * A day typed as `2027-06-30`, or `none` (null: no date), as the instant it begins in the
 * primary's time zone (config `timezone`), like a card batch's expiry day. `end` gives the end of
 * that day (the next local midnight), so an account expiring on the 30th may be charged through
 * the whole local 30th. The CLI, the import and the web tools all read days here.
 */
export function parseDay(text: string, field: string, end: boolean, timezone: string): number | null {
  if (text === 'none') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const at = m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : NaN;
  if (!m || Number.isNaN(at) || new Date(at).toISOString().slice(0, 10) !== text)
    throw new ValidationError(`${field} must be a date YYYY-MM-DD or none`, { field });
  return localDayStart(Number(m[1]), Number(m[2]), Number(m[3]) + (end ? 1 : 0), timezone);
}

/** A stored start or expiry as the day it was typed (parseDay's inverse): for an end, the local day that ends there. */
export function dayText(at: number, end: boolean, timezone: string): string {
  const d = localDate(end ? at - 1 : at, timezone);
  return `${d.year}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** A cost multiplier typed as `1.5`, in basis points (15000); at most 4 decimals. */
export function parseMultiplier(text: string): number {
  if (!/^\d{1,3}(\.\d{1,4})?$/.test(text))
    throw new ValidationError('multiplier must be a number such as 1 or 1.25 (at most 4 decimals)', { field: 'multiplier' });
  const [whole = '0', fraction = ''] = text.split('.');
  return Number(whole) * 10000 + Number(fraction.padEnd(4, '0'));
}
