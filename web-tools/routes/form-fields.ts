/**
 * Reading the fields whose values the page fixes (checkboxes, selects, hidden on/off fields):
 * the form can only send the values the page offers, so anything else (a tampered form, a
 * script's `yes` for a checkbox, a repeated field) is refused with a ValidationError naming the
 * field, never read as "off".
 */
import { ValidationError } from '../../common/errors';

/**
 * A checkbox: absent (unticked) is false, its own value (`on` unless the page sets one) is true,
 * anything else is refused.
 */
export function checkbox(body: Record<string, unknown>, name: string, value = 'on'): boolean {
  const v = body[name];
  if (v === undefined) return false;
  if (v === value) return true;
  throw new ValidationError(`${name} is a checkbox: ticked it sends "${value}", unticked nothing`, { field: name });
}

/** One of the values a select, radio group or hidden field offers; anything else (or nothing) is refused. */
export function choice<T extends string>(body: Record<string, unknown>, name: string, values: readonly T[]): T {
  const v = body[name];
  if (typeof v === 'string' && (values as readonly string[]).includes(v)) return v as T;
  throw new ValidationError(`${name} must be one of ${values.join(', ')}`, { field: name });
}
