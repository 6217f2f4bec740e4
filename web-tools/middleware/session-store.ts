/**
 * Server-side web sessions in the database, so every primary sharing it accepts the same cookie
 * and a restart signs nobody out. The cookie holds 32 random bytes; the table holds only their
 * SHA-256, so a leaked table (backup, replica) cannot be replayed as cookies. Each session has
 * its own CSRF secret, checked on every state-changing request.
 */
import crypto from 'node:crypto';
import type { Database } from '../../primary/db/connection';
import { runReads } from '../../primary/db/sql-runner';

/** Signed-in sessions end after this long without a request... */
export const IDLE_TIMEOUT_MS = 2 * 60 * 60 * 1000;
/** ...and after this long in any case. */
export const ABSOLUTE_TIMEOUT_MS = 12 * 60 * 60 * 1000;
/** last_seen_at is written at most this often, so page views stay reads. */
const TOUCH_EVERY_MS = 60 * 1000;

/** The few facts about the signed-in user every page needs, read with the session in one query. */
export interface SessionUser {
  id: number;
  username: string;
  fullName: string;
  isAdmin: boolean;
  /** The language the user chose for the web tools, or null (the browser's languages decide). */
  language: string | null;
}

export interface WebSession {
  idHash: string;
  userId: number;
  csrfSecret: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
}

interface SessionRow {
  id_hash: string;
  user_id: number;
  csrf_secret: string;
  created_at: number | string;
  last_seen_at: number | string;
  expires_at: number | string;
  username: string;
  full_name: string;
  is_admin: number | boolean;
  disabled: number | boolean;
  language: string | null;
}

export const hashSessionId = (token: string): string => crypto.createHash('sha256').update(token).digest('hex');

export class SessionStore {
  private readonly db: Database;
  private readonly now: () => number;

  constructor(deps: { db: Database; now?: () => number }) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
  }

  /** Starts a session for a user; returns the cookie value (never stored) and the session. */
  async create(userId: number): Promise<{ token: string; session: WebSession }> {
    const token = crypto.randomBytes(32).toString('base64url');
    const now = this.now();
    const session: WebSession = {
      idHash: hashSessionId(token),
      userId,
      csrfSecret: crypto.randomBytes(24).toString('base64url'),
      createdAt: now,
      lastSeenAt: now,
      expiresAt: now + ABSOLUTE_TIMEOUT_MS,
    };
    await this.db.knex('web_sessions').insert({
      id_hash: session.idHash,
      user_id: userId,
      csrf_secret: session.csrfSecret,
      created_at: now,
      last_seen_at: now,
      expires_at: session.expiresAt,
    });
    return { token, session };
  }

  /**
   * The live session a cookie value names and its user, or undefined (unknown, idle too long,
   * expired, or the user is disabled).
   */
  async find(token: string): Promise<{ session: WebSession; user: SessionUser } | undefined> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
    const idHash = hashSessionId(token);
    // Every page view reads its session: a prepared statement, not a knex query built each time.
    const row = await runReads(this.db, (q) =>
      q.get<SessionRow>(
        `SELECT s.id_hash, s.user_id, s.csrf_secret, s.created_at, s.last_seen_at, s.expires_at, users.username, users.full_name, users.is_admin, users.disabled, users.language
           FROM web_sessions s JOIN users ON users.id = s.user_id WHERE s.id_hash = ? LIMIT 1`,
        [idHash],
      ),
    );
    if (!row || Boolean(row.disabled)) return undefined;
    const now = this.now();
    const session: WebSession = {
      idHash,
      userId: Number(row.user_id),
      csrfSecret: row.csrf_secret,
      createdAt: Number(row.created_at),
      lastSeenAt: Number(row.last_seen_at),
      expiresAt: Number(row.expires_at),
    };
    if (now >= session.expiresAt || now - session.lastSeenAt >= IDLE_TIMEOUT_MS) {
      await this.db.knex('web_sessions').where({ id_hash: idHash }).delete();
      return undefined;
    }
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
      await this.db.knex('web_sessions').where({ id_hash: idHash }).update({ last_seen_at: now });
      session.lastSeenAt = now;
    }
    return {
      session,
      user: { id: Number(row.user_id), username: row.username, fullName: row.full_name, isAdmin: Boolean(row.is_admin), language: row.language },
    };
  }

  async destroy(idHash: string): Promise<void> {
    await this.db.knex('web_sessions').where({ id_hash: idHash }).delete();
  }

  /** Ends every session of a user (password change, disabling). */
  async destroyAllOf(userId: number): Promise<void> {
    await this.db.knex('web_sessions').where({ user_id: userId }).delete();
  }

  /** Deletes sessions past their absolute expiry; returns how many. */
  async purgeExpired(): Promise<number> {
    return this.db.knex('web_sessions').where('expires_at', '<=', this.now()).delete();
  }
}
