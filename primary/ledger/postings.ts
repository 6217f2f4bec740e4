/**
 * The money rules, written once: lock an account, check what it may spend, write a ledger row
 * with the balance after it, hold / settle / cancel a reservation, find an earlier result by its
 * idempotency key. Every function runs inside the caller's transaction (SqlTx), so the ledger
 * service and the batched print path share exactly the same rules.
 */
import { IdempotencyConflictError, InsufficientFundsError, NotFoundError, ValidationError } from '../../common/errors';
import { MAX_AMOUNT, type Money } from '../../common/money';
import { bulkUpdateByIdSql } from '../db/bulk-update';
import type { SqlTx } from '../db/sql-runner';
import { ENTRY_TYPES, type Account, type EntryMeta, type EntryType, type LedgerEntry, type Reservation } from './types';

export const KEY_MAX = 191;

interface AccountRow {
  id: number;
  type: 'personal' | 'shared' | 'allocation';
  user_id: number | null;
  name: string;
  balance: number | string;
  reserved: number | string;
  restricted: number | boolean;
  credit_limit: number | string | null;
  cost_multiplier_bp: number;
  enabled: number | boolean;
}

export interface LedgerRow {
  id: number | string;
  account_id: number;
  amount: number | string;
  balance_after: number | string;
  type: EntryType;
  reference: string | null;
  actor: string | null;
  comment: string;
  idempotency_key: string;
  created_at: number | string;
}

interface ReservationRow {
  id: number | string;
  account_id: number;
  amount: number | string;
  state: Reservation['state'];
  type: EntryType;
  reference: string | null;
  idempotency_key: string;
  ledger_id: number | string | null;
  created_at: number | string;
  settled_at: number | string | null;
}

export function toAccount(row: AccountRow): Account {
  return {
    id: row.id,
    type: row.type,
    userId: row.user_id,
    name: row.name,
    balance: Number(row.balance),
    reserved: Number(row.reserved),
    restricted: Boolean(row.restricted),
    creditLimit: row.credit_limit === null ? null : Number(row.credit_limit),
    costMultiplierBp: row.cost_multiplier_bp,
    enabled: Boolean(row.enabled),
  };
}

export function toEntry(row: LedgerRow, replayed = false): LedgerEntry {
  return {
    id: Number(row.id),
    accountId: row.account_id,
    amount: Number(row.amount),
    balanceAfter: Number(row.balance_after),
    type: row.type,
    reference: row.reference,
    actor: row.actor,
    comment: row.comment,
    idempotencyKey: row.idempotency_key,
    createdAt: Number(row.created_at),
    replayed,
  };
}

function toReservation(row: ReservationRow): Reservation {
  return {
    id: Number(row.id),
    accountId: row.account_id,
    amount: Number(row.amount),
    state: row.state,
    type: row.type,
    reference: row.reference,
    idempotencyKey: row.idempotency_key,
    ledgerId: row.ledger_id === null ? null : Number(row.ledger_id),
    createdAt: Number(row.created_at),
    settledAt: row.settled_at === null ? null : Number(row.settled_at),
    replayed: false,
  };
}

export function checkMeta(meta: EntryMeta): void {
  if (typeof meta.key !== 'string' || meta.key.length === 0 || meta.key.length > KEY_MAX) {
    throw new ValidationError(`idempotency key must be 1 to ${KEY_MAX} characters`, { field: 'key' });
  }
  if (meta.comment !== undefined && meta.comment.length > 1000) throw new ValidationError('comment is longer than 1000 characters', { field: 'comment' });
  if (meta.reference && meta.reference.length > 255) throw new ValidationError('reference is longer than 255 characters', { field: 'reference' });
  if (meta.actor && meta.actor.length > 128) throw new ValidationError('actor is longer than 128 characters', { field: 'actor' });
}

export function checkType(type: EntryType): void {
  if (!(ENTRY_TYPES as readonly string[]).includes(type)) throw new ValidationError(`unknown entry type ${String(type)}`, { field: 'type' });
}

/**
 * The statements of a posting. Exported so that the bench's raw-driver baseline
 * (bench/raw-sqlite.ts, bench/raw-mysql.ts) runs exactly these, not copies of them.
 */
export const POSTING_SQL = {
  loadAccount: 'SELECT id, type, user_id, name, balance, reserved, restricted, credit_limit, cost_multiplier_bp, enabled FROM accounts WHERE id = ?',
  findEntry: 'SELECT * FROM ledger WHERE idempotency_key = ?',
  writeAccount: 'UPDATE accounts SET balance = ?, reserved = ?, updated_at = ? WHERE id = ?',
  insertEntry:
    'INSERT INTO ledger (account_id, amount, balance_after, type, reference, actor, comment, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
} as const;

/** lockAccounts' statement for `count` account ids on a dialect (see there). */
export function lockAccountsSql(dialect: SqlTx['dialect'], count: number): string {
  const marks = Array.from({ length: count }, () => '?').join(',');
  return dialect === 'mysql'
    ? `SELECT id FROM accounts WHERE id IN (${marks}) ORDER BY id FOR UPDATE`
    : `UPDATE accounts SET updated_at = updated_at WHERE id IN (${marks})`;
}

/**
 * Locks accounts for the rest of the transaction, in id order so two transactions locking the
 * same accounts cannot deadlock. MySQL: SELECT ... FOR UPDATE. SQLite has no row locks; a no-op
 * write takes the database write lock at once (a no-op when the transaction began IMMEDIATE).
 * It writes a column no foreign key refers to: `SET id = id` would make SQLite run every foreign
 * key check on the account (scanning its ledger and jobs), measured at 4 ms with 100,000 jobs.
 */
export async function lockAccounts(tx: SqlTx, ids: readonly number[]): Promise<void> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  if (sorted.length === 0) return;
  tx.touchAccounts(sorted);
  if (tx.dialect === 'mysql') await tx.all(lockAccountsSql(tx.dialect, sorted.length), sorted);
  else await tx.run(lockAccountsSql(tx.dialect, sorted.length), sorted);
}

export async function loadAccount(tx: SqlTx, id: number): Promise<Account> {
  const row = await tx.get<AccountRow>(POSTING_SQL.loadAccount, [id]);
  if (!row) throw new NotFoundError('account', id);
  return toAccount(row);
}

/** Many accounts' rows at once, in chunks of 500 (a print batch's locked accounts, batch-accounts.ts). */
export async function loadAccounts(tx: SqlTx, ids: readonly number[]): Promise<Account[]> {
  const found: Account[] = [];
  for (let i = 0; i < ids.length; i += 500) {
    const chunk = ids.slice(i, i + 500);
    const sql = POSTING_SQL.loadAccount.replace('id = ?', `id IN (${chunk.map(() => '?').join(',')})`);
    for (const row of await tx.all<AccountRow>(sql, chunk)) found.push(toAccount(row));
  }
  return found;
}

export async function findEntry(tx: SqlTx, key: string): Promise<LedgerEntry | undefined> {
  const row = await tx.get<LedgerRow>(POSTING_SQL.findEntry, [key]);
  return row ? toEntry(row) : undefined;
}

export async function findReservation(tx: SqlTx, key: string): Promise<Reservation | undefined> {
  const row = await tx.get<ReservationRow>('SELECT * FROM reservations WHERE idempotency_key = ?', [key]);
  return row ? toReservation(row) : undefined;
}

/** By its id, as a print job records it (the primary key: cheaper than the key's index). */
export async function findReservationById(tx: SqlTx, id: number): Promise<Reservation | undefined> {
  const row = await tx.get<ReservationRow>('SELECT * FROM reservations WHERE id = ?', [id]);
  return row ? toReservation(row) : undefined;
}

/** An earlier entry under the same key is this request's answer only if it did the same thing. */
export function replayOf(entry: LedgerEntry, accountId: number, amount: Money, type: EntryType, balanceAfter?: Money): LedgerEntry {
  const same =
    entry.accountId === accountId && entry.type === type && (balanceAfter === undefined ? entry.amount === amount : entry.balanceAfter === balanceAfter);
  if (!same) throw new IdempotencyConflictError(entry.idempotencyKey);
  return { ...entry, replayed: true };
}

/** Refuses a restricted account whose spendable balance would fall below minus its credit limit. */
export function ensureSpendable(account: Account, amount: Money, defaultCreditLimit: Money): void {
  if (!account.restricted || amount <= 0) return;
  const creditLimit = account.creditLimit ?? defaultCreditLimit;
  const available = account.balance - account.reserved;
  if (available - amount < -creditLimit) throw new InsufficientFundsError({ accountId: account.id, available, amount, creditLimit });
}

/** Whether a restricted account could pay `amount` now (the check above, as a question). */
export function canSpend(account: Account, amount: Money, defaultCreditLimit: Money): boolean {
  if (!account.restricted || amount <= 0) return true;
  return account.balance - account.reserved - amount >= -(account.creditLimit ?? defaultCreditLimit);
}

/**
 * Where the functions below put an account's new balance and reserved amount. Every caller but
 * one writes it at once (`writeNow`); a print batch keeps it and writes each account it changed
 * once, before it commits (batch-accounts.ts).
 */
export interface AccountWriter {
  write(account: Account, balance: Money, reserved: Money, now: number): Promise<void>;
}

/** One UPDATE of the account's balance and reserved amount. */
export function writeAccountNow(tx: SqlTx, id: number, balance: Money, reserved: Money, now: number): Promise<unknown> {
  return tx.run(POSTING_SQL.writeAccount, [balance, reserved, now, id]);
}

/** An account's new balance and reserved amount, as a print batch keeps them until it flushes. */
export interface AccountWrite {
  id: number;
  balance: Money;
  reserved: Money;
  now: number;
}

/** Many accounts' balances and reserved amounts in one UPDATE (bulk-update.ts), whatever their number. */
export async function writeAccountsNow(tx: SqlTx, writes: readonly AccountWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const rows = writes.map((w) => [w.id, w.balance, w.reserved, w.now]);
  await tx.run(bulkUpdateByIdSql(tx.dialect, 'accounts', ['balance', 'reserved', 'updated_at']), [JSON.stringify(rows)]);
}

export function writeNow(tx: SqlTx): AccountWriter {
  return {
    write: async (account, balance, reserved, now) => {
      await writeAccountNow(tx, account.id, balance, reserved, now);
    },
  };
}

/**
 * Writes one ledger row and the new balance; updates `account` in place so a caller posting
 * several changes in one transaction sees the running balance. The caller holds the lock.
 */
export async function postEntry(
  tx: SqlTx,
  account: Account,
  amount: Money,
  type: EntryType,
  meta: EntryMeta,
  now: number,
  writer = writeNow(tx),
): Promise<LedgerEntry> {
  const balanceAfter = balanceAfterPosting(account, amount);
  await writer.write(account, balanceAfter, account.reserved, now);
  const entry = await insertEntry(tx, account.id, amount, balanceAfter, type, meta, now);
  account.balance = balanceAfter; // only once every write of the posting succeeded
  return entry;
}

function balanceAfterPosting(account: Account, amount: Money): Money {
  const balanceAfter = account.balance + amount;
  if (Math.abs(balanceAfter) > MAX_AMOUNT) throw new ValidationError('the balance would be out of range', { field: 'amount' });
  return balanceAfter;
}

/** The ledger row of a posting whose balance the caller has just written. */
async function insertEntry(
  tx: SqlTx,
  accountId: number,
  amount: Money,
  balanceAfter: Money,
  type: EntryType,
  meta: EntryMeta,
  now: number,
): Promise<LedgerEntry> {
  const row = {
    account_id: accountId,
    amount,
    balance_after: balanceAfter,
    type,
    reference: meta.reference ?? null,
    actor: meta.actor ?? null,
    comment: meta.comment ?? '',
    idempotency_key: meta.key,
    created_at: now,
  };
  const { insertId } = await tx.run(POSTING_SQL.insertEntry, [
    row.account_id,
    row.amount,
    row.balance_after,
    row.type,
    row.reference,
    row.actor,
    row.comment,
    row.idempotency_key,
    row.created_at,
  ]);
  return toEntry({ ...row, id: insertId });
}

/** Holds `amount` against the account (the caller checked it may spend it). */
export async function holdReservation(
  tx: SqlTx,
  account: Account,
  amount: Money,
  type: EntryType,
  meta: EntryMeta,
  now: number,
  writer = writeNow(tx),
): Promise<Reservation> {
  const reserved = account.reserved + amount;
  await writer.write(account, account.balance, reserved, now);
  const { insertId } = await tx.run(
    "INSERT INTO reservations (account_id, amount, state, type, reference, actor, comment, idempotency_key, ledger_id, created_at, settled_at) VALUES (?, ?, 'held', ?, ?, ?, ?, ?, NULL, ?, NULL)",
    [account.id, amount, type, meta.reference ?? null, meta.actor ?? null, meta.comment ?? '', meta.key, now],
  );
  account.reserved = reserved;
  return {
    id: insertId,
    accountId: account.id,
    amount,
    state: 'held',
    type,
    reference: meta.reference ?? null,
    idempotencyKey: meta.key,
    ledgerId: null,
    createdAt: now,
    settledAt: null,
    replayed: false,
  };
}

/** Turns a held reservation into a charge of `final` under the reservation's key. */
export async function settleReservation(
  tx: SqlTx,
  reservation: Reservation,
  account: Account,
  final: Money,
  opts: { actor?: string | null; comment?: string },
  now: number,
  writer = writeNow(tx),
): Promise<LedgerEntry> {
  // The balance and the reserved amount change in one UPDATE.
  const balanceAfter = balanceAfterPosting(account, -final);
  const reserved = account.reserved - reservation.amount;
  await writer.write(account, balanceAfter, reserved, now);
  const meta = { key: reservation.idempotencyKey, reference: reservation.reference, actor: opts.actor ?? null, comment: opts.comment ?? '' };
  const entry = await insertEntry(tx, account.id, -final, balanceAfter, reservation.type, meta, now);
  await tx.run("UPDATE reservations SET state = 'committed', ledger_id = ?, settled_at = ? WHERE id = ?", [entry.id, now, reservation.id]);
  account.balance = balanceAfter;
  account.reserved = reserved;
  return entry;
}

/** Gives a held reservation back. */
export async function cancelReservation(tx: SqlTx, reservation: Reservation, account: Account, now: number, writer = writeNow(tx)): Promise<Reservation> {
  const reserved = account.reserved - reservation.amount;
  await writer.write(account, account.balance, reserved, now);
  await tx.run("UPDATE reservations SET state = 'released', settled_at = ? WHERE id = ?", [now, reservation.id]);
  account.reserved = reserved;
  return { ...reservation, state: 'released', settledAt: now };
}
