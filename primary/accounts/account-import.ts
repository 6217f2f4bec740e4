/**
 * Imports many shared accounts with their access from one CSV file (`quotient accounts import`,
 * docs/accounts.md): every row is checked by the same rules as `accounts add` and `grant`
 * (SharedAccounts inside one transaction), every broken row is reported with its line number,
 * and the file is imported whole or not at all. A dry run does the same work and rolls it back.
 */
import type { Readable } from 'node:stream';
import { isQuotientError, ValidationError, type ErrorCode } from '../../common/errors';
import { parseAmount } from '../../common/money';
import { runKnexTransaction } from '../db/sql-runner';
import { checkEncoding, readAll, readRecords } from '../users/csv-import';
import type { Services } from '../services';
import { NAME_SEPARATOR, nameKey, parseAccountName, parseCode, parseDay, parseMultiplier } from './account-names';
import type { AccountSettings } from './shared-accounts';

/** The columns a file may have; only `name` is required. Lists (users, groups) are separated by `;`. */
export const ACCOUNT_COLUMNS = [
  'name',
  'code',
  'pin',
  'restricted',
  'credit_limit',
  'multiplier',
  'starts',
  'expires',
  'notes',
  'users',
  'groups',
  'everyone',
] as const;
type Column = (typeof ACCOUNT_COLUMNS)[number];

export interface AccountImportProblem {
  /** The line the row starts on (the header is line 1); 0 for the file as a whole. */
  line: number;
  reason: string;
}

export interface AccountImportResult {
  /** Accounts in the file, and the grants they carry (users, groups and everyone). */
  accounts: number;
  grants: number;
  problems: AccountImportProblem[];
  /** Whether the accounts were stored: only with no problem and no dry run. */
  written: boolean;
}

interface Row {
  line: number;
  name: string;
  settings: AccountSettings;
  users: string[];
  groups: string[];
  everyone: boolean;
}

/** Refusals about one row's data; anything else (the database went away) stops the import. */
const ROW_ERROR_CODES: ReadonlySet<ErrorCode> = new Set(['VALIDATION', 'NOT_FOUND', 'ALREADY_EXISTS']);
const YES = new Set(['yes', 'true', '1']);
const NO = new Set(['no', 'false', '0', '']);

/** Thrown inside the transaction to roll it back (a dry run, or a refused row), carrying what was found. */
class RollBack extends Error {
  constructor(readonly result: AccountImportResult) {
    super('rolled back');
  }
}

/**
 * Reads `input` (a path or a stream), checks every row and, with no problem and no dry run,
 * creates the accounts and grants their access in one transaction. A `parent\sub` row needs its
 * parent in the database or anywhere in the file: rows are created parents first.
 */
export async function importAccounts(
  services: Pick<Services, 'db' | 'accounts' | 'users' | 'settings'>,
  input: Readable | string,
  opts: { actor: string; dryRun: boolean },
): Promise<AccountImportResult> {
  const source = typeof input === 'string' ? input : 'the input';
  const { header, records } = readRecords(checkEncoding(await readAll(input), source));
  if (!header) throw new ValidationError(`${source} is empty: the first line must name the columns, e.g. name,code,users`);
  const columns = readHeader(header.fields);
  const decimals = (await services.settings.currency()).decimals;

  const problems: AccountImportProblem[] = [];
  const rows: Row[] = [];
  const firstLine = { name: new Map<string, number>(), code: new Map<string, number>() };
  for (const record of records) {
    if ('error' in record) {
      problems.push({ line: record.line, reason: record.error });
      continue;
    }
    try {
      const row = readRow(record.line, record.fields, columns, decimals, services.accounts.timezone);
      const again = sameAsEarlier(row, firstLine);
      if (again) problems.push({ line: row.line, reason: again });
      else rows.push(row);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      problems.push({ line: record.line, reason: err.message });
    }
  }
  if (records.length === 0) problems.push({ line: 0, reason: `${source} has no accounts after its header` });

  // Users are looked up before the transaction (UserService reads outside it); groups inside it.
  const userIds = new Map<string, { userId: number; username: string }>();
  for (const row of rows) {
    for (const name of row.users) {
      if (userIds.has(name.toLowerCase())) continue;
      const user = await services.users.findByUsername(name).catch((err: unknown) => {
        if (err instanceof ValidationError) return undefined; // not a username at all: refused as unknown below
        throw err;
      });
      if (user) userIds.set(name.toLowerCase(), { userId: user.id, username: user.username });
    }
  }

  // Parents before their children, file order otherwise (a stable sort on the depth).
  const ordered = [...rows].sort((a, b) => depth(a.name) - depth(b.name));
  const summary = { accounts: rows.length, grants: rows.reduce((n, r) => n + r.users.length + r.groups.length + (r.everyone ? 1 : 0), 0) };
  try {
    return await runKnexTransaction(services.db, async (trx) => {
      const found = [...problems];
      for (const row of ordered) {
        try {
          const id = await services.accounts.createWithin(trx, { name: row.name, ...row.settings }, opts.actor);
          const account = { id, name: row.name };
          for (const name of row.users) {
            const user = userIds.get(name.toLowerCase());
            if (!user) throw new ValidationError(`unknown user ${name}`);
            await services.accounts.changeAccessWithin(trx, account, user, 'grant', opts.actor);
          }
          for (const group of row.groups) await services.accounts.changeAccessWithin(trx, account, { group }, 'grant', opts.actor);
          if (row.everyone) await services.accounts.changeAccessWithin(trx, account, { everyone: true }, 'grant', opts.actor);
        } catch (err) {
          if (!isQuotientError(err) || !ROW_ERROR_CODES.has(err.code)) throw err;
          found.push({ line: row.line, reason: err.message });
        }
      }
      found.sort((a, b) => a.line - b.line);
      if (found.length > 0 || opts.dryRun) throw new RollBack({ ...summary, problems: found, written: false });
      return { ...summary, problems: [], written: true };
    });
  } catch (err) {
    if (err instanceof RollBack) return err.result;
    throw err;
  }
}

function depth(name: string): number {
  return name.split(NAME_SEPARATOR).length;
}

/** Header cells mean the same written "Credit Limit", "credit-limit" or "CREDIT_LIMIT". */
function readHeader(fields: string[]): (Column | undefined)[] {
  const known = new Set<string>(ACCOUNT_COLUMNS);
  const seen = new Set<string>();
  const columns = fields.map((cell) => {
    const key = cell
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
    if (key === '') return undefined;
    if (!known.has(key))
      throw new ValidationError(`unknown column ${JSON.stringify(cell.trim())} in the header; the columns are: ${ACCOUNT_COLUMNS.join(', ')}`);
    if (seen.has(key)) throw new ValidationError(`column ${key} appears twice in the header`);
    seen.add(key);
    return key as Column;
  });
  if (!seen.has('name')) throw new ValidationError(`the header has no name column; the columns are: ${ACCOUNT_COLUMNS.join(', ')}`);
  return columns;
}

/** One row as settings for SharedAccounts; the text shapes are checked by the same parsers as the CLI's flags. */
function readRow(line: number, fields: string[], columns: (Column | undefined)[], decimals: number, timezone: string): Row {
  const cell = (column: Column): string | undefined => {
    const at = columns.indexOf(column);
    const text = at < 0 ? undefined : fields[at]?.trim();
    return text === '' ? undefined : text;
  };
  const yesNo = (column: Column): boolean | undefined => {
    const text = cell(column);
    if (text === undefined) return undefined;
    const v = text.toLowerCase();
    if (YES.has(v)) return true;
    if (NO.has(v)) return false;
    throw new ValidationError(`${column} must be yes, no, true, false, 1 or 0, not ${JSON.stringify(text)}`);
  };
  const list = (column: Column): string[] =>
    (cell(column) ?? '')
      .split(';')
      .map((item) => item.trim())
      .filter((item) => item !== '');
  const settings: AccountSettings = {};
  const text = (column: Column, set: (value: string) => void): void => {
    const value = cell(column);
    if (value !== undefined) set(value);
  };
  text('code', (v) => (settings.code = v));
  // The PIN as typed, not trimmed of zeros: `0042` stays `0042` (spreadsheets drop them: keep the column as text).
  text('pin', (v) => (settings.pin = v));
  const restricted = yesNo('restricted');
  if (restricted !== undefined) settings.restricted = restricted;
  text('credit_limit', (v) => (settings.creditLimit = parseAmount(v, decimals, 'credit_limit')));
  text('multiplier', (v) => (settings.multiplierBp = parseMultiplier(v)));
  text('starts', (v) => (settings.startsAt = parseDay(v, 'starts', false, timezone)));
  text('expires', (v) => (settings.expiresAt = parseDay(v, 'expires', true, timezone)));
  text('notes', (v) => (settings.notes = v));
  return { line, name: parseAccountName(cell('name') ?? ''), settings, users: list('users'), groups: list('groups'), everyone: yesNo('everyone') ?? false };
}

/** The same name or code (after case folding) as an earlier row: the reason, or undefined. */
function sameAsEarlier(row: Row, firstLine: { name: Map<string, number>; code: Map<string, number> }): string | undefined {
  const name = nameKey(row.name);
  const code = typeof row.settings.code === 'string' ? parseCode(row.settings.code) : undefined;
  const nameLine = firstLine.name.get(name);
  if (nameLine !== undefined) return `the same account name as line ${nameLine}`;
  const codeLine = code === undefined ? undefined : firstLine.code.get(code);
  if (codeLine !== undefined) return `the same code as line ${codeLine} (codes are compared in capitals)`;
  firstLine.name.set(name, row.line);
  if (code !== undefined) firstLine.code.set(code, row.line);
  return undefined;
}
