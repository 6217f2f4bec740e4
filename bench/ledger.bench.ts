/**
 * The ledger bench for one dialect: LedgerService against the raw driver doing the same work in
 * the same run (sequential debits, concurrent debits, reserve+commit pairs), a breakdown of where
 * Quotient's extra time per debit goes, and a final LedgerService.verify() over everything both
 * sides wrote. Prints nothing; run.ts formats the figures.
 */
import type { Dialect } from '../primary/db/connection';
import type { VerifyResult } from '../primary/ledger/ledger-service';
import { compare, Side, type Timing } from './harness';
import { RawMysqlLedger } from './raw-mysql';
import { RawSqliteLedger } from './raw-sqlite';
import { runnerDebit } from './runner-debit';
import { createAccounts, type BenchDatabase } from './setup';
import { sqliteLockCost, type LockReport } from './sqlite-lock.bench';

/** Accounts per side: enough that 16 debits in flight never wait on one another's row. */
const ACCOUNTS_PER_SIDE = 64;
const AMOUNT = 7;

/** Reserve+commit pairs per side: two transactions each, so half the operations. */
export function pairsFor(ops: number): number {
  return Math.max(1, Math.floor(ops / 2));
}

export interface Line {
  operation: string;
  concurrency: number;
  quotient: Timing;
  raw: Timing;
}

export interface BreakdownStep {
  label: string;
  timing: Timing;
}

export interface DialectReport {
  dialect: Dialect;
  database: string;
  server: string[];
  lines: Line[];
  breakdown: BreakdownStep[];
  /** SQLite only: the cost of lockAccounts' statement as the books grow. */
  lock?: LockReport;
  verify: VerifyResult;
  /** Ledger rows the bench wrote (one per debit or committed reservation), warm-ups included. */
  expectedLedgerRows: number;
}

/** What the bench needs from a raw-driver implementation. */
interface RawLedger {
  debit(accountId: number, amount: number, key: string): unknown;
  reserveCommit(accountId: number, amount: number, key: string): unknown;
  debitLikeQuotient(accountId: number, amount: number, key: string): unknown;
  close(): unknown;
}

export async function benchDialect(target: BenchDatabase, opts: { ops: number; concurrency: number }): Promise<DialectReport> {
  const { services, dialect } = target;
  const ledger = services.ledger;
  const qAccounts = await createAccounts(services, 'q', ACCOUNTS_PER_SIDE);
  const rAccounts = await createAccounts(services, 'r', ACCOUNTS_PER_SIDE);
  const qAcc = (i: number): number => qAccounts[i % qAccounts.length] ?? 0;
  const rAcc = (i: number): number => rAccounts[i % rAccounts.length] ?? 0;

  let raw: RawLedger;
  let rawSqlite: RawSqliteLedger | undefined;
  let rawMysql: RawMysqlLedger | undefined;
  if (target.sqliteFile !== undefined) raw = rawSqlite = new RawSqliteLedger(target.sqliteFile);
  else if (target.mysql) raw = rawMysql = new RawMysqlLedger(target.mysql, opts.concurrency);
  else throw new Error('bench database has neither a SQLite file nor MySQL settings');

  try {
    const server: string[] = [];
    if (rawSqlite) server.push(`SQLite ${rawSqlite.sqliteVersion()}, WAL, synchronous=FULL (one fsync per commit)`);
    if (rawMysql) {
      const info = await rawMysql.serverInfo();
      server.push(`${info.version}, innodb_flush_log_at_trx_commit=${info.flushLogAtTrxCommit}, raw pool isolation ${info.isolation}`);
      server.push(`Quotient pool and raw pool: ${opts.concurrency} connections each`);
    }

    const rows: Side[] = []; // every side that writes one ledger row per call
    const track = (s: Side): Side => {
      rows.push(s);
      return s;
    };
    const lines: Line[] = [];

    // 1. Sequential debits, measured together with the breakdown variants so all alternate.
    const qSeq = track(new Side('Quotient', (i) => ledger.debit({ accountId: qAcc(i), amount: AMOUNT, type: 'print', key: `q-seq-${i}` })));
    const rSeq = track(new Side('raw', (i) => raw.debit(rAcc(i), AMOUNT, `r-seq-${i}`)));
    const mirror = track(new Side('raw, Quotient statements', (i) => raw.debitLikeQuotient(rAcc(i), AMOUNT, `m-seq-${i}`)));
    const runner = track(new Side('sql-runner', (i) => runnerDebit(target.db, rAcc(i), AMOUNT, `sr-seq-${i}`)));
    await compare([qSeq, rSeq, mirror, runner], opts.ops, 1);
    lines.push({ operation: 'debit, sequential', concurrency: 1, quotient: qSeq.result, raw: rSeq.result });

    const breakdown: BreakdownStep[] = [
      {
        label: dialect === 'sqlite' ? 'raw: BEGIN IMMEDIATE; SELECT; UPDATE; INSERT; COMMIT' : 'raw: BEGIN; SELECT … FOR UPDATE; UPDATE; INSERT; COMMIT',
        timing: rSeq.result,
      },
      {
        label: `+ Quotient's statements: ${dialect === 'sqlite' ? 'UPDATE updated_at' : 'SELECT id … FOR UPDATE'} lock, key look-up`,
        timing: mirror.result,
      },
      { label: '+ sql-runner: pool, a promise per statement, row mapping', timing: runner.result },
      { label: '+ LedgerService: validation, credit-limit setting', timing: qSeq.result },
    ];

    if (rawSqlite) {
      // What the disk costs: the same raw debit without the fsync per commit.
      const sqlite = rawSqlite;
      const noSync = track(new Side('raw, synchronous=NORMAL', (i) => sqlite.debit(rAcc(i), AMOUNT, `r-nosync-${i}`)));
      sqlite.setSynchronous('NORMAL');
      try {
        await compare([noSync], opts.ops, 1);
      } finally {
        sqlite.setSynchronous('FULL');
      }
      breakdown.unshift({ label: 'raw with synchronous=NORMAL: no fsync (not durable)', timing: noSync.result });
    }

    // 2. Concurrent debits spread over the accounts.
    const qCon = track(new Side('Quotient', (i) => ledger.debit({ accountId: qAcc(i), amount: AMOUNT, type: 'print', key: `q-con-${i}` })));
    const rCon = track(new Side('raw', (i) => raw.debit(rAcc(i), AMOUNT, `r-con-${i}`)));
    await compare([qCon, rCon], opts.ops, opts.concurrency);
    lines.push({ operation: 'debit, concurrent', concurrency: opts.concurrency, quotient: qCon.result, raw: rCon.result });

    // 3. Reserve then commit, one pair at a time: two durable transactions per pair.
    const qRc = track(
      new Side('Quotient', async (i) => {
        const key = `q-rc-${i}`;
        await ledger.reserve({ accountId: qAcc(i), amount: AMOUNT, key });
        await ledger.commit({ key });
      }),
    );
    const rRc = track(new Side('raw', (i) => raw.reserveCommit(rAcc(i), AMOUNT, `r-rc-${i}`)));
    await compare([qRc, rRc], pairsFor(opts.ops), 1);
    lines.push({ operation: 'reserve+commit pair', concurrency: 1, quotient: qRc.result, raw: rRc.result });

    const verify = await ledger.verify();
    return {
      dialect,
      database: target.url,
      server,
      lines,
      breakdown,
      ...(rawSqlite ? { lock: await sqliteLockCost() } : {}),
      verify,
      expectedLedgerRows: rows.reduce((n, s) => n + s.calls, 0),
    };
  } finally {
    await raw.close();
  }
}
