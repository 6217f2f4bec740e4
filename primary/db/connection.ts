/**
 * Builds the knex handle for a database URL: SQLite (better-sqlite3, the embedded default) or
 * MySQL/MariaDB (mysql2). Connection settings that matter for correctness live here: SQLite in
 * WAL mode with synchronous=FULL (money transactions sync the WAL off the event loop instead:
 * wal-sync.ts) and foreign keys on; MySQL in READ COMMITTED with utf8mb4.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import knexFactory, { type Knex } from 'knex';
import { ConfigError } from '../../common/errors';
import { WalSyncer } from './wal-sync';

export type Dialect = 'sqlite' | 'mysql';

export interface Database {
  knex: Knex;
  dialect: Dialect;
  /**
   * Emits 'accountsChanged' (account ids) after a transaction that locked or touched them commits,
   * and 'transactionRetry' (TransactionRetry) before a transaction is run again (sql-runner.ts).
   */
  events: EventEmitter;
  /** Where it is, for logs and messages; never contains a password. */
  description: string;
  /** SQLite in a file: syncs the WAL for runTransaction's commits off the event loop. */
  walSync?: WalSyncer;
  close(): Promise<void>;
}

export interface ParsedDatabaseUrl {
  dialect: Dialect;
  /** SQLite: absolute file path. */
  filename?: string;
  mysql?: { host: string; port: number; user: string; password: string; database: string };
}

/** '' → SQLite in the data directory; sqlite:PATH or sqlite:///abs/path; mysql://user:pw@host:port/db. */
export function parseDatabaseUrl(url: string, dataDir: string): ParsedDatabaseUrl {
  const trimmed = url.trim();
  if (trimmed === '') return { dialect: 'sqlite', filename: path.join(dataDir, 'quotient.db') };
  if (trimmed.startsWith('sqlite:')) {
    let rest = trimmed.slice('sqlite:'.length);
    if (rest.startsWith('//')) rest = rest.slice(2);
    if (rest === '') throw new ConfigError('database URL sqlite: needs a file path, e.g. sqlite:///var/lib/quotient/quotient.db');
    return { dialect: 'sqlite', filename: rest === ':memory:' ? rest : path.resolve(rest) };
  }
  if (trimmed.startsWith('mysql://') || trimmed.startsWith('mariadb://')) {
    let parsed: URL;
    try {
      parsed = new URL(trimmed);
    } catch {
      throw new ConfigError('database URL is not a valid URL; expected mysql://user:password@host:port/database');
    }
    const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
    if (!parsed.hostname || !database || database.includes('/')) {
      throw new ConfigError('database URL must name a host and a database: mysql://user:password@host:port/database');
    }
    const port = parsed.port ? Number(parsed.port) : 3306;
    return {
      dialect: 'mysql',
      mysql: {
        host: parsed.hostname,
        port,
        user: decodeURIComponent(parsed.username || 'root'),
        password: decodeURIComponent(parsed.password),
        database,
      },
    };
  }
  throw new ConfigError(`unsupported database URL ${JSON.stringify(redactUrl(trimmed))}: use sqlite:PATH or mysql://user:password@host:port/database`);
}

export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Every SQLite connection's durability and safety settings: WAL with an fsync per commit
 * (synchronous=FULL), foreign keys enforced, and a wait for the write lock. The benchmarks' raw
 * connections use the same list, so their figures compare like with like.
 */
export const SQLITE_PRAGMAS: readonly string[] = ['journal_mode = WAL', 'synchronous = FULL', 'foreign_keys = ON', 'busy_timeout = 5000'];

/**
 * The mysql2 options of every MySQL/MariaDB connection (the database name aside): utf8mb4, UTC,
 * exact numbers. The benchmarks' raw connections use the same, so their figures compare like with like.
 */
export function mysqlConnectionOptions(m: NonNullable<ParsedDatabaseUrl['mysql']>): {
  host: string;
  port: number;
  user: string;
  password: string;
  charset: string;
  timezone: string;
  supportBigNumbers: boolean;
  bigNumberStrings: boolean;
  decimalNumbers: boolean;
  connectTimeout: number;
} {
  return {
    host: m.host,
    port: m.port,
    user: m.user,
    password: m.password,
    charset: 'utf8mb4',
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: false,
    decimalNumbers: true,
    connectTimeout: 5000,
  };
}

/** Run on every new MySQL/MariaDB connection (and by the benchmarks' raw connections). */
export const MYSQL_SESSION_SETUP = 'SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED';

export function openDatabase(url: string, dataDir: string, opts: { pool?: { min: number; max: number } } = {}): Database {
  const parsed = parseDatabaseUrl(url, dataDir);
  if (parsed.dialect === 'sqlite') {
    const filename = parsed.filename ?? ':memory:';
    if (filename !== ':memory:') fs.mkdirSync(path.dirname(filename), { recursive: true });
    const knex = knexFactory({
      client: 'better-sqlite3',
      connection: { filename },
      useNullAsDefault: true,
      // One connection: better-sqlite3 is synchronous, and SQLite has one writer anyway.
      pool: {
        min: 1,
        max: 1,
        afterCreate(
          conn: { pragma(sql: string): unknown; function(name: string, opts: { deterministic: boolean }, fn: (s: unknown) => unknown): void },
          done: (err: Error | null, conn: unknown) => void,
        ) {
          try {
            // SQLite's LOWER() folds ASCII only; searches fold case in JavaScript, so match it here.
            conn.function('lower', { deterministic: true }, (s) => (typeof s === 'string' ? s.toLowerCase() : s));
            for (const pragma of SQLITE_PRAGMAS) conn.pragma(pragma);
            done(null, conn);
          } catch (err) {
            done(err as Error, conn);
          }
        },
      },
    });
    const walSync = filename === ':memory:' ? undefined : new WalSyncer(filename);
    const close = async (): Promise<void> => {
      await knex.destroy();
      await walSync?.close();
    };
    return { knex, dialect: 'sqlite', events: new EventEmitter(), description: `sqlite:${filename}`, close, ...(walSync ? { walSync } : {}) };
  }
  const m = parsed.mysql;
  if (!m) throw new ConfigError('mysql settings missing');
  const knex = knexFactory({
    client: 'mysql2',
    connection: { ...mysqlConnectionOptions(m), database: m.database },
    pool: {
      ...(opts.pool ?? { min: 0, max: 10 }),
      afterCreate(conn: { query(sql: string, cb: (err: Error | null) => void): void }, done: (err: Error | null, conn: unknown) => void) {
        conn.query(MYSQL_SESSION_SETUP, (err) => done(err, conn));
      },
    },
    acquireConnectionTimeout: 30000,
  });
  return {
    knex,
    dialect: 'mysql',
    events: new EventEmitter(),
    description: `mysql://${m.user}@${m.host}:${m.port}/${m.database}`,
    close: () => knex.destroy(),
  };
}
