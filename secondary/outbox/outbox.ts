/**
 * The durable local outbox: one SQLite file (WAL, synchronous=FULL: each
 * commit is fsynced) holding the queue of events a secondary must deliver to its primary, each
 * deleted only once the primary has acknowledged it (event-queue.ts), and the memory of jobs
 * authorised offline and of recent commits that the secondary decides by (job-memory.ts). This
 * module owns the file and its transactions, so an event and what it changes in that memory are
 * written together.
 *
 * Writes are group-committed: every enqueue made in one turn of the event loop goes into one
 * transaction (one fsync), and each caller's promise settles only after that commit. A failing
 * disk gives OutboxWriteError, never a silently dropped event.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Logger } from '../../common/logger';
import {
  EventQueue,
  JOB_EVENT_KINDS,
  QUEUE_SCHEMA,
  type DeadLetter,
  type EnqueueResult,
  type NewOutboxEvent,
  type OutboxEvent,
  type OutboxKind,
} from './event-queue';
import { JOB_MEMORY_SCHEMA, JobMemory, REMEMBERED_COMMITS, type OfflineJob } from './job-memory';
import { OutboxWriteError, storageFailure } from './outbox-errors';

export { JOB_EVENT_KINDS, REMEMBERED_COMMITS };
export type { DeadLetter, EnqueueResult, NewOutboxEvent, OfflineJob, OutboxEvent, OutboxKind };

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

const SCHEMA = `${QUEUE_SCHEMA}${JOB_MEMORY_SCHEMA}
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
`;

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
  private pending: PendingWrite[] = [];
  private flushScheduled = false;
  private closed = false;
  /** The last write failure, until a write succeeds again. */
  private lastWriteError: OutboxWriteError | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly queue: EventQueue;
  private readonly jobs: JobMemory;
  private readonly stmt;

  private constructor(db: Database.Database, file: string, opts: OutboxOptions) {
    this.db = db;
    this.file = file;
    this.dataDir = opts.dataDir;
    this.logger = opts.logger;
    this.now = opts.now ?? Date.now;
    this.minFreeBytes = opts.minFreeBytes ?? 4 * 1024 * 1024;
    this.queue = new EventQueue(db, this.now);
    this.jobs = new JobMemory(db, this.now, Math.max(1, Math.floor(opts.rememberedCommits ?? REMEMBERED_COMMITS)));
    this.stmt = {
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
    return this.write(() => this.insertEvent(event, payload, opts));
  }

  /**
   * The last commit event recorded for a CUPS job UUID with `committedJob`, while it is among the
   * last `rememberedCommits` commits (kept after the event itself was delivered and acknowledged).
   */
  committedJob(jobUuid: string): NewOutboxEvent | undefined {
    return this.jobs.committedJob(jobUuid);
  }

  committedJobCount(): number {
    return this.jobs.committedJobCount();
  }

  /** Calls `fn` whenever new events became durable (the sender wakes on it). Returns an unsubscribe. */
  onEnqueue(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Up to `max` events that are due, oldest first. */
  nextBatch(max: number, kinds: readonly OutboxKind[] = JOB_EVENT_KINDS): OutboxEvent[] {
    return this.queue.nextBatch(max, kinds);
  }

  /** When the earliest event held back by retryLater() becomes due, or undefined when none waits. */
  nextDueAt(kinds: readonly OutboxKind[] = JOB_EVENT_KINDS): number | undefined {
    return this.queue.nextDueAt(kinds);
  }

  /** Removes delivered events (the primary has committed them). */
  ack(ids: readonly number[]): void {
    if (ids.length === 0) return;
    this.writeNow('acknowledging events', () => this.queue.ack(ids));
  }

  /** Keeps an event for a later attempt after a failure that concerns it alone. */
  retryLater(id: number, delayMs: number, reason: string): void {
    this.writeNow('rescheduling an event', () => this.queue.retryLater(id, delayMs, reason));
  }

  /**
   * Moves an event that can never succeed to the dead-letter table, with the reason, and logs it.
   * `followUp` (from the event as it was) is enqueued in the same transaction: the release that
   * gives back what a refused commit left held (sender.ts), so a crash cannot separate them.
   */
  fail(id: number, reason: string, followUp?: (event: OutboxEvent) => NewOutboxEvent | undefined): void {
    const event = this.queue.byId(id);
    if (!event) return;
    const next = followUp?.(event);
    this.writeNow('dead-lettering an event', () => {
      this.queue.deadLetter(id, reason);
      if (next) this.queue.insert(next.kind, next.key, JSON.stringify(next.payload));
    });
    this.logger.error(
      { eventId: id, kind: event.kind, key: event.key, attempts: event.attempts + 1, reason, followUp: next?.kind },
      'outbox event failed permanently; moved to dead letters',
    );
    if (next) for (const fn of this.listeners) fn();
  }

  /** The event waiting under `key`, if any. */
  waiting(key: string): OutboxEvent | undefined {
    return this.queue.waiting(key);
  }

  /** The newest dead letter as "<key>: <reason>" (for the heartbeat), or '' when there is none. */
  lastDeadLetter(): string {
    return this.queue.lastDeadLetter();
  }

  depth(): number {
    return this.queue.depth();
  }

  /** Enqueue time (epoch ms) of the oldest waiting event, or undefined when the outbox is empty. */
  oldestEnqueuedAt(): number | undefined {
    return this.queue.oldestEnqueuedAt();
  }

  deadLetterCount(): number {
    return this.queue.deadLetterCount();
  }

  deadLetters(limit = 100): DeadLetter[] {
    return this.queue.deadLetters(limit);
  }

  /** Durably remembers a job authorised while the primary was unreachable. */
  rememberOfflineJob(jobId: string, job: unknown, free: boolean): Promise<void> {
    const json = JSON.stringify(job);
    return this.write(() => this.jobs.rememberOffline(jobId, json, free));
  }

  offlineJob<J = unknown>(jobId: string): OfflineJob<J> | undefined {
    return this.jobs.offlineJob<J>(jobId);
  }

  /** The id of the latest offline job whose id starts with `prefix` (a reprint's `<uuid>#offline-`), if any. */
  offlineJobIdWithPrefix(prefix: string): string | undefined {
    return this.jobs.offlineJobIdWithPrefix(prefix);
  }

  offlineJobCount(): number {
    return this.jobs.offlineJobCount();
  }

  /**
   * Settles an offline job in one transaction: forgets it and, when `toEvent` returns one,
   * enqueues that event (its offline record). Resolves with undefined when the job was not
   * authorised offline (nothing is written then).
   */
  settleOfflineJob<J>(
    jobId: string,
    toEvent: (job: OfflineJob<J>) => NewOutboxEvent | undefined,
    opts: JobWriteOptions = {},
  ): Promise<EnqueueResult | 'forgotten' | undefined> {
    return this.write(() => {
      const record = this.jobs.offlineJob<J>(jobId);
      if (!record) return undefined;
      const event = toEvent(record);
      this.jobs.forgetOffline(jobId);
      if (!event) return 'forgotten' as const;
      return this.insertEvent(event, JSON.stringify(event.payload), opts);
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

  /** Queues an event and, with `committedJob`, remembers it as that job's last commit: inside a write. */
  private insertEvent(event: NewOutboxEvent, payload: string, opts: JobWriteOptions): EnqueueResult {
    const result = this.queue.insert(event.kind, event.key, payload);
    if (opts.committedJob !== undefined) this.jobs.rememberCommitted(opts.committedJob, event.kind, event.key, payload);
    return result;
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
    if (!this.lastWriteError)
      this.logger.error({ err: (err as Error).message, reason: failure, file: this.file }, 'outbox cannot write; new jobs are refused until it can');
    this.lastWriteError = error;
    return error;
  }
}

function isAdded(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Partial<EnqueueResult>).duplicate === false;
}
