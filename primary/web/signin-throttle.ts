/**
 * Sign-in throttling, kept in the database so it survives restarts and binds every primary that
 * shares it. Failures are counted per username and per client address; past a threshold each
 * further failure locks the key for a doubling time (30 s, 60 s, ... capped at 15 minutes).
 * A successful sign-in clears the username's count (not the address's: one person signing in
 * must not reset a guessing run from a shared address).
 */
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';

export interface ThrottlePolicy {
  /** Failures allowed before the first lock-out. */
  freeFailures: number;
  firstLockMs: number;
  maxLockMs: number;
}

export const USER_POLICY: ThrottlePolicy = { freeFailures: 5, firstLockMs: 30_000, maxLockMs: 15 * 60_000 };
export const IP_POLICY: ThrottlePolicy = { freeFailures: 20, firstLockMs: 30_000, maxLockMs: 15 * 60_000 };
/** A count older than this starts again from zero. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

/** How long a key is locked after its `failures`-th failure (0 while under the threshold). */
export function lockDuration(failures: number, policy: ThrottlePolicy): number {
  const over = failures - policy.freeFailures;
  if (over < 0) return 0;
  return Math.min(policy.firstLockMs * 2 ** Math.min(over, 30), policy.maxLockMs);
}

export const userKey = (username: string): string => `user:${username.trim().toLowerCase()}`.slice(0, 191);
export const ipKey = (address: string): string => `ip:${address}`.slice(0, 191);

interface FailureRow {
  throttle_key: string;
  failures: number;
  locked_until: number | string;
  updated_at: number | string;
}

export class SigninThrottle {
  private readonly db: Database;
  private readonly now: () => number;

  constructor(deps: { db: Database; now?: () => number }) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
  }

  /** Milliseconds until any of the keys may try again (0 = may try now). */
  async retryAfter(keys: string[]): Promise<number> {
    const rows = (await this.db.knex('web_signin_failures').whereIn('throttle_key', keys)) as FailureRow[];
    const now = this.now();
    return rows.reduce((wait, r) => Math.max(wait, Number(r.locked_until) - now), 0);
  }

  /** Counts a failure against each key with its policy. */
  async recordFailure(entries: [key: string, policy: ThrottlePolicy][]): Promise<void> {
    for (const [key, policy] of entries) await this.bump(key, policy);
  }

  async clear(key: string): Promise<void> {
    await this.db.knex('web_signin_failures').where({ throttle_key: key }).delete();
  }

  private async bump(key: string, policy: ThrottlePolicy, attempt = 0): Promise<void> {
    const k = this.db.knex;
    const now = this.now();
    const row = (await k('web_signin_failures').where({ throttle_key: key }).first()) as FailureRow | undefined;
    if (!row) {
      try {
        await k('web_signin_failures').insert({ throttle_key: key, failures: 1, locked_until: now + lockDuration(1, policy), updated_at: now });
        return;
      } catch (err) {
        // Another primary counted the first failure at the same moment: count on top of it.
        if (attempt === 0 && isUniqueViolation(err)) return this.bump(key, policy, 1);
        throw err;
      }
    }
    const stale = now - Number(row.updated_at) > FORGET_AFTER_MS;
    if (stale) {
      await k('web_signin_failures').where({ throttle_key: key }).update({ failures: 1, locked_until: now + lockDuration(1, policy), updated_at: now });
      return;
    }
    // Increment in SQL so concurrent failures are all counted.
    await k('web_signin_failures').where({ throttle_key: key }).increment('failures', 1).update({ updated_at: now });
    const after = (await k('web_signin_failures').where({ throttle_key: key }).first('failures')) as { failures: number } | undefined;
    const lock = lockDuration(Number(after?.failures ?? 1), policy);
    if (lock > 0) await k('web_signin_failures').where({ throttle_key: key }).update({ locked_until: now + lock });
  }
}
