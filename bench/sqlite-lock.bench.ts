/**
 * SQLite only: what the money path's account lock costs as the books grow. lockAccounts()
 * (primary/ledger/postings.ts) used to run `UPDATE accounts SET id = id` (it now writes updated_at); `id` is a parent key, so on
 * each such UPDATE SQLite checks every foreign key that references accounts.id for the old value
 * (a search of ledger and reservations by account, a full scan of print_jobs and of accounts,
 * whose account_id / parent_id have no index). Measured on a scratch database against an UPDATE
 * of a non-key column, which takes the same write lock; the statement's own cost only (no fsync).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import BetterSqlite3 from 'better-sqlite3';
import { openDatabase } from '../primary/db/connection';
import { migrateLatest } from '../primary/db/migrate';
import { createServices } from '../primary/services';

export interface LockCost {
  scenario: string;
  /** µs per `UPDATE accounts SET id = id WHERE id = ?` (what lockAccounts does). */
  keyUpdateUs: number;
  /** µs per `UPDATE accounts SET updated_at = updated_at WHERE id = ?`. */
  nonKeyUpdateUs: number;
}

export interface LockReport {
  costs: LockCost[];
  /** The foreign-key checks in the plan of the key UPDATE (the row look-up itself left out). */
  plan: string[];
}

const REPEAT = 200;

export async function sqliteLockCost(): Promise<LockReport> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-bench-lock-'));
  try {
    const file = path.join(dir, 'lock.db');
    const knexDb = openDatabase(`sqlite:${file}`, dir);
    let accountId: number;
    try {
      await migrateLatest(knexDb);
      const s = createServices(knexDb);
      accountId = (await s.users.createUser({ username: 'lock-a', restricted: false }, 'bench')).account.id;
      await s.users.createUser({ username: 'lock-b', restricted: false }, 'bench');
    } finally {
      await knexDb.close();
    }

    const db = new BetterSqlite3(file);
    try {
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = OFF');
      db.pragma('foreign_keys = ON');
      const keyUpdate = db.prepare('UPDATE accounts SET id = id WHERE id = ?');
      const nonKeyUpdate = db.prepare('UPDATE accounts SET updated_at = updated_at WHERE id = ?');
      const time = (stmt: BetterSqlite3.Statement): number => {
        db.exec('BEGIN IMMEDIATE');
        try {
          stmt.run(accountId); // warm the page cache
          const start = performance.now();
          for (let i = 0; i < REPEAT; i++) stmt.run(accountId);
          return ((performance.now() - start) * 1000) / REPEAT;
        } finally {
          db.exec('ROLLBACK');
        }
      };
      const costs: LockCost[] = [];
      const measure = (scenario: string): void => {
        costs.push({ scenario, keyUpdateUs: time(keyUpdate), nonKeyUpdateUs: time(nonKeyUpdate) });
      };

      measure('new account, empty tables');
      const ledger = db.prepare("INSERT INTO ledger (account_id, amount, balance_after, type, idempotency_key, created_at) VALUES (?, 0, 0, 'print', ?, 0)");
      db.transaction(() => {
        for (let i = 0; i < 10_000; i++) ledger.run(accountId, `lock-ledger-${i}`);
      })();
      measure('account with 10,000 ledger rows');
      db.prepare("INSERT INTO printers (server_name, queue_name, filters, created_at, updated_at) VALUES ('bench', 'q', '{}', 0, 0)").run();
      const printerId = (db.prepare('SELECT id FROM printers').get() as { id: number }).id;
      const job = db.prepare(
        "INSERT INTO print_jobs (job_uuid, printer_id, account_id, username, pages, status, created_at) VALUES (?, ?, ?, 'u', 1, 'printed', 0)",
      );
      db.transaction(() => {
        // Jobs of another account: the scan reads them all the same.
        for (let i = 0; i < 100_000; i++) job.run(`lock-job-${i}`, printerId, accountId + 1);
      })();
      measure('… and 100,000 print jobs (of other accounts)');

      const plan = (db.prepare('EXPLAIN QUERY PLAN UPDATE accounts SET id = id WHERE id = ?').all(accountId) as { detail: string }[])
        .map((r) => r.detail)
        .filter((d, i, all) => all.indexOf(d) === i && !d.startsWith('SEARCH accounts USING INTEGER PRIMARY KEY'));
      return { costs, plan };
    } finally {
      db.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
