/**
 * Quota schedules (scheduled allocation of credit) and their runs, exactly once per (schedule, period):
 *  - a `quota_runs` row, unique per (schedule_id, period_start), is the only way a period runs;
 *  - the row's lease (owner, expires at) is taken by one conditional UPDATE, so of two primaries
 *    sharing the database only one works on a run; every chunk renews it in the chunk's own
 *    transaction and commits only while it still holds it (a fencing check);
 *  - the row's cursor (last user id done) is written in the same transaction as the chunk's
 *    ledger rows, so a crashed run resumes after the last committed chunk; each allocation's
 *    ledger idempotency key `quota:<schedule>:<period ISO>:<account>` makes a repeat a no-op.
 * A schedule pays users' personal accounts (all users, or a group's members), or one shared
 * account: a shared balance itself, or each pair of a per-user allocation account (every user
 * with access, their pair created on the way; accounts/allocations.ts). For a shared balance the
 * run's cursor holds the account id instead of a user id.
 * All times come from `now()`, so tests drive the clock.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { z } from 'zod';
import type { Database } from '../db/connection';
import { isUniqueViolation } from '../db/errors';
import { placeholders, runTransaction, type SqlTx } from '../db/sql-runner';
import { addToEach, postToEach, type BulkMeta, type BulkPosting } from '../ledger/bulk-postings';
import { lockAccounts } from '../ledger/postings';
import { AlreadyExistsError, InvalidStateError, NotFoundError, ValidationError } from '../../common/errors';
import { MAX_AMOUNT, type Money } from '../../common/money';
import { nameKey } from '../accounts/account-names';
import { ensurePairs, latestAllocationPeriod } from '../accounts/allocations';
import { checkSpec, cronOf, nextStarts, occurrences, periodStartAt, type Period, type PeriodSpec } from './periods';

export type QuotaMode = 'add' | 'reset';
export type RunState = 'pending' | 'running' | 'done' | 'skipped';
export type RunReason = 'schedule' | 'catch-up' | 'manual';

/** Whom a schedule pays: users' personal accounts, a shared balance, or each user's pair on an allocation account. */
export type QuotaTarget = 'users' | 'account' | 'allocation';

export interface QuotaSchedule extends PeriodSpec {
  id: number;
  name: string;
  /** null: all users (or an account) */
  group: string | null;
  groupId: number | null;
  /** The shared account paid, or null: users' personal accounts. */
  account: string | null;
  accountId: number | null;
  target: QuotaTarget;
  mode: QuotaMode;
  amount: Money;
  /** add mode: never credit past this balance; null: no cap */
  cap: Money | null;
  enabled: boolean;
  createdAt: number;
}

export interface NewQuotaSchedule {
  name: string;
  group?: string | null;
  allUsers?: boolean;
  /** A shared account's name: the schedule pays it (or, an allocation account, each user's pair on it). */
  account?: string | null;
  period: Period;
  weekday?: number | null;
  dayOfMonth?: number | null;
  atTime?: string;
  cron?: string | null;
  mode: QuotaMode;
  amount: Money;
  cap?: Money | null;
  enabled?: boolean;
}

export interface QuotaRun {
  id: number;
  scheduleId: number;
  schedule: string;
  periodStart: number;
  state: RunState;
  reason: RunReason;
  users: number;
  total: Money;
  chunks: number;
  leaseOwner: string | null;
  startedAt: number | null;
  finishedAt: number | null;
}

interface ScheduleRow {
  id: number;
  name: string;
  group_id: number | null;
  group_name?: string | null;
  account_id: number | null;
  account_name?: string | null;
  account_model?: string | null;
  period: Period;
  weekday: number | null;
  day_of_month: number | null;
  at_time: string;
  cron: string | null;
  mode: QuotaMode;
  amount: number | string;
  cap: number | string | null;
  enabled: number | boolean;
  created_at: number | string;
}

interface RunRow {
  id: number | string;
  schedule_id: number;
  schedule_name?: string;
  period_start: number | string;
  state: RunState;
  reason: RunReason;
  users: number;
  total: number | string;
  chunks: number;
  lease_owner: string | null;
  started_at: number | string | null;
  finished_at: number | string | null;
  cursor_user_id?: number;
}

function toSchedule(r: ScheduleRow): QuotaSchedule {
  return {
    id: r.id,
    name: r.name,
    group: r.group_name ?? null,
    groupId: r.group_id,
    account: r.account_name ?? null,
    accountId: r.account_id,
    target: r.account_id === null ? 'users' : r.account_model === 'per_user' ? 'allocation' : 'account',
    period: r.period,
    weekday: r.weekday,
    dayOfMonth: r.day_of_month,
    atTime: r.at_time,
    cron: r.cron,
    mode: r.mode,
    amount: Number(r.amount),
    cap: r.cap === null ? null : Number(r.cap),
    enabled: Boolean(r.enabled),
    createdAt: Number(r.created_at),
  };
}

function toRun(r: RunRow): QuotaRun {
  const n = (v: number | string | null): number | null => (v === null ? null : Number(v));
  return {
    id: Number(r.id),
    scheduleId: r.schedule_id,
    schedule: r.schedule_name ?? '',
    periodStart: Number(r.period_start),
    state: r.state,
    reason: r.reason,
    users: Number(r.users),
    total: Number(r.total),
    chunks: Number(r.chunks),
    leaseOwner: r.lease_owner,
    startedAt: n(r.started_at),
    finishedAt: n(r.finished_at),
  };
}

/** The ledger idempotency key of one allocation. */
export function allocationKey(scheduleId: number, periodStart: number, accountId: number): string {
  return `${allocationKeyPrefix(scheduleId, periodStart)}${accountId}`;
}

/** The part of an allocation key shared by every account of one (schedule, period). */
export function allocationKeyPrefix(scheduleId: number, periodStart: number): string {
  return `quota:${scheduleId}:${new Date(periodStart).toISOString()}:`;
}

/**
 * Pays pairs made outside a run (a user's first job on an allocation account) the allocation of
 * the account's latest finished period, under that run's keys: the period still pays each pair
 * once, whether the run or the first job made it. New pairs have a balance of 0, so the amount
 * is the allocation in both modes.
 */
export async function payNewPairs(tx: SqlTx, accountId: number, pairIds: number[], now: number): Promise<void> {
  if (pairIds.length === 0) return;
  const last = await latestAllocationPeriod(tx, accountId);
  if (!last || last.amount === 0) return;
  const amount = last.amount;
  await lockAccounts(tx, pairIds);
  await postToEach(
    tx,
    pairIds.map((id) => ({ accountId: id, amount, after: amount })),
    {
      type: 'quota',
      actor: 'system:quota',
      keyPrefix: allocationKeyPrefix(last.scheduleId, last.periodStart),
      reference: `quota-run:${last.runId}`,
      comment: `quota ${last.name} for ${new Date(last.periodStart).toISOString()}`,
      now,
    },
  );
}

const newScheduleSchema = z.object({
  name: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(128)
    .regex(/^[^\p{Cc}\p{Cf}]+$/u, 'contains control characters'),
  mode: z.enum(['add', 'reset'], { message: 'must be add or reset' }),
  amount: z.number().int('must be whole minor units').min(0, 'must not be negative').max(MAX_AMOUNT),
  cap: z.number().int().min(0, 'must not be negative').max(MAX_AMOUNT).nullable(),
});

/** Thrown inside a chunk when this owner no longer holds the run's lease; the chunk rolls back. */
class LeaseLostError extends Error {}

export interface QuotaServiceOptions {
  db: Database;
  now?: () => number;
  /** IANA zone the periods are computed in (config `timezone`). */
  timezone?: string;
  /** How far back missed periods are caught up (config `quotaCatchUpDays`). */
  catchUpDays?: number;
  /** Users allocated per transaction. */
  chunkSize?: number;
  /** How long a lease lasts without renewal. */
  leaseMs?: number;
  /** This process's lease owner id. */
  owner?: string;
  /** Test hook: awaited after each committed chunk (a throw simulates a crash, a pending promise a stall). */
  afterChunk?: (run: { id: number; chunk: number }) => void | Promise<void>;
}

export class QuotaService {
  readonly timezone: string;
  readonly owner: string;
  private readonly db: Database;
  private readonly now: () => number;
  private readonly catchUpMs: number;
  private readonly chunkSize: number;
  private readonly leaseMs: number;
  private readonly afterChunk: ((run: { id: number; chunk: number }) => void | Promise<void>) | undefined;
  /** Runs this instance is working on: the lease lets its owner back in, so two calls here must not both take it. */
  private readonly active = new Set<number>();

  constructor(opts: QuotaServiceOptions) {
    this.db = opts.db;
    this.now = opts.now ?? Date.now;
    this.timezone = opts.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
    this.catchUpMs = (opts.catchUpDays ?? 7) * 86_400_000;
    this.chunkSize = opts.chunkSize ?? 2500;
    this.leaseMs = opts.leaseMs ?? 60_000;
    this.owner = opts.owner ?? `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.afterChunk = opts.afterChunk;
  }

  // ---- schedules ----------------------------------------------------------------------------

  // The schedule methods take an optional transaction, so a caller can write its audit row with the change.

  async create(input: NewQuotaSchedule, trx?: Knex.Transaction): Promise<QuotaSchedule> {
    const parsed = newScheduleSchema.safeParse({ name: input.name, mode: input.mode, amount: input.amount, cap: input.cap ?? null });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? 'schedule');
      throw new ValidationError(`${field} ${issue?.message ?? 'is invalid'}`, { field });
    }
    const { name, mode, amount, cap } = parsed.data;
    if (cap !== null && mode !== 'add') throw new ValidationError('a cap applies to add mode only', { field: 'cap' });
    const hasGroup = input.group !== undefined && input.group !== null && input.group !== '';
    const hasAccount = input.account !== undefined && input.account !== null && input.account.trim() !== '';
    if ([hasGroup, Boolean(input.allUsers), hasAccount].filter(Boolean).length !== 1)
      throw new ValidationError('give either a group or all users, or an account', { field: 'group' });
    const spec: PeriodSpec = {
      period: input.period,
      weekday: input.period === 'weekly' ? (input.weekday ?? null) : null,
      dayOfMonth: input.period === 'monthly' ? (input.dayOfMonth ?? null) : null,
      atTime: input.atTime ?? '00:00',
      cron: input.period === 'cron' ? (input.cron?.trim() ?? null) : null,
    };
    checkSpec(spec);
    let groupId: number | null = null;
    if (hasGroup) {
      const g = (await (trx ?? this.db.knex)('groups')
        .where({ name: String(input.group).trim() })
        .first('id')) as { id: number } | undefined;
      if (!g) throw new NotFoundError('group', String(input.group).trim());
      groupId = g.id;
    }
    let accountId: number | null = null;
    if (hasAccount) {
      const name = String(input.account).trim();
      const a = (await (trx ?? this.db.knex)('accounts')
        .where({ type: 'shared', name_key: nameKey(name) })
        .first('id')) as { id: number } | undefined;
      if (!a) throw new NotFoundError('account', name);
      accountId = a.id;
    }
    const now = this.now();
    try {
      await (trx ?? this.db.knex)('quota_schedules').insert({
        name,
        group_id: groupId,
        account_id: accountId,
        period: spec.period,
        weekday: spec.weekday,
        day_of_month: spec.dayOfMonth,
        at_time: spec.atTime,
        cron: spec.cron,
        mode,
        amount,
        cap,
        enabled: input.enabled ?? true,
        created_at: now,
        updated_at: now,
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('quota schedule', name);
      throw err;
    }
    return this.get(name, trx);
  }

  async list(): Promise<QuotaSchedule[]> {
    return ((await this.scheduleQuery().orderBy('quota_schedules.name')) as ScheduleRow[]).map(toSchedule);
  }

  async get(name: string, trx?: Knex.Transaction): Promise<QuotaSchedule> {
    const row = (await this.scheduleQuery(trx).where('quota_schedules.name', name.trim()).first()) as ScheduleRow | undefined;
    if (!row) throw new NotFoundError('quota schedule', name.trim());
    return toSchedule(row);
  }

  /** Removes a schedule and its run history (ledger rows stay: they are the record of what was paid). */
  async remove(name: string, trx?: Knex.Transaction): Promise<void> {
    const removed = await (trx ?? this.db.knex)('quota_schedules').where({ name: name.trim() }).delete();
    if (removed === 0) throw new NotFoundError('quota schedule', name.trim());
  }

  async setEnabled(name: string, enabled: boolean, trx?: Knex.Transaction): Promise<QuotaSchedule> {
    const changed = await (trx ?? this.db.knex)('quota_schedules').where({ name: name.trim() }).update({ enabled, updated_at: this.now() });
    if (changed === 0) throw new NotFoundError('quota schedule', name.trim());
    return this.get(name, trx);
  }

  /**
   * Changes a schedule's timing or amount. A period already run is not run again (its run row
   * stays); the next period pays the new amount. A new timing starts with its first period after
   * the change: the period of the new timing that holds now, when it began after the schedule's
   * last run, is recorded as skipped, so the change pays no extra period at once.
   */
  async change(name: string, changes: { spec?: PeriodSpec; amount?: Money }, trx: Knex.Transaction): Promise<QuotaSchedule> {
    const before = await this.get(name, trx);
    if (changes.amount !== undefined && (!Number.isSafeInteger(changes.amount) || changes.amount < 0 || changes.amount > MAX_AMOUNT))
      throw new ValidationError('amount must be whole minor units of at least 0', { field: 'amount' });
    const spec: PeriodSpec | undefined = changes.spec && {
      period: changes.spec.period,
      weekday: changes.spec.period === 'weekly' ? changes.spec.weekday : null,
      dayOfMonth: changes.spec.period === 'monthly' ? changes.spec.dayOfMonth : null,
      atTime: changes.spec.atTime,
      cron: changes.spec.period === 'cron' ? (changes.spec.cron?.trim() ?? null) : null,
    };
    if (spec) checkSpec(spec);
    const respec = spec && (['period', 'weekday', 'dayOfMonth', 'atTime', 'cron'] as const).some((k) => spec[k] !== before[k]) ? spec : undefined;
    const now = this.now();
    await trx('quota_schedules')
      .where({ id: before.id })
      .update({
        ...(respec && { period: respec.period, weekday: respec.weekday, day_of_month: respec.dayOfMonth, at_time: respec.atTime, cron: respec.cron }),
        ...(changes.amount !== undefined && { amount: changes.amount }),
        updated_at: now,
      });
    const current = respec && periodStartAt(respec, this.timezone, now);
    if (current !== undefined && current >= before.createdAt) {
      const last = (await trx('quota_runs').where({ schedule_id: before.id }).max({ p: 'period_start' }).first()) as { p: number | string | null } | undefined;
      if (last?.p === null || last?.p === undefined || current > Number(last.p))
        await trx('quota_runs').insert({
          schedule_id: before.id,
          period_start: current,
          state: 'skipped',
          reason: 'schedule',
          created_at: now,
          finished_at: now,
        });
    }
    return this.get(before.name, trx);
  }

  /** The next period starts of a schedule, in this primary's time zone. */
  nextRuns(schedule: QuotaSchedule, count = 3): number[] {
    return nextStarts(schedule, this.timezone, this.now(), count);
  }

  async runs(query: { schedule?: string; limit?: number } = {}): Promise<QuotaRun[]> {
    const q = this.db
      .knex('quota_runs')
      .join('quota_schedules', 'quota_schedules.id', 'quota_runs.schedule_id')
      .select('quota_runs.*', 'quota_schedules.name as schedule_name')
      .orderBy([
        { column: 'quota_runs.period_start', order: 'desc' },
        { column: 'quota_runs.id', order: 'desc' },
      ])
      .limit(query.limit ?? 50);
    if (query.schedule) q.where('quota_schedules.name', query.schedule.trim());
    return ((await q) as RunRow[]).map(toRun);
  }

  /** One run of a schedule by its id, or undefined. */
  async run(scheduleName: string, runId: number): Promise<QuotaRun | undefined> {
    const row = (await this.db
      .knex('quota_runs')
      .join('quota_schedules', 'quota_schedules.id', 'quota_runs.schedule_id')
      .where({ 'quota_runs.id': runId, 'quota_schedules.name': scheduleName.trim() })
      .first('quota_runs.*', 'quota_schedules.name as schedule_name')) as RunRow | undefined;
    return row ? toRun(row) : undefined;
  }

  // ---- runs ---------------------------------------------------------------------------------

  /**
   * Runs everything due at now(): unfinished runs first (a crashed primary's, once its lease
   * expired), then each enabled schedule's periods that started since its last run, within the
   * catch-up window, oldest first. Ended periods older than the window are recorded as skipped;
   * the period containing now is never skipped.
   * Safe to call at any time and from several primaries at once.
   */
  async runDue(): Promise<QuotaRun[]> {
    const done: QuotaRun[] = [];
    const unfinished = (await this.db.knex('quota_runs').whereIn('state', ['pending', 'running']).orderBy(['period_start', 'id']).select('id')) as {
      id: number;
    }[];
    for (const { id } of unfinished) {
      const run = await this.execute(Number(id));
      if (run) done.push(run);
    }
    const now = this.now();
    const cutoff = now - this.catchUpMs;
    const due: { schedule: QuotaSchedule; start: number; reason: RunReason }[] = [];
    for (const schedule of await this.list()) {
      if (!schedule.enabled) continue;
      const last = (await this.db.knex('quota_runs').where({ schedule_id: schedule.id }).max({ p: 'period_start' }).first()) as
        { p: number | string | null } | undefined;
      const lower = Math.max(schedule.createdAt - 1, last?.p === null || last?.p === undefined ? -Infinity : Number(last.p));
      // The period containing now is always paid, however long ago it started: the catch-up
      // window limits only the periods that have already ended (catch-up 0 = none of them).
      const current = periodStartAt(schedule, this.timezone, now);
      if (lower < cutoff) {
        const skipped = occurrences(schedule, this.timezone, lower, cutoff, 100).filter((start) => start !== current);
        for (const start of skipped) await this.insertRun(schedule.id, start, 'catch-up', 'skipped');
      }
      const latest = occurrences(schedule, this.timezone, Math.max(lower, cutoff), now);
      if (current !== undefined && current > lower && !latest.includes(current)) latest.push(current);
      latest.forEach((start, i) => due.push({ schedule, start, reason: i === latest.length - 1 ? 'schedule' : 'catch-up' }));
    }
    due.sort((a, b) => a.start - b.start || a.schedule.id - b.schedule.id);
    for (const d of due) {
      const run = await this.runPeriod(d.schedule.id, d.start, d.reason);
      if (run) done.push(run);
    }
    return done;
  }

  /** Runs a schedule for the period containing now() (still once per period). */
  async runNow(name: string): Promise<QuotaRun> {
    const schedule = await this.get(name);
    const start = periodStartAt(schedule, this.timezone, this.now());
    if (start === undefined) throw new InvalidStateError(`quota schedule ${schedule.name} has no period at or before now`);
    const run = await this.runPeriod(schedule.id, start, 'manual');
    return run ?? (await this.runOf(schedule.id, start));
  }

  /** Creates the run row for (schedule, period) if there is none, then works on it if the lease is free. */
  async runPeriod(scheduleId: number, periodStart: number, reason: RunReason): Promise<QuotaRun | undefined> {
    await this.insertRun(scheduleId, periodStart, reason, 'pending');
    const run = await this.runOf(scheduleId, periodStart);
    return this.execute(run.id);
  }

  private async runOf(scheduleId: number, periodStart: number): Promise<QuotaRun> {
    const row = (await this.db
      .knex('quota_runs')
      .join('quota_schedules', 'quota_schedules.id', 'quota_runs.schedule_id')
      .where({ 'quota_runs.schedule_id': scheduleId, 'quota_runs.period_start': periodStart })
      .first('quota_runs.*', 'quota_schedules.name as schedule_name')) as RunRow | undefined;
    if (!row) throw new NotFoundError('quota run', `${scheduleId}@${new Date(periodStart).toISOString()}`);
    return toRun(row);
  }

  private async insertRun(scheduleId: number, periodStart: number, reason: RunReason, state: RunState): Promise<void> {
    const now = this.now();
    const row = { schedule_id: scheduleId, period_start: periodStart, state, reason, created_at: now, finished_at: state === 'skipped' ? now : null };
    await this.db.knex('quota_runs').insert(row).onConflict(['schedule_id', 'period_start']).ignore();
  }

  /**
   * Takes the run's lease (one conditional UPDATE: free, expired, or already ours) and works
   * through its users in chunks. Returns the finished run, or undefined when another owner
   * holds it, this instance is already working on it (a concurrent call), or it is finished.
   */
  private async execute(runId: number): Promise<QuotaRun | undefined> {
    if (this.active.has(runId)) return undefined;
    this.active.add(runId);
    try {
      return await this.work(runId);
    } finally {
      this.active.delete(runId);
    }
  }

  /** execute() without the in-process guard. */
  private async work(runId: number): Promise<QuotaRun | undefined> {
    const now = this.now();
    const claimed = await runTransaction(this.db, (tx) =>
      tx.run(
        `UPDATE quota_runs SET state = 'running', lease_owner = ?, lease_expires_at = ?, started_at = COALESCE(started_at, ?)
         WHERE id = ? AND state IN ('pending', 'running') AND (lease_owner IS NULL OR lease_owner = ? OR lease_expires_at < ?)`,
        [this.owner, now + this.leaseMs, now, runId, this.owner, now],
      ),
    );
    if (claimed.changes !== 1) return undefined;
    const row = (await this.db.knex('quota_runs').where({ id: runId }).first()) as RunRow;
    const schedule = toSchedule((await this.scheduleQuery().where('quota_schedules.id', row.schedule_id).first()) as ScheduleRow);
    // Reset schedules on one timetable add up for whom they pay together: users, or one account.
    const peers =
      schedule.mode === 'reset'
        ? (await this.list()).filter((s) => s.enabled && s.mode === 'reset' && cronOf(s) === cronOf(schedule) && s.accountId === schedule.accountId)
        : [schedule];
    // The cursor is read once, here: while this owner's renewals succeed nobody else has moved it.
    let cursor = Number(row.cursor_user_id ?? 0);
    for (let chunk = 1; ; chunk++) {
      let finished: boolean;
      try {
        const from = cursor;
        ({ finished, cursor } = await runTransaction(this.db, (tx) => this.chunk(tx, runId, schedule, Number(row.period_start), peers, from)));
      } catch (err) {
        if (err instanceof LeaseLostError) return undefined;
        throw err;
      }
      await this.afterChunk?.({ id: runId, chunk });
      if (finished) break;
      // Let queued I/O (charges arriving over gRPC and HTTP) run between chunks: on SQLite every
      // statement is synchronous, so without this a whole run would hold the event loop.
      await new Promise((resolve) => setImmediate(resolve));
    }
    return toRun(
      (await this.db
        .knex('quota_runs')
        .join('quota_schedules', 'quota_schedules.id', 'quota_runs.schedule_id')
        .where('quota_runs.id', runId)
        .first('quota_runs.*', 'quota_schedules.name as schedule_name')) as RunRow,
    );
  }

  /**
   * One chunk, in one transaction: renew the lease (or give up), allocate to the next users in
   * id order after `cursor` (the last user id done), move the cursor; on the last chunk mark the
   * run done. The ledger rows and the balances are written by the ledger's bulk postings
   * (ledger/bulk-postings.ts): one chunk is a handful of statements rather than two per user.
   */
  private async chunk(
    tx: SqlTx,
    runId: number,
    schedule: QuotaSchedule,
    periodStart: number,
    peers: QuotaSchedule[],
    cursor: number,
  ): Promise<{ finished: boolean; cursor: number }> {
    const now = this.now();
    const renewed = await tx.run("UPDATE quota_runs SET lease_expires_at = ? WHERE id = ? AND lease_owner = ? AND state = 'running'", [
      now + this.leaseMs,
      runId,
      this.owner,
    ]);
    if (renewed.changes !== 1) throw new LeaseLostError();
    const members = await this.members(tx, schedule, cursor, now);
    const finished = members.length < this.chunkSize;
    let users = 0;
    let total = 0;
    const accountIds = members.map((m) => m.account_id);
    if (accountIds.length > 0) {
      const meta: BulkMeta = {
        type: 'quota',
        actor: 'system:quota',
        keyPrefix: allocationKeyPrefix(schedule.id, periodStart),
        reference: `quota-run:${runId}`,
        comment: `quota ${schedule.name} for ${new Date(periodStart).toISOString()}`,
        now,
      };
      await lockAccounts(tx, accountIds);
      // Add mode without a cap pays everyone the same: the database does it from the ids alone.
      const paid = schedule.mode === 'add' && schedule.cap === null && schedule.amount > 0 ? await addToEach(tx, accountIds, schedule.amount, meta) : undefined;
      if (paid !== undefined) {
        users = paid;
        total = paid * schedule.amount;
      } else {
        const written = await postToEach(tx, await this.allocations(tx, members, schedule, peers), meta);
        users = written.length;
        total = written.reduce((sum, r) => sum + r.amount, 0);
      }
    }
    const last = members.at(-1)?.user_id ?? cursor;
    await tx.run(
      `UPDATE quota_runs SET cursor_user_id = ?, chunks = chunks + 1, users = users + ?, total = total + ?${finished ? ", state = 'done', finished_at = ?, lease_owner = NULL, lease_expires_at = NULL" : ''} WHERE id = ?`,
      finished ? [last, users, total, now, runId] : [last, users, total, runId],
    );
    return { finished, cursor: last };
  }

  /**
   * The next members after `cursor`, in id order: users (with their personal account, or their
   * pair on an allocation account, created here if need be), or the one shared account.
   */
  private async members(tx: SqlTx, schedule: QuotaSchedule, cursor: number, now: number): Promise<{ user_id: number; account_id: number }[]> {
    const accountId = schedule.accountId;
    if (accountId === null) {
      return schedule.groupId === null
        ? await tx.all<{ user_id: number; account_id: number }>(
            'SELECT u.id AS user_id, a.id AS account_id FROM users u JOIN accounts a ON a.user_id = u.id WHERE u.id > ? AND u.disabled = 0 ORDER BY u.id LIMIT ?',
            [cursor, this.chunkSize],
          )
        : await tx.all<{ user_id: number; account_id: number }>(
            'SELECT u.id AS user_id, a.id AS account_id FROM group_members gm JOIN users u ON u.id = gm.user_id JOIN accounts a ON a.user_id = u.id WHERE gm.group_id = ? AND u.id > ? AND u.disabled = 0 ORDER BY u.id LIMIT ?',
            [schedule.groupId, cursor, this.chunkSize],
          );
    }
    if (schedule.target === 'account') return cursor < accountId ? [{ user_id: accountId, account_id: accountId }] : [];
    const users = await tx.all<{ id: number }>(
      `SELECT u.id FROM users u WHERE u.id > ? AND u.disabled = 0
          AND ((SELECT everyone FROM accounts WHERE id = ?) = 1
               OR u.id IN (SELECT user_id FROM account_users WHERE account_id = ?)
               OR u.id IN (SELECT gm.user_id FROM group_members gm JOIN account_groups ag ON ag.group_id = gm.group_id WHERE ag.account_id = ?))
        ORDER BY u.id LIMIT ?`,
      [cursor, accountId, accountId, accountId, this.chunkSize],
    );
    const { pairs } = await ensurePairs(
      tx,
      accountId,
      users.map((u) => Number(u.id)),
      now,
    );
    return users.map((u) => ({ user_id: Number(u.id), account_id: pairs.get(Number(u.id)) ?? 0 }));
  }

  /** What each member gets, from their (locked) balances: the amount, or the cap's or reset's difference; nobody gets a row of 0. */
  private async allocations(
    tx: SqlTx,
    members: { user_id: number; account_id: number }[],
    schedule: QuotaSchedule,
    peers: QuotaSchedule[],
  ): Promise<BulkPosting[]> {
    const accountIds = members.map((m) => m.account_id);
    const balances = new Map(
      (
        await tx.all<{ id: number; balance: number | string }>(`SELECT id, balance FROM accounts WHERE id IN (${placeholders(accountIds.length)})`, accountIds)
      ).map((r) => [r.id, Number(r.balance)]),
    );
    const targets =
      schedule.mode === 'reset'
        ? await this.resetTargets(
            tx,
            members.map((m) => m.user_id),
            peers,
          )
        : undefined;
    const rows: BulkPosting[] = [];
    for (const m of members) {
      const balance = balances.get(m.account_id);
      if (balance === undefined) continue;
      let amount: number;
      if (schedule.mode === 'reset') amount = (targets?.get(m.user_id) ?? schedule.amount) - balance;
      else amount = schedule.cap === null ? schedule.amount : Math.max(0, Math.min(schedule.amount, schedule.cap - balance));
      if (amount === 0 || Math.abs(balance + amount) > MAX_AMOUNT) continue;
      rows.push({ accountId: m.account_id, amount, after: balance + amount });
    }
    return rows;
  }

  /** Reset mode with several reset schedules on the same timetable: the balance is set to the sum of the amounts of those that apply to the user. */
  private async resetTargets(tx: SqlTx, userIds: number[], peers: QuotaSchedule[]): Promise<Map<number, Money>> {
    const everyone = peers.filter((p) => p.groupId === null).reduce((sum, p) => sum + p.amount, 0);
    // An account's peers all pay the same account (its pairs): each member gets their sum.
    if (peers.some((p) => p.accountId !== null)) return new Map(userIds.map((id) => [id, everyone]));
    const grouped = peers.filter((p) => p.groupId !== null);
    const targets = new Map<number, Money>(userIds.map((id) => [id, everyone]));
    if (grouped.length === 0) return targets;
    const groupIds = grouped.map((p) => p.groupId ?? 0);
    const memberships = await tx.all<{ user_id: number; group_id: number }>(
      `SELECT user_id, group_id FROM group_members WHERE user_id IN (${userIds.map(() => '?').join(',')}) AND group_id IN (${groupIds.map(() => '?').join(',')})`,
      [...userIds, ...groupIds],
    );
    for (const m of memberships) {
      const amount = grouped.filter((p) => p.groupId === m.group_id).reduce((sum, p) => sum + p.amount, 0);
      targets.set(m.user_id, (targets.get(m.user_id) ?? 0) + amount);
    }
    return targets;
  }

  private scheduleQuery(trx?: Knex.Transaction) {
    return (trx ?? this.db.knex)('quota_schedules')
      .leftJoin('groups', 'groups.id', 'quota_schedules.group_id')
      .leftJoin('accounts', 'accounts.id', 'quota_schedules.account_id')
      .select('quota_schedules.*', 'groups.name as group_name', 'accounts.name as account_name', 'accounts.allocation_model as account_model');
  }
}
