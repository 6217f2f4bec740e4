/**
 * Money is an integer count of minor units (cents, or points). This module is the only place
 * that turns text into money, money into text, and a fraction into money (the rounding rule).
 */
import { ValidationError } from './errors';

/** An amount in minor units: always a safe integer. */
export type Money = number;

/** Largest magnitude any single amount or balance may have: 10^13 minor units (10^11 dollars). */
export const MAX_AMOUNT = 10_000_000_000_000;

export interface CurrencyFormat {
  /** Shown before the amount, e.g. "$"; may be empty when the site bills in points. */
  symbol: string;
  /** Digits after the decimal point: 2 for cents, 0 for points. */
  decimals: number;
}

export const DEFAULT_CURRENCY: CurrencyFormat = { symbol: '$', decimals: 2 };

/** Throws a ValidationError unless `value` is an integer amount within ±MAX_AMOUNT. */
export function assertMoney(value: unknown, field = 'amount', opts: { positive?: boolean; nonNegative?: boolean } = {}): Money {
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw new ValidationError(`${field} must be an integer number of minor units`, { field, value: String(value) });
  }
  if (Math.abs(value) > MAX_AMOUNT) {
    throw new ValidationError(`${field} is out of range (at most ${MAX_AMOUNT} in magnitude)`, { field, value });
  }
  if (opts.positive && value <= 0) throw new ValidationError(`${field} must be greater than zero`, { field, value });
  if (opts.nonNegative && value < 0) throw new ValidationError(`${field} must not be negative`, { field, value });
  return value;
}

/**
 * Parses what a person types ("12", "-3.5", "0.25") into minor units, exactly: no floating point
 * is involved, and more decimal places than the currency has is an error, not a rounding.
 */
export function parseAmount(text: string, decimals: number, field = 'amount'): Money {
  const trimmed = text.trim();
  const match = /^([+-]?)(\d+)(?:\.(\d*))?$/.exec(trimmed);
  if (!match) throw new ValidationError(`${field} is not a number: ${JSON.stringify(text)}`, { field, value: text });
  const [, sign, whole = '', fraction = ''] = match;
  if (fraction.length > decimals) {
    throw new ValidationError(decimals === 0 ? `${field} must be a whole number: ${text}` : `${field} has more than ${decimals} decimal places: ${text}`, {
      field,
      value: text,
    });
  }
  const digits = (whole + fraction.padEnd(decimals, '0')).replace(/^0+(?=\d)/, '');
  if (digits.length > 16) throw new ValidationError(`${field} is out of range: ${text}`, { field, value: text });
  const magnitude = Number(digits);
  return assertMoney(sign === '-' ? -magnitude : magnitude, field);
}

/** Formats minor units for people: formatAmount(-1234, {symbol:'$',decimals:2}) === "-$12.34". */
export function formatAmount(amount: Money, currency: CurrencyFormat = DEFAULT_CURRENCY): string {
  const negative = amount < 0;
  const digits = String(Math.abs(amount)).padStart(currency.decimals + 1, '0');
  const whole = digits.slice(0, digits.length - currency.decimals).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  const fraction = currency.decimals > 0 ? `.${digits.slice(digits.length - currency.decimals)}` : '';
  return `${negative ? '-' : ''}${currency.symbol}${whole}${fraction}`;
}

/** Minor units as a plain decimal in major units, for machines (the REST API): formatDecimal(-1250, 2) === "-12.50". */
export function formatDecimal(amount: Money, decimals: number): string {
  return formatAmount(amount, { symbol: '', decimals }).replace(/,/g, '');
}

/**
 * THE rounding rule: an exact fraction of minor units is rounded to the nearest integer, halves
 * away from zero ("round half up" for charges). Every computed price passes through here exactly
 * once, at the end; intermediate values stay exact as BigInt fractions.
 */
export function roundFraction(numerator: bigint, denominator: bigint): Money {
  if (denominator <= 0n) throw new RangeError('denominator must be positive');
  const negative = numerator < 0n;
  const abs = negative ? -numerator : numerator;
  const rounded = (abs * 2n + denominator) / (denominator * 2n);
  const result = Number(negative ? -rounded : rounded);
  return assertMoney(result, 'computed amount');
}
