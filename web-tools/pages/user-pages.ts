/**
 * What the user pages show, always for the signed-in user only: every method takes the user id
 * from the session, and anything named in a URL or form (a job, a ledger row) is looked up
 * together with that user id, so another user's ids find nothing. The figures come from the
 * primary's services (reports, ledger, refunds); this page model only shapes them for the views.
 */
import { NotFoundError } from '../../common/errors';
import type { Money } from '../../common/money';
import type { Services } from '../../primary/services';
import type { LedgerEntry } from '../../primary/ledger/types';
import type { InternetUsageRow, UserJobRow } from '../../primary/reports/activity';
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

export interface UserJob extends UserJobRow {
  refundable: boolean;
}

export type { InternetUsageRow };

export interface RateRow {
  printer: string;
  location: string;
  enabled: boolean;
  card: string;
  perJobFee: Money;
  prices: { paperSize: string; colour: string; sides: string; pricePerPage: Money }[];
}

/** First millisecond of the calendar month (UTC) containing `now`. */
export function monthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export class UserPages {
  private readonly s: Services;
  private readonly now: () => number;

  constructor(deps: { services: Services; now?: () => number }) {
    this.s = deps.services;
    this.now = deps.now ?? Date.now;
  }

  /** The summary page: this month's spending and printing, the balance chart, the paper's impact. */
  async summary(userId: number): Promise<UserSummary> {
    const now = this.now();
    const periodStart = monthStart(now);
    const windowStart = now - CHART_DAYS * DAY_MS;
    const f = await this.s.reports.userSummary(userId, periodStart, windowStart);
    if (!f) throw new NotFoundError('user', userId);
    const creditLimit = f.creditLimit ?? (await this.s.ledger.defaultCreditLimit());
    // A younger account's chart starts at its first row rather than with days of "nothing".
    const first = f.balances[0];
    const young = f.balanceBefore === undefined && first !== undefined;
    const from = young ? first.at : windowStart;
    const start = young ? first.balance : (f.balanceBefore ?? 0);
    return {
      username: f.username,
      fullName: f.fullName,
      isAdmin: f.isAdmin,
      balance: f.balance,
      available: f.balance - f.reserved,
      restricted: f.restricted,
      creditLimit,
      periodStart,
      periodSpent: 0 - f.printAmount, // 0 - x: never -0
      periodNetSpent: 0 - f.netAmount,
      periodNetBytes: f.netBytes,
      periodPages: f.periodPages,
      periodJobs: f.periodJobs,
      chart: balanceChart(start, f.balances, from, now),
      impact: impactOf(f.sheets),
    };
  }

  /** The user's own print jobs, newest first, with the state of any refund request. */
  async jobs(userId: number, limit = 50): Promise<UserJob[]> {
    const rows = await this.s.reports.userJobs(userId, limit);
    return rows.map((r) => ({ ...r, refundable: r.refund === 'none' && r.status === 'printed' && r.cost > 0 }));
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

  /** The user's internet usage, one row per proxy report, newest first, `pageSize` reports before `beforeId`. */
  async internet(userId: number, opts: { beforeId?: number; pageSize?: number } = {}): Promise<{ rows: InternetUsageRow[]; olderBeforeId: number | null }> {
    const account = await this.s.users.personalAccount(userId);
    const { rows, more } = await this.s.reports.userInternet(userId, account.id, {
      pageSize: opts.pageSize ?? 25,
      ...(opts.beforeId !== undefined && { beforeId: opts.beforeId }),
    });
    const last = rows[rows.length - 1];
    return { rows, olderBeforeId: more && last ? last.id : null };
  }

  /** Every printer with its rate card (public to signed-in users), by name. */
  async rates(): Promise<RateRow[]> {
    const printers = (await this.s.printers.list()).sort((a, b) => compare(a.displayName, b.displayName) || compare(a.queueName, b.queueName));
    const cards = new Map<number, Awaited<ReturnType<Services['rateCards']['get']>>>();
    const out: RateRow[] = [];
    for (const p of printers) {
      let card = p.rateCardId === null ? undefined : cards.get(p.rateCardId);
      if (!card && p.rateCardId !== null) {
        card = await this.s.rateCards.get(p.rateCardId);
        cards.set(p.rateCardId, card);
      }
      out.push({
        printer: p.displayName || p.queueName,
        location: p.location,
        enabled: p.enabled,
        card: card?.name ?? '',
        perJobFee: card?.card.perJobFee ?? 0,
        prices: (card?.card.prices ?? []).map((r) => ({ paperSize: r.paperSize, colour: r.colour, sides: r.sides, pricePerPage: r.pricePerPage })),
      });
    }
    return out;
  }

  /** Asks for a refund of one of the user's own printed jobs (one request per job). */
  requestRefund(userId: number, jobId: number, reason: string): Promise<void> {
    return this.s.refunds.request(userId, jobId, reason);
  }
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
