/**
 * Driver-error translation: the one place that knows SQLite's and MySQL's error codes.
 * Services ask questions (isUniqueViolation, isRetryable) instead of reading driver codes.
 */
import { DatabaseUnavailableError } from '../../common/errors';

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
}

function asDriverError(err: unknown): DriverError {
  return typeof err === 'object' && err !== null ? (err as DriverError) : {};
}

/**
 * The constraint a UNIQUE violation names: SQLite says "UNIQUE constraint failed: users.username",
 * MySQL "Duplicate entry 'x' for key 'users_username_unique'". The rest of the message (knex
 * adds the SQL and its values) is never searched, so a value cannot look like a constraint.
 */
function uniqueTarget(message: string): string {
  const sqlite = /UNIQUE constraint failed: ([^\n]+)$/.exec(message);
  if (sqlite?.[1]) return sqlite[1];
  const mysql = /for key '([^']+)'/.exec(message);
  return mysql?.[1] ?? '';
}

/** A UNIQUE (or PRIMARY KEY) constraint refused the row. `column` narrows it to one table or column. */
export function isUniqueViolation(err: unknown, column?: string): boolean {
  const e = asDriverError(err);
  const unique = e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'ER_DUP_ENTRY';
  if (!unique) return false;
  return column === undefined || uniqueTarget(e.message ?? '').includes(column);
}

export function isForeignKeyViolation(err: unknown): boolean {
  const e = asDriverError(err);
  return e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e.code === 'ER_NO_REFERENCED_ROW_2' || e.code === 'ER_ROW_IS_REFERENCED_2';
}

/** Lock conflicts that a transaction may simply run again. */
export function isRetryable(err: unknown): boolean {
  const e = asDriverError(err);
  return e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_BUSY_SNAPSHOT' || e.code === 'ER_LOCK_DEADLOCK' || e.code === 'ER_LOCK_WAIT_TIMEOUT';
}

const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ER_ACCESS_DENIED_ERROR',
  'ER_BAD_DB_ERROR',
  'PROTOCOL_CONNECTION_LOST',
  'SQLITE_CANTOPEN',
  'SQLITE_FULL',
  'SQLITE_READONLY',
]);

/** Turns "cannot reach / open the database" into a DatabaseUnavailableError with a clear message. */
export function translateConnectionError(err: unknown, description: string): Error {
  const e = asDriverError(err);
  if (e.code && UNAVAILABLE_CODES.has(e.code)) {
    return new DatabaseUnavailableError(`cannot use database ${description}: ${e.code} ${e.message ?? ''}`.trim(), err);
  }
  if (e.message?.includes('Knex: Timeout acquiring a connection')) {
    return new DatabaseUnavailableError(`cannot connect to database ${description}: timed out`, err);
  }
  return err instanceof Error ? err : new Error(String(err));
}
