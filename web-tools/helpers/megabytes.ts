/**
 * Usage: {{megabytes bytes}}
 * A byte count as megabytes of 1,048,576 bytes (the unit internet prices are set in), to two
 * decimal places, halves rounded up, with thousands separators: 1572864 -> "1.50".
 */
import { number } from './number';

const MB = 1_048_576n;

export function megabytes(value: unknown): string {
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(n) || n < 0) return '';
  const hundredths = (BigInt(n) * 200n + MB) / (MB * 2n); // exact: no floating point on the way
  return `${number(Number(hundredths / 100n))}.${String(hundredths % 100n).padStart(2, '0')}`;
}
