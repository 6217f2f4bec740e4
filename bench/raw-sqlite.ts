/**
 * The bench's baseline on SQLite: the same ledger work as LedgerService, written straight on
 * better-sqlite3 with statements prepared once, on its own connection with the same pragmas as
 * primary/db/connection.ts (WAL, synchronous=FULL: one fsync per commit). Also, for the overhead
 * breakdown, LedgerService.debit's exact statement sequence run the same way.
 */
import BetterSqlite3 from 'better-sqlite3';
import { SQLITE_PRAGMAS } from '../primary/db/connection';
import { POSTING_SQL, lockAccountsSql } from '../primary/ledger/postings';

interface BalanceRow {
  balance: number;
  reserved: number;
}

interface ReservationRow {
  id: number;
  account_id: number;
  amount: number;
  state: string;
  type: string;
  reference: string | null;
}

// The statements LedgerService.debit runs on SQLite (primary/ledger/postings.ts through
// primary/db/sql-runner.ts), inside BEGIN IMMEDIATE … COMMIT: imported, so they stay the same.
const QUOTIENT_DEBIT_SQL = {
  lock: lockAccountsSql('sqlite', 1),
  findEntry: POSTING_SQL.findEntry,
  account: POSTING_SQL.loadAccount,
  update: POSTING_SQL.writeAccount,
  insert: POSTING_SQL.insertEntry,
} as const;

export class RawSqliteLedger {
  private readonly db: BetterSqlite3.Database;
  private readonly selectAccount: BetterSqlite3.Statement<[number], BalanceRow>;
  private readonly updateBalance: BetterSqlite3.Statement<[number, number, number]>;
  private readonly updateReserved: BetterSqlite3.Statement<[number, number, number]>;
  private readonly updateBoth: BetterSqlite3.Statement<[number, number, number, number]>;
  private readonly insertLedger: BetterSqlite3.Statement<[number, number, number, string, string, number]>;
  private readonly insertReservation: BetterSqlite3.Statement<[number, number, string, string, number]>;
  private readonly selectReservation: BetterSqlite3.Statement<[string], ReservationRow>;
  private readonly settleReservation: BetterSqlite3.Statement<[number | bigint, number, number]>;
  private readonly debitTx: (accountId: number, amount: number, key: string) => void;
  private readonly reserveTx: (accountId: number, amount: number, key: string) => void;
  private readonly commitTx: (key: string) => void;
  private readonly quotientDebitTx: (accountId: number, amount: number, key: string) => void;

  constructor(filename: string) {
    this.db = new BetterSqlite3(filename);
    for (const pragma of SQLITE_PRAGMAS) this.db.pragma(pragma);
    const db = this.db;
    this.selectAccount = db.prepare('SELECT balance, reserved FROM accounts WHERE id = ?');
    this.updateBalance = db.prepare('UPDATE accounts SET balance = ?, updated_at = ? WHERE id = ?');
    this.updateReserved = db.prepare('UPDATE accounts SET reserved = ?, updated_at = ? WHERE id = ?');
    this.updateBoth = db.prepare('UPDATE accounts SET balance = ?, reserved = ?, updated_at = ? WHERE id = ?');
    this.insertLedger = db.prepare('INSERT INTO ledger (account_id, amount, balance_after, type, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.insertReservation = db.prepare(
      "INSERT INTO reservations (account_id, amount, state, type, idempotency_key, created_at) VALUES (?, ?, 'held', ?, ?, ?)",
    );
    this.selectReservation = db.prepare('SELECT id, account_id, amount, state, type, reference FROM reservations WHERE idempotency_key = ?');
    this.settleReservation = db.prepare("UPDATE reservations SET state = 'committed', ledger_id = ?, settled_at = ? WHERE id = ?");

    // db.transaction(fn).immediate runs BEGIN IMMEDIATE … COMMIT (ROLLBACK if fn throws).
    this.debitTx = db.transaction((accountId: number, amount: number, key: string) => {
      const now = Date.now();
      const account = this.account(accountId);
      const after = account.balance - amount;
      this.updateBalance.run(after, now, accountId);
      this.insertLedger.run(accountId, -amount, after, 'print', key, now);
    }).immediate;

    this.reserveTx = db.transaction((accountId: number, amount: number, key: string) => {
      const now = Date.now();
      const account = this.account(accountId);
      this.updateReserved.run(account.reserved + amount, now, accountId);
      this.insertReservation.run(accountId, amount, 'print', key, now);
    }).immediate;

    this.commitTx = db.transaction((key: string) => {
      const now = Date.now();
      const r = this.selectReservation.get(key);
      if (!r) throw new Error(`reservation ${key} not found`);
      if (r.state !== 'held') throw new Error(`reservation ${key} is ${r.state}`);
      const account = this.account(r.account_id);
      const after = account.balance - r.amount;
      this.updateBoth.run(after, account.reserved - r.amount, now, r.account_id);
      const entry = this.insertLedger.run(r.account_id, -r.amount, after, r.type, key, now);
      this.settleReservation.run(entry.lastInsertRowid, now, r.id);
    }).immediate;

    // Breakdown only: LedgerService.debit's statements, prepared once.
    const q = Object.fromEntries(Object.entries(QUOTIENT_DEBIT_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<
      keyof typeof QUOTIENT_DEBIT_SQL,
      BetterSqlite3.Statement
    >;
    this.quotientDebitTx = db.transaction((accountId: number, amount: number, key: string) => {
      q.lock.run(accountId);
      if (q.findEntry.get(key)) throw new Error(`key ${key} already used`);
      const account = q.account.get(accountId) as BalanceRow | undefined;
      if (!account) throw new Error(`account ${accountId} not found`);
      const now = Date.now();
      const after = account.balance - amount;
      q.update.run(after, account.reserved, now, accountId);
      q.insert.run(accountId, -amount, after, 'print', null, null, '', key, now);
    }).immediate;
  }

  /** One debit as its own durable transaction: BEGIN IMMEDIATE; SELECT; UPDATE; INSERT; COMMIT. */
  debit(accountId: number, amount: number, key: string): void {
    this.debitTx(accountId, amount, key);
  }

  /** Reserve (one transaction) then commit the full amount (a second transaction). */
  reserveCommit(accountId: number, amount: number, key: string): void {
    this.reserveTx(accountId, amount, key);
    this.commitTx(key);
  }

  /** Breakdown: LedgerService.debit's statement sequence (adds the lock and the key look-up). */
  debitLikeQuotient(accountId: number, amount: number, key: string): void {
    this.quotientDebitTx(accountId, amount, key);
  }

  /** Breakdown: switch durability, to show what the fsync per commit costs. */
  setSynchronous(mode: 'FULL' | 'NORMAL'): void {
    this.db.pragma(`synchronous = ${mode}`);
  }

  sqliteVersion(): string {
    return (this.db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
  }

  close(): void {
    this.db.close();
  }

  private account(accountId: number): BalanceRow {
    const row = this.selectAccount.get(accountId);
    if (!row) throw new Error(`account ${accountId} not found`);
    return row;
  }
}
