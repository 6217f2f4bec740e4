/**
 * One UPDATE for many rows of a table, each row its own values: the rows go as one JSON array
 * parameter, read back as a table by the dialect's JSON table function (SQLite `json_each`,
 * MariaDB/MySQL `JSON_TABLE`), joined on the primary key. The statement text is the same
 * whatever the number of rows, so it is prepared once (a CASE per column would be a new
 * statement for every count, and is slower: each row is compared against every WHEN).
 */
import type { Dialect } from './connection';

/**
 * `UPDATE table SET col = value, ... WHERE id = row id` for the rows of one JSON parameter, an
 * array of `[id, ...values]` in the order of `columns`. Values must be integers (JSON_TABLE
 * reads them as BIGINT).
 */
export function bulkUpdateByIdSql(dialect: Dialect, table: string, columns: readonly string[]): string {
  if (dialect === 'mysql') {
    const paths = columns.map((c, i) => `${c} BIGINT PATH '$[${i + 1}]'`).join(', ');
    const sets = columns.map((c) => `t.${c} = v.${c}`).join(', ');
    return `UPDATE ${table} AS t JOIN JSON_TABLE(?, '$[*]' COLUMNS (id BIGINT PATH '$[0]', ${paths})) AS v ON t.id = v.id SET ${sets}`;
  }
  const picks = columns.map((c, i) => `value->>${i + 1} AS ${c}`).join(', ');
  const sets = columns.map((c) => `${c} = v.${c}`).join(', ');
  return `UPDATE ${table} SET ${sets} FROM (SELECT value->>0 AS id, ${picks} FROM json_each(?)) AS v WHERE ${table}.id = v.id`;
}
