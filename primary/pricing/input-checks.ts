/**
 * Small run-time checks shared by the pricing module's validators. Each throws a ValidationError
 * whose message and `details.field` name the field, e.g. `prices[2].colour`.
 */
import { ValidationError } from '../../common/errors';

export function invalid(field: string, message: string, value?: unknown): ValidationError {
  return new ValidationError(message, value === undefined ? { field } : { field, value: String(value).slice(0, 100) });
}

/** Throws unless `value` is a safe integer in [min, max]. */
export function integerIn(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, `${field} must be a whole number from ${min} to ${max}`, value);
  }
  return value;
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(field, `${field} must be one of ${allowed.map((a) => `'${a}'`).join(', ')}`, value);
}

export function record(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalid(field, `${field} must be an object`);
  }
  return value as Record<string, unknown>;
}

/** Rejects fields nobody reads, so a misspelt `duplexDiscount` is an error rather than ignored. */
export function onlyFields(value: Record<string, unknown>, allowed: readonly string[], field: string): void {
  for (const key of Object.keys(value)) {
    if (!allowed.includes(key)) throw invalid(field, `${field} has an unknown field ${JSON.stringify(key.slice(0, 64))}`);
  }
}
