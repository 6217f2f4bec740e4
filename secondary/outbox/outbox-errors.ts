/**
 * The outbox's one failure that callers must act on: the local database cannot be written (disk
 * full, read-only file system, I/O error). Callers refuse new jobs on it rather than lose them.
 * It is a DATABASE_UNAVAILABLE QuotientError, so callers branch on `code` (or `reason`), not text.
 */
import { QuotientError } from '../../common/errors';

export type OutboxWriteFailure = 'disk_full' | 'read_only' | 'io_error' | 'closed';

const MESSAGES: Record<OutboxWriteFailure, string> = {
  disk_full: 'the outbox cannot record events: the disk holding the data directory is full',
  read_only: 'the outbox cannot record events: the data directory is read-only',
  io_error: 'the outbox cannot record events: the disk reported an I/O error',
  closed: 'the outbox is closed',
};

export class OutboxWriteError extends QuotientError {
  readonly reason: OutboxWriteFailure;

  constructor(reason: OutboxWriteFailure, where: string, cause?: unknown) {
    const sqliteCode = (cause as { code?: unknown } | undefined)?.code;
    super('DATABASE_UNAVAILABLE', `${MESSAGES[reason]} (${where})`, { reason, ...(typeof sqliteCode === 'string' ? { sqliteCode } : {}) }, { cause });
    this.reason = reason;
  }
}

/**
 * Classifies a thrown value from better-sqlite3 or node:fs as a storage failure, or returns
 * undefined for anything else (a bug, a constraint), which must not be disguised as "disk full".
 * SQLite's extended codes keep their primary code as a prefix (SQLITE_IOERR_WRITE, SQLITE_READONLY_DBMOVED).
 */
export function storageFailure(err: unknown): OutboxWriteFailure | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return undefined;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk_full';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || code === 'EPERM') return 'read_only';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN') || code === 'EIO') return 'io_error';
  return undefined;
}
