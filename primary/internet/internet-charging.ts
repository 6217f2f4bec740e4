/**
 * Charges a proxy secondary's usage report (bytes per user and destination), in one transaction through the ledger's
 * posting rules, idempotent on the report id: a repeated report changes nothing and gets the
 * first answer (kept in internet_reports).
 *
 * Per user and report: chargeable bytes = bytes_in (+ cache_hit_bytes unless cache hits are
 * free) (+ bytes_out unless uploads are free), over lines whose domain is not zero-rated. The
 * exact price is bytes x costPerMbMilli / (MB x 1000) minor units; it is rounded once per
 * posting with roundFraction (half away from zero) and the exact remainder is carried to the
 * user's next report (internet_carry), so the total billed never drifts from the exact total by
 * more than half a minor unit, however short the interval. Time-period charging adds
 * periodCost for every period the user's activity touched that was not charged before (the
 * ledger key names the period, so two reports touching one period charge it once).
 *
 * Restricted users are charged even past their credit limit: the traffic has already happened.
 * A user whose spendable balance is then at or below minus their limit is blocked (reported in
 * blocked_users; the BlockWatcher pushes it on Cluster.Watch when the transaction commits).
 * Usage of names the primary does not know is recorded with no user and not charged, unless the
 * site setting `internet.unknownUsers` is `create`: then those users are created first, on
 * demand (UserService.createOnDemand: the `users.onDemandGroups` groups and their new-user
 * rules), and charged like anyone else.
 */
import crypto from 'node:crypto';
import { ValidationError } from '../../common/errors';
import { roundFraction, type Money } from '../../common/money';
import type { Database } from '../db/connection';
import { runTransaction, type SqlTx } from '../db/sql-runner';
import { canSpend, KEY_MAX, loadAccount, lockAccounts, postEntry } from '../ledger/postings';
import type { SettingsService } from '../settings/settings-service';
import { normaliseUsername, type UserService } from '../users/user-service';
import { isZeroRatedDomain, MB, PRICE_SCALE, type InternetSettings, type InternetSettingsStore } from './internet-settings';

export const MAX_LINES = 10_000;
const MAX_BYTES = 2 ** 50;
const MAX_LINE_SPAN_MS = 86_400_000;

export interface UsageInput {
  username: string;
  domain: string;
  bytesIn: number;
  bytesOut: number;
  cacheHitBytes: number;
  requests: number;
  firstSeenMs: number;
  lastSeenMs: number;
}

export interface UsageReportInput {
  reportId: string;
  secondary: string;
  intervalStartMs: number;
  intervalEndMs: number;
  lines: UsageInput[];
}

export interface UsageReportOutcome {
  reportId: string;
  charged: Money;
  blockedUsers: string[];
  replayed: boolean;
}

interface UserTotals {
  username: string;
  userId: number | null;
  accountId: number | null;
  bytes: bigint;
  periods: Set<number>;
  lines: { line: UsageInput; chargedBytes: number }[];
}

function checkCount(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_BYTES) throw new ValidationError(`${field} is out of range`, { field });
  return value;
}

/** Validates a report's fields; throws ValidationError (INVALID_ARGUMENT on the wire). */
export function checkReport(r: UsageReportInput): UsageReportInput {
  if (r.reportId.length < 1 || r.reportId.length > 191) throw new ValidationError('report_id must be 1 to 191 characters', { field: 'report_id' });
  if (r.lines.length > MAX_LINES) throw new ValidationError(`a report holds at most ${MAX_LINES} lines`, { field: 'lines' });
  if (!Number.isSafeInteger(r.intervalStartMs) || !Number.isSafeInteger(r.intervalEndMs) || r.intervalEndMs < r.intervalStartMs) {
    throw new ValidationError('interval must be start <= end, epoch milliseconds', { field: 'interval_end_ms' });
  }
  const lines = r.lines.map((l) => ({
    username: normaliseUsername(l.username),
    domain: l.domain.trim().toLowerCase().slice(0, 255),
    bytesIn: checkCount(l.bytesIn, 'bytes_in'),
    bytesOut: checkCount(l.bytesOut, 'bytes_out'),
    cacheHitBytes: checkCount(l.cacheHitBytes, 'cache_hit_bytes'),
    requests: checkCount(l.requests, 'requests'),
    firstSeenMs: checkCount(l.firstSeenMs, 'first_seen_ms'),
    lastSeenMs: checkCount(Math.max(l.lastSeenMs, l.firstSeenMs), 'last_seen_ms'),
  }));
  // A line's activity lies within one report interval (at most an hour in practice); a wider span
  // is a broken clock or a bad secondary, and would charge unbounded time periods.
  if (lines.some((l) => l.lastSeenMs - l.firstSeenMs > MAX_LINE_SPAN_MS))
    throw new ValidationError('a usage line spans more than a day', { field: 'last_seen_ms' });
  return { ...r, lines };
}

/** The ledger key of a user's charge in a report: readable when it fits, hashed when it would not. */
export function usageKey(reportId: string, username: string): string {
  const plain = `net:${reportId}:${username}`;
  if (plain.length <= KEY_MAX) return plain;
  return `net:h:${crypto.createHash('sha256').update(reportId).update('\u0000').update(username).digest('hex')}`;
}

export class InternetChargingService {
  private readonly db: Database;
  private readonly settings: SettingsService;
  private readonly users: UserService;
  private readonly internetSettings: InternetSettingsStore;
  private readonly now: () => number;

  constructor(deps: { db: Database; settings: SettingsService; users: UserService; internetSettings: InternetSettingsStore; now: () => number }) {
    this.db = deps.db;
    this.settings = deps.settings;
    this.users = deps.users;
    this.internetSettings = deps.internetSettings;
    this.now = deps.now;
  }

  async report(input: UsageReportInput): Promise<UsageReportOutcome> {
    const report = checkReport(input);
    const cfg = await this.internetSettings.get();
    const defaultLimit = await this.settings.get('accounts.defaultCreditLimit');
    if ((await this.settings.get('internet.unknownUsers')) === 'create') await this.createUnknownUsers(report);
    return runTransaction(this.db, async (tx) => {
      const earlier = await tx.get<{ charged: number | string; blocked_users: string }>(
        'SELECT charged, blocked_users FROM internet_reports WHERE report_id = ?',
        [report.reportId],
      );
      if (earlier)
        return { reportId: report.reportId, charged: Number(earlier.charged), blockedUsers: JSON.parse(earlier.blocked_users) as string[], replayed: true };
      return this.charge(tx, report, cfg, defaultLimit);
    });
  }

  /** Creates the report's users the primary does not know yet, before its transaction (as printing does). A replayed report creates nobody. */
  private async createUnknownUsers(report: UsageReportInput): Promise<void> {
    if (await this.db.knex('internet_reports').where({ report_id: report.reportId }).first('id')) return;
    const names = [...new Set(report.lines.map((l) => l.username))];
    const known = new Set<string>();
    for (let i = 0; i < names.length; i += 500) {
      for (const name of (await this.db
        .knex('users')
        .whereIn('username', names.slice(i, i + 500))
        .pluck('username')) as string[])
        known.add(name);
    }
    for (const username of names.filter((n) => !known.has(n))) {
      try {
        await this.users.createOnDemand(username, 'system:internet-on-demand');
      } catch (err) {
        if ((err as { code?: string }).code !== 'ALREADY_EXISTS') throw err; // created meanwhile
      }
    }
  }

  private async charge(tx: SqlTx, report: UsageReportInput, cfg: InternetSettings, defaultLimit: Money): Promise<UsageReportOutcome> {
    const now = this.now();
    const zeroDomains = new Set(cfg.zeroRatedDomains);
    const zeroUsers = new Set(cfg.zeroRatedUsers);
    const byUser = new Map<string, UserTotals>();
    for (const line of report.lines) {
      let u = byUser.get(line.username);
      if (!u) {
        u = { username: line.username, userId: null, accountId: null, bytes: 0n, periods: new Set(), lines: [] };
        byUser.set(line.username, u);
      }
      const free = zeroUsers.has(line.username) || isZeroRatedDomain(line.domain, zeroDomains);
      const chargedBytes = free ? 0 : line.bytesIn + (cfg.chargeCacheHits ? line.cacheHitBytes : 0) + (cfg.chargeUploads ? line.bytesOut : 0);
      u.lines.push({ line, chargedBytes });
      u.bytes += BigInt(chargedBytes);
      if (!free && cfg.periodMinutes > 0 && cfg.periodCost > 0 && line.requests > 0) {
        const p = cfg.periodMinutes * 60_000;
        for (let t = Math.floor(line.firstSeenMs / p) * p; t <= line.lastSeenMs; t += p) u.periods.add(t);
      }
    }

    // Who they are, and their accounts, locked in id order.
    for (const u of byUser.values()) {
      const row = await tx.get<{ user_id: number; account_id: number }>(
        "SELECT users.id AS user_id, accounts.id AS account_id FROM users JOIN accounts ON accounts.user_id = users.id AND accounts.type = 'personal' WHERE users.username = ?",
        [u.username],
      );
      if (row) {
        u.userId = row.user_id;
        u.accountId = row.account_id;
      }
    }
    await lockAccounts(
      tx,
      [...byUser.values()].flatMap((u) => (u.accountId === null ? [] : [u.accountId])),
    );

    let total = 0;
    const blocked: string[] = [];
    const den = BigInt(MB * PRICE_SCALE);
    for (const u of byUser.values()) {
      if (u.userId === null || u.accountId === null) continue;
      const account = await loadAccount(tx, u.accountId);
      const wasBlocked = !canSpend(account, 1, defaultLimit) && account.restricted;
      let amount = 0;
      if (u.bytes > 0n && cfg.costPerMbMilli > 0) {
        const carryRow = await tx.get<{ carry: number | string }>('SELECT carry FROM internet_carry WHERE user_id = ?', [u.userId]);
        const exact = BigInt(carryRow ? Number(carryRow.carry) : 0) + u.bytes * BigInt(cfg.costPerMbMilli);
        amount = roundFraction(exact, den);
        const carry = Number(exact - BigInt(amount) * den);
        if (carryRow) await tx.run('UPDATE internet_carry SET carry = ? WHERE user_id = ?', [carry, u.userId]);
        else await tx.run('INSERT INTO internet_carry (user_id, carry) VALUES (?, ?)', [u.userId, carry]);
      }
      if (amount > 0) {
        await postEntry(
          tx,
          account,
          -amount,
          'net',
          { key: usageKey(report.reportId, u.username), reference: report.reportId.slice(0, 255), comment: 'Internet usage' },
          now,
        );
        total += amount;
      }
      for (const period of [...u.periods].sort((a, b) => a - b)) {
        const key = `net:period:${u.userId}:${period}`;
        const seen = await tx.get<{ id: number }>('SELECT id FROM ledger WHERE idempotency_key = ?', [key]);
        if (seen) continue;
        await postEntry(
          tx,
          account,
          -cfg.periodCost,
          'net',
          { key, reference: report.reportId.slice(0, 255), comment: `Internet access from ${new Date(period).toISOString()}` },
          now,
        );
        total += cfg.periodCost;
      }
      if (account.restricted && !wasBlocked && !canSpend(account, 1, defaultLimit)) blocked.push(u.username);
    }

    const { insertId: reportRow } = await tx.run(
      'INSERT INTO internet_reports (report_id, secondary, interval_start, interval_end, charged, blocked_users, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [report.reportId, report.secondary, report.intervalStartMs, report.intervalEndMs, total, JSON.stringify(blocked), now],
    );
    const rows = [...byUser.values()].flatMap((u) =>
      u.lines.map(({ line, chargedBytes }) => [
        reportRow,
        u.userId,
        line.username,
        line.domain,
        line.bytesIn,
        line.bytesOut,
        line.cacheHitBytes,
        line.requests,
        chargedBytes,
        line.firstSeenMs,
        line.lastSeenMs,
      ]),
    );
    const CHUNK = 200;
    for (let i = 0; i < rows.length; i += CHUNK) {
      const chunk = rows.slice(i, i + CHUNK);
      await tx.run(
        `INSERT INTO internet_usage (report_id, user_id, username, domain, bytes_in, bytes_out, cache_hit_bytes, requests, charged_bytes, first_seen, last_seen) VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flat(),
      );
    }
    return { reportId: report.reportId, charged: total, blockedUsers: blocked, replayed: false };
  }
}
