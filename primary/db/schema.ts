/**
 * Schema helpers for migrations: tables get the same text semantics on both dialects
 * (MySQL tables are utf8mb4 with a binary collation, like SQLite's default comparisons).
 */
import type { Knex } from 'knex';

export async function createTable(knex: Knex, name: string, build: (t: Knex.CreateTableBuilder) => void): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  await knex.schema.createTable(name, (t) => {
    if (isMysql) {
      t.charset('utf8mb4');
      t.collate('utf8mb4_bin');
      t.engine('InnoDB');
    }
    build(t);
  });
}

/** Names of the application's tables (not the migration bookkeeping). */
export async function listTables(knex: Knex): Promise<string[]> {
  if (knex.client.config.client === 'mysql2') {
    const [rows] = (await knex.raw('SHOW TABLES')) as [Record<string, string>[]];
    return rows.map((r) => Object.values(r)[0] ?? '').filter((n) => n && !n.startsWith('knex_'));
  }
  const rows = (await knex('sqlite_master').where({ type: 'table' }).select('name')) as { name: string }[];
  return rows.map((r) => r.name).filter((n) => !n.startsWith('sqlite_') && !n.startsWith('knex_'));
}

/** Empties every application table (tests only), with foreign-key checks off meanwhile. */
export async function truncateAll(knex: Knex): Promise<void> {
  const tables = await listTables(knex);
  if (knex.client.config.client === 'mysql2') {
    await knex.transaction(async (trx) => {
      await trx.raw('SET FOREIGN_KEY_CHECKS = 0');
      for (const t of tables) await trx.raw('DELETE FROM ??', [t]);
      await trx.raw('SET FOREIGN_KEY_CHECKS = 1');
    });
    return;
  }
  await knex.raw('PRAGMA foreign_keys = OFF');
  try {
    await knex.transaction(async (trx) => {
      for (const t of tables) await trx(t).delete();
    });
  } finally {
    await knex.raw('PRAGMA foreign_keys = ON');
  }
}

/** Drops every table, including the migration bookkeeping (tests and benchmarks only). */
export async function dropAll(knex: Knex): Promise<void> {
  const isMysql = knex.client.config.client === 'mysql2';
  const tables = isMysql
    ? ((await knex.raw('SHOW TABLES')) as [Record<string, string>[]])[0].map((r) => Object.values(r)[0] ?? '')
    : ((await knex('sqlite_master').where({ type: 'table' }).select('name')) as { name: string }[]).map((r) => r.name).filter((n) => !n.startsWith('sqlite_'));
  if (isMysql) await knex.raw('SET FOREIGN_KEY_CHECKS = 0');
  else await knex.raw('PRAGMA foreign_keys = OFF');
  for (const t of tables) await knex.schema.dropTableIfExists(t);
  if (isMysql) await knex.raw('SET FOREIGN_KEY_CHECKS = 1');
  else await knex.raw('PRAGMA foreign_keys = ON');
}
