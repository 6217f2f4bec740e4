/**
 * Transactions with the dialect's locking and bounded retries on lock conflicts, so services
 * write `inTransaction(db, async (trx) => ...)` and never think about deadlocks or SQLITE_BUSY.
 */
import type { Knex } from 'knex';
import type { Database } from './connection';
import { isRetryable } from './errors';

const MAX_ATTEMPTS = 8;

export async function inTransaction<T>(db: Database, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await db.knex.transaction(work);
    } catch (err) {
      if (!isRetryable(err) || attempt >= MAX_ATTEMPTS) throw err;
      // Jittered backoff: 1, 2, 4 ... ms times a random factor, capped at 50 ms.
      const delay = Math.min(50, 2 ** (attempt - 1)) * (0.5 + Math.random());
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/**
 * Locks rows of `table` for the rest of the transaction, in id order (so two transactions that
 * lock the same rows cannot deadlock). MySQL: SELECT ... FOR UPDATE. SQLite has no row locks: a
 * no-op UPDATE takes the database write lock at once, as BEGIN IMMEDIATE would, so a second
 * process waits here instead of failing later on a lock upgrade.
 */
export async function lockRows(trx: Knex.Transaction, dialect: Database['dialect'], table: string, ids: number[]): Promise<void> {
  const sorted = [...new Set(ids)].sort((a, b) => a - b);
  if (sorted.length === 0) return;
  if (dialect === 'mysql') {
    await trx(table).select('id').whereIn('id', sorted).orderBy('id').forUpdate();
  } else {
    await trx(table).whereIn('id', sorted).update({ id: trx.ref('id') });
  }
}
