/**
 * Per-user allocation accounts (docs/accounts.md, "Per-user allocation accounts"): a shared
 * account with `allocation_model = 'per_user'` gives every user with access a balance of their
 * own on it, a pair: an `accounts` row of type `allocation` (parent_id the account,
 * member_user_id the user). The quota schedule the account owns (`allocation:<id>`) resets each
 * pair to the allocation once per period; the user's jobs charge the pair under the account's
 * limit type:
 *  - unlimited: never denied for want of points;
 *  - soft: allowed past zero with a warning in the answer; `overruns` lists who went past it;
 *  - hard: denied when the job would take the pair below zero (a restricted pair, limit 0).
 * A pair is created when the schedule pays it or when the user's first job charges the account.
 */
import { ValidationError } from '../../common/errors';
import type { Money } from '../../common/money';
import { recordAudit } from '../audit/audit-log';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { placeholders, runKnexTransaction, runReads, type SqlReader, type SqlTx } from '../db/sql-runner';
import type { NewQuotaSchedule, QuotaSchedule, QuotaService } from '../quotas/quota-service';
import type { AccountSettings, SharedAccount, SharedAccounts } from './shared-accounts';

export const ALLOCATION_LIMITS = ['unlimited', 'soft', 'hard'] as const;
export type AllocationLimit = (typeof ALLOCATION_LIMITS)[number];

export function parseLimit(text: string): AllocationLimit {
  const limit = text.trim().toLowerCase() as AllocationLimit;
  if (!ALLOCATION_LIMITS.includes(limit)) throw new ValidationError(`limit must be unlimited, soft or hard, got ${JSON.stringify(text)}`, { field: 'limit' });
  return limit;
}

/** The name of the quota schedule an allocation account owns. */
export function allocationScheduleName(accountId: number): string {
  return `allocation:${accountId}`;
}

/** The latest finished period of an allocation account's own schedule, while it is enabled. */
export interface LatestAllocationPeriod {
  scheduleId: number;
  name: string;
  /** The schedule's allocation: what a pair made now is paid. */
  amount: Money;
  runId: number;
  periodStart: number;
}

/**
 * The period a pair made now belongs to: the latest run of the account's own schedule that is
 * done (the schedule enabled), or undefined before the first run. payNewPairs (quotas/quota-service.ts) pays by it, and
 * Allocations.forUser shows what a user's first job would be given by it.
 */
export async function latestAllocationPeriod(q: SqlReader, accountId: number): Promise<LatestAllocationPeriod | undefined> {
  const last = await q.get<{ schedule_id: number; name: string; amount: number | string; run_id: number | string; period_start: number | string }>(
    `SELECT s.id AS schedule_id, s.name, s.amount, r.id AS run_id, r.period_start FROM quota_schedules s JOIN quota_runs r ON r.schedule_id = s.id
      WHERE s.account_id = ? AND s.name = ? AND s.enabled = 1 AND r.state = 'done' ORDER BY r.period_start DESC LIMIT 1`,
    [accountId, allocationScheduleName(accountId)],
  );
  if (!last) return undefined;
  return {
    scheduleId: Number(last.schedule_id),
    name: last.name,
    amount: Number(last.amount),
    runId: Number(last.run_id),
    periodStart: Number(last.period_start),
  };
}

/**
 * The pair account of each user on an allocation account, created for those without one (in the
 * caller's transaction); `created` lists the new pair ids. A pair made meanwhile by another
 * transaction (the unique (parent_id, member_user_id)) is read instead.
 */
export async function ensurePairs(
  tx: SqlTx,
  accountId: number,
  userIds: readonly number[],
  now: number,
): Promise<{ pairs: Map<number, number>; created: number[] }> {
  const pairs = await readPairs(tx, accountId, userIds);
  const missing = [...new Set(userIds)].filter((id) => !pairs.has(id));
  if (missing.length === 0) return { pairs, created: [] };
  const account = await tx.get<{ allocation_limit: string | null }>('SELECT allocation_limit FROM accounts WHERE id = ?', [accountId]);
  const restricted = account?.allocation_limit === 'hard';
  const row = (userId: number): unknown[] => ['allocation', `${accountId}/${userId}`, accountId, userId, restricted, 0, now, now];
  const insert = (ids: number[]): Promise<unknown> =>
    tx.run(
      `INSERT INTO accounts (type, name, parent_id, member_user_id, restricted, credit_limit, created_at, updated_at) VALUES ${ids.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      ids.flatMap(row),
    );
  try {
    await insert(missing);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    // Another transaction created some of them: add the others one by one.
    for (const userId of missing) {
      try {
        await insert([userId]);
      } catch (one) {
        if (!isUniqueViolation(one)) throw one;
      }
    }
  }
  const after = await readPairs(tx, accountId, missing);
  const created: number[] = [];
  for (const [userId, pairId] of after) {
    pairs.set(userId, pairId);
    created.push(pairId);
  }
  return { pairs, created };
}

async function readPairs(tx: SqlTx, accountId: number, userIds: readonly number[]): Promise<Map<number, number>> {
  const pairs = new Map<number, number>();
  for (let i = 0; i < userIds.length; i += 500) {
    const chunk = userIds.slice(i, i + 500);
    const rows = await tx.all<{ id: number; member_user_id: number }>(
      `SELECT id, member_user_id FROM accounts WHERE parent_id = ? AND member_user_id IN (${placeholders(chunk.length)})`,
      [accountId, ...chunk],
    );
    for (const r of rows) pairs.set(Number(r.member_user_id), Number(r.id));
  }
  return pairs;
}

/** One user's balance on an allocation account. */
export interface PairBalance {
  username: string;
  balance: Money;
  reserved: Money;
  /** How far the user is past the allocation, counting jobs held: max(0, reserved - balance). */
  overrun: Money;
}

/** The schedule an allocation account owns, as the CLI gives it: the period and the allocation. */
export type AllocationSchedule = Omit<NewQuotaSchedule, 'name' | 'group' | 'allUsers' | 'account' | 'mode' | 'cap'>;

export interface AllocationAccount extends SharedAccount {
  limit: AllocationLimit;
  schedule: QuotaSchedule;
}

/** A user's allocation on an allocation account, as their accounts page shows it. */
export interface UserAllocation {
  limit: AllocationLimit;
  /** What each period gives. */
  allocation: Money;
  /** The user's own balance on the account, or null until a run or their first job makes it. */
  pairId: number | null;
  balance: Money;
  reserved: Money;
  /**
   * What the user has left: the pair's balance less what jobs hold. Without a pair, what their
   * first job would be given (payNewPairs): the latest finished period's allocation, 0 before
   * the schedule has run (or while it is disabled).
   */
  left: Money;
}

export class Allocations {
  private readonly db: Database;
  private readonly accounts: SharedAccounts;
  private readonly quotas: QuotaService;
  private readonly now: () => number;

  constructor(deps: { db: Database; accounts: SharedAccounts; quotas: QuotaService; now?: () => number }) {
    this.db = deps.db;
    this.accounts = deps.accounts;
    this.quotas = deps.quotas;
    this.now = deps.now ?? Date.now;
  }

  /**
   * Creates an allocation account with its limit type and the schedule that resets each user's
   * balance on it to the allocation every period, in one transaction (audited `account.create`
   * with the allocation). No pair exists yet: the first run or the first job makes them.
   */
  async create(input: { name: string; limit: AllocationLimit; schedule: AllocationSchedule } & AccountSettings, actor: string): Promise<AllocationAccount> {
    const { limit, schedule, ...settings } = input;
    const account = await this.accounts.create(settings, actor, async (trx, accountId, name) => {
      await trx('accounts').where({ id: accountId }).update({ allocation_model: 'per_user', allocation_limit: limit });
      const owned = await this.quotas.create({ ...schedule, name: allocationScheduleName(accountId), account: name, mode: 'reset' }, trx);
      const details = { limit, allocation: owned.amount, period: owned.period, schedule: owned.name };
      await recordAudit(trx, { actor, action: 'account.allocation', targetType: 'account', targetId: name, details }, this.now());
    });
    return this.get(account.name);
  }

  /**
   * Changes an allocation account's allocation, period or limit; what equals the current value is
   * left alone, and a real change writes one `account.allocation` audit row with what changed.
   * The schedule pays the new allocation from its next period; a period already paid is not
   * paid again (QuotaService.change). Monthly without a day is the 1st, as at creation. A new
   * limit applies to every user's balance on the account at once: hard makes them restricted.
   */
  async change(rawName: string, changes: { limit?: AllocationLimit; schedule?: Partial<AllocationSchedule> }, actor: string): Promise<AllocationAccount> {
    const account = await this.get(rawName);
    const { amount, ...timing } = changes.schedule ?? {};
    if (changes.limit === undefined && amount === undefined && Object.keys(timing).length === 0) throw new ValidationError('nothing to change');
    const old = account.schedule;
    const period = timing.period ?? old.period;
    const pick = <T>(given: T | undefined, stored: T): T => (given === undefined ? stored : given);
    // Only the field the period uses is kept, as QuotaService stores it.
    const spec = {
      period,
      weekday: period === 'weekly' ? pick(timing.weekday, old.weekday) : null,
      dayOfMonth: period === 'monthly' ? (pick(timing.dayOfMonth, old.dayOfMonth) ?? 1) : null,
      atTime: timing.atTime ?? old.atTime,
      cron: period === 'cron' ? pick(timing.cron, old.cron) : null,
    };
    const respec = (['period', 'weekday', 'dayOfMonth', 'atTime', 'cron'] as const).some((k) => spec[k] !== old[k]);
    const limit = changes.limit !== undefined && changes.limit !== account.limit ? changes.limit : undefined;
    const allocation = amount !== undefined && amount !== old.amount ? amount : undefined;
    if (!respec && limit === undefined && allocation === undefined) return account;
    await runKnexTransaction(this.db, async (trx) => {
      const q = await this.quotas.change(old.name, { ...(respec && { spec }), ...(allocation !== undefined && { amount: allocation }) }, trx);
      const now = this.now();
      if (limit !== undefined) {
        await trx('accounts').where({ id: account.id }).update({ allocation_limit: limit, updated_at: now });
        await trx('accounts')
          .where({ parent_id: account.id, type: 'allocation' })
          .update({ restricted: limit === 'hard', updated_at: now });
      }
      const details = {
        ...(limit !== undefined && { limit }),
        ...(allocation !== undefined && { allocation: q.amount }),
        ...(respec && { period: q.period, weekday: q.weekday, dayOfMonth: q.dayOfMonth, atTime: q.atTime, cron: q.cron }),
      };
      await recordAudit(trx, { actor, action: 'account.allocation', targetType: 'account', targetId: account.name, details }, now);
    });
    return this.get(account.name);
  }

  /** An allocation account with its limit and schedule; a shared balance account is refused. */
  async get(rawName: string): Promise<AllocationAccount> {
    const account = await this.accounts.get(rawName);
    const row = (await this.db.knex('accounts').where({ id: account.id }).first('allocation_model', 'allocation_limit')) as {
      allocation_model: string;
      allocation_limit: string | null;
    };
    if (row.allocation_model !== 'per_user') throw new ValidationError(`account ${account.name} is not an allocation account`, { field: 'account' });
    return { ...account, limit: parseLimit(row.allocation_limit ?? 'unlimited'), schedule: await this.quotas.get(allocationScheduleName(account.id)) };
  }

  /** The allocation account with this id, or null for a shared balance account (or no account). */
  async find(accountId: number): Promise<AllocationAccount | null> {
    const row = (await this.db.knex('accounts').where({ id: accountId, type: 'shared' }).first('name', 'allocation_model')) as
      { name: string; allocation_model: string } | undefined;
    return row?.allocation_model === 'per_user' ? this.get(row.name) : null;
  }

  /** The user's allocation on the account with this id, or null when it is not an allocation account. */
  async forUser(accountId: number, userId: number): Promise<UserAllocation | null> {
    const account = await this.find(accountId);
    if (!account) return null;
    const { pair, latest } = await runReads(this.db, async (q) => ({
      pair: await q.get<{ id: number; balance: number | string; reserved: number | string }>(
        'SELECT id, balance, reserved FROM accounts WHERE parent_id = ? AND member_user_id = ?',
        [accountId, userId],
      ),
      latest: await latestAllocationPeriod(q, accountId),
    }));
    const figures = { limit: account.limit, allocation: account.schedule.amount };
    if (!pair) return { ...figures, pairId: null, balance: 0, reserved: 0, left: latest?.amount ?? 0 };
    const [balance, reserved] = [Number(pair.balance), Number(pair.reserved)];
    return { ...figures, pairId: Number(pair.id), balance, reserved, left: balance - reserved };
  }

  /** Every user's balance on the account, by username. */
  async balances(rawName: string): Promise<PairBalance[]> {
    const account = await this.get(rawName);
    const rows = (await this.db
      .knex('accounts as p')
      .join('users as u', 'u.id', 'p.member_user_id')
      .where('p.parent_id', account.id)
      .where('p.type', 'allocation')
      .orderBy('u.username')
      .select('u.username', 'p.balance', 'p.reserved')) as { username: string; balance: number | string; reserved: number | string }[];
    return rows.map((r) => {
      const [balance, reserved] = [Number(r.balance), Number(r.reserved)];
      return { username: r.username, balance, reserved, overrun: Math.max(0, reserved - balance) };
    });
  }

  /** The users past their allocation (soft limit, or unlimited), most overrun first. */
  async overruns(rawName: string): Promise<PairBalance[]> {
    return (await this.balances(rawName)).filter((b) => b.overrun > 0).sort((a, b) => b.overrun - a.overrun || (a.username < b.username ? -1 : 1));
  }
}
