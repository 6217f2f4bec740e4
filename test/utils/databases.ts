/**
 * Runs an integration suite once per database dialect: SQLite (a fresh file per suite) and
 * MySQL/MariaDB (QUOTIENT_TEST_MYSQL_URL, default root@127.0.0.1:3306/test). On MySQL each test
 * run works in a database of its own, `<database>_run<pid>`, created on the server and dropped at
 * the end, so concurrent runs (CI, several developers) never empty each other's tables; where the
 * user may not create databases, the named database itself is used (and emptied).
 * Without a reachable MySQL the MySQL half is skipped with a notice, except under CI (CI=true),
 * where that is a failure. QUOTIENT_TEST_DATABASES=sqlite (or mysql) runs one dialect only.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openDatabase, type Database, type Dialect } from '../../primary/db/connection';
import { migrateLatest } from '../../primary/db/migrate';
import { dropAll, truncateAll } from '../../primary/db/schema';

/**
 * Where each suite's data directory (its SQLite file) goes: /dev/shm where there is one, since the
 * tests kill processes, never the power, and a commit's fsync there costs nothing. The WAL-sync
 * tests keep their files on disk (os.tmpdir()), where fsync is real.
 */
const TEST_DATA_ROOT = fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

export const MYSQL_TEST_URL = process.env.QUOTIENT_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
/** The database this run uses (set once MySQL is prepared). */
let mysqlRunUrl = MYSQL_TEST_URL;
let mysqlRunDatabase: string | undefined;

export interface TestDatabase {
  readonly dialect: Dialect;
  /** The open database; valid inside hooks and tests. */
  readonly db: Database;
  /** The URL a child process would use to reach the same database. */
  readonly url: string;
  readonly dataDir: string;
}

const wanted = (process.env.QUOTIENT_TEST_DATABASES ?? 'sqlite,mysql').split(',').map((s) => s.trim());
export const untestedDialects = new Set<string>();

let mysqlPrepared: Promise<void> | undefined;

async function prepareMysqlOnce(): Promise<void> {
  mysqlPrepared ??= (async () => {
    const base = openDatabase(MYSQL_TEST_URL, os.tmpdir(), { pool: { min: 0, max: 1 } });
    try {
      const url = new URL(MYSQL_TEST_URL);
      const runDb = `${url.pathname.replace(/^\//, '')}_run${process.pid}`;
      try {
        await base.knex.raw('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4', [runDb]);
        url.pathname = `/${runDb}`;
        mysqlRunUrl = url.toString();
        mysqlRunDatabase = runDb;
      } catch {
        mysqlRunUrl = MYSQL_TEST_URL; // no CREATE privilege: use the named database
      }
    } finally {
      await base.close();
    }
    const db = openDatabase(mysqlRunUrl, os.tmpdir(), { pool: { min: 0, max: 1 } });
    try {
      await dropAll(db.knex);
      await migrateLatest(db);
    } finally {
      await db.close();
    }
  })();
  return mysqlPrepared;
}

/** Drops this run's own MySQL database (the root hook calls it once, at the end). */
export async function dropRunDatabase(): Promise<void> {
  if (!mysqlRunDatabase) return;
  const base = openDatabase(MYSQL_TEST_URL, os.tmpdir(), { pool: { min: 0, max: 1 } });
  try {
    await base.knex.raw('DROP DATABASE IF EXISTS ??', [mysqlRunDatabase]);
  } finally {
    await base.close();
  }
}

/**
 * The dialects end-to-end suites run on: SQLite only, unless QUOTIENT_TEST_E2E_DATABASES says
 * otherwise (`sqlite,mysql` runs them on both). An end-to-end test checks processes, CUPS, Squid
 * and Chromium working together; what each dialect does differently is covered by the
 * integration suite, which always runs on both. The crash and start-up suites run on both anyway
 * (describeOnEachDatabase), since a kill -9 and a database server's connection are dialect matters.
 */
const endToEndWanted = (process.env.QUOTIENT_TEST_E2E_DATABASES ?? 'sqlite').split(',').map((s) => s.trim());

/** describeOnEachDatabase for end-to-end suites: on the dialects in QUOTIENT_TEST_E2E_DATABASES (default SQLite). */
export function describeEndToEnd(title: string, body: (t: TestDatabase) => void): void {
  describeOnEachDatabase(title, body, endToEndWanted);
}

export function describeOnEachDatabase(title: string, body: (t: TestDatabase) => void, only: readonly string[] = ['sqlite', 'mysql']): void {
  for (const dialect of ['sqlite', 'mysql'] as const) {
    if (!wanted.includes(dialect) || !only.includes(dialect)) continue;
    describe(`${title} [${dialect}]`, function () {
      let current: Database | undefined;
      let dataDir = '';
      let url = '';
      const handle: TestDatabase = {
        dialect,
        get db() {
          if (!current) throw new Error('database not open yet');
          return current;
        },
        get url() {
          return url;
        },
        get dataDir() {
          return dataDir;
        },
      };

      before(async function () {
        dataDir = fs.mkdtempSync(path.join(TEST_DATA_ROOT, 'quotient-test-'));
        if (dialect === 'sqlite') {
          url = `sqlite:${path.join(dataDir, 'quotient.db')}`;
          current = openDatabase(url, dataDir);
          await migrateLatest(current);
          return;
        }
        try {
          await prepareMysqlOnce();
          url = mysqlRunUrl;
        } catch (err) {
          if (process.env.CI === 'true') throw new Error(`MySQL/MariaDB is required under CI and unreachable at ${MYSQL_TEST_URL}: ${(err as Error).message}`);
          untestedDialects.add('mysql');
          this.skip(); // no MySQL on this machine: the SQLite half still runs; the run ends saying so
        }
        current = openDatabase(url, dataDir);
      });

      beforeEach(async () => {
        if (current) await truncateAll(current.knex);
      });

      after(async () => {
        await current?.close();
        current = undefined;
        fs.rmSync(dataDir, { recursive: true, force: true });
      });

      body(handle);
    });
  }
}
