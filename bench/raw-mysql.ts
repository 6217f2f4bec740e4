/**
 * The bench's baseline on MySQL/MariaDB: the same ledger work as LedgerService, written straight
 * on mysql2/promise with a pool of its own, with primary/db/connection.ts's connection options and
 * session setup (READ COMMITTED), and
 * server-side prepared statements (execute). Also, for the overhead breakdown, LedgerService.debit's
 * exact statement sequence run the same way.
 */
import mysql from 'mysql2/promise';
import type { PoolConnection as CorePoolConnection } from 'mysql2';
import { MYSQL_SESSION_SETUP, mysqlConnectionOptions, type ParsedDatabaseUrl } from '../primary/db/connection';
import { POSTING_SQL, lockAccountsSql } from '../primary/ledger/postings';

type Settings = NonNullable<ParsedDatabaseUrl['mysql']>;
type Conn = mysql.PoolConnection;

interface BalanceRow extends mysql.RowDataPacket {
  balance: number;
  reserved: number;
}

interface ReservationRow extends mysql.RowDataPacket {
  id: number;
  account_id: number;
  amount: number;
  state: string;
  type: string;
}

// The statements LedgerService.debit runs on MySQL (primary/ledger/postings.ts through
// primary/db/sql-runner.ts, which executes them as prepared statements): imported, so they stay the same.
const QUOTIENT_DEBIT_SQL = {
  lock: lockAccountsSql('mysql', 1),
  findEntry: POSTING_SQL.findEntry,
  account: POSTING_SQL.loadAccount,
  update: POSTING_SQL.writeAccount,
  insert: POSTING_SQL.insertEntry,
} as const;

export class RawMysqlLedger {
  private readonly pool: mysql.Pool;

  constructor(m: Settings, connectionLimit: number) {
    this.pool = mysql.createPool({ ...mysqlConnectionOptions(m), database: m.database, connectionLimit, maxIdle: connectionLimit });
    // The core pool hands over the core connection; its queue runs this before any other query.
    this.pool.pool.on('connection', (conn: CorePoolConnection) => {
      conn.query(MYSQL_SESSION_SETUP);
    });
  }

  /** One debit as its own durable transaction: BEGIN; SELECT … FOR UPDATE; UPDATE; INSERT; COMMIT. */
  async debit(accountId: number, amount: number, key: string): Promise<void> {
    await this.inTransaction(async (c) => {
      const now = Date.now();
      const account = await this.lockAccount(c, accountId);
      const after = account.balance - amount;
      await c.execute('UPDATE accounts SET balance = ?, updated_at = ? WHERE id = ?', [after, now, accountId]);
      await c.execute('INSERT INTO ledger (account_id, amount, balance_after, type, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
        accountId,
        -amount,
        after,
        'print',
        key,
        now,
      ]);
    });
  }

  /** Reserve (one transaction) then commit the full amount (a second transaction). */
  async reserveCommit(accountId: number, amount: number, key: string): Promise<void> {
    await this.inTransaction(async (c) => {
      const now = Date.now();
      const account = await this.lockAccount(c, accountId);
      await c.execute('UPDATE accounts SET reserved = ?, updated_at = ? WHERE id = ?', [account.reserved + amount, now, accountId]);
      await c.execute("INSERT INTO reservations (account_id, amount, state, type, idempotency_key, created_at) VALUES (?, ?, 'held', ?, ?, ?)", [
        accountId,
        amount,
        'print',
        key,
        now,
      ]);
    });
    await this.inTransaction(async (c) => {
      const now = Date.now();
      const [rows] = await c.execute<ReservationRow[]>('SELECT id, account_id, amount, state, type FROM reservations WHERE idempotency_key = ? FOR UPDATE', [
        key,
      ]);
      const r = rows[0];
      if (!r) throw new Error(`reservation ${key} not found`);
      if (r.state !== 'held') throw new Error(`reservation ${key} is ${r.state}`);
      const account = await this.lockAccount(c, r.account_id);
      const after = account.balance - r.amount;
      await c.execute('UPDATE accounts SET balance = ?, reserved = ?, updated_at = ? WHERE id = ?', [after, account.reserved - r.amount, now, r.account_id]);
      const [entry] = await c.execute<mysql.ResultSetHeader>(
        'INSERT INTO ledger (account_id, amount, balance_after, type, idempotency_key, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [r.account_id, -r.amount, after, r.type, key, now],
      );
      await c.execute("UPDATE reservations SET state = 'committed', ledger_id = ?, settled_at = ? WHERE id = ?", [entry.insertId, now, r.id]);
    });
  }

  /** Breakdown: LedgerService.debit's statement sequence (adds the lock and the key look-up). */
  async debitLikeQuotient(accountId: number, amount: number, key: string): Promise<void> {
    await this.inTransaction(async (c) => {
      await c.execute(QUOTIENT_DEBIT_SQL.lock, [accountId]);
      const [found] = await c.execute<mysql.RowDataPacket[]>(QUOTIENT_DEBIT_SQL.findEntry, [key]);
      if (found.length > 0) throw new Error(`key ${key} already used`);
      const account = (await c.execute<BalanceRow[]>(QUOTIENT_DEBIT_SQL.account, [accountId]))[0][0];
      if (!account) throw new Error(`account ${accountId} not found`);
      const now = Date.now();
      const after = Number(account.balance) - amount;
      await c.execute(QUOTIENT_DEBIT_SQL.update, [after, Number(account.reserved), now, accountId]);
      await c.execute(QUOTIENT_DEBIT_SQL.insert, [accountId, -amount, after, 'print', null, null, '', key, now]);
    });
  }

  async serverInfo(): Promise<{ version: string; flushLogAtTrxCommit: number; isolation: string }> {
    const c = await this.pool.getConnection();
    try {
      const [rows] = await c.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush');
      // MariaDB before 11.1 knows only tx_isolation; MySQL 8 only transaction_isolation.
      const isolation = await c
        .query<mysql.RowDataPacket[]>('SELECT @@transaction_isolation AS i')
        .catch(() => c.query<mysql.RowDataPacket[]>('SELECT @@tx_isolation AS i'));
      const row = rows[0];
      return { version: String(row?.version), flushLogAtTrxCommit: Number(row?.flush), isolation: String(isolation[0][0]?.i) };
    } finally {
      c.release();
    }
  }

  close(): Promise<void> {
    return this.pool.end();
  }

  private async lockAccount(c: Conn, accountId: number): Promise<{ balance: number; reserved: number }> {
    const [rows] = await c.execute<BalanceRow[]>('SELECT balance, reserved FROM accounts WHERE id = ? FOR UPDATE', [accountId]);
    const row = rows[0];
    if (!row) throw new Error(`account ${accountId} not found`);
    return { balance: Number(row.balance), reserved: Number(row.reserved) };
  }

  private async inTransaction(work: (c: Conn) => Promise<void>): Promise<void> {
    const c = await this.pool.getConnection();
    try {
      await c.query('BEGIN');
      try {
        await work(c);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      }
    } finally {
      c.release();
    }
  }
}
