/**
 * The durable local outbox: every usage event a secondary must deliver to its
 * primary is written here first, in SQLite (WAL, synchronous=FULL: each commit is fsynced), and
 * deleted only once the primary has acknowledged it. It also remembers the jobs authorised
 * OFFLINE (primary unreachable), so that their later commit becomes an offline record, and the
 * last commit of each of the jobs printed most recently, to tell a reprint from a retry across a
 * restart (committedJob()).
 *
 * Writes are group-committed: every enqueue made in one turn of the event loop goes into one
 * transaction (one fsync), and each caller's promise settles only after that commit. A failing
 * disk gives OutboxWriteError, never a silently dropped event.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../common/logger';
import { OutboxWriteError, storageFailure } from './outbox-errors';

/** Kinds of events; the sender of each family picks its own kinds. */
export type OutboxKind = 'job.commit' | 'job.release' | 'job.offline' | 'usage.report';
export const JOB_EVENT_KINDS: readonly OutboxKind[] = ['job.commit', 'job.release', 'job.offline'];

export interface NewOutboxEvent {
  kind: OutboxKind;
  /** Unique idempotency key; enqueuing a key already waiting keeps the first event. */
  key: string;
  /** JSON-serialisable body, sent as is. */
  payload: unknown;
}

export interface OutboxEvent {
  id: number;
  kind: OutboxKind;
  key: string;
  payload: unknown;
  enqueuedAt: number;
  attempts: number;
  nextAttemptAt: number;
}

export interface EnqueueResult {
  id: number;
  /** True when an event with this key was already waiting (nothing was added). */
  duplicate: boolean;
}

export interface DeadLetter {
  id: number;
  kind: OutboxKind;
  key: string;
  payload: unknown;
  enqueuedAt: number;
  attempts: number;
  failedAt: number;
  reason: string;
}

export interface OfflineJob<J = unknown> {
  jobId: string;
  job: J;
  /** Authorised under the "free" failure mode: record without charging. */
  free: boolean;
  authorizedAt: number;
}

/** How many commits the outbox remembers by job UUID (committedJob()): a day of a busy server. */
export const REMEMBERED_COMMITS = 20_000;

/** What a write of a job event also records. */
export interface JobWriteOptions {
  /** Remember the event as the last commit of this CUPS job UUID, in the same transaction. */
  committedJob?: string;
}

export interface OutboxOptions {
  dataDir: string;
  logger: Logger;
  /** Refuse writes once the file would grow past this many bytes (SQLite answers SQLITE_FULL). */
  maxBytes?: number;
  /** Writes are refused while the file system has less free space than this (default 4 MiB). */
  minFreeBytes?: number;
  now?: () => number;
  /** Commits remembered by committedJob(); the oldest are forgotten first (default REMEMBERED_COMMITS). */
  rememberedCommits?: number;
}

// Tables added later are created by CREATE TABLE IF NOT EXISTS and leave the version alone: an
// older Quotient can still open the file (it ignores them), so a downgrade stays possible.
const SCHEMA_VERSION = 1;
/** Size of the write that checks a failed disk has room again. */
const PROBE_BYTES = 16 * 1024;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  kind TEXT NOT NULL,
  idem_key TEXT NOT NULL UNIQUE,
  payload TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS events_kind_due ON events (kind, next_attempt_at);
CREATE TABLE IF NOT EXISTS dead_letters (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id INTEGER NOT NULL,
  kind TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  payload TEXT NOT NULL,
  enqueued_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL,
  failed_at INTEGER NOT NULL,
  reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS offline_jobs (
  job_id TEXT PRIMARY KEY,
  job TEXT NOT NULL,
  free INTEGER NOT NULL,
  authorized_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS committed_jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  job_uuid TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  idem_key TEXT NOT NULL,
  payload TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

interface EventRow {
  id: number;
  kind: OutboxKind;
  idem_key: string;
  payload: string;
  enqueued_at: number;
  attempts: number;
  next_attempt_at: number;
}

interface PendingWrite {
  run: () => unknown;
  resolve: (value: unknown) => void;
  reject: (err: unknown) => void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class Outbox {
  readonly file: string;
  private readonly db: Database.Database;
  private readonly logger: Logger;
  private readonly now: () => number;
  private readonly dataDir: string;
  private readonly minFreeBytes: number;
  private readonly rememberedCommits: number;
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  /** The last write failure, until a write succeeds again. */
  private lastWriteError: OutboxWriteError | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly statementCache = new Map<string, Database.Statement<unknown[]>>();
  private readonly stmt;

  private constructor(db: Database.Database, file: string, opts: OutboxOptions) {
    this.db = db;
    this.file = file;
    this.dataDir = opts.dataDir;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.minFreeBytes = opts.minFreeBytes ?? 4 * 1024 * 1024;
    this.rememberedCommits = Math.max(1, Math.floor(opts.rememberedCommits ?? REMEMBERED_COMMITS));
    this.stmt = {
      insert: db.prepare<[string, string, string, number, number]>(
        `INSERT INTO events (kind, idem_key, payload, enqueued_at, next_attempt_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (idem_key) DO NOTHING`,
      ),
      idOfKey: db.prepare<[string], { id: number }>('SELECT id FROM events WHERE idem_key = ?'),
      ack: db.prepare<[number]>('DELETE FROM events WHERE id = ?'),
      byId: db.prepare<[number], EventRow>('SELECT * FROM events WHERE id = ?'),
      byKey: db.prepare<[string], EventRow>('SELECT * FROM events WHERE idem_key = ?'),
      lastDeadLetter: db.prepare<[], { idem_key: string; reason: string }>('SELECT idem_key, reason FROM dead_letters ORDER BY id DESC LIMIT 1'),
      retryLater: db.prepare<[number, string, number]>('UPDATE events SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?'),
      toDeadLetter: db.prepare<[number, number, string, number]>(
        `INSERT INTO dead_letters (event_id, kind, idem_key, payload, enqueued_at, attempts, failed_at, reason)
         SELECT id, kind, idem_key, payload, enqueued_at, attempts + ?, ?, ? FROM events WHERE id = ?`,
      ),
      depth: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM events'),
      oldest: db.prepare<[], { t: number }>('SELECT enqueued_at AS t FROM events ORDER BY id LIMIT 1'),
      deadLetters: db.prepare<[number], Record<string, unknown>>('SELECT * FROM dead_letters ORDER BY id LIMIT ?'),
      deadLetterCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM dead_letters'),
      putOffline: db.prepare<[string, string, number, number]>(
        'INSERT INTO offline_jobs (job_id, job, free, authorized_at) VALUES (?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING',
      ),
      getOffline: db.prepare<[string], { job_id: string; job: string; free: number; authorized_at: number }>('SELECT * FROM offline_jobs WHERE job_id = ?'),
      offlineInRange: db.prepare<[string, string], { job_id: string }>('SELECT job_id FROM offline_jobs WHERE job_id >= ? AND job_id < ? ORDER BY authorized_at DESC, job_id DESC LIMIT 1'),
      deleteOffline: db.prepare<[string]>('DELETE FROM offline_jobs WHERE job_id = ?'),
      offlineCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM offline_jobs'),
      forgetCommitted: db.prepare<[string]>('DELETE FROM committed_jobs WHERE job_uuid = ?'),
      putCommitted: db.prepare<[string, string, string, string]>('INSERT INTO committed_jobs (job_uuid, kind, idem_key, payload) VALUES (?, ?, ?, ?)'),
      pruneCommitted: db.prepare<[number]>('DELETE FROM committed_jobs WHERE seq <= ?'),
      getCommitted: db.prepare<[string], { kind: OutboxKind; idem_key: string; payload: string }>('SELECT kind, idem_key, payload FROM committed_jobs WHERE job_uuid = ?'),
      committedCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM committed_jobs'),
      putMeta: db.prepare<[string, string]>('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      deleteMeta: db.prepare<[string]>('DELETE FROM meta WHERE key = ?'),
    };
  }

  /** Opens (creating if needed) `<dataDir>/outbox.db`. A data directory that cannot be written gives OutboxWriteError. */
  static open(opts: OutboxOptions): Outbox {
    const file = path.join(opts.dataDir, 'outbox.db');
    let db: Database.Database | undefined;
    try {
      fs.mkdirSync(opts.dataDir, { recursive: true });
      // Said plainly up front; SQLite would report a read-only directory as "unable to open".
      fs.accessSync(opts.dataDir, fs.constants.W_OK);
      db = new Database(file);
      db.pragma('journal_mode = WAL');
      // FULL: in WAL mode NORMAL may lose the last commits on power loss; an acknowledged job must not be.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      const version = db.pragma('user_version', { simple: true }) as number;
      if (version > SCHEMA_VERSION) {
        throw new Error(`outbox ${file} was written by a newer Quotient (schema ${version}); refusing to touch it`);
      }
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
      if (opts.maxBytes !== undefined) {
        const pageSize = db.pragma('page_size', { simple: true }) as number;
        db.pragma(`max_page_count = ${Math.max(1, Math.floor(opts.maxBytes / pageSize))}`);
      }
      return new Outbox(db, file, opts);
    } catch (err) {
      db?.close();
      const failure = storageFailure(err);
      if (failure) throw new OutboxWriteError(failure, `opening ${file}`, err);
      throw err;
    }
  }

  /** Adds an event; resolves once it is durable. Idempotent on `key`. */
  enqueue(event: NewOutboxEvent, opts: JobWriteOptions = {}): Promise<EnqueueResult> {
    const payload = JSON.stringify(event.payload);
    return this.write(() => {
      const result = this.insertEvent(event.kind, event.key, payload);
      if (opts.committedJob !== undefined) this.rememberCommitted(opts.committedJob, event.kind, event.key, payload);
      return result;
    });
  }

  /**
   * The last commit event recorded for a CUPS job UUID with `committedJob`, while it is among the
   * last `rememberedCommits` commits (kept after the event itself was delivered and acknowledged).
   */
  committedJob(jobUuid: string): NewOutboxEvent | undefined {
    const row = this.stmt.getCommitted.get(jobUuid);
    return row && { kind: row.kind, key: row.idem_key, payload: JSON.parse(row.payload) as unknown };
  }

  committedJobCount(): number {
    return this.stmt.committedCount.get()?.n ?? 0;
  }

  /** Calls `fn` whenever new events became durable (the sender wakes on it). Returns an unsubscribe. */
  onEnqueue(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Up to `max` events that are due, oldest first. */
  nextBatch(max: number, kinds: readonly OutboxKind[] = JOB_EVENT_KINDS): OutboxEvent[] {
    const rows = this.batchStatement(kinds).all(this.now(), ...kinds, Math.max(1, Math.floor(max)));
    return rows.map(toEvent);
  }

  /** When the earliest event held back by retryLater() becomes due, or undefined when none waits. */
  nextDueAt(kinds: readonly OutboxKind[] = JOB_EVENT_KINDS): number | undefined {
    const row = this.cached(`SELECT min(next_attempt_at) AS t FROM events WHERE kind IN (${kinds.map(() => '?').join(',')})`).get(...kinds) as
      | { t: number | null }
      | undefined;
    return row?.t ?? undefined;
  }

  /** Removes delivered events (the primary has committed them). */
  ack(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.writeNow('acknowledging events', () => {
      for (const id of ids) this.stmt.ack.run(id);
    });
  }

  /** Keeps an event for a later attempt after a failure that concerns it alone. */
  retryLater(id: number, delayMs: number, reason: string): void {
    this.writeNow('rescheduling an event', () => this.stmt.retryLater.run(this.now() + Math.max(0, delayMs), reason.slice(0, 2000), id));
  }

  /**
   * Moves an event that can never succeed to the dead-letter table, with the reason, and logs it.
   * `followUp` (from the event as it was) is enqueued in the same transaction: the release that
   * gives back what a refused commit left held (sender.ts), so a crash cannot separate them.
   */
  fail(id: number, reason: string, followUp?: (event: OutboxEvent) => NewOutboxEvent | undefined): void {
    const row = this.stmt.byId.get(id);
    if (!row) return;
    const next = followUp?.(toEvent(row));
    this.writeNow('dead-lettering an event', () => {
      this.stmt.toDeadLetter.run(1, this.now(), reason.slice(0, 2000), id);
      this.stmt.ack.run(id);
      if (next) this.insertEvent(next.kind, next.key, JSON.stringify(next.payload));
    });
    this.logger.error({ eventId: id, kind: row.kind, key: row.idem_key, attempts: row.attempts + 1, reason, followUp: next?.kind }, 'outbox event failed permanently; moved to dead letters');
    if (next) for (const fn of this.listeners) fn();
  }

  /** The event waiting under `key`, if any. */
  waiting(key: string): OutboxEvent | undefined {
    const row = this.stmt.byKey.get(key);
    return row && toEvent(row);
  }

  /** The newest dead letter as "<key>: <reason>" (for the heartbeat), or '' when there is none. */
  lastDeadLetter(): string {
    const row = this.stmt.lastDeadLetter.get();
    return row ? `${row.idem_key}: ${row.reason}`.slice(0, 512) : '';
  }

  depth(): number {
    return this.stmt.depth.get()?.n ?? 0;
  }

  /** Enqueue time (epoch ms) of the oldest waiting event, or undefined when the outbox is empty. */
  oldestEnqueuedAt(): number | undefined {
    return this.stmt.oldest.get()?.t;
  }

  deadLetterCount(): number {
    return this.stmt.deadLetterCount.get()?.n ?? 0;
  }

  deadLetters(limit = 100): DeadLetter[] {
    return this.stmt.deadLetters.all(limit).map((r) => ({
      id: r.id as number,
      kind: r.kind as OutboxKind,
      key: r.idem_key as string,
      payload: JSON.parse(r.payload as string) as unknown,
      enqueuedAt: r.enqueued_at as number,
      attempts: r.attempts as number,
      failedAt: r.failed_at as number,
      reason: r.reason as string,
    }));
  }

  /** Durably remembers a job authorised while the primary was unreachable. */
  rememberOfflineJob(jobId: string, job: unknown, free: boolean): Promise<void> {
    const json = JSON.stringify(job);
    return this.write(() => {
      this.stmt.putOffline.run(jobId, json, free ? 1 : 0, this.now());
    }).then(() => undefined);
  }

  offlineJob<J = unknown>(jobId: string): OfflineJob<J> | undefined {
    const row = this.stmt.getOffline.get(jobId);
    return row && { jobId: row.job_id, job: JSON.parse(row.job) as J, free: row.free === 1, authorizedAt: row.authorized_at };
  }

  /** The id of the latest offline job whose id starts with `prefix` (a reprint's `<uuid>#offline-`), if any. */
  offlineJobIdWithPrefix(prefix: string): string | undefined {
    if (prefix === '') return undefined;
    // Every id with the prefix sorts from the prefix itself up to, not including, the prefix with its last character incremented.
    const upper = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.stmt.offlineInRange.get(prefix, upper)?.job_id;
  }

  offlineJobCount(): number {
    return this.stmt.offlineCount.get()?.n ?? 0;
  }

  /**
   * Settles an offline job in one transaction: forgets it and, when `toEvent` returns one,
   * enqueues that event (its offline record). Resolves with undefined when the job was not
   * authorised offline (nothing is written then).
   */
  settleOfflineJob<J>(jobId: string, toEvent: (job: OfflineJob<J>) => NewOutboxEvent | undefined, opts: JobWriteOptions = {}): Promise<EnqueueResult | 'forgotten' | undefined> {
    return this.write(() => {
      const record = this.offlineJob<J>(jobId);
      if (!record) return undefined;
      const event = toEvent(record);
      this.stmt.deleteOffline.run(jobId);
      if (!event) return 'forgotten' as const;
      const payload = JSON.stringify(event.payload);
      const result = this.insertEvent(event.kind, event.key, payload);
      if (opts.committedJob !== undefined) this.rememberCommitted(opts.committedJob, event.kind, event.key, payload);
      return result;
    });
  }

  /** Small durable key/value notes (the last configuration pushed by the primary). */
  putMeta(key: string, value: string): Promise<void> {
    return this.write(() => {
      this.stmt.putMeta.run(key, value);
    }).then(() => undefined);
  }

  getMeta(key: string): string | undefined {
    return this.stmt.getMeta.get(key)?.value;
  }

  /**
   * Throws OutboxWriteError when a new job could not be recorded: the file system is nearly full
   * or read-only, or the last write failed and a probe write still fails.
   */
  async ensureWritable(): Promise<void> {
    if (this.closed) throw new OutboxWriteError('closed', this.file);
    try {
      fs.accessSync(this.dataDir, fs.constants.W_OK);
      const stats = fs.statfsSync(this.dataDir);
      if (stats.bavail * stats.bsize < this.minFreeBytes) {
        throw new OutboxWriteError('disk_full', `less than ${this.minFreeBytes} bytes free in ${this.dataDir}`);
      }
    } catch (err) {
      if (err instanceof OutboxWriteError) throw err;
      throw new OutboxWriteError(storageFailure(err) ?? 'io_error', `checking ${this.dataDir}`, err);
    }
    if (this.lastWriteError) {
      // Room for a few pages, not just for a row that fits in a page already there.
      await this.write(() => {
        this.stmt.putMeta.run('probe', 'x'.repeat(PROBE_BYTES));
        this.stmt.deleteMeta.run('probe');
      });
    }
  }

  /** Whether the last write failed (cleared by the next successful write). */
  get writeFailure(): OutboxWriteError | undefined {
    return this.lastWriteError;
  }

  /** Commits what is pending, then closes the database. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.listeners.clear();
    this.db.close();
  }

  /**
   * Makes this the job's newest commit (a fresh seq) and forgets every commit older than the last
   * `rememberedCommits`: a range delete on the key, so the bound costs nothing as the table fills.
   * A job committed again leaves a gap in seq, so the table may hold a little fewer.
   */
  private rememberCommitted(jobUuid: string, kind: OutboxKind, key: string, payload: string): void {
    this.stmt.forgetCommitted.run(jobUuid);
    const seq = Number(this.stmt.putCommitted.run(jobUuid, kind, key, payload).lastInsertRowid);
    if (seq > this.rememberedCommits) this.stmt.pruneCommitted.run(seq - this.rememberedCommits);
  }

  private insertEvent(kind: OutboxKind, key: string, payload: string): EnqueueResult {
    const now = this.now();
    const info = this.stmt.insert.run(kind, key, payload, now, now);
    if (info.changes === 1) return { id: Number(info.lastInsertRowid), duplicate: false };
    const existing = this.stmt.idOfKey.get(key);
    return { id: existing?.id ?? 0, duplicate: true };
  }

  private batchStatement(kinds: readonly OutboxKind[]): Database.Statement<unknown[], EventRow> {
    return this.cached(`SELECT * FROM events WHERE next_attempt_at <= ? AND kind IN (${kinds.map(() => '?').join(',')}) ORDER BY id LIMIT ?`) as Database.Statement<
      unknown[],
      EventRow
    >;
  }

  /** Statements whose text depends on the kinds asked for, prepared once each. */
  private cached(sql: string): Database.Statement<unknown[]> {
    let stmt = this.statementCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[]>(sql);
      this.statementCache.set(sql, stmt);
    }
    return stmt;
  }

  /** Queues a write for the next group commit. */
  private write<T>(run: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new OutboxWriteError('closed', this.file));
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ run, resolve: resolve as (value: unknown) => void, reject });
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits every queued write in one transaction; each write runs in its own savepoint. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.pending.length === 0) return;
    const ops = this.pending;
    this.pending = [];
    const outcomes: Outcome[] = [];
    try {
      this.db
        .transaction(() => {
          for (const op of ops) {
            try {
              outcomes.push({ ok: true, value: this.db.transaction(op.run)() });
            } catch (err) {
              // A full or failing disk fails the whole group; anything else fails only its caller.
              if (storageFailure(err)) throw err;
              outcomes.push({ ok: false, error: err });
            }
          }
        })
        .immediate();
    } catch (err) {
      const error = this.writeError(err, 'recording events');
      for (const op of ops) op.reject(error);
      return;
    }
    this.lastWriteError = undefined;
    let added = false;
    ops.forEach((op, i) => {
      const outcome = outcomes[i];
      if (!outcome) return op.reject(new Error('outbox write lost its outcome'));
      if (outcome.ok) {
        if (isAdded(outcome.value)) added = true;
        op.resolve(outcome.value);
      } else {
        op.reject(outcome.error);
      }
    });
    if (added) for (const fn of this.listeners) fn();
  }

  /** A synchronous write (sender bookkeeping); a storage failure becomes OutboxWriteError. */
  private writeNow(what: string, run: () => void): void {
    try {
      this.db.transaction(run)();
    } catch (err) {
      throw this.writeError(err, what);
    }
  }

  private writeError(err: unknown, what: string): unknown {
    const failure = storageFailure(err);
    if (!failure) return err;
    const error = new OutboxWriteError(failure, what, err);
    if (!this.lastWriteError) this.logger.error({ err: (err as Error).message, reason: failure, file: this.file }, 'outbox cannot write; new jobs are refused until it can');
    this.lastWriteError = error;
    return error;
  }
}

function isAdded(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Partial<EnqueueResult>).duplicate === false;
}

function toEvent(row: EventRow): OutboxEvent {
  return {
    id: row.id,
    kind: row.kind,
    key: row.idem_key,
    payload: JSON.parse(row.payload) as unknown,
    enqueuedAt: row.enqueued_at,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
  };
}
