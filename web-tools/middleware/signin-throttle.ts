/**
 * Sign-in throttling, kept in the database so it survives restarts and binds every primary that
 * shares it (table web_signin_failures). Two rules, so that one address can never lock anyone out:
 *
 * - **Per account** (key `user:<name>`): past 5 failures each further failure locks the name for
 *   a doubling time (30 s, 60 s, ... capped at 15 minutes); while locked even the right password
 *   is refused. A count older than a day (since its last failure) starts again; a successful
 *   sign-in clears it.
 * - **Per client address** (key `ip:<address>`): never a lock, because behind a reverse proxy or
 *   a NAT many people share one address. Failures are counted in fixed windows of 15 minutes
 *   (`updated_at` is the window's start for these rows); past 20 in a window, every attempt from
 *   the address, right or wrong, waits a growing delay (250 ms, doubling with each further
 *   failure, up to 10 s) before its password is checked. A guesser that waits for its answers is
 *   slowed to one guess per 10 s; the right password of an account that is not itself locked
 *   still signs in, only later. The delay comes before the check, so how fast an answer comes
 *   says nothing about the password. A successful sign-in does not clear the address's count.
 */
import type { Database } from '../../primary/db/connection';
import { isUniqueViolation } from '../../primary/db/errors';

export interface ThrottlePolicy {
  /** Failures allowed before the first lock-out. */
  freeFailures: number;
  firstLockMs: number;
  maxLockMs: number;
}

export interface AddressPolicy {
  /** Failures in a window before attempts are delayed. */
  freeFailures: number;
  windowMs: number;
  firstDelayMs: number;
  maxDelayMs: number;
}

export const USER_POLICY: ThrottlePolicy = { freeFailures: 5, firstLockMs: 30_000, maxLockMs: 15 * 60_000 };
export const ADDRESS_POLICY: AddressPolicy = { freeFailures: 20, windowMs: 15 * 60_000, firstDelayMs: 250, maxDelayMs: 10_000 };
/** A count older than this starts again from zero. */
const FORGET_AFTER_MS = 24 * 60 * 60_000;

/** How long a key is locked after its `failures`-th failure (0 while under the threshold). */
export function lockDuration(failures: number, policy: ThrottlePolicy): number {
  const over = failures - policy.freeFailures;
  if (over < 0) return 0;
  return Math.min(policy.firstLockMs * 2 ** Math.min(over, 30), policy.maxLockMs);
}

/** How long an attempt waits when its address has `failures` failures in the current window. */
export function addressDelay(failures: number, policy: AddressPolicy = ADDRESS_POLICY): number {
  const over = failures - policy.freeFailures;
  if (over < 0) return 0;
  return Math.min(policy.firstDelayMs * 2 ** Math.min(over, 30), policy.maxDelayMs);
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
  private readonly addressPolicy: AddressPolicy;

  constructor(deps: { db: Database; now?: () => number; addressPolicy?: AddressPolicy }) {
    this.db = deps.db;
    this.now = deps.now ?? Date.now;
    this.addressPolicy = deps.addressPolicy ?? ADDRESS_POLICY;
  }

  /** Milliseconds until any of the (account) keys may try again (0 = may try now). */
  async retryAfter(keys: string[]): Promise<number> {
    const rows = (await this.db.knex('web_signin_failures').whereIn('throttle_key', keys)) as FailureRow[];
    const now = this.now();
    return rows.reduce((wait, r) => Math.max(wait, Number(r.locked_until) - now), 0);
  }

  /** Milliseconds an attempt from this address waits before its password is checked (0 = none). */
  async delayFor(addressKey: string): Promise<number> {
    const row = (await this.db.knex('web_signin_failures').where({ throttle_key: addressKey }).first()) as FailureRow | undefined;
    if (!row || this.now() - Number(row.updated_at) >= this.addressPolicy.windowMs) return 0;
    return addressDelay(Number(row.failures), this.addressPolicy);
  }

  /** Counts a failure against each account key with its policy. */
  async recordFailure(entries: [key: string, policy: ThrottlePolicy][]): Promise<void> {
    for (const [key, policy] of entries) await this.bump(key, policy);
  }

  /** Counts a failure against an address, in its current window (a new window when the last has ended). */
  async recordAddressFailure(addressKey: string, attempt = 0): Promise<void> {
    const k = this.db.knex;
    const now = this.now();
    const ended = now - this.addressPolicy.windowMs;
    // One statement, so concurrent failures are all counted. `failures` is assigned first: MySQL
    // evaluates assignments left to right, so both CASEs see the row's old updated_at.
    const updated = await k('web_signin_failures')
      .where({ throttle_key: addressKey })
      .update({
        failures: k.raw('CASE WHEN updated_at <= ? THEN 1 ELSE failures + 1 END', [ended]),
        updated_at: k.raw('CASE WHEN updated_at <= ? THEN ? ELSE updated_at END', [ended, now]),
      });
    if (updated > 0) return;
    try {
      await k('web_signin_failures').insert({ throttle_key: addressKey, failures: 1, locked_until: 0, updated_at: now });
    } catch (err) {
      // Another primary counted the first failure at the same moment: count on top of it.
      if (attempt === 0 && isUniqueViolation(err)) return this.recordAddressFailure(addressKey, 1);
      throw err;
    }
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
      await k('web_signin_failures')
        .where({ throttle_key: key })
        .update({ failures: 1, locked_until: now + lockDuration(1, policy), updated_at: now });
      return;
    }
    // Increment in SQL so concurrent failures are all counted.
    await k('web_signin_failures').where({ throttle_key: key }).increment('failures', 1).update({ updated_at: now });
    const after = (await k('web_signin_failures').where({ throttle_key: key }).first('failures')) as { failures: number } | undefined;
    const lock = lockDuration(Number(after?.failures ?? 1), policy);
    if (lock > 0)
      await k('web_signin_failures')
        .where({ throttle_key: key })
        .update({ locked_until: now + lock });
  }
}
