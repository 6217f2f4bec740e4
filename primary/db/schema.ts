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
