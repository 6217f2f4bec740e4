/**
 * What the user pages show, always for the signed-in user only: every method takes the user id
 * from the session, and anything named in a URL or form (a job, a ledger row) is looked up
 * together with that user id, so another user's ids find nothing.
 */
import type { Database } from '../../primary/db/connection';
import { isUniqueViolation } from '../../primary/db/errors';
import { runReads } from '../../primary/db/sql-runner';
import { AlreadyExistsError, NotFoundError, ValidationError } from '../../common/errors';
import type { Money } from '../../common/money';
import type { Services } from '../../primary/services';
import type { LedgerEntry } from '../../primary/ledger/types';
import { balanceChart, type ChartGeometry } from './balance-chart';
import { impactOf, type Impact } from './environment';

const DAY_MS = 24 * 60 * 60 * 1000;
export const CHART_DAYS = 30;

export interface UserSummary {
  username: string;
  fullName: string;
  isAdmin: boolean;
  balance: Money;
  available: Money;
  restricted: boolean;
  creditLimit: Money;
  periodStart: number;
  periodSpent: Money;
  periodPages: number;
  periodJobs: number;
  /** Internet usage this period: the cost (net ledger rows) and the bytes of traffic. */
  periodNetSpent: Money;
  periodNetBytes: number;
  chart: ChartGeometry;
  impact: Impact;
}

export interface UserJob {
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
  /** Why a job was refused or cancelled, as the user was told ('' for others). */
  reason: string;
  refund: 'none' | 'pending' | 'approved' | 'rejected';
  refundable: boolean;
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

export interface RateRow {
  printer: string;
  location: string;
  enabled: boolean;
  card: string;
  perJobFee: Money;
  prices: { paperSize: string; colour: string; sides: string; pricePerPage: Money }[];
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

/** First millisecond of the calendar month (UTC) containing `now`. */
export function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export class UserPages {
  private readonly s: Services;
  private readonly db: Database;
  private readonly now: () => number;

  constructor(deps: { services: Services; now?: () => number }) {
    this.s = deps.services;
    this.db = deps.services.db;
    this.now = deps.now ?? Date.now;
  }

  /**
   * The summary page's figures in seven small indexed queries (it is the most visited page: the
   * benchmark in bench/web-summary.bench.ts measures it), aggregating in SQL rather than in JS.
   */
  async summary(userId: number): Promise<UserSummary> {
    const now = this.now();
    const periodStart = monthStart(now);
    const windowStart = now - CHART_DAYS * DAY_MS;
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
      const printed = await q.get<{ simplex_sheets: number | string; duplex_half_sheets: number | string; period_pages: number | string; period_jobs: number | string }>(
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
    if (!read) throw new NotFoundError('user', userId);
    const { me, spent, traffic, printed, rows, before } = read;
    const creditLimit = me.credit_limit === null ? await this.s.ledger.defaultCreditLimit() : Number(me.credit_limit);
    const sheets = Number(printed?.simplex_sheets ?? 0) + Number(printed?.duplex_half_sheets ?? 0) / 2;
    // A younger account's chart starts at its first row rather than with days of "nothing".
    const first = rows[0];
    const young = !before && first !== undefined;
    const from = young ? Number(first.created_at) : windowStart;
    const start = young ? Number(first.balance_after) : Number(before?.balance_after ?? 0);
    const chart = balanceChart(start, rows.map((r) => ({ at: Number(r.created_at), balance: Number(r.balance_after) })), from, now);
    const balance = Number(me.balance);
    return {
      username: me.username,
      fullName: me.full_name,
      isAdmin: Boolean(me.is_admin),
      balance,
      available: balance - Number(me.reserved),
      restricted: Boolean(me.restricted),
      creditLimit,
      periodStart,
      periodSpent: 0 - Number(spent?.print_total ?? 0), // 0 - x: never -0
      periodNetSpent: 0 - Number(spent?.net_total ?? 0),
      periodNetBytes: Number(traffic?.bytes ?? 0),
      periodPages: Number(printed?.period_pages ?? 0),
      periodJobs: Number(printed?.period_jobs ?? 0),
      chart,
      impact: impactOf(sheets),
    };
  }

  /** The user's own print jobs, newest first, with the state of any refund request. */
  async jobs(userId: number, limit = 50): Promise<UserJob[]> {
    const rows = (await this.db
      .knex('print_jobs')
      .join('printers', 'printers.id', 'print_jobs.printer_id')
      .leftJoin('refund_requests', 'refund_requests.print_job_id', 'print_jobs.id')
      .where('print_jobs.user_id', userId)
      .orderBy('print_jobs.id', 'desc')
      .limit(limit)
      .select(
        'print_jobs.id', 'print_jobs.created_at', 'printers.display_name', 'printers.queue_name', 'print_jobs.document_name',
        'print_jobs.pages', 'print_jobs.copies', 'print_jobs.colour_pages', 'print_jobs.duplex', 'print_jobs.cost', 'print_jobs.status',
        'print_jobs.reason', 'refund_requests.state as refund_state',
      )) as JobRow[];
    return rows.map((r) => {
      const refund = (r.refund_state ?? 'none') as UserJob['refund'];
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
        refund,
        refundable: refund === 'none' && r.status === 'printed' && Number(r.cost) > 0,
      };
    });
  }

  /** The user's ledger, newest first, `pageSize` rows before `beforeId`. */
  async transactions(userId: number, opts: { beforeId?: number; pageSize?: number } = {}): Promise<{ rows: LedgerEntry[]; olderBeforeId: number | null }> {
    const account = await this.s.users.personalAccount(userId);
    const pageSize = opts.pageSize ?? 25;
    const rows = await this.s.ledger.history(account.id, { limit: pageSize + 1, ...(opts.beforeId !== undefined ? { beforeId: opts.beforeId } : {}) });
    const page = rows.slice(0, pageSize);
    const last = page[page.length - 1];
    return { rows: page, olderBeforeId: rows.length > pageSize && last ? last.id : null };
  }

  /**
   * The user's internet usage, one row per proxy report, newest first, `pageSize` reports before
   * `beforeId` (a report row id). Only rows of this user are read, so another user's report id
   * only moves the cursor. The cost of a report is the sum of its `net` ledger rows on the user's
   * account (their reference is the report id): volume charges and time-period charges.
   */
  async internet(userId: number, opts: { beforeId?: number; pageSize?: number } = {}): Promise<{ rows: InternetUsageRow[]; olderBeforeId: number | null }> {
    const k = this.db.knex;
    const pageSize = opts.pageSize ?? 25;
    const q = k('internet_usage')
      .join('internet_reports', 'internet_reports.id', 'internet_usage.report_id')
      .where('internet_usage.user_id', userId)
      .groupBy('internet_reports.id', 'internet_reports.report_id', 'internet_reports.interval_start', 'internet_reports.interval_end')
      .orderBy('internet_reports.id', 'desc')
      .limit(pageSize + 1)
      .select(
        'internet_reports.id', 'internet_reports.report_id', 'internet_reports.interval_start', 'internet_reports.interval_end',
        k.raw('SUM(internet_usage.bytes_in + internet_usage.bytes_out + internet_usage.cache_hit_bytes) as bytes'),
        k.raw('SUM(internet_usage.charged_bytes) as charged_bytes'),
      );
    if (opts.beforeId !== undefined) q.andWhere('internet_reports.id', '<', opts.beforeId);
    const found = (await q) as { id: number | string; report_id: string; interval_start: number | string; interval_end: number | string; bytes: number | string; charged_bytes: number | string }[];
    const page = found.slice(0, pageSize);
    const costs = new Map<string, number>();
    if (page.length > 0) {
      const account = await this.s.users.personalAccount(userId);
      const sums = (await k('ledger')
        .where({ account_id: account.id, type: 'net' })
        .whereIn('reference', page.map((r) => r.report_id))
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
    const last = rows[rows.length - 1];
    return { rows, olderBeforeId: found.length > pageSize && last ? last.id : null };
  }

  /** Every printer with its rate card (public to signed-in users). */
  async rates(): Promise<RateRow[]> {
    const printers = (await this.db.knex('printers').orderBy(['display_name', 'queue_name']).select('display_name', 'queue_name', 'location', 'enabled', 'rate_card_id')) as {
      display_name: string; queue_name: string; location: string; enabled: number | boolean; rate_card_id: number | null;
    }[];
    const cards = new Map<number, Awaited<ReturnType<Services['rateCards']['get']>>>();
    const out: RateRow[] = [];
    for (const p of printers) {
      let card = p.rate_card_id === null ? undefined : cards.get(p.rate_card_id);
      if (!card && p.rate_card_id !== null) {
        card = await this.s.rateCards.get(p.rate_card_id);
        cards.set(p.rate_card_id, card);
      }
      out.push({
        printer: p.display_name || p.queue_name,
        location: p.location,
        enabled: Boolean(p.enabled),
        card: card?.name ?? '',
        perJobFee: card?.card.perJobFee ?? 0,
        prices: (card?.card.prices ?? []).map((r) => ({ paperSize: r.paperSize, colour: r.colour, sides: r.sides, pricePerPage: r.pricePerPage })),
      });
    }
    return out;
  }

  /** Asks for a refund of one of the user's own printed jobs (one request per job). */
  async requestRefund(userId: number, jobId: number, reason: string): Promise<void> {
    const text = reason.trim();
    if (text.length > 1000) throw new ValidationError('the reason is longer than 1,000 characters', { field: 'reason' });
    // The user id is part of the look-up: another user's job id finds nothing.
    const job = (await this.db.knex('print_jobs').where({ id: jobId, user_id: userId }).first('id', 'cost', 'status')) as { id: number; cost: number | string; status: string } | undefined;
    if (!job) throw new NotFoundError('print job', jobId);
    if (job.status !== 'printed' || Number(job.cost) <= 0) throw new ValidationError('only a charged, printed job can be refunded', { field: 'job' });
    try {
      await this.db.knex('refund_requests').insert({ print_job_id: jobId, user_id: userId, reason: text, state: 'pending', amount: Number(job.cost), created_at: this.now() });
    } catch (err) {
      if (isUniqueViolation(err)) throw new AlreadyExistsError('refund request for print job', jobId);
      throw err;
    }
  }
}
