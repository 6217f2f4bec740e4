/**
 * Knex transactions with bounded retries on lock conflicts, so ordinary services write
 * `inTransaction(db, async (trx) => ...)` and never think about deadlocks or SQLITE_BUSY.
 * (Money moves through sql-runner.ts instead.)
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
