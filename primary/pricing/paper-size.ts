/**
 * Paper-size names: maps what CUPS and IPP call a medium (`iso_a4_210x297mm`, `na_letter_8.5x11in`,
 * `A4`, `Letter.Fullbleed`, `na-letter-white`, ...) to one canonical name, so a rate card row for
 * "A4" matches every spelling of A4. Unknown names are trimmed and upper-cased, which makes all
 * comparisons case-insensitive.
 */
import { invalid } from './input-checks';

/** Longest paper-size name we keep (the database columns are 64 characters). */
export const MAX_PAPER_SIZE_LENGTH = 64;

// eslint-disable-next-line no-control-regex -- control characters are exactly what it rejects
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

/**
 * Canonical names, keyed by the lower-cased spellings that mean them: PPD `PageSize` names,
 * IPP/1.1 (RFC 2911) media keywords, and the name part of PWG 5101.1 self-describing names.
 * Ledger is Tabloid turned sideways (PWG has only `na_ledger_11x17in`), so both price as Tabloid.
 */
const ALIASES: ReadonlyMap<string, string> = new Map([
  ['a3', 'A3'],
  ['iso-a3', 'A3'],
  ['iso_a3', 'A3'],
  ['a4', 'A4'],
  ['a4small', 'A4'],
  ['iso-a4', 'A4'],
  ['iso-a4-white', 'A4'],
  ['iso_a4', 'A4'],
  ['a5', 'A5'],
  ['iso-a5', 'A5'],
  ['iso_a5', 'A5'],
  ['a6', 'A6'],
  ['iso-a6', 'A6'],
  ['iso_a6', 'A6'],
  ['letter', 'Letter'],
  ['lettersmall', 'Letter'],
  ['na-letter', 'Letter'],
  ['na-letter-white', 'Letter'],
  ['na_letter', 'Letter'],
  ['legal', 'Legal'],
  ['na-legal', 'Legal'],
  ['na_legal', 'Legal'],
  ['tabloid', 'Tabloid'],
  ['ledger', 'Tabloid'],
  ['11x17', 'Tabloid'],
  ['na-ledger', 'Tabloid'],
  ['na_ledger', 'Tabloid'],
  ['executive', 'Executive'],
  ['na-executive', 'Executive'],
  ['na_executive', 'Executive'],
]);

/** PWG 5101.1 self-describing name: `class_name_WIDTHxHEIGHTunit`, e.g. `na_letter_8.5x11in`. */
const PWG_NAME = /^([a-z]+_[a-z0-9.-]+)_\d+(?:\.\d+)?x\d+(?:\.\d+)?(?:mm|in)$/;

/** The canonical name of a paper size: `normalisePaperSize('iso_a4_210x297mm') === 'A4'`. */
export function normalisePaperSize(raw: string): string {
  const trimmed = raw.trim();
  const lower = trimmed.toLowerCase();
  const known = ALIASES.get(lower);
  if (known !== undefined) return known;

  const pwg = PWG_NAME.exec(lower);
  if (pwg) return ALIASES.get(pwg[1] ?? '') ?? trimmed.toUpperCase();

  // PPD variants of a size add a suffix after a dot: "A4.Fullbleed", "Letter.Borderless".
  const dot = lower.indexOf('.');
  if (dot > 0) {
    const base = ALIASES.get(lower.slice(0, dot));
    if (base !== undefined) return base;
  }
  return trimmed.toUpperCase();
}

/**
 * normalisePaperSize() for untrusted input: a string of at most MAX_PAPER_SIZE_LENGTH characters
 * without control characters. An empty name is refused unless `allowEmpty` (a job whose paper
 * size is unknown, which the default rows price).
 */
export function checkedPaperSize(value: unknown, field: string, opts: { allowEmpty?: boolean } = {}): string {
  if (typeof value !== 'string' || (!opts.allowEmpty && value.trim() === '')) {
    throw invalid(field, `${field} must be a paper size name such as 'A4'${opts.allowEmpty ? '' : ", or '*' for the default row"}`, value);
  }
  if (CONTROL_CHARS.test(value)) throw invalid(field, `${field} must not contain control characters`, value);
  const size = normalisePaperSize(value);
  if (size.length > MAX_PAPER_SIZE_LENGTH) {
    throw invalid(field, `${field} is longer than ${MAX_PAPER_SIZE_LENGTH} characters`, value);
  }
  return size;
}
