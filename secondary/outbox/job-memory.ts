/**
 * The outbox's memory of jobs, for deciding locally: the jobs authorised while the primary was
 * unreachable (their later commit becomes an offline record), and the last commit of each of the
 * jobs printed most recently (to tell a reprint from a retry across a restart). Its statements
 * run inside the transactions of outbox.ts, which owns the file and its group commit.
 */
import type Database from 'better-sqlite3';
import type { NewOutboxEvent, OutboxKind } from './event-queue';

export interface OfflineJob<J = unknown> {
  jobId: string;
  job: J;
  /** Authorised under the "free" failure mode: record without charging. */
  free: boolean;
  authorizedAt: number;
}

/** How many commits are remembered by job UUID (committedJob()): a day of a busy server. */
export const REMEMBERED_COMMITS = 20_000;

export const JOB_MEMORY_SCHEMA = `
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
`;

export class JobMemory {
  private readonly stmt;

  constructor(
    db: Database.Database,
    private readonly now: () => number,
    /** Commits remembered; the oldest are forgotten first. */
    private readonly rememberedCommits: number,
  ) {
    this.stmt = {
      putOffline: db.prepare<[string, string, number, number]>(
        'INSERT INTO offline_jobs (job_id, job, free, authorized_at) VALUES (?, ?, ?, ?) ON CONFLICT (job_id) DO NOTHING',
      ),
      getOffline: db.prepare<[string], { job_id: string; job: string; free: number; authorized_at: number }>('SELECT * FROM offline_jobs WHERE job_id = ?'),
      offlineInRange: db.prepare<[string, string], { job_id: string }>(
        'SELECT job_id FROM offline_jobs WHERE job_id >= ? AND job_id < ? ORDER BY authorized_at DESC, job_id DESC LIMIT 1',
      ),
      deleteOffline: db.prepare<[string]>('DELETE FROM offline_jobs WHERE job_id = ?'),
      offlineCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM offline_jobs'),
      forgetCommitted: db.prepare<[string]>('DELETE FROM committed_jobs WHERE job_uuid = ?'),
      putCommitted: db.prepare<[string, string, string, string]>('INSERT INTO committed_jobs (job_uuid, kind, idem_key, payload) VALUES (?, ?, ?, ?)'),
      pruneCommitted: db.prepare<[number]>('DELETE FROM committed_jobs WHERE seq <= ?'),
      getCommitted: db.prepare<[string], { kind: OutboxKind; idem_key: string; payload: string }>(
        'SELECT kind, idem_key, payload FROM committed_jobs WHERE job_uuid = ?',
      ),
      committedCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM committed_jobs'),
    };
  }

  /** Remembers a job authorised offline (inside the caller's transaction); the first record of an id stays. */
  rememberOffline(jobId: string, json: string, free: boolean): void {
    this.stmt.putOffline.run(jobId, json, free ? 1 : 0, this.now());
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

  forgetOffline(jobId: string): void {
    this.stmt.deleteOffline.run(jobId);
  }

  /**
   * Makes this the job's newest commit (a fresh seq) and forgets every commit older than the last
   * `rememberedCommits`: a range delete on the key, so the bound costs nothing as the table fills.
   * A job committed again leaves a gap in seq, so the table may hold a little fewer.
   */
  rememberCommitted(jobUuid: string, kind: OutboxKind, key: string, payload: string): void {
    this.stmt.forgetCommitted.run(jobUuid);
    const seq = Number(this.stmt.putCommitted.run(jobUuid, kind, key, payload).lastInsertRowid);
    if (seq > this.rememberedCommits) this.stmt.pruneCommitted.run(seq - this.rememberedCommits);
  }

  /** The last commit event remembered for a CUPS job UUID, while it is among the last `rememberedCommits`. */
  committedJob(jobUuid: string): NewOutboxEvent | undefined {
    const row = this.stmt.getCommitted.get(jobUuid);
    return row && { kind: row.kind, key: row.idem_key, payload: JSON.parse(row.payload) as unknown };
  }

  committedJobCount(): number {
    return this.stmt.committedCount.get()?.n ?? 0;
  }
}
