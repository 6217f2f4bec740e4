/**
 * Usage: {{date createdAt}} or {{date createdAt "day"}}
 * An epoch-millisecond time as "2026-11-22 05:30 UTC" (or "2026-11-22" with "day"): one
 * unambiguous format for every language until per-language date formats are needed.
 */

export function date(value: unknown, ...args: unknown[]): string {
  const style = args.length > 1 ? String(args[0]) : 'minute';
  const ms = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(ms) || ms <= 0) return '';
  const iso = new Date(ms).toISOString();
  return style === 'day' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}
