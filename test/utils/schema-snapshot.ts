/**
 * The schema a database holds, read back from the database itself on either dialect, in a form
 * that compares and reads well as JSON (one line per column, index and key): per table its columns
 * (type, nullability, default), indexes and foreign keys. The schema test compares it with test/fixtures/schema-snapshot.json.
 */
import type { Knex } from 'knex';
import { listTables } from '../../primary/db/schema';

export interface TableSnapshot {
  /** "name type [not null] [default VALUE]", sorted by name (a column's position is not the schema's business). */
  columns: string[];
  /** "name(col, col)", with "unique " in front when unique; sorted. */
  indexes: string[];
  /** "col -> table(col) on delete ACTION"; sorted. */
  foreignKeys: string[];
}

export type SchemaSnapshot = Record<string, TableSnapshot>;

export interface SnapshotFile {
  /** How to regenerate this file. */
  about: string;
  /** The migrations that made the schemas below, in order. */
  migrations: string[];
  sqlite: SchemaSnapshot;
  mysql: SchemaSnapshot;
}

function column(name: string, type: string, nullable: boolean, dflt: string | null, extra: string): string {
  return `${name} ${type.toLowerCase()}${nullable ? '' : ' not null'}${dflt === null ? '' : ` default ${dflt}`}${extra ? ` ${extra.toLowerCase()}` : ''}`;
}

interface SqliteColumn {
  name: string;
  type: string;
  notnull: number;
  dflt_value: string | null;
  pk: number;
}

async function sqliteTable(knex: Knex, table: string): Promise<TableSnapshot> {
  const columns = (await knex.raw('SELECT * FROM pragma_table_info(?)', [table])) as SqliteColumn[];
  const indexList = (await knex.raw('SELECT name, "unique" AS uniq FROM pragma_index_list(?) ORDER BY name', [table])) as { name: string; uniq: number }[];
  const indexes: string[] = [];
  for (const index of indexList) {
    const cols = ((await knex.raw('SELECT name FROM pragma_index_info(?) ORDER BY seqno', [index.name])) as { name: string }[]).map((c) => c.name);
    // SQLite's own names for the indexes behind PRIMARY KEY and UNIQUE constraints carry no meaning.
    const name = index.name.startsWith('sqlite_autoindex_') ? '(constraint)' : index.name;
    indexes.push(`${index.uniq ? 'unique ' : ''}${name}(${cols.join(', ')})`);
  }
  const keys = (await knex.raw('SELECT "from" AS col, "table" AS ref, "to" AS refcol, on_delete FROM pragma_foreign_key_list(?)', [table])) as {
    col: string;
    ref: string;
    refcol: string;
    on_delete: string;
  }[];
  return {
    columns: columns.map((c) => column(c.name, c.type, c.notnull === 0 && c.pk === 0, c.dflt_value, c.pk > 0 ? 'primary key' : '')).sort(),
    indexes: indexes.sort(),
    foreignKeys: keys.map((k) => `${k.col} -> ${k.ref}(${k.refcol}) on delete ${k.on_delete}`).sort(),
  };
}

async function mysqlTable(knex: Knex, table: string): Promise<TableSnapshot> {
  const [columns] = (await knex.raw(
    'SELECT COLUMN_NAME AS name, COLUMN_TYPE AS type, IS_NULLABLE AS nullable, COLUMN_DEFAULT AS dflt, EXTRA AS extra FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION',
    [table],
  )) as [{ name: string; type: string; nullable: string; dflt: string | null; extra: string }[]];
  const [indexRows] = (await knex.raw(
    'SELECT INDEX_NAME AS name, NON_UNIQUE AS nonUnique, COLUMN_NAME AS col FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY INDEX_NAME, SEQ_IN_INDEX',
    [table],
  )) as [{ name: string; nonUnique: number | string; col: string }[]];
  const byName = new Map<string, { unique: boolean; cols: string[] }>();
  for (const row of indexRows) {
    const index = byName.get(row.name) ?? { unique: Number(row.nonUnique) === 0, cols: [] };
    index.cols.push(row.col);
    byName.set(row.name, index);
  }
  const [keys] = (await knex.raw(
    `SELECT k.COLUMN_NAME AS col, k.REFERENCED_TABLE_NAME AS ref, k.REFERENCED_COLUMN_NAME AS refcol, r.DELETE_RULE AS onDelete
       FROM information_schema.KEY_COLUMN_USAGE k
       JOIN information_schema.REFERENTIAL_CONSTRAINTS r ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
      WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME = ? AND k.REFERENCED_TABLE_NAME IS NOT NULL`,
    [table],
  )) as [{ col: string; ref: string; refcol: string; onDelete: string }[]];
  return {
    columns: columns.map((c) => column(c.name, c.type, c.nullable === 'YES', c.dflt === 'NULL' ? null : c.dflt, c.extra)).sort(),
    indexes: [...byName].map(([name, i]) => `${i.unique ? 'unique ' : ''}${name}(${i.cols.join(', ')})`).sort(),
    foreignKeys: keys.map((k) => `${k.col} -> ${k.ref}(${k.refcol}) on delete ${k.onDelete}`).sort(),
  };
}

/** The application's tables (not the migration bookkeeping), by name, as the database reports them. */
export async function snapshotSchema(knex: Knex): Promise<SchemaSnapshot> {
  const isMysql = knex.client.config.client === 'mysql2';
  const snapshot: SchemaSnapshot = {};
  for (const table of (await listTables(knex)).sort()) snapshot[table] = isMysql ? await mysqlTable(knex, table) : await sqliteTable(knex, table);
  return snapshot;
}
