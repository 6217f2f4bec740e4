/**
 * The one way to run a transaction on the primary, in two forms that share one retry loop and one
 * announcement of the accounts they changed:
 *  - runTransaction(db, (tx) => ...): prepared statements run straight on the driver connection
 *    that knex pools (better-sqlite3 or mysql2), without query building, committed durably with
 *    the WAL synced off the event loop on SQLite. Money moves through here (STYLE practice 7).
 *  - runKnexTransaction(db, (trx) => ...): a knex transaction, for ordinary services (users,
 *    groups, settings, printers, rate cards: schema-ish CRUD with its audit row).
 * And runReads(): prepared reads on one pooled connection, outside any transaction.
 *
 * SQL for the prepared form is written once with `?` placeholders in the subset both dialects
 * share. A transaction that hits a lock conflict is run again from the start (bounded, with
 * jittered backoff), so callers write plain "read, decide, write" code; the prepared form also
 * runs again on a unique-key race (see retries()). Accounts a transaction locks or names with
 * touchAccounts are announced on db.events ('accountsChanged') once it has committed, whichever
 * form it took; nothing else emits that event.
 */
import type { Knex } from 'knex';
import type { Database, Dialect } from './connection';
import { isRetryable, isUniqueViolation } from './errors';

export interface RunResult {
  changes: number;
  insertId: number;
}

/** One transaction's view of the database. */
export interface SqlTx {
  readonly dialect: Dialect;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  run(sql: string, params?: readonly unknown[]): Promise<RunResult>;
  /** A statement without parameters and without preparing it (SAVEPOINT and the like). */
  exec(sql: string): Promise<void>;
  /** Notes accounts this transaction changes; announced on db.events once it commits. */
  touchAccounts(ids: readonly number[]): void;
}

/** Builds the SqlTx methods shared by every driver around a set of touched account ids. */
function withTouched(base: Omit<SqlTx, 'touchAccounts'>, touched: Set<number>): SqlTx {
  return { ...base, touchAccounts: (ids) => ids.forEach((id) => touched.add(id)) };
}

/** Drivers differ on booleans: better-sqlite3 refuses them, so both get 0/1. */
function bind(params: readonly unknown[]): unknown[] {
  return params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
}

interface SqliteStatement {
  reader: boolean;
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
}
interface SqliteConnection {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): unknown;
}
interface MysqlConnection {
  execute(sql: string, params: unknown[], cb: (err: Error | null, result: unknown) => void): void;
  query(sql: string, cb: (err: Error | null, result: unknown) => void): void;
}

const statementCache = new WeakMap<SqliteConnection, Map<string, SqliteStatement>>();

function sqliteStatement(conn: SqliteConnection, sql: string): SqliteStatement {
  let cache = statementCache.get(conn);
  if (!cache) {
    cache = new Map();
    statementCache.set(conn, cache);
  }
  let stmt = cache.get(sql);
  if (!stmt) {
    stmt = conn.prepare(sql);
    cache.set(sql, stmt);
  }
  return stmt;
}

function sqliteTx(conn: SqliteConnection): Omit<SqlTx, 'touchAccounts'> {
  return {
    dialect: 'sqlite',
    get: <T>(sql: string, params: readonly unknown[] = []) => Promise.resolve(sqliteStatement(conn, sql).get(...bind(params)) as T | undefined),
    all: <T>(sql: string, params: readonly unknown[] = []) => Promise.resolve(sqliteStatement(conn, sql).all(...bind(params)) as T[]),
    run: (sql: string, params: readonly unknown[] = []) => {
      const r = sqliteStatement(conn, sql).run(...bind(params));
      return Promise.resolve({ changes: r.changes, insertId: Number(r.lastInsertRowid) });
    },
    exec: (sql: string) => {
      conn.exec(sql);
      return Promise.resolve();
    },
  };
}

function mysqlCall(conn: MysqlConnection, sql: string, params: readonly unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    conn.execute(sql, bind(params), (err, result) => (err ? reject(err) : resolve(result)));
  });
}

function mysqlQuery(conn: MysqlConnection, sql: string): Promise<unknown> {
  return new Promise((resolve, reject) => conn.query(sql, (err, result) => (err ? reject(err) : resolve(result))));
}

function mysqlTx(conn: MysqlConnection): Omit<SqlTx, 'touchAccounts'> {
  return {
    dialect: 'mysql',
    get: async <T>(sql: string, params: readonly unknown[] = []) => ((await mysqlCall(conn, sql, params)) as T[])[0],
    all: async <T>(sql: string, params: readonly unknown[] = []) => (await mysqlCall(conn, sql, params)) as T[],
    run: async (sql: string, params: readonly unknown[] = []) => {
      const r = (await mysqlCall(conn, sql, params)) as { affectedRows: number; insertId: number };
      return { changes: r.affectedRows, insertId: Number(r.insertId) };
    },
    exec: async (sql: string) => {
      await mysqlQuery(conn, sql);
    },
  };
}

/**
 * Adapts a knex transaction of runKnexTransaction to SqlTx, for money code called inside it (an
 * audited admin change, a new user's initial credit): the accounts it touches are announced when
 * that transaction commits.
 */
export function knexSqlTx(trx: Knex.Transaction, dialect: Dialect): SqlTx {
  return withTouched(knexBase(trx, dialect), touchedIn(trx));
}

/** The touched-account sets of the knex transactions runKnexTransaction is running. */
const knexTouched = new WeakMap<Knex.Transaction, Set<number>>();

function touchedIn(trx: Knex.Transaction): Set<number> {
  const touched = knexTouched.get(trx);
  // A transaction begun elsewhere would commit without announcing what it changed.
  if (!touched) throw new Error('not a transaction of runKnexTransaction: its accounts would never be announced');
  return touched;
}

/** Notes accounts a knex transaction changes (a balance, a restriction, a credit limit); announced once it commits. */
export function touchAccounts(trx: Knex.Transaction, ids: readonly number[]): void {
  const touched = touchedIn(trx);
  for (const id of ids) touched.add(id);
}

function knexBase(trx: Knex.Transaction, dialect: Dialect): Omit<SqlTx, 'touchAccounts'> {
  const raw = async (sql: string, params: readonly unknown[]): Promise<unknown> => trx.raw(sql, bind(params) as Knex.RawBinding[]);
  if (dialect === 'mysql') {
    return {
      dialect,
      get: async <T>(sql: string, params: readonly unknown[] = []) => ((await raw(sql, params)) as [T[]])[0][0],
      all: async <T>(sql: string, params: readonly unknown[] = []) => ((await raw(sql, params)) as [T[]])[0],
      run: async (sql: string, params: readonly unknown[] = []) => {
        const [r] = (await raw(sql, params)) as [{ affectedRows: number; insertId: number }];
        return { changes: r.affectedRows, insertId: Number(r.insertId) };
      },
      exec: async (sql: string) => {
        await trx.raw(sql);
      },
    };
  }
  return {
    dialect,
    get: async <T>(sql: string, params: readonly unknown[] = []) => ((await raw(sql, params)) as T[])[0],
    all: async <T>(sql: string, params: readonly unknown[] = []) => (await raw(sql, params)) as T[],
    run: async (sql: string, params: readonly unknown[] = []) => {
      const r = (await raw(sql, params)) as { changes: number; lastInsertRowid: number | bigint };
      return { changes: r.changes, insertId: Number(r.lastInsertRowid) };
    },
    exec: async (sql: string) => {
      await trx.raw(sql);
    },
  };
}

/** Read-only statements on one pooled connection, outside any transaction. */
export type SqlReader = Pick<SqlTx, 'dialect' | 'get' | 'all'>;

/**
 * Runs `work`'s reads on one pooled connection with prepared statements (cached per connection
 * on SQLite, server-side on MySQL), outside any transaction: for pages and reports read often,
 * where knex would build and prepare every statement again on every call.
 */
export async function runReads<T>(db: Database, work: (q: SqlReader) => Promise<T>): Promise<T> {
  const client = db.knex.client as PooledClient;
  const conn = await client.acquireConnection();
  try {
    const base = db.dialect === 'sqlite' ? sqliteTx(conn as SqliteConnection) : mysqlTx(conn as MysqlConnection);
    return await work({ dialect: base.dialect, get: base.get, all: base.all });
  } finally {
    await client.releaseConnection(conn);
  }
}

interface PooledClient {
  acquireConnection(): Promise<unknown>;
  releaseConnection(conn: unknown): Promise<unknown>;
}

/** Attempts of one transaction, the first included, before its error reaches the caller. */
export const MAX_ATTEMPTS = 8;

/**
 * Which errors run a transaction again:
 *  - 'locks' (both forms): lock conflicts (isRetryable: SQLITE_BUSY, SQLITE_BUSY_SNAPSHOT,
 *    ER_LOCK_DEADLOCK, ER_LOCK_WAIT_TIMEOUT), where the database rolled the work back and the
 *    same work run again succeeds once the other transaction is done;
 *  - 'locks-and-unique' (the prepared form): also a unique-key race (isUniqueViolation), two
 *    transactions inserting the same idempotency key or print job at once (MySQL, READ
 *    COMMITTED); run again, the loser finds the winner's row and answers as a replay. The knex
 *    form does not retry those: there a duplicate is the caller's answer (a username or a name
 *    already taken, turned into AlreadyExistsError), which running again would only delay.
 */
type RetryPolicy = 'locks' | 'locks-and-unique';

function retries(err: unknown, policy: RetryPolicy): boolean {
  return isRetryable(err) || (policy === 'locks-and-unique' && isUniqueViolation(err));
}

/** What db.events says with 'transactionRetry' before a failed attempt is run again. */
export interface TransactionRetry {
  /** The attempt that failed, from 1. */
  attempt: number;
  /** The driver's error code (SQLITE_BUSY, ER_LOCK_DEADLOCK, ER_DUP_ENTRY, ...). */
  code: string | undefined;
}

/**
 * The retry loop of both forms: runs `attempt` until it succeeds, fails with an error `policy`
 * does not retry, or has failed MAX_ATTEMPTS times; waits 1, 2, 4 ... ms (capped at 50) times a
 * random factor between attempts, so two transactions that collided do not collide again.
 */
async function withRetries<T>(db: Database, policy: RetryPolicy, attempt: () => Promise<T>): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!retries(err, policy) || n >= MAX_ATTEMPTS) throw err;
      db.events.emit('transactionRetry', { attempt: n, code: (err as { code?: string }).code } satisfies TransactionRetry);
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(50, 2 ** (n - 1)) * (0.5 + Math.random())));
  }
}

/** The one place that says which accounts committed changes: after the commit, never for a rolled-back attempt. */
function announce(db: Database, touched: ReadonlySet<number>): void {
  if (touched.size > 0) db.events.emit('accountsChanged', [...touched]);
}

/**
 * Runs `work` in one transaction on a pooled connection and commits durably before resolving:
 * on SQLite one fdatasync of the WAL, on the thread pool and shared with the commits around it
 * (wal-sync.ts); on MySQL the server's own. SQLite starts with BEGIN IMMEDIATE, so the transaction
 * holds the write lock from its first statement. Lock conflicts and unique-key races run the
 * whole transaction again ('locks-and-unique').
 */
export async function runTransaction<T>(db: Database, work: (tx: SqlTx) => Promise<T>): Promise<T> {
  const client = db.knex.client as PooledClient;
  const done = await withRetries(db, 'locks-and-unique', async () => {
    const conn = await client.acquireConnection();
    const touched = new Set<number>();
    try {
      const outcome =
        db.dialect === 'sqlite'
          ? await sqliteTransaction(conn as SqliteConnection, touched, work, db.walSync !== undefined)
          : { result: await mysqlTransaction(conn as MysqlConnection, touched, work), wrote: true };
      return { ...outcome, conn, touched };
    } finally {
      await client.releaseConnection(conn);
    }
  });
  // The connection is free for the next transaction while this one's WAL frames reach the disk.
  if (db.walSync && done.wrote) await db.walSync.sync(done.conn as object);
  announce(db, done.touched);
  return done.result;
}

/**
 * Runs `work` in a knex transaction (BEGIN on SQLite, START TRANSACTION on MySQL; knex commits
 * when it resolves and rolls back when it throws). Lock conflicts run it again ('locks'); a
 * unique violation reaches the caller at once. On SQLite the commit is synced by the connection
 * itself (synchronous=FULL). Accounts it changes through knexSqlTx (the ledger's *Within
 * methods) or names with touchAccounts are announced once it has committed.
 */
export async function runKnexTransaction<T>(db: Database, work: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
  const done = await withRetries(db, 'locks', async () => {
    const touched = new Set<number>();
    const result = await db.knex.transaction((trx) => {
      knexTouched.set(trx, touched);
      return work(trx);
    });
    return { result, touched };
  });
  announce(db, done.touched);
  return done.result;
}
/**
 * With `walSynced`, the commit only writes the WAL (synchronous=NORMAL for this transaction) and
 * runTransaction waits for the WalSyncer's fdatasync before resolving, unless the transaction
 * only read (`wrote`: it ran no run() or exec()); the connection's own
 * setting (FULL, for knex's transactions) is back before anyone else can use it. SQLite applies
 * the pragma when it is compiled, so it is run with exec() each time, never as a cached statement.
 */
async function sqliteTransaction<T>(
  conn: SqliteConnection,
  touched: Set<number>,
  work: (tx: SqlTx) => Promise<T>,
  walSynced: boolean,
): Promise<{ result: T; wrote: boolean }> {
  if (walSynced) conn.exec('PRAGMA synchronous = NORMAL');
  try {
    sqliteStatement(conn, 'BEGIN IMMEDIATE').run();
    try {
      // Whether the transaction ran anything that can write: a read-only one has no frames to sync.
      let wrote = false;
      const base = sqliteTx(conn);
      const tx: Omit<SqlTx, 'touchAccounts'> = {
        ...base,
        run: (sql, params) => {
          wrote = true;
          return base.run(sql, params);
        },
        exec: (sql) => {
          wrote = true;
          return base.exec(sql);
        },
      };
      const result = await work(withTouched(tx, touched));
      sqliteStatement(conn, 'COMMIT').run();
      return { result, wrote };
    } catch (err) {
      sqliteStatement(conn, 'ROLLBACK').run();
      throw err;
    }
  } finally {
    if (walSynced) conn.exec('PRAGMA synchronous = FULL');
  }
}

async function mysqlTransaction<T>(conn: MysqlConnection, touched: Set<number>, work: (tx: SqlTx) => Promise<T>): Promise<T> {
  await mysqlQuery(conn, 'START TRANSACTION');
  try {
    const result = await work(withTouched(mysqlTx(conn), touched));
    await mysqlQuery(conn, 'COMMIT');
    return result;
  } catch (err) {
    await mysqlQuery(conn, 'ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** `?,?,…,?`: n placeholders, for an IN list or a multi-row VALUES. */
export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(',');
}
