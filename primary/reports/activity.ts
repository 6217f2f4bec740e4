/**
 * Read-only figures of what was printed and browsed and how balances moved, as the web pages
 * (web-tools/pages/) and the coming reports show them: a user's own summary, jobs and internet
 * reports, and the site's printing today. Only raw figures (minor units, milliseconds, counts);
 * what a page makes of them (charts, estimates, formatting) is the page's business.
 */
import type { Knex } from 'knex';
import type { Database } from '../db/connection';
import { runReads } from '../db/sql-runner';
import type { Money } from '../../common/money';

/** A user's figures for the summary page, for a period and a balance-chart window. */
export interface UserSummaryFigures {
  username: string;
  fullName: string;
  isAdmin: boolean;
  balance: Money;
  reserved: Money;
  restricted: boolean;
  /** The account's own overdraft; null: the site default. */
  creditLimit: Money | null;
  /** Print and internet charges since the period start (negative: ledger amounts). */
  printAmount: Money;
  netAmount: Money;
  /** Bytes of traffic (in, out, cache hits) since the period start. */
  netBytes: number;
  /** Sheets of every printed job, ever: pages x copies, duplex halved and rounded up per copy. */
  sheets: number;
  periodPages: number;
  periodJobs: number;
  /** The balance after each ledger row in the window (at most 2,000), oldest first. */
  balances: { at: number; balance: Money }[];
  /** The balance after the last row before the window, if any. */
  balanceBefore: Money | undefined;
}

/** One of a user's print jobs, with the state of its refund request. */
export interface UserJobRow {
  id: number;
  createdAt: number;
  printer: string;
  documentName: string;
  pages: number;
  copies: number;
  colourPages: number;
  duplex: boolean;
  cost: Money;
  status: string;
  reason: string;
  refund: 'none' | 'pending' | 'approved' | 'rejected';
}

/** One proxy report's usage of the user: its interval, traffic and what it cost them. */
export interface InternetUsageRow {
  /** internet_reports.id, the paging cursor. */
  id: number;
  from: number;
  to: number;
  /** Bytes downloaded, uploaded and served from the cache. */
  bytes: number;
  /** Of which charged (zero-rated domains and free uploads or cache hits excluded). */
  chargedBytes: number;
  /** Volume and time-period charges of this report on the user's account. */
  cost: Money;
}

interface SummaryUserRow {
  username: string;
  full_name: string;
  is_admin: number | boolean;
  account_id: number;
  balance: number | string;
  reserved: number | string;
  restricted: number | boolean;
  credit_limit: number | string | null;
}

interface JobRow {
  id: number | string;
  created_at: number | string;
  display_name: string;
  queue_name: string;
  document_name: string;
  pages: number;
  copies: number;
  colour_pages: number;
  duplex: number | boolean;
  cost: number | string;
  status: string;
  reason: string;
  refund_state: string | null;
}

const USER_JOB_COLUMNS = [
  'print_jobs.id',
  'print_jobs.created_at',
  'printers.display_name',
  'printers.queue_name',
  'print_jobs.document_name',
  'print_jobs.pages',
  'print_jobs.copies',
  'print_jobs.colour_pages',
  'print_jobs.duplex',
  'print_jobs.cost',
  'print_jobs.status',
  'print_jobs.reason',
  'refund_requests.state as refund_state',
];

function toUserJob(r: JobRow): UserJobRow {
  return {
    id: Number(r.id),
    createdAt: Number(r.created_at),
    printer: r.display_name || r.queue_name,
    documentName: r.document_name,
    pages: r.pages,
    copies: r.copies,
    colourPages: r.colour_pages,
    duplex: Boolean(r.duplex),
    cost: Number(r.cost),
    status: r.status,
    reason: r.status === 'denied' ? r.reason : '',
    refund: (r.refund_state ?? 'none') as UserJobRow['refund'],
  };
}

export class ActivityReports {
  private readonly db: Database;

  constructor(deps: { db: Database }) {
    this.db = deps.db;
  }

  /**
   * The summary page's figures in seven small indexed queries (it is the most visited page: the
   * benchmark in bench/web-summary.bench.ts measures it), aggregating in SQL rather than in JS.
   * Undefined when the user has no personal account.
   */
  async userSummary(userId: number, periodStart: number, windowStart: number): Promise<UserSummaryFigures | undefined> {
    // The most visited page: its reads are prepared statements on one connection (runReads), not
    // knex queries built and prepared again on every request (bench/web-summary.bench.ts).
    const read = await runReads(this.db, async (q) => {
      const me = await q.get<SummaryUserRow>(
        `SELECT users.username, users.full_name, users.is_admin, accounts.id AS account_id, accounts.balance, accounts.reserved, accounts.restricted, accounts.credit_limit
           FROM users JOIN accounts ON accounts.user_id = users.id
          WHERE users.id = ? AND accounts.type = 'personal' LIMIT 1`,
        [userId],
      );
      if (!me) return undefined;
      const accountId = me.account_id;
      const spent = await q.get<{ print_total: number | string; net_total: number | string }>(
        `SELECT COALESCE(SUM(CASE WHEN type = 'print' THEN amount ELSE 0 END), 0) AS print_total,
                COALESCE(SUM(CASE WHEN type = 'net' THEN amount ELSE 0 END), 0) AS net_total
           FROM ledger WHERE account_id = ? AND type IN ('print', 'net') AND created_at >= ?`,
        [accountId, periodStart],
      );
      const traffic = await q.get<{ bytes: number | string }>(
        'SELECT COALESCE(SUM(bytes_in + bytes_out + cache_hit_bytes), 0) AS bytes FROM internet_usage WHERE user_id = ? AND first_seen >= ?',
        [userId, periodStart],
      );
      // Sheets: pages x copies, or ceil(pages / 2) x copies for duplex; the duplex column sums
      // (pages + pages % 2) x copies, which is twice the sheets, so no division happens in SQL.
      const printed = await q.get<{
        simplex_sheets: number | string;
        duplex_half_sheets: number | string;
        period_pages: number | string;
        period_jobs: number | string;
      }>(
        `SELECT COALESCE(SUM(CASE WHEN duplex THEN 0 ELSE pages * copies END), 0) AS simplex_sheets,
                COALESCE(SUM(CASE WHEN duplex THEN (pages + pages % 2) * copies ELSE 0 END), 0) AS duplex_half_sheets,
                COALESCE(SUM(CASE WHEN created_at >= ? THEN pages * copies ELSE 0 END), 0) AS period_pages,
                COALESCE(SUM(CASE WHEN created_at >= ? THEN 1 ELSE 0 END), 0) AS period_jobs
           FROM print_jobs WHERE user_id = ? AND status = 'printed'`,
        [periodStart, periodStart, userId],
      );
      const rows = await q.all<{ created_at: number | string; balance_after: number | string }>(
        'SELECT created_at, balance_after FROM ledger WHERE account_id = ? AND created_at >= ? ORDER BY id LIMIT 2000',
        [accountId, windowStart],
      );
      const before = await q.get<{ balance_after: number | string }>(
        'SELECT balance_after FROM ledger WHERE account_id = ? AND created_at < ? ORDER BY id DESC LIMIT 1',
        [accountId, windowStart],
      );
      return { me, spent, traffic, printed, rows, before };
    });
    if (!read) return undefined;
    const { me, spent, traffic, printed, rows, before } = read;
    return {
      username: me.username,
      fullName: me.full_name,
      isAdmin: Boolean(me.is_admin),
      balance: Number(me.balance),
      reserved: Number(me.reserved),
      restricted: Boolean(me.restricted),
      creditLimit: me.credit_limit === null ? null : Number(me.credit_limit),
      printAmount: Number(spent?.print_total ?? 0),
      netAmount: Number(spent?.net_total ?? 0),
      netBytes: Number(traffic?.bytes ?? 0),
      sheets: Number(printed?.simplex_sheets ?? 0) + Number(printed?.duplex_half_sheets ?? 0) / 2,
      periodPages: Number(printed?.period_pages ?? 0),
      periodJobs: Number(printed?.period_jobs ?? 0),
      balances: rows.map((r) => ({ at: Number(r.created_at), balance: Number(r.balance_after) })),
      balanceBefore: before ? Number(before.balance_after) : undefined,
    };
  }

  /**
   * The user's own print jobs, newest first, with the state of any refund request; with
   * `accountId`, only those charged to that account (the accounts page's recent charges).
   */
  async userJobs(userId: number, limit: number, opts: { accountId?: number } = {}): Promise<UserJobRow[]> {
    const q = this.userJobsQuery(userId).orderBy('print_jobs.id', 'desc').limit(limit);
    if (opts.accountId !== undefined) void q.andWhere('print_jobs.account_id', opts.accountId);
    return ((await q.select(...USER_JOB_COLUMNS)) as JobRow[]).map(toUserJob);
  }

  /**
   * The user's newest `limit` print jobs charged to each of these accounts, by account id, newest
   * first: one query per 500 accounts (the accounts page's recent charges under every account).
   */
  async userJobsByAccount(userId: number, accountIds: readonly number[], limit: number): Promise<Map<number, UserJobRow[]>> {
    const found = new Map<number, UserJobRow[]>(accountIds.map((id) => [id, []]));
    for (let i = 0; i < accountIds.length; i += 500) {
      const ranked = this.userJobsQuery(userId)
        .whereIn('print_jobs.account_id', accountIds.slice(i, i + 500))
        .select(
          ...USER_JOB_COLUMNS,
          'print_jobs.account_id',
          this.db.knex.raw('ROW_NUMBER() OVER (PARTITION BY print_jobs.account_id ORDER BY print_jobs.id DESC) AS recent'),
        );
      const rows = (await this.db.knex.from(ranked.as('ranked')).where('recent', '<=', limit).orderBy('id', 'desc').select('*')) as (JobRow & {
        account_id: number;
      })[];
      for (const r of rows) found.get(Number(r.account_id))?.push(toUserJob(r));
    }
    return found;
  }

  private userJobsQuery(userId: number): Knex.QueryBuilder {
    return this.db
      .knex('print_jobs')
      .join('printers', 'printers.id', 'print_jobs.printer_id')
      .leftJoin('refund_requests', 'refund_requests.print_job_id', 'print_jobs.id')
      .where('print_jobs.user_id', userId);
  }

  /**
   * The user's internet usage, one row per proxy report, newest first, `pageSize` reports before
   * `beforeId` (a report row id). Only rows of this user are read, so another user's report id
   * only moves the cursor. The cost of a report is the sum of its `net` ledger rows on the user's
   * account `accountId` (their reference is the report id): volume charges and time-period charges.
   */
  async userInternet(userId: number, accountId: number, opts: { beforeId?: number; pageSize: number }): Promise<{ rows: InternetUsageRow[]; more: boolean }> {
    const k = this.db.knex;
    const q = k('internet_usage')
      .join('internet_reports', 'internet_reports.id', 'internet_usage.report_id')
      .where('internet_usage.user_id', userId)
      .groupBy('internet_reports.id', 'internet_reports.report_id', 'internet_reports.interval_start', 'internet_reports.interval_end')
      .orderBy('internet_reports.id', 'desc')
      .limit(opts.pageSize + 1)
      .select(
        'internet_reports.id',
        'internet_reports.report_id',
        'internet_reports.interval_start',
        'internet_reports.interval_end',
        k.raw('SUM(internet_usage.bytes_in + internet_usage.bytes_out + internet_usage.cache_hit_bytes) as bytes'),
        k.raw('SUM(internet_usage.charged_bytes) as charged_bytes'),
      );
    if (opts.beforeId !== undefined) q.andWhere('internet_reports.id', '<', opts.beforeId);
    const found = (await q) as {
      id: number | string;
      report_id: string;
      interval_start: number | string;
      interval_end: number | string;
      bytes: number | string;
      charged_bytes: number | string;
    }[];
    const page = found.slice(0, opts.pageSize);
    const costs = new Map<string, number>();
    if (page.length > 0) {
      const sums = (await k('ledger')
        .where({ account_id: accountId, type: 'net' })
        .whereIn(
          'reference',
          page.map((r) => r.report_id),
        )
        .groupBy('reference')
        .select('reference', k.raw('SUM(amount) as total'))) as { reference: string; total: number | string }[];
      for (const r of sums) costs.set(r.reference, 0 - Number(r.total));
    }
    const rows = page.map((r) => ({
      id: Number(r.id),
      from: Number(r.interval_start),
      to: Number(r.interval_end),
      bytes: Number(r.bytes),
      chargedBytes: Number(r.charged_bytes),
      cost: costs.get(r.report_id) ?? 0,
    }));
    return { rows, more: found.length > opts.pageSize };
  }

  /** Printed jobs and pages (x copies) of every user since `since`. */
  async printedSince(since: number): Promise<{ pages: number; jobs: number }> {
    const k = this.db.knex;
    const row = (await k('print_jobs')
      .where({ status: 'printed' })
      .andWhere('created_at', '>=', since)
      .select(k.raw('COALESCE(SUM(pages * copies), 0) as pages'), k.raw('COUNT(*) as jobs'))
      .first()) as { pages: number | string; jobs: number | string } | undefined;
    return { pages: Number(row?.pages ?? 0), jobs: Number(row?.jobs ?? 0) };
  }
}
