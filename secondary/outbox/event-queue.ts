/**
 * The outbox's queue: the durable list of events waiting to be delivered to the primary, and the
 * dead letters that never will be. Its statements run inside the transactions of outbox.ts,
 * which owns the file and its group commit.
 */
import type Database from 'better-sqlite3';

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

export const QUEUE_SCHEMA = `
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

export class EventQueue {
  private readonly statementCache = new Map<string, Database.Statement<unknown[]>>();
  private readonly stmt;

  constructor(
    private readonly db: Database.Database,
    private readonly now: () => number,
  ) {
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
    };
  }

  /** Adds an event (inside the caller's transaction) unless its key is already waiting. */
  insert(kind: OutboxKind, key: string, payload: string): EnqueueResult {
    const now = this.now();
    const info = this.stmt.insert.run(kind, key, payload, now, now);
    if (info.changes === 1) return { id: Number(info.lastInsertRowid), duplicate: false };
    const existing = this.stmt.idOfKey.get(key);
    return { id: existing?.id ?? 0, duplicate: true };
  }

  /** Up to `max` events that are due, oldest first. */
  nextBatch(max: number, kinds: readonly OutboxKind[]): OutboxEvent[] {
    const batch = this.cached(`SELECT * FROM events WHERE next_attempt_at <= ? AND kind IN (${kinds.map(() => '?').join(',')}) ORDER BY id LIMIT ?`);
    return (batch.all(this.now(), ...kinds, Math.max(1, Math.floor(max))) as EventRow[]).map(toEvent);
  }

  /** When the earliest event held back by retryLater() becomes due, or undefined when none waits. */
  nextDueAt(kinds: readonly OutboxKind[]): number | undefined {
    const row = this.cached(`SELECT min(next_attempt_at) AS t FROM events WHERE kind IN (${kinds.map(() => '?').join(',')})`).get(...kinds) as
      { t: number | null } | undefined;
    return row?.t ?? undefined;
  }

  /** Removes delivered events. */
  ack(ids: readonly number[]): void {
    for (const id of ids) this.stmt.ack.run(id);
  }

  retryLater(id: number, delayMs: number, reason: string): void {
    this.stmt.retryLater.run(this.now() + Math.max(0, delayMs), reason.slice(0, 2000), id);
  }

  /** Moves an event to the dead letters, with the reason. */
  deadLetter(id: number, reason: string): void {
    this.stmt.toDeadLetter.run(1, this.now(), reason.slice(0, 2000), id);
    this.stmt.ack.run(id);
  }

  byId(id: number): OutboxEvent | undefined {
    const row = this.stmt.byId.get(id);
    return row && toEvent(row);
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

  /** Enqueue time (epoch ms) of the oldest waiting event, or undefined when the queue is empty. */
  oldestEnqueuedAt(): number | undefined {
    return this.stmt.oldest.get()?.t;
  }

  deadLetterCount(): number {
    return this.stmt.deadLetterCount.get()?.n ?? 0;
  }

  deadLetters(limit: number): DeadLetter[] {
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

  /** Statements whose text depends on the kinds asked for, prepared once each. */
  private cached(sql: string): Database.Statement<unknown[]> {
    let stmt = this.statementCache.get(sql);
    if (!stmt) {
      stmt = this.db.prepare<unknown[]>(sql);
      this.statementCache.set(sql, stmt);
    }
    return stmt;
  }
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
