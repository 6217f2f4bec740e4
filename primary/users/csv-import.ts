/**
 * Imports users from a CSV file (`quotient import-users`): reads the whole file, checks the header, then handles
 * each line on its own: a good line creates a user (or, in update mode, updates an existing one)
 * through UserService/GroupService, a bad line is reported with its line number and reason and
 * changes nothing. Problems with the file as a whole (not UTF-8, empty, no or unknown columns)
 * stop the import before anything is written. The format is documented in docs/importing-users.md.
 */
import fs from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import type { Readable } from 'node:stream';
import { CsvError, parse } from 'csv-parse/sync';
import type { z } from 'zod';
import { isQuotientError, ValidationError, type ErrorCode } from '../../common/errors';
import { parseAmount, type Money } from '../../common/money';
import type { Services } from '../services';
import { newUserSchema, normaliseUsername, type NewUser, type UserChanges } from './user-service';

/** The columns a file may have, in the order the docs list them. Only `username` is required. */
export const IMPORT_COLUMNS = [
  'username',
  'full_name',
  'email',
  'department',
  'office',
  'card',
  'groups',
  'initial_credit',
  'restricted',
  'credit_limit',
  'password',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

/** Separates several card numbers or group names inside one cell. */
export const LIST_SEPARATOR = ';';

export interface ImportOptions {
  /** Update users that already exist instead of skipping their lines. */
  update?: boolean;
  /** Check every line against the file and the database, but write nothing. */
  dryRun?: boolean;
  /** Written to the audit log and ledger rows, e.g. "cli:alice". */
  actor: string;
  /** Called after each line (and once with done = 0), for a progress bar. */
  onProgress?: (done: number, total: number) => void;
}

export interface SkippedLine {
  /** Physical line in the file where the record starts (the header is line 1). */
  line: number;
  reason: string;
}

export interface ImportResult {
  /** User lines in the file (records after the header, not counting blank ones). */
  total: number;
  imported: number;
  updated: number;
  /** Update mode: existing users whose line matched what is stored already. */
  unchanged: number;
  skipped: SkippedLine[];
  dryRun: boolean;
}

/**
 * The import stopped part-way on an error that is not about one line (the database went away).
 * Lines up to about `line` were handled (a few are written at once); running the same file again
 * in update mode finishes the job without crediting anyone twice.
 */
export class ImportStoppedError extends Error {
  constructor(
    readonly line: number,
    readonly progress: { imported: number; updated: number },
    cause: unknown,
  ) {
    super(
      `import stopped at line ${line}: ${cause instanceof Error ? cause.message : String(cause)} ` +
        `(${progress.imported} users imported and ${progress.updated} updated before it)`,
      { cause },
    );
    this.name = 'ImportStoppedError';
  }
}

/** Errors that are about one line's data; anything else stops the import. */
const LINE_ERROR_CODES: ReadonlySet<ErrorCode> = new Set(['VALIDATION', 'NOT_FOUND', 'ALREADY_EXISTS']);

/**
 * Lines written at once. Every line is independent once the file has been checked (duplicates
 * within it are refused up front), so overlapping them lets password hashing (scrypt, on libuv's
 * thread pool) and MySQL round trips proceed side by side; SQLite still writes one at a time.
 */
const CONCURRENCY = 4;

export async function importUsers(services: Services, input: Readable | string, opts: ImportOptions): Promise<ImportResult> {
  const source = typeof input === 'string' ? input : 'the input';
  const content = checkEncoding(await readAll(input), source);
  const { header, records } = readRecords(content);
  if (!header)
    throw new ValidationError(`${source} is empty: the first line must be a header naming the columns, e.g. username,full_name,email`, { reason: 'empty' });
  const columns = readHeader(header, records);

  // Check every line on its own and against the lines before it, in file order, before any write.
  const decimals = (await services.settings.currency()).decimals;
  const groupNames = (await services.groups.list()).map((g) => g.name);
  const firstLineOf = { username: new Map<string, number>(), card: new Map<string, number>() };
  const lines = records.map((record) => {
    if ('error' in record) return { line: record.line, user: undefined, problems: [record.error] };
    const { user, problems } = readLine(record, columns, decimals, groupNames);
    if (user) problems.push(...duplicatesInFile(user, firstLineOf));
    return { line: record.line, user, problems };
  });

  const result: ImportResult = { total: records.length, imported: 0, updated: 0, unchanged: 0, skipped: [], dryRun: opts.dryRun === true };
  let done = 0;
  let next = 0;
  let stopped: { line: number; err: unknown } | undefined;
  opts.onProgress?.(0, lines.length);
  const worker = async (): Promise<void> => {
    for (let item = lines[next++]; item && !stopped; item = lines[next++]) {
      if (!item.user || item.problems.length > 0) {
        result.skipped.push({ line: item.line, reason: item.problems.join('; ') });
      } else {
        try {
          const outcome = await applyLine(services, item.user, opts);
          if (typeof outcome === 'string') result[outcome] += 1;
          else result.skipped.push({ line: item.line, reason: outcome.reason });
        } catch (err) {
          if (isQuotientError(err) && LINE_ERROR_CODES.has(err.code)) result.skipped.push({ line: item.line, reason: err.message });
          else stopped ??= { line: item.line, err };
        }
      }
      opts.onProgress?.(++done, lines.length);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  if (stopped) throw new ImportStoppedError(stopped.line, { imported: result.imported, updated: result.updated }, stopped.err);
  result.skipped.sort((a, b) => a.line - b.line);
  return result;
}

// ---- reading the file ----

export async function readAll(input: Readable | string): Promise<Buffer> {
  if (typeof input === 'string') {
    try {
      return await fs.readFile(input);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'it is a directory' : e.message;
      throw new ValidationError(`cannot read ${input}: ${why}`, { reason: 'unreadable', file: input });
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks);
}

/** Strips a UTF-8 byte order mark (Excel writes one) and refuses anything that is not UTF-8. */
export function checkEncoding(buf: Buffer, source: string): Buffer {
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff)) {
    throw new ValidationError(`${source} is UTF-16 text; save it as UTF-8 (in Excel: "CSV UTF-8 (comma delimited)")`, { reason: 'encoding' });
  }
  const body = buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? buf.subarray(3) : buf;
  if (isUtf8(body)) return body;
  let line = 1;
  for (let start = 0; start < body.length; line++) {
    const nl = body.indexOf(0x0a, start);
    const end = nl === -1 ? body.length : nl;
    if (!isUtf8(body.subarray(start, end))) break;
    start = end + 1;
  }
  throw new ValidationError(
    `${source} is not valid UTF-8 (first bad byte on line ${line}); save it as UTF-8 (in Excel: "CSV UTF-8 (comma delimited)"), ` +
      'or convert it, e.g. iconv -f WINDOWS-1252 -t UTF-8',
    { reason: 'encoding', line },
  );
}

export type RawRecord = { line: number; fields: string[] } | { line: number; error: string };

/**
 * Parses every record with the line number it starts on. csv-parse's own `info.lines` is the
 * line a record ends on (and counts CRLF inside a quoted field as two lines), so the start is
 * worked out from the byte offset where the previous record ended. A malformed record is
 * reported and parsing resumes on the line after the one it started on, so one stray quote
 * costs one line, not the rest of the file.
 */
export function readRecords(buf: Buffer): { header: { line: number; fields: string[] } | undefined; records: RawRecord[] } {
  const lineStarts = [0];
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x0a || (b === 0x0d && buf[i + 1] !== 0x0a)) lineStarts.push(i + 1);
  }
  const lineAt = (offset: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((lineStarts[mid] ?? 0) <= offset) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const contentFrom = (offset: number): number => {
    let i = offset;
    while (buf[i] === 0x0a || buf[i] === 0x0d) i++;
    return i;
  };

  const all: RawRecord[] = [];
  let base = 0;
  while (base < buf.length) {
    let lastEnd = base;
    try {
      parse(buf.subarray(base), {
        relax_column_count: true,
        skip_empty_lines: true,
        on_record: (fields: string[], info) => {
          all.push({ line: lineAt(contentFrom(lastEnd)), fields });
          lastEnd = base + info.bytes;
          return null;
        },
      });
      break;
    } catch (err) {
      if (!(err instanceof CsvError)) throw err;
      const line = lineAt(contentFrom(lastEnd));
      all.push({ line, error: describeCsvError(err) });
      base = lineStarts[line] ?? buf.length;
    }
  }
  const [first, ...rest] = all;
  if (first && 'error' in first)
    throw new ValidationError(`the header (line ${first.line}) is not valid CSV: ${first.error}`, { reason: 'header', line: first.line });
  // Rows whose cells are all blank (spreadsheets leave ",,,," lines at the end) are not user lines.
  const records = rest.filter((r) => 'error' in r || r.fields.some((f) => f.trim() !== ''));
  return { header: first, records };
}

function describeCsvError(err: CsvError): string {
  switch (err.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'malformed CSV: a quoted field is never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'malformed CSV: text after the closing quote of a field (write a quote inside a quoted field as "")';
    case 'INVALID_OPENING_QUOTE':
      return 'malformed CSV: a quote inside an unquoted field (quote the whole field and double the quote)';
    default:
      return `malformed CSV: ${err.message}`;
  }
}

// ---- the header ----

/** Header cells mean the same written "Full Name", "full-name" or "FULL_NAME". */
function columnKey(cell: string): string {
  return cell
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
}

/** Maps each field position to a column (undefined: an unnamed column that is blank on every line). */
function readHeader(header: { line: number; fields: string[] }, records: RawRecord[]): (ImportColumn | undefined)[] {
  const known = new Set<string>(IMPORT_COLUMNS);
  const seen = new Set<string>();
  const unknown: string[] = [];
  const columns: (ImportColumn | undefined)[] = [];
  for (const [i, cell] of header.fields.entries()) {
    const key = columnKey(cell);
    if (key === '') {
      const used = records.find((r) => 'fields' in r && (r.fields[i] ?? '').trim() !== '');
      if (used)
        throw new ValidationError(`column ${i + 1} has no name in the header but has a value on line ${used.line}`, { reason: 'header', column: i + 1 });
      columns.push(undefined);
      continue;
    }
    if (!known.has(key)) unknown.push(cell.trim());
    else if (seen.has(key)) throw new ValidationError(`column ${key} appears twice in the header`, { reason: 'header', column: key });
    seen.add(key);
    columns.push(key as ImportColumn);
  }
  if (unknown.length > 0) {
    const hint = unknown.some((c) => c.includes(';') || c.includes('\t'))
      ? ' (the file seems to separate columns with ";" or tabs; columns must be separated by commas)'
      : '';
    throw new ValidationError(
      `unknown ${unknown.length === 1 ? 'column' : 'columns'} ${unknown.map((c) => JSON.stringify(c)).join(', ')} in the header${hint}; ` +
        `nothing was imported. The columns are: ${IMPORT_COLUMNS.join(', ')}`,
      { reason: 'unknown_columns', columns: unknown },
    );
  }
  if (!seen.has('username')) {
    throw new ValidationError(`the header has no username column; the first line must name the columns, e.g. ${IMPORT_COLUMNS.slice(0, 3).join(',')}`, {
      reason: 'header',
    });
  }
  return columns;
}

// ---- one line ----

interface UserLine {
  line: number;
  username: string;
  fullName?: string;
  email?: string;
  department?: string;
  office?: string;
  cards: string[];
  groups: string[];
  restricted?: boolean;
  creditLimit?: Money;
  initialCredit?: Money;
  password?: string;
}

const FIELD_COLUMN: Record<string, ImportColumn> = {
  username: 'username',
  fullName: 'full_name',
  email: 'email',
  department: 'department',
  office: 'office',
  cards: 'card',
  groups: 'groups',
  restricted: 'restricted',
  creditLimit: 'credit_limit',
  initialCredit: 'initial_credit',
  password: 'password',
};

const YES = new Set(['yes', 'true', '1']);
const NO = new Set(['no', 'false', '0']);

function splitList(cell: string): string[] {
  return [
    ...new Set(
      cell
        .split(LIST_SEPARATOR)
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    ),
  ];
}

/**
 * Checks one line on its own (no database): every problem found, and the user it describes
 * whenever its username could be read (so duplicates are found even among bad lines).
 */
function readLine(
  record: { line: number; fields: string[] },
  columns: (ImportColumn | undefined)[],
  decimals: number,
  groupNames: string[],
): { user: UserLine | undefined; problems: string[] } {
  if (record.fields.length !== columns.length) {
    return { user: undefined, problems: [`malformed CSV: ${record.fields.length} fields but the header has ${columns.length}`] };
  }
  const cell = new Map<ImportColumn, string>();
  for (const [i, column] of columns.entries()) {
    const value = record.fields[i] ?? '';
    // Passwords are taken as written; other cells lose surrounding blanks.
    if (column) cell.set(column, column === 'password' ? value : value.trim());
  }
  const given = (column: ImportColumn): string | undefined => {
    const value = cell.get(column);
    return value === undefined || value === '' ? undefined : value;
  };
  // A line break typed inside a name or an office (Alt+Enter in a spreadsheet) becomes a space.
  const oneLine = (column: ImportColumn): string | undefined => given(column)?.replace(/\s*[\r\n]+\s*/g, ' ');

  // Problems are reported in the order of IMPORT_COLUMNS, whatever order they were found in.
  const found: [ImportColumn, string][] = [];
  const problem = (column: ImportColumn, text: string): void => {
    found.push([column, text]);
  };
  const rawUsername = given('username');
  let username = '';
  if (rawUsername === undefined) problem('username', 'username is missing');
  else {
    try {
      username = normaliseUsername(rawUsername);
    } catch (err) {
      problem('username', err instanceof Error ? err.message : String(err));
    }
  }

  const amount = (column: 'initial_credit' | 'credit_limit'): Money | undefined => {
    const text = given(column);
    if (text === undefined) return undefined;
    try {
      const value = parseAmount(text, decimals, column);
      if (value < 0) problem(column, `${column} must not be negative: ${text}`);
      return value;
    } catch (err) {
      problem(column, err instanceof Error ? err.message : String(err));
      return undefined;
    }
  };
  const initialCredit = amount('initial_credit');
  const creditLimit = amount('credit_limit');

  let restricted: boolean | undefined;
  const restrictedText = given('restricted');
  if (restrictedText !== undefined) {
    const v = restrictedText.toLowerCase();
    if (YES.has(v)) restricted = true;
    else if (NO.has(v)) restricted = false;
    else problem('restricted', `restricted must be yes, no, true, false, 1 or 0, not ${JSON.stringify(restrictedText)}`);
  }

  const groups = splitList(given('groups') ?? '');
  for (const g of groups) {
    if (groupNames.includes(g)) continue;
    const near = groupNames.find((n) => n.toLowerCase() === g.toLowerCase());
    problem('groups', `unknown group ${JSON.stringify(g)}${near ? ` (group names are case-sensitive: did you mean ${JSON.stringify(near)}?)` : ''}`);
  }

  const user: UserLine = {
    line: record.line,
    username,
    cards: splitList(given('card') ?? ''),
    groups,
    ...defined('fullName', oneLine('full_name')),
    ...defined('email', given('email')),
    ...defined('department', oneLine('department')),
    ...defined('office', oneLine('office')),
    ...defined('password', given('password')),
    ...defined('restricted', restricted),
    ...defined('creditLimit', creditLimit),
    ...defined('initialCredit', initialCredit),
  };

  // The rest (lengths, control characters, email shape, password length, card count) is
  // UserService's own schema, so the import accepts exactly what createUser accepts.
  const checked = newUserSchema.safeParse({ ...toNewUser(user), username: username || 'x' });
  if (!checked.success) {
    for (const issue of checked.error.issues) {
      const column = FIELD_COLUMN[String(issue.path[0])] ?? 'username';
      if (column === 'initial_credit' || column === 'credit_limit') {
        if (found.some(([c]) => c === column)) continue; // already said, in the file's own terms
        problem(column, `${column} is too large`);
        continue;
      }
      const value = column === 'email' || column === 'card' ? `: ${JSON.stringify(String(cell.get(column)))}` : '';
      problem(column, `${column} ${describeIssue(issue)}${value}`);
    }
  }
  const problems = found.sort(([a], [b]) => IMPORT_COLUMNS.indexOf(a) - IMPORT_COLUMNS.indexOf(b)).map(([, text]) => text);
  return { user: username ? user : undefined, problems };
}

/** `{ [key]: value }` when value is defined, else `{}`: keeps optional properties truly absent. */
function defined<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_union') {
    const first = issue.errors[0]?.[0];
    return first ? describeIssue(first) : 'is invalid';
  }
  // Messages written in user-service.ts are lower-case phrases; zod's own are not, so say them plainly.
  if (/^[a-z]/.test(issue.message)) return issue.message;
  if (issue.code === 'too_big')
    return issue.origin === 'array' ? `has more than ${String(issue.maximum)} entries` : `is longer than ${String(issue.maximum)} characters`;
  if (issue.code === 'too_small') return issue.origin === 'array' ? 'is empty' : `is shorter than ${String(issue.minimum)} characters`;
  if (issue.code === 'invalid_format') return 'contains characters that are not allowed';
  return 'is invalid';
}

function toNewUser(u: UserLine): NewUser {
  return {
    username: u.username,
    ...(u.cards.length > 0 && { cards: u.cards }),
    ...(u.groups.length > 0 && { groups: u.groups }),
    ...defined('fullName', u.fullName),
    ...defined('email', u.email),
    ...defined('department', u.department),
    ...defined('office', u.office),
    ...defined('password', u.password),
    ...defined('restricted', u.restricted),
    ...defined('creditLimit', u.creditLimit),
    ...defined('initialCredit', u.initialCredit),
  };
}

/**
 * A username or card number may appear on one line of a file only: the first line to name it
 * claims it, and later lines naming it again are skipped (which of them is right is anyone's guess).
 */
function duplicatesInFile(u: UserLine, firstLineOf: { username: Map<string, number>; card: Map<string, number> }): string[] {
  const problems: string[] = [];
  const earlier = firstLineOf.username.get(u.username);
  if (earlier !== undefined) problems.push(`username ${u.username} already appears on line ${earlier}`);
  else firstLineOf.username.set(u.username, u.line);
  for (const card of u.cards) {
    const cardLine = firstLineOf.card.get(card);
    if (cardLine !== undefined) problems.push(`card ${card} already appears on line ${cardLine}`);
    else firstLineOf.card.set(card, u.line);
  }
  return problems;
}

/**
 * Writes one line: creates the user (one transaction, in createUser), or in update mode changes
 * an existing user's details, restriction and credit limit and adds groups and cards they do not
 * have yet. Everything that could refuse a line is checked before the first write.
 */
async function applyLine(s: Services, u: UserLine, opts: ImportOptions): Promise<'imported' | 'updated' | 'unchanged' | { reason: string }> {
  const existing = await s.users.findByUsername(u.username);
  if (existing && !opts.update) return { reason: `user ${u.username} already exists (update mode changes existing users)` };
  for (const card of u.cards) {
    const owner = await s.users.findByCard(card);
    if (owner && owner.id !== existing?.id) return { reason: `card ${card} already belongs to user ${owner.username}` };
  }

  if (!existing) {
    if (!opts.dryRun) await s.users.createUser(toNewUser(u), opts.actor);
    return 'imported';
  }

  // Update mode. The balance, the password and initial_credit are left alone for existing users.
  const current = await s.users.detail(existing.id);
  const changes: UserChanges = {};
  if (u.fullName !== undefined && u.fullName !== current.fullName) changes.fullName = u.fullName;
  if (u.email !== undefined && u.email !== current.email) changes.email = u.email;
  if (u.department !== undefined && u.department !== current.department) changes.department = u.department;
  if (u.office !== undefined && u.office !== current.office) changes.office = u.office;
  if (u.restricted !== undefined && u.restricted !== current.account.restricted) changes.restricted = u.restricted;
  if (u.creditLimit !== undefined && u.creditLimit !== current.account.creditLimit) changes.creditLimit = u.creditLimit;
  const newCards = u.cards.filter((c) => !current.cards.includes(c));
  const newGroups = u.groups.filter((g) => !current.groups.includes(g));
  if (current.cards.length + newCards.length > 10) return { reason: `card: user ${u.username} would have more than 10 cards` };
  if (Object.keys(changes).length === 0 && newCards.length === 0 && newGroups.length === 0) return 'unchanged';
  if (opts.dryRun) return 'updated';

  // Cards first: a card taken by someone else in the meantime is the likeliest refusal.
  for (const card of newCards) await s.users.addCard(existing.id, card, opts.actor);
  for (const group of newGroups) await s.groups.addMembers(group, [u.username], opts.actor);
  if (Object.keys(changes).length > 0) await s.users.update(existing.id, changes, opts.actor);
  return 'updated';
}
