/**
 * A print batch's cache of the accounts it locked (primary/printing/print-job-service.ts): each
 * row read once per transaction and kept current by the ledger functions, its balance and
 * reserved amount written once per account before the commit instead of once per event.
 */
import type { Money } from '../../common/money';
import type { SqlTx } from '../db/sql-runner';
import { loadAccount, loadAccounts, writeAccountNow, writeAccountsNow, type AccountWrite, type AccountWriter } from './postings';
import type { Account } from './types';

/**
 * The accounts one run of a batch's transaction locked, each row read once and then kept current
 * in place by the ledger functions that change it, so a batch reads an account once however many
 * of its events touch it. It is also their AccountWriter: a locked account's new balance and
 * reserved amount are kept and written once per account by `flush()`, which the batch calls
 * before it commits and before each savepoint, so an account is updated once per batch, not once
 * per event. A ROLLBACK TO SAVEPOINT puts rows back as they were: `forget()` then; so does a
 * change made without this copy (the commit or release that finds its reservation by key), after
 * a `flush()`.
 */
export class BatchAccounts implements AccountWriter {
  private readonly rows = new Map<number, Account>();
  /** What the batch's events made of each locked account, not yet written. */
  private readonly unwritten = new Map<number, AccountWrite>();

  constructor(
    private readonly tx: SqlTx,
    private readonly locked: ReadonlySet<number>,
  ) {}

  isLocked(id: number): boolean {
    return this.locked.has(id);
  }

  /** Reads every locked account's row in one statement per 500 accounts, rather than one get() each. */
  async readLocked(): Promise<void> {
    for (const row of await loadAccounts(this.tx, [...this.locked])) this.rows.set(row.id, row);
  }

  /** The row as this transaction left it; an account the batch did not lock is read each time. */
  readonly get = async (id: number): Promise<Account> => {
    if (!this.locked.has(id)) return loadAccount(this.tx, id);
    let row = this.rows.get(id);
    if (!row) {
      row = await loadAccount(this.tx, id);
      this.rows.set(id, row);
    }
    return row;
  };

  /** Kept for flush() when `account` is this batch's copy of a locked row; otherwise written at once. */
  async write(account: Account, balance: Money, reserved: Money, now: number): Promise<void> {
    if (this.rows.get(account.id) === account) this.unwritten.set(account.id, { id: account.id, balance, reserved, now });
    else await writeAccountNow(this.tx, account.id, balance, reserved, now);
  }

  /** Writes every account the events changed since the last flush, all in one UPDATE (the batch holds their locks). */
  async flush(): Promise<void> {
    await writeAccountsNow(this.tx, [...this.unwritten.values()]);
    this.unwritten.clear();
  }

  /** Drops the rows read so far and what was not written of them (all, or account `id`'s): the next get() reads them again. */
  forget(id?: number): void {
    if (id === undefined) {
      this.rows.clear();
      this.unwritten.clear();
    } else {
      this.rows.delete(id);
      this.unwritten.delete(id);
    }
  }
}
