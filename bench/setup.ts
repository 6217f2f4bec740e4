/**
 * Gets a database ready for one dialect's bench run: SQLite in a fresh temporary directory, or
 * the MySQL/MariaDB database of QUOTIENT_BENCH_MYSQL_URL (created if missing; skipped with a
 * reason when the server cannot be reached). Either way the schema is dropped and migrated
 * first, and the accounts the bench debits are created through UserService.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import mysql from 'mysql2/promise';
import {
  mysqlConnectionOptions,
  openDatabase,
  parseDatabaseUrl,
  redactUrl,
  type Database,
  type Dialect,
  type ParsedDatabaseUrl,
} from '../primary/db/connection';
import { migrateLatest } from '../primary/db/migrate';
import { dropAll } from '../primary/db/schema';
import { createServices, type Services } from '../primary/services';

export interface BenchDatabase {
  dialect: Dialect;
  url: string;
  db: Database;
  services: Services;
  /** SQLite: the database file, for the raw driver's own connection. */
  sqliteFile?: string;
  /** MySQL: connection settings, for the raw driver's own pool. */
  mysql?: NonNullable<ParsedDatabaseUrl['mysql']>;
  close(): Promise<void>;
}

async function freshSchema(url: string, dataDir: string): Promise<void> {
  // One connection, so dropAll's session-level FOREIGN_KEY_CHECKS applies to every DROP.
  const db = openDatabase(url, dataDir, { pool: { min: 0, max: 1 } });
  try {
    await dropAll(db.knex);
    await migrateLatest(db);
  } finally {
    await db.close();
  }
}

export async function openSqlite(): Promise<BenchDatabase> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'quotient-bench-'));
  const sqliteFile = path.join(dataDir, 'quotient.db');
  const url = `sqlite:${sqliteFile}`;
  await freshSchema(url, dataDir);
  const db = openDatabase(url, dataDir);
  return {
    dialect: 'sqlite',
    url,
    db,
    services: createServices(db),
    sqliteFile,
    close: async () => {
      await db.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Opens the MySQL bench database, or says why it cannot. */
export async function openMysql(url: string, poolSize: number): Promise<BenchDatabase | { skipped: string }> {
  const settings = parseDatabaseUrl(url, os.tmpdir()).mysql;
  if (!settings) return { skipped: `${redactUrl(url)} is not a mysql:// URL` };
  let server: mysql.Connection;
  try {
    server = await mysql.createConnection(mysqlConnectionOptions(settings));
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return { skipped: `cannot reach ${redactUrl(url)}: ${e.code ?? ''} ${e.message ?? ''}`.trim() };
  }
  try {
    await server.query('CREATE DATABASE IF NOT EXISTS ?? CHARACTER SET utf8mb4 COLLATE utf8mb4_bin', [settings.database]);
  } finally {
    await server.end();
  }
  await freshSchema(url, os.tmpdir());
  const db = openDatabase(url, os.tmpdir(), { pool: { min: 0, max: poolSize } });
  return { dialect: 'mysql', url: redactUrl(url), db, services: createServices(db), mysql: settings, close: () => db.close() };
}

/** Creates `count` unrestricted users (no initial credit) and returns their personal accounts' ids. */
export async function createAccounts(services: Services, prefix: string, count: number): Promise<number[]> {
  const ids: number[] = [];
  for (let i = 0; i < count; i++) {
    const user = await services.users.createUser({ username: `${prefix}${i}`, restricted: false, initialCredit: 0 }, 'bench');
    ids.push(user.account.id);
  }
  return ids;
}
