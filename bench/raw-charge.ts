/**
 * The charge bench's baseline: the work an authorise+commit needs, written straight on the
 * driver with prepared statements, in batches (one durable transaction for a batch's
 * authorisations, a second for its commits, as Quotient's batched path does):
 *
 *   authorise: look up the job by uuid (idempotency); look up the user and personal account by
 *              username; credit check; UPDATE accounts.reserved; INSERT reservation; INSERT print_jobs
 *   commit:    look up the job by uuid; read the account; one UPDATE of balance and reserved;
 *              INSERT ledger row; UPDATE reservation; UPDATE print_jobs
 *
 * better-sqlite3 on its own connection with the production pragmas (SQLITE_PRAGMAS: WAL,
 * synchronous=FULL), and mysql2/promise on its own connection with the production connection
 * options and session setup (READ COMMITTED), where the account is read FOR UPDATE (server-side
 * prepared statements through execute). The balance update is the ledger's own statement
 * (POSTING_SQL); the other statements are the least the work needs, which is what a floor is. The price is the default rate card's for
 * the bench job, computed inline: pricing is pure arithmetic either way.
 *
 * For the breakdown, the same work can run with a SAVEPOINT … RELEASE around each event, as
 * PrintJobService.processBatch does so that one failing event changes nothing.
 */
import BetterSqlite3 from 'better-sqlite3';
import mysql from 'mysql2/promise';
import { MYSQL_SESSION_SETUP, SQLITE_PRAGMAS, mysqlConnectionOptions, type ParsedDatabaseUrl } from '../primary/db/connection';
import { POSTING_SQL } from '../primary/ledger/postings';
import { BENCH_JOB, BENCH_JOB_COST, jobId } from './charge-ipc';

/** What the raw jobs need to look like Quotient's: the same printer, secondary and users. */
export interface RawChargeSetup {
  printerId: number;
  rateCardId: number | null;
  secondary: string;
  /** Users `<userPrefix>0` … `<userPrefix>(users-1)`, each with a personal account. */
  userPrefix: string;
  users: number;
}

export interface RawCharge {
  /**
   * Authorises and commits jobs first … first+count-1, `perTransaction` jobs per transaction
   * (one transaction for their authorisations, one for their commits).
   */
  run(prefix: string, first: number, count: number, perTransaction: number, savepoints?: boolean): unknown;
  serverInfo(): Promise<string>;
  close(): unknown;
}

const SQL = {
  findJob: 'SELECT id, account_id, cost, status, reservation_id FROM print_jobs WHERE job_uuid = ?',
  userAccount:
    "SELECT u.id AS user_id, a.id AS account_id, a.balance, a.reserved, a.restricted, a.credit_limit, a.cost_multiplier_bp FROM users u JOIN accounts a ON a.user_id = u.id AND a.type = 'personal' WHERE u.username = ?",
  reserve: 'UPDATE accounts SET reserved = ?, updated_at = ? WHERE id = ?',
  insertReservation:
    "INSERT INTO reservations (account_id, amount, state, type, reference, actor, idempotency_key, created_at) VALUES (?, ?, 'held', 'print', ?, ?, ?, ?)",
  insertJob:
    "INSERT INTO print_jobs (job_uuid, printer_id, user_id, account_id, username, document_name, pages, colour_pages, copies, duplex, paper_size, cost, status, reservation_id, created_at, secondary, charged, rate_card_id, multiplier_bp) VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, 0, ?, ?, 'authorised', ?, ?, ?, 1, ?, ?)",
  account: 'SELECT balance, reserved FROM accounts WHERE id = ?',
  settleAccount: POSTING_SQL.writeAccount,
  insertLedger:
    "INSERT INTO ledger (account_id, amount, balance_after, type, reference, actor, idempotency_key, created_at) VALUES (?, ?, ?, 'print', ?, ?, ?, ?)",
  settleReservation: "UPDATE reservations SET state = 'committed', ledger_id = ?, settled_at = ? WHERE id = ?",
  settleJob: "UPDATE print_jobs SET status = 'printed', ledger_id = ?, settled_at = ? WHERE id = ?",
  savepoint: 'SAVEPOINT job_event',
  release: 'RELEASE SAVEPOINT job_event',
} as const;

interface UserAccountRow {
  user_id: number;
  account_id: number;
  balance: number;
  reserved: number;
  restricted: number;
  credit_limit: number | null;
  cost_multiplier_bp: number;
}

type Param = string | number | null;

/** The parameters of SQL.insertJob, in its column order, for both drivers. */
function insertJobParams(setup: RawChargeSetup, id: string, u: UserAccountRow, username: string, cost: number, reservationId: number, now: number): Param[] {
  const j = BENCH_JOB;
  return [
    id,
    setup.printerId,
    u.user_id,
    u.account_id,
    username,
    j.documentName,
    j.pages,
    j.copies,
    j.paperSize,
    cost,
    reservationId,
    now,
    setup.secondary,
    setup.rateCardId,
    u.cost_multiplier_bp,
  ];
}

interface JobRow {
  id: number;
  account_id: number;
  cost: number;
  status: string;
  reservation_id: number;
}

const priceFor = (multiplierBp: number): number => Math.round((BENCH_JOB_COST * multiplierBp) / 10000);

function checkCredit(u: UserAccountRow, cost: number, id: string): void {
  if (Number(u.restricted) && Number(u.balance) - Number(u.reserved) - cost < -Number(u.credit_limit ?? 0)) throw new Error(`raw: not enough credit for ${id}`);
}

/** Splits jobs first … first+count-1 into transactions of `size`. */
function chunks(first: number, count: number, size: number): number[][] {
  const out: number[][] = [];
  for (let i = first; i < first + count; i += size) out.push(Array.from({ length: Math.min(size, first + count - i) }, (_, k) => i + k));
  return out;
}

export class RawSqliteCharge implements RawCharge {
  private readonly db: BetterSqlite3.Database;
  private readonly s: { [K in keyof typeof SQL]: BetterSqlite3.Statement };
  private readonly authorizeTx: (prefix: string, ids: number[], savepoints: boolean) => void;
  private readonly commitTx: (prefix: string, ids: number[], savepoints: boolean) => void;

  constructor(
    filename: string,
    private readonly setup: RawChargeSetup,
  ) {
    this.db = new BetterSqlite3(filename);
    for (const pragma of SQLITE_PRAGMAS) this.db.pragma(pragma);
    const db = this.db;
    this.s = Object.fromEntries(Object.entries(SQL).map(([k, sql]) => [k, db.prepare(sql)])) as { [K in keyof typeof SQL]: BetterSqlite3.Statement };
    const s = this.s;
    // db.transaction(fn).immediate: BEGIN IMMEDIATE … COMMIT, ROLLBACK if fn throws.
    this.authorizeTx = db.transaction((prefix: string, ids: number[], savepoints: boolean) => {
      const now = Date.now();
      for (const i of ids) {
        if (savepoints) s.savepoint.run();
        const id = jobId(prefix, i);
        if (s.findJob.get(id)) throw new Error(`raw: job ${id} exists`);
        const username = `${setup.userPrefix}${i % setup.users}`;
        const u = s.userAccount.get(username) as UserAccountRow | undefined;
        if (!u) throw new Error(`raw: no user ${username}`);
        const cost = priceFor(u.cost_multiplier_bp);
        checkCredit(u, cost, id);
        s.reserve.run(u.reserved + cost, now, u.account_id);
        const r = s.insertReservation.run(u.account_id, cost, `job:${id}`, `secondary:${setup.secondary}`, `print:${id}`, now);
        s.insertJob.run(...insertJobParams(setup, id, u, username, cost, Number(r.lastInsertRowid), now));
        if (savepoints) s.release.run();
      }
    }).immediate;
    this.commitTx = db.transaction((prefix: string, ids: number[], savepoints: boolean) => {
      const now = Date.now();
      for (const i of ids) {
        if (savepoints) s.savepoint.run();
        const id = jobId(prefix, i);
        const j = s.findJob.get(id) as JobRow | undefined;
        if (j?.status !== 'authorised') throw new Error(`raw: job ${id} is ${j?.status ?? 'missing'}`);
        const a = s.account.get(j.account_id) as { balance: number; reserved: number };
        const after = a.balance - j.cost;
        s.settleAccount.run(after, a.reserved - j.cost, now, j.account_id);
        const entry = s.insertLedger.run(j.account_id, -j.cost, after, `job:${id}`, `secondary:${setup.secondary}`, `print:${id}`, now);
        s.settleReservation.run(entry.lastInsertRowid, now, j.reservation_id);
        s.settleJob.run(entry.lastInsertRowid, now, j.id);
        if (savepoints) s.release.run();
      }
    }).immediate;
  }

  run(prefix: string, first: number, count: number, perTransaction: number, savepoints = false): void {
    for (const ids of chunks(first, count, perTransaction)) {
      this.authorizeTx(prefix, ids, savepoints);
      this.commitTx(prefix, ids, savepoints);
    }
  }

  serverInfo(): Promise<string> {
    const v = (this.db.prepare('SELECT sqlite_version() AS v').get() as { v: string }).v;
    return Promise.resolve(`SQLite ${v}, WAL, synchronous=FULL (one fsync per commit)`);
  }

  close(): void {
    this.db.close();
  }
}

type Settings = NonNullable<ParsedDatabaseUrl['mysql']>;

export class RawMysqlCharge implements RawCharge {
  private constructor(
    private readonly c: mysql.Connection,
    private readonly setup: RawChargeSetup,
  ) {}

  static async open(m: Settings, setup: RawChargeSetup): Promise<RawMysqlCharge> {
    const c = await mysql.createConnection({ ...mysqlConnectionOptions(m), database: m.database });
    await c.query(MYSQL_SESSION_SETUP);
    return new RawMysqlCharge(c, setup);
  }

  async run(prefix: string, first: number, count: number, perTransaction: number, savepoints = false): Promise<void> {
    const c = this.c;
    const setup = this.setup;
    const one = async <T>(sql: string, params: Param[]): Promise<T | undefined> => (await c.execute<mysql.RowDataPacket[]>(sql, params))[0][0] as T | undefined;
    const write = async (sql: string, params: Param[]): Promise<number> => (await c.execute<mysql.ResultSetHeader>(sql, params))[0].insertId;
    const savepoint = async (): Promise<void> => {
      if (savepoints) await c.query(SQL.savepoint);
    };
    const release = async (): Promise<void> => {
      if (savepoints) await c.query(SQL.release);
    };
    const inTransaction = async (work: () => Promise<void>): Promise<void> => {
      await c.query('BEGIN');
      try {
        await work();
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      }
    };
    for (const ids of chunks(first, count, perTransaction)) {
      await inTransaction(async () => {
        const now = Date.now();
        for (const i of ids) {
          await savepoint();
          const id = jobId(prefix, i);
          if (await one(SQL.findJob, [id])) throw new Error(`raw: job ${id} exists`);
          const username = `${setup.userPrefix}${i % setup.users}`;
          const u = await one<UserAccountRow>(`${SQL.userAccount} FOR UPDATE`, [username]);
          if (!u) throw new Error(`raw: no user ${username}`);
          const cost = priceFor(u.cost_multiplier_bp);
          checkCredit(u, cost, id);
          await write(SQL.reserve, [Number(u.reserved) + cost, now, u.account_id]);
          const reservationId = await write(SQL.insertReservation, [u.account_id, cost, `job:${id}`, `secondary:${setup.secondary}`, `print:${id}`, now]);
          await write(SQL.insertJob, insertJobParams(setup, id, u, username, cost, reservationId, now));
          await release();
        }
      });
      await inTransaction(async () => {
        const now = Date.now();
        for (const i of ids) {
          await savepoint();
          const id = jobId(prefix, i);
          const j = await one<JobRow>(SQL.findJob, [id]);
          if (j?.status !== 'authorised') throw new Error(`raw: job ${id} is ${j?.status ?? 'missing'}`);
          const a = await one<{ balance: number; reserved: number }>(`${SQL.account} FOR UPDATE`, [j.account_id]);
          if (!a) throw new Error(`raw: no account ${j.account_id}`);
          const cost = Number(j.cost);
          const after = Number(a.balance) - cost;
          await write(SQL.settleAccount, [after, Number(a.reserved) - cost, now, j.account_id]);
          const ledgerId = await write(SQL.insertLedger, [j.account_id, -cost, after, `job:${id}`, `secondary:${setup.secondary}`, `print:${id}`, now]);
          await write(SQL.settleReservation, [ledgerId, now, j.reservation_id]);
          await write(SQL.settleJob, [ledgerId, now, j.id]);
          await release();
        }
      });
    }
  }

  async serverInfo(): Promise<string> {
    const [rows] = await this.c.query<mysql.RowDataPacket[]>('SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush');
    return `${String(rows[0]?.version)}, innodb_flush_log_at_trx_commit=${String(rows[0]?.flush)}, READ COMMITTED`;
  }

  async close(): Promise<void> {
    await this.c.end();
  }
}
