/**
 * Breakdown step between the raw driver and LedgerService: a debit made of the money path's own
 * parts (primary/db/sql-runner.ts runTransaction and the primary/ledger/postings.ts rules) but
 * without LedgerService around them. Its difference to the raw driver running the same
 * statements is the runner's cost (pool acquire/release, a promise per statement, row mapping);
 * its difference to LedgerService.debit is the service's own (validation, the credit-limit setting).
 */
import type { Database } from '../primary/db/connection';
import { runTransaction } from '../primary/db/sql-runner';
import { findEntry, loadAccount, lockAccounts, postEntry } from '../primary/ledger/postings';

export async function runnerDebit(db: Database, accountId: number, amount: number, key: string): Promise<void> {
  await runTransaction(db, async (tx) => {
    await lockAccounts(tx, [accountId]);
    if (await findEntry(tx, key)) throw new Error(`key ${key} already used`);
    const account = await loadAccount(tx, accountId);
    await postEntry(tx, account, -amount, 'print', { key }, Date.now());
  });
}
