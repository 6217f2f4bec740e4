/**
 * Per-printer filters and restrictions (which jobs a printer refuses), kept as JSON in `printers.filters`: the model,
 * its validation, and the pure check the charge path runs on each job before anything is
 * reserved. Every rule is off unless set; `{}` restricts nothing. docs/print-secondary.md
 * ("Filters") describes them as administrators read them. In short:
 *
 *  - maxPages: impressions over all copies (pages × copies), so 20 pages × 3 copies is 60.
 *  - maxCopies, maxCost (minor units, the price after the user's cost multiplier).
 *  - colour: 'greyscaleOnly' refuses a job with any colour page; 'colourOnly' refuses a job with
 *    none (a printer kept for colour work). One field, so both cannot be set at once.
 *  - sides: 'simplexOnly' refuses a duplex job; 'duplexOnly' refuses a simplex job of two or more
 *    pages (a one-page job prints the same either way).
 *  - allowedPaperSizes: canonical names (paper-size.ts); a job whose size is unknown ('') passes,
 *    as it prints on the printer's default paper.
 *  - documentNames: globs, case-insensitive, matched against the whole name: `*` any run of
 *    characters, `?` one character, `[abc]`, `[a-z]`, `[!abc]` one of (or none of) a set, `\x`
 *    the character x. A name matching any `deny` glob is refused; when `allow` is not empty, a
 *    name must also match one of its globs.
 *  - duplicateWindowSeconds: the same user sending the same document name with the same page
 *    count to the same printer within N seconds of a job that was authorised or printed.
 */
import { z } from 'zod';
import { ValidationError } from '../../common/errors';
import { formatAmount, MAX_AMOUNT, type CurrencyFormat, type Money } from '../../common/money';
import { normalisePaperSize } from '../pricing/paper-size';
import { PRINT_JOB_LIMITS } from '../pricing/price-job';

export const FILTER_LIMITS = {
  /** Impressions over all copies: the most a valid job can have. */
  maxPages: PRINT_JOB_LIMITS.maxPages * PRINT_JOB_LIMITS.maxCopies,
  maxCopies: PRINT_JOB_LIMITS.maxCopies,
  maxCost: MAX_AMOUNT,
  /** A day: longer windows would refuse honest reprints of the same handout. */
  duplicateWindowSeconds: 86_400,
  patterns: 50,
  patternLength: 200,
  paperSizes: 50,
} as const;

const whole = (min: number, max: number): z.ZodNumber => {
  const message = `must be a whole number from ${min} to ${max}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
};

// eslint-disable-next-line no-control-regex -- control characters are exactly what it rejects
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const glob = z
  .string({ error: 'must be a glob such as *.exe' })
  .min(1, 'must not be empty')
  .max(FILTER_LIMITS.patternLength, `must be at most ${FILTER_LIMITS.patternLength} characters`)
  .superRefine((pattern, ctx) => {
    const problem = CONTROL_CHARS.test(pattern) ? 'contains control characters' : globProblem(pattern);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(pattern.slice(0, 64))} ${problem}` });
  });

const globList = z.array(glob, { error: 'must be a list of globs' }).max(FILTER_LIMITS.patterns, `must have at most ${FILTER_LIMITS.patterns} patterns`);

const paperSize = z
  .string({ error: "must be a paper size name such as 'A4'" })
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[^\u0000-\u001f\u007f*]+$/, 'must be a paper size name such as A4') // eslint-disable-line no-control-regex
  .transform(normalisePaperSize);

export const printerFiltersSchema = z
  .object(
    {
      maxPages: whole(1, FILTER_LIMITS.maxPages).optional(),
      maxCopies: whole(1, FILTER_LIMITS.maxCopies).optional(),
      maxCost: whole(0, FILTER_LIMITS.maxCost).optional(),
      colour: z.enum(['colourOnly', 'greyscaleOnly'], { error: "must be 'colourOnly' or 'greyscaleOnly'" }).optional(),
      sides: z.enum(['duplexOnly', 'simplexOnly'], { error: "must be 'duplexOnly' or 'simplexOnly'" }).optional(),
      allowedPaperSizes: z
        .array(paperSize, { error: 'must be a list of paper sizes' })
        .min(1, 'must name at least one size (leave it out to allow every size)')
        .max(FILTER_LIMITS.paperSizes, `must have at most ${FILTER_LIMITS.paperSizes} sizes`)
        .transform((sizes) => [...new Set(sizes)])
        .optional(),
      documentNames: z
        .object({ allow: globList.default([]), deny: globList.default([]) }, { error: 'must be an object with allow and deny lists' })
        .strict()
        .optional(),
      duplicateWindowSeconds: whole(1, FILTER_LIMITS.duplicateWindowSeconds).optional(),
    },
    { error: 'must be an object' },
  )
  .strict();

export type PrinterFilters = z.output<typeof printerFiltersSchema>;

/** Validates filters (from an admin, the CLI or the database), naming the first bad field. */
export function parseFilters(input: unknown): PrinterFilters {
  const result = printerFiltersSchema.safeParse(input);
  if (result.success) {
    const f = result.data;
    // An empty allow list and no deny list is no rule: store nothing rather than an empty object.
    if (f.documentNames && f.documentNames.allow.length === 0 && f.documentNames.deny.length === 0) delete f.documentNames;
    return f;
  }
  const issue = result.error.issues[0];
  const path = issue?.path.map(String).join('.') ?? '';
  const field = path === '' ? 'filters' : `filters.${path}`;
  const message = issue?.code === 'unrecognized_keys' ? `has an unknown field ${JSON.stringify(issue.keys[0] ?? '')}` : (issue?.message ?? 'is invalid');
  throw new ValidationError(`${field} ${message}`, { field });
}

/** The filters stored in a printers row, or undefined when the text is not valid filters. */
export function readStoredFilters(text: string): PrinterFilters | undefined {
  try {
    return parseFilters(JSON.parse(text === '' ? '{}' : text));
  } catch {
    return undefined;
  }
}

/** What a filter looks at in a job (a JobDescription has all of it). */
export interface FilteredJob {
  pages: number;
  colourPages: number;
  copies: number;
  duplex: boolean;
  paperSize: string;
  documentName: string;
}

/** The job's price, and how the reason should show it. */
export interface FilteredPrice {
  cost: Money;
  currency: CurrencyFormat;
}

/** The latest earlier job that this one would duplicate (found by the caller). */
export interface RecentJob {
  ageSeconds: number;
}

const quoted = (name: string): string => JSON.stringify(name.length > 80 ? `${name.slice(0, 79)}…` : name);

/**
 * The reason a printer's filters refuse a job, as the user will read it (lpstat, the jobs page),
 * or undefined when they allow it. `recent` is the job this one duplicates, if any; it only
 * counts when the printer has a duplicate window. Pure: no clock, no database.
 */
export function checkFilters(filters: PrinterFilters, job: FilteredJob, price: FilteredPrice, recent?: RecentJob): string | undefined {
  if (filters.maxCopies !== undefined && job.copies > filters.maxCopies) {
    return `this printer allows at most ${filters.maxCopies} ${filters.maxCopies === 1 ? 'copy' : 'copies'} per job; this job asks for ${job.copies}`;
  }
  const pages = job.pages * job.copies;
  if (filters.maxPages !== undefined && pages > filters.maxPages) {
    const detail = job.copies === 1 ? '' : ` (${job.pages} × ${job.copies} copies)`;
    return `this job has ${pages} pages${detail}; this printer allows at most ${filters.maxPages} per job`;
  }
  if (filters.colour === 'greyscaleOnly' && job.colourPages > 0) return 'this printer prints in greyscale only; print the job in black and white';
  if (filters.colour === 'colourOnly' && job.colourPages === 0) return 'this printer is for colour jobs only; send black-and-white jobs to another printer';
  if (filters.sides === 'simplexOnly' && job.duplex) return 'this printer prints single-sided only; choose one-sided printing';
  if (filters.sides === 'duplexOnly' && !job.duplex && job.pages > 1) return 'this printer prints double-sided only; choose two-sided printing';
  if (filters.allowedPaperSizes !== undefined && job.paperSize !== '') {
    const size = normalisePaperSize(job.paperSize);
    if (!filters.allowedPaperSizes.includes(size)) return `this printer does not take ${size} paper; it takes ${filters.allowedPaperSizes.join(', ')}`;
  }
  if (filters.documentNames !== undefined) {
    const { allow, deny } = filters.documentNames;
    if (deny.some((g) => globMatches(g, job.documentName))) return `documents named ${quoted(job.documentName)} may not be printed on this printer`;
    if (allow.length > 0 && !allow.some((g) => globMatches(g, job.documentName))) {
      return `this printer prints only documents named like ${allow.join(', ')}; ${quoted(job.documentName)} is not one`;
    }
  }
  if (filters.maxCost !== undefined && price.cost > filters.maxCost) {
    return `this job costs ${formatAmount(price.cost, price.currency)}; this printer allows at most ${formatAmount(filters.maxCost, price.currency)} per job`;
  }
  if (filters.duplicateWindowSeconds !== undefined && recent !== undefined && recent.ageSeconds <= filters.duplicateWindowSeconds) {
    return `duplicate of a job printed ${Math.max(0, Math.round(recent.ageSeconds))} s ago`;
  }
  return undefined;
}

// ---- globs ----

type Token = { kind: 'star' } | { kind: 'one' } | { kind: 'char'; ch: string } | { kind: 'set'; negate: boolean; chars: string[]; ranges: [string, string][] };

/** Why a glob is malformed, or undefined when it is fine. */
export function globProblem(pattern: string): string | undefined {
  try {
    tokenize(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const compiled = new Map<string, Token[]>();

/**
 * Whether a whole name matches a glob, case-insensitively. No regular expressions: the usual
 * star-backtracking match is O(name × pattern) at worst, so a hostile pattern such as `*a*a*a*b`
 * cannot make the charge path slow.
 */
export function globMatches(pattern: string, name: string): boolean {
  let tokens = compiled.get(pattern);
  if (tokens === undefined) {
    tokens = tokenize(pattern);
    if (compiled.size > 1000) compiled.clear();
    compiled.set(pattern, tokens);
  }
  const text = Array.from(name.toLowerCase());
  let t = 0;
  let p = 0;
  let starAt = -1;
  let starText = 0;
  while (t < text.length) {
    const token = tokens[p];
    if (token !== undefined && token.kind !== 'star' && matchesOne(token, text[t] ?? '')) {
      t++;
      p++;
    } else if (token?.kind === 'star') {
      starAt = p++;
      starText = t;
    } else if (starAt >= 0) {
      p = starAt + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (tokens[p]?.kind === 'star') p++;
  return p === tokens.length;
}

function matchesOne(token: Exclude<Token, { kind: 'star' }>, ch: string): boolean {
  switch (token.kind) {
    case 'one':
      return true;
    case 'char':
      return token.ch === ch;
    case 'set': {
      const inSet = token.chars.includes(ch) || token.ranges.some(([from, to]) => ch >= from && ch <= to);
      return inSet !== token.negate;
    }
  }
}

function tokenize(pattern: string): Token[] {
  const chars = Array.from(pattern.toLowerCase());
  const tokens: Token[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i] ?? '';
    if (c === '*') {
      if (tokens[tokens.length - 1]?.kind !== 'star') tokens.push({ kind: 'star' }); // ** is *
    } else if (c === '?') {
      tokens.push({ kind: 'one' });
    } else if (c === '\\') {
      const next = chars[++i];
      if (next === undefined) throw new Error('ends with a lone \\ (write \\\\ for a backslash)');
      tokens.push({ kind: 'char', ch: next });
    } else if (c === '[') {
      let j = i + 1;
      const negate = chars[j] === '!';
      if (negate) j++;
      const set: string[] = [];
      const ranges: [string, string][] = [];
      // A ] straight after [ or [! is a member, as in sh(1).
      for (let first = true; ; first = false) {
        const m = chars[j];
        if (m === undefined) throw new Error('has a [ without its closing ]');
        if (m === ']' && !first) break;
        const lit = m === '\\' ? chars[++j] : m;
        if (lit === undefined) throw new Error('has a [ without its closing ]');
        if (chars[j + 1] === '-' && chars[j + 2] !== undefined && chars[j + 2] !== ']') {
          const to = chars[j + 2] === '\\' ? chars[j + 3] : chars[j + 2];
          if (to === undefined) throw new Error('has a [ without its closing ]');
          if (to < lit) throw new Error(`has a backwards range ${lit}-${to}`);
          ranges.push([lit, to]);
          j += chars[j + 2] === '\\' ? 4 : 3;
        } else {
          set.push(lit);
          j++;
        }
      }
      tokens.push({ kind: 'set', negate, chars: set, ranges });
      i = j;
    } else {
      tokens.push({ kind: 'char', ch: c });
    }
  }
  return tokens;
}
