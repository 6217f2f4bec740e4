/**
 * Many postings of one kind in a handful of statements (a quota run's chunk of 2,500 users):
 * the ledger rows as multi-row INSERTs and the balances as multi-row UPDATEs, instead of two
 * statements per account (STYLE practice 7; the quota benchmark measures it). Each row's
 * idempotency key is a shared prefix followed by its account id, so a repeated run is a no-op.
 * The caller runs them in its transaction (SqlTx) and holds the locks on the accounts.
 */
import { MAX_AMOUNT } from '../../common/money';
import { isUniqueViolation } from '../db/errors';
import { placeholders as marks, type SqlTx } from '../db/sql-runner';
import type { EntryType } from './types';

/** Rows per statement: the chunk (default 2,500 users) in one; 7 parameters a row stays far below both drivers' limits. */
const INSERT_BATCH = 2500;
/** A batch with at most this many distinct amounts is written one statement per amount. */
const MAX_AMOUNT_GROUPS = 8;

/** One account's posting: `amount`, and the balance `after` it (read by the caller under the lock). */
export interface BulkPosting {
  accountId: number;
  amount: number;
  after: number;
}

/** What every row of one bulk write shares. */
export interface BulkMeta {
  type: EntryType;
  actor: string;
  /** Each row's idempotency key is this followed by its account id. */
  keyPrefix: string;
  reference: string;
  comment: string;
  now: number;
}

const LEDGER_COLUMNS = 'account_id, amount, balance_after, type, reference, actor, comment, idempotency_key, created_at';

/**
 * Writes ledger rows and the balances after them; returns the rows written. The caller holds the
 * account locks and has read the balances. A batch of a few distinct amounts (a cap most users
 * are below) is written as one `INSERT ... SELECT` from the accounts and one relative UPDATE per
 * amount, sending the account ids only, not seven values a row (fewer bytes for mysql2 to write,
 * fewer parameters to bind); one of many amounts (reset) sends its rows as VALUES. A key is
 * normally new (a quota run moves its cursor in the same transaction as these rows); if one
 * already exists (an allocation made outside the run's bookkeeping), the statement fails alone
 * (both dialects roll back just the failed statement), and its rows are written again without
 * those already in the ledger.
 */
export async function postToEach(tx: SqlTx, rows: BulkPosting[], meta: BulkMeta): Promise<BulkPosting[]> {
  const written: BulkPosting[] = [];
  for (let i = 0; i < rows.length; i += INSERT_BATCH) {
    const batch = rows.slice(i, i + INSERT_BATCH);
    const byAmount = new Map<number, BulkPosting[]>();
    for (const r of batch) {
      const same = byAmount.get(r.amount);
      if (same) same.push(r);
      else byAmount.set(r.amount, [r]);
    }
    if (byAmount.size <= MAX_AMOUNT_GROUPS) {
      for (const [amount, group] of byAmount) {
        const done = await insertOrSkipExisting(tx, group, meta, () => insertFromAccounts(tx, amount, group, meta));
        if (done.length === 0) continue;
        await tx.run(`UPDATE accounts SET balance = balance + ?, updated_at = ? WHERE id IN (${marks(done.length)})`, [
          amount,
          meta.now,
          ...done.map((r) => r.accountId),
        ]);
        written.push(...done);
      }
      continue;
    }
    const done = await insertOrSkipExisting(tx, batch, meta, () => insertValues(tx, batch, meta));
    if (done.length === 0) continue;
    await tx.run(`UPDATE accounts SET balance = CASE id ${done.map(() => 'WHEN ? THEN ?').join(' ')} END, updated_at = ? WHERE id IN (${marks(done.length)})`, [
      ...done.flatMap((r) => [r.accountId, r.after]),
      meta.now,
      ...done.map((r) => r.accountId),
    ]);
    written.push(...done);
  }
  return written;
}

/**
 * Adds `amount` to every account of `ids` (locked by the caller) whose balance stays within
 * ±MAX_AMOUNT, with one ledger row each, in two statements that select the same accounts.
 * Returns how many were paid, or undefined — having written nothing — when a key already
 * exists: the caller then goes the way that reads the balances and skips existing rows.
 */
export async function addToEach(tx: SqlTx, ids: number[], amount: number, meta: BulkMeta): Promise<number | undefined> {
  const within = [-MAX_AMOUNT - amount, MAX_AMOUNT - amount];
  let inserted: number;
  try {
    inserted = (
      await tx.run(
        `INSERT INTO ledger (${LEDGER_COLUMNS})
         SELECT id, ?, balance + ?, ?, ?, ?, ?, CONCAT(?, id), ? FROM accounts WHERE id IN (${marks(ids.length)}) AND balance BETWEEN ? AND ?`,
        [amount, amount, meta.type, meta.reference, meta.actor, meta.comment, meta.keyPrefix, meta.now, ...ids, ...within],
      )
    ).changes;
  } catch (err) {
    if (isUniqueViolation(err)) return undefined;
    throw err;
  }
  const updated = (
    await tx.run(`UPDATE accounts SET balance = balance + ?, updated_at = ? WHERE id IN (${marks(ids.length)}) AND balance BETWEEN ? AND ?`, [
      amount,
      meta.now,
      ...ids,
      ...within,
    ])
  ).changes;
  // Under the locks both statements see the same balances; anything else must not commit.
  if (updated !== inserted) throw new Error(`bulk postings: ${inserted} ledger rows but ${updated} balances changed`);
  return inserted;
}

/** Runs `insert`; if a key already exists, writes the rows again without the existing ones. Returns the rows written. */
async function insertOrSkipExisting(tx: SqlTx, rows: BulkPosting[], meta: BulkMeta, insert: () => Promise<void>): Promise<BulkPosting[]> {
  try {
    await insert();
    return rows;
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
  }
  const keys = rows.map((r) => `${meta.keyPrefix}${r.accountId}`);
  const existing = new Set(
    (await tx.all<{ idempotency_key: string }>(`SELECT idempotency_key FROM ledger WHERE idempotency_key IN (${marks(keys.length)})`, keys)).map(
      (r) => r.idempotency_key,
    ),
  );
  const fresh = rows.filter((r) => !existing.has(`${meta.keyPrefix}${r.accountId}`));
  if (fresh.length > 0) await insertValues(tx, fresh, meta);
  return fresh;
}

/** One amount for every account of `rows`: the database makes the rows from the (locked) accounts. */
async function insertFromAccounts(tx: SqlTx, amount: number, rows: BulkPosting[], meta: BulkMeta): Promise<void> {
  await tx.run(
    `INSERT INTO ledger (${LEDGER_COLUMNS})
     SELECT id, ?, balance + ?, ?, ?, ?, ?, CONCAT(?, id), ? FROM accounts WHERE id IN (${marks(rows.length)})`,
    [amount, amount, meta.type, meta.reference, meta.actor, meta.comment, meta.keyPrefix, meta.now, ...rows.map((r) => r.accountId)],
  );
}

async function insertValues(tx: SqlTx, rows: BulkPosting[], meta: BulkMeta): Promise<void> {
  await tx.run(
    `INSERT INTO ledger (${LEDGER_COLUMNS}) VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
    rows.flatMap((r) => [r.accountId, r.amount, r.after, meta.type, meta.reference, meta.actor, meta.comment, `${meta.keyPrefix}${r.accountId}`, meta.now]),
  );
}
