/**
 * Throttling of wrong card numbers, in the cards service (not the web edge) so every way of
 * redeeming (the web tools, the coming API) is bound by it, and kept in the database (table
 * topup_card_failures) so it holds across restarts and for every primary sharing it.
 *
 * The rule, the same shape for both keys:
 * - Failures are counted per key in windows of 15 minutes (a window starts at the first failure
 *   after the last one ended).
 * - The `freeFailures`-th failure in a window (5 for a user, 20 for an address) locks the key:
 *   15 minutes the first time, doubling with each further lock-out (30 min, 1 h, ...) up to 24
 *   hours; the lock-out ends that window and the next one starts empty.
 * - While a key is locked every redemption it covers is refused without looking at the number,
 *   right or wrong, and nothing more is counted.
 * - A key with no failure for 24 hours starts again from scratch (no lock-outs remembered).
 * - A successful redemption clears nothing, so one good card does not buy a guesser more tries.
 *
 * A failure is an unknown or mistyped number; a real card refused because it is used, expired
 * or disabled is not a guess and is not counted. The address rule allows more because many
 * people may share one address (a NAT, a lab's proxy): at worst a lab waits out a lock-out.
 *
 * The check, the attempt and the count are one transaction holding each key's row lock
 * (attempt()), so parallel guesses are decided one after another: 20 at once from one user get
 * 5 answers and 15 refusals, never more answers than the rule allows.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { runKnexTransaction } from '../db/sql-runner';

export interface CardThrottlePolicy {
  freeFailures: number;
  windowMs: number;
  firstLockMs: number;
  maxLockMs: number;
}

const MINUTE = 60_000;
const WINDOW = 15 * MINUTE;
export const USER_CARD_POLICY: CardThrottlePolicy = { freeFailures: 5, windowMs: WINDOW, firstLockMs: 15 * MINUTE, maxLockMs: 24 * 60 * MINUTE };
export const ADDRESS_CARD_POLICY: CardThrottlePolicy = { freeFailures: 20, windowMs: WINDOW, firstLockMs: 15 * MINUTE, maxLockMs: 24 * 60 * MINUTE };
/** A key without a failure for this long starts again from scratch. */
const FORGET_AFTER_MS = 24 * 60 * MINUTE;

/** How long the `lockouts`-th lock-out (from 1) lasts. */
export function cardLockDuration(lockouts: number, policy: CardThrottlePolicy): number {
  return Math.min(policy.firstLockMs * 2 ** Math.min(Math.max(lockouts - 1, 0), 30), policy.maxLockMs);
}

export const userThrottleKey = (userId: number): string => `user:${userId}`;
export const addressThrottleKey = (address: string): string => `ip:${address}`.slice(0, 191);

interface FailureRow {
  throttle_key: string;
  failures: number;
  window_start: number | string;
  lockouts: number;
  locked_until: number | string;
  updated_at: number | string;
}

export class CardThrottle {
  private readonly db: Database;
  private readonly now: () => number;

  constructor(deps: { db: Database; now?: () => number }) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
  }

  /** Milliseconds until the first of `keys` is unlocked (0: none is locked). */
  async lockedFor(keys: readonly string[]): Promise<number> {
    return this.waitIn((await this.db.knex('topup_card_failures').whereIn('throttle_key', [...keys])) as FailureRow[]);
  }

  /**
   * Runs one attempt under the rule, atomically per key: one transaction locks each key's row,
   * refuses while a key is locked (answering how long), runs `attempt` and, when `failed(result)`,
   * counts the failure against each key. Concurrent attempts on a key are so decided one after
   * another, and a burst of wrong guesses cannot overshoot the allowed failures by those in flight.
   */
  async attempt<T>(
    entries: readonly (readonly [key: string, policy: CardThrottlePolicy])[],
    attempt: (trx: Knex.Transaction) => Promise<T>,
    failed: (result: T) => boolean,
  ): Promise<{ result: T } | { lockedForMs: number }> {
    const keys = entries.map(([key]) => key);
    const now = this.now();
    // The rows exist before the transaction, each INSERT committed on its own: in MySQL an INSERT
    // IGNORE that finds the row takes a shared lock, and concurrent attempts all holding one and
    // then asking for the write lock would deadlock.
    await this.db
      .knex('topup_card_failures')
      .insert(keys.map((key) => ({ throttle_key: key, failures: 0, window_start: now, lockouts: 0, locked_until: 0, updated_at: now })))
      .onConflict('throttle_key')
      .ignore();
    return runKnexTransaction(this.db, async (trx) => {
      // The no-op UPDATE takes MySQL's row lock and SQLite's write lock, held until the attempt is counted.
      for (const key of keys)
        await trx('topup_card_failures')
          .where({ throttle_key: key })
          .update({ updated_at: trx.ref('updated_at') });
      const wait = this.waitIn((await trx('topup_card_failures').whereIn('throttle_key', keys)) as FailureRow[]);
      if (wait > 0) return { lockedForMs: wait };
      const result = await attempt(trx);
      if (failed(result)) for (const [key, policy] of entries) await this.bump(trx, key, policy);
      return { result };
    });
  }

  private waitIn(rows: readonly FailureRow[]): number {
    const now = this.now();
    return rows.reduce((wait, r) => Math.max(wait, Number(r.locked_until) - now), 0);
  }

  /** One failure, counted on the row `attempt` has locked. */
  private async bump(trx: Knex.Transaction, key: string, policy: CardThrottlePolicy): Promise<void> {
    const now = this.now();
    const row = (await trx('topup_card_failures').where({ throttle_key: key }).first()) as FailureRow;
    const forgotten = now - Number(row.updated_at) >= FORGET_AFTER_MS;
    let lockouts = forgotten ? 0 : Number(row.lockouts);
    // No failure yet (a new row, or the last window ended in a lock-out): this one starts a window.
    const windowOver = forgotten || Number(row.failures) === 0 || now - Number(row.window_start) >= policy.windowMs;
    let failures = (windowOver ? 0 : Number(row.failures)) + 1;
    let windowStart = windowOver ? now : Number(row.window_start);
    let lockedUntil = Number(row.locked_until);
    if (failures >= policy.freeFailures) {
      lockouts += 1;
      lockedUntil = now + cardLockDuration(lockouts, policy);
      failures = 0;
      windowStart = lockedUntil;
    }
    await trx('topup_card_failures')
      .where({ throttle_key: key })
      .update({ failures, window_start: windowStart, lockouts, locked_until: lockedUntil, updated_at: now });
  }
}
