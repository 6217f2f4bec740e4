/**
 * Usage: {{percent duplexDiscountBp}}
 * Basis points as a percentage, exactly and without trailing zeros: 1250 -> "12.5", 500 -> "5",
 * 1 -> "0.01". (Rate cards keep discounts in basis points.)
 */
export function percent(value: unknown): string {
  const bp = typeof value === 'number' ? value : Number(value);
  if (!Number.isSafeInteger(bp)) return '';
  const abs = Math.abs(bp);
  const fraction = String(abs % 100)
    .padStart(2, '0')
    .replace(/0+$/, '');
  return `${bp < 0 ? '-' : ''}${Math.trunc(abs / 100)}${fraction ? `.${fraction}` : ''}`;
}
