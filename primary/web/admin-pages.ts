/**
 * What the admin pages show and do. Every change goes through the owning service (ledger,
 * users, settings) and is written to the audit log with the administrator's name.
 */
import { listAudit, recordAudit, type AuditRow } from '../audit/audit-log';
import type { SecondaryRegistry, Secondary } from '../cluster/secondary-registry';
import { runKnexTransaction } from '../db/sql-runner';
import { InvalidStateError, NotFoundError, ValidationError } from '../../common/errors';
import type { NamedRateCard } from '../pricing/rate-card-store';
import { FAILURE_MODES, UNKNOWN_PAGE_COUNTS, type FailureMode, type UnknownPageCount } from '../printing/printer-registry';
import type { Money } from '../../common/money';
import type { QuotaRun, QuotaSchedule } from '../quotas/quota-service';
import type { Services } from '../services';
import { SETTINGS, type SettingKey } from '../settings/settings-service';

const DAY_MS = 24 * 60 * 60 * 1000;
export { FAILURE_MODES, UNKNOWN_PAGE_COUNTS };

export interface Dashboard {
  pagesToday: number;
  jobsToday: number;
  users: number;
  pendingRefunds: number;
  recent: AuditRow[];
  secondaries: Secondary[];
  quotaRuns: QuotaRun[];
}

/** A quota schedule with when it next runs and its latest runs, newest first. */
export interface QuotaScheduleView {
  schedule: QuotaSchedule;
  nextRun: number | null;
  runs: QuotaRun[];
}

export interface RefundRequestRow {
  id: number;
  username: string;
  documentName: string;
  printer: string;
  amount: Money;
  reason: string;
  state: string;
  createdAt: number;
  decidedBy: string | null;
}

/** What a ticked on/off setting's checkbox sends (`value="true"` in views/admin-settings.hbs). */
export const SETTING_CHECKED = 'true';

/** One field of the settings form. */
export interface SettingField {
  key: SettingKey;
  checkbox: boolean;
  checked: boolean;
  value: string;
}

export interface PrinterRow {
  id: number;
  name: string;
  server: string;
  location: string;
  enabled: boolean;
  failureMode: string;
  unknownPageCount: string;
  rateCard: string;
  rateCardId: number | null;
}

export class AdminPages {
  private readonly s: Services;
  private readonly secondaries: SecondaryRegistry | undefined;
  private readonly now: () => number;

  constructor(deps: { services: Services; secondaries?: SecondaryRegistry | undefined; now?: () => number }) {
    this.s = deps.services;
    this.secondaries = deps.secondaries;
    this.now = deps.now ?? Date.now;
  }

  async dashboard(): Promise<Dashboard> {
    const k = this.s.db.knex;
    const today = Math.floor(this.now() / DAY_MS) * DAY_MS;
    const printed = (await k('print_jobs').where({ status: 'printed' }).andWhere('created_at', '>=', today)
      .select(k.raw('COALESCE(SUM(pages * copies), 0) as pages'), k.raw('COUNT(*) as jobs')).first()) as { pages: number | string; jobs: number | string } | undefined;
    const pending = (await k('refund_requests').where({ state: 'pending' }).count({ n: '*' }).first()) as { n: number | string } | undefined;
    return {
      pagesToday: Number(printed?.pages ?? 0),
      jobsToday: Number(printed?.jobs ?? 0),
      users: await this.s.users.count(),
      pendingRefunds: Number(pending?.n ?? 0),
      recent: await listAudit(k, { limit: 10 }),
      secondaries: await this.listSecondaries(),
      quotaRuns: await this.s.quotas.runs({ limit: 5 }),
    };
  }

  /** Every quota schedule (by name) with its next period start and its last `runsEach` runs. */
  async quotaSchedules(runsEach = 5): Promise<QuotaScheduleView[]> {
    const out: QuotaScheduleView[] = [];
    for (const schedule of await this.s.quotas.list()) {
      out.push({
        schedule,
        nextRun: schedule.enabled ? (this.s.quotas.nextRuns(schedule, 1)[0] ?? null) : null,
        runs: await this.s.quotas.runs({ schedule: schedule.name, limit: runsEach }),
      });
    }
    return out;
  }

  listSecondaries(): Promise<Secondary[]> {
    return this.secondaries ? this.secondaries.list() : Promise.resolve([]);
  }

  audit(limit = 200): Promise<AuditRow[]> {
    return listAudit(this.s.db.knex, { limit });
  }

  /**
   * Adds a signed amount to a user's balance; `key` comes from the form, so a resubmission changes
   * nothing. The ledger row and its audit row are written in one transaction: both or neither.
   */
  async adjustBalance(userId: number, amount: Money, comment: string, key: string, actor: string): Promise<void> {
    if (amount === 0) throw new ValidationError('an adjustment of zero changes nothing', { field: 'amount' });
    const detail = await this.s.users.detail(userId);
    await runKnexTransaction(this.s.db, async (trx) => {
      const entry = await this.s.ledger.postWithin(trx, { accountId: detail.account.id, amount, type: 'adjustment', comment, key: `web:adjust:${key}`, actor });
      if (entry.replayed) return;
      await recordAudit(trx, { actor, action: 'balance.adjust', targetType: 'user', targetId: detail.username, details: { amount, comment, ledgerId: entry.id } }, this.now());
    });
  }

  /** Sets a user's balance (one ledger row for the difference), audited in the same transaction. */
  async setBalance(userId: number, balance: Money, comment: string, key: string, actor: string): Promise<void> {
    const detail = await this.s.users.detail(userId);
    await runKnexTransaction(this.s.db, async (trx) => {
      const entry = await this.s.ledger.setBalanceWithin(trx, { accountId: detail.account.id, balance, comment, key: `web:set:${key}`, actor });
      if (entry.replayed) return;
      await recordAudit(trx, { actor, action: 'balance.set', targetType: 'user', targetId: detail.username, details: { balance, comment, ledgerId: entry.id } }, this.now());
    });
  }

  /** Restriction and overdraft (null = the site default); audited by UserService.update. */
  async setAccountRules(userId: number, restricted: boolean, creditLimit: Money | null, actor: string): Promise<void> {
    await this.s.users.update(userId, { restricted, creditLimit }, actor);
  }

  async printers(): Promise<PrinterRow[]> {
    const rows = (await this.s.db.knex('printers').leftJoin('rate_cards', 'rate_cards.id', 'printers.rate_card_id')
      .orderBy(['printers.server_name', 'printers.queue_name'])
      .select('printers.id', 'printers.display_name', 'printers.queue_name', 'printers.server_name', 'printers.location', 'printers.enabled', 'printers.failure_mode', 'printers.unknown_page_count', 'printers.rate_card_id', 'rate_cards.name as card')) as {
      id: number; display_name: string; queue_name: string; server_name: string; location: string; enabled: number | boolean; failure_mode: string; unknown_page_count: string; rate_card_id: number | null; card: string | null;
    }[];
    return rows.map((r) => ({ id: r.id, name: r.display_name || r.queue_name, server: r.server_name, location: r.location, enabled: Boolean(r.enabled), failureMode: r.failure_mode, unknownPageCount: r.unknown_page_count, rateCard: r.card ?? '', rateCardId: r.rate_card_id }));
  }

  /** Enables or disables a printer (the secondaries pick it up on their next authorisation). */
  async setPrinterEnabled(printerId: number, enabled: boolean, actor: string): Promise<void> {
    await runKnexTransaction(this.s.db, async (trx) => {
      const row = (await trx('printers').where({ id: printerId }).first('server_name', 'queue_name')) as { server_name: string; queue_name: string } | undefined;
      if (!row) throw new NotFoundError('printer', printerId);
      await trx('printers').where({ id: printerId }).update({ enabled, updated_at: this.now() });
      await recordAudit(trx, { actor, action: enabled ? 'printer.enable' : 'printer.disable', targetType: 'printer', targetId: `${row.server_name}/${row.queue_name}` }, this.now());
    });
    this.s.printers.forgetPrinters();
  }

  /**
   * Changes what a printer does while the primary is unreachable, with a job whose pages cannot be
   * counted (left as it is when undefined), and its rate card, through the
   * printer registry (one place for printer changes: validated, audited as printer.update with
   * what changed, and applied on this primary at once).
   */
  async setPrinterCharging(printerId: number, failureMode: string, rateCardId: number, actor: string, unknownPageCount?: string): Promise<void> {
    if (!FAILURE_MODES.includes(failureMode as FailureMode)) throw new ValidationError(`unknown failure mode ${failureMode}`, { field: 'failureMode' });
    if (unknownPageCount !== undefined && !UNKNOWN_PAGE_COUNTS.includes(unknownPageCount as UnknownPageCount)) {
      throw new ValidationError(`unknown unknownPageCount ${unknownPageCount}`, { field: 'unknownPageCount' });
    }
    await this.s.printers.update(printerId, { failureMode: failureMode as FailureMode, rateCardId, ...(unknownPageCount !== undefined && { unknownPageCount: unknownPageCount as UnknownPageCount }) }, actor);
  }

  rateCards(): Promise<{ id: number; name: string }[]> {
    return this.s.rateCards.list();
  }

  /** One rate card, its rows as stored, and the printers that use it. */
  async rateCard(id: number): Promise<NamedRateCard & { printers: string[] }> {
    const card = await this.s.rateCards.get(id);
    const printers = (await this.s.db.knex('printers').where({ rate_card_id: id }).orderBy(['server_name', 'queue_name']).select('display_name', 'queue_name')) as { display_name: string; queue_name: string }[];
    return { ...card, printers: printers.map((p) => p.display_name || p.queue_name) };
  }

  async refunds(state: 'pending' | 'all' = 'pending'): Promise<RefundRequestRow[]> {
    const q = this.s.db.knex('refund_requests')
      .join('print_jobs', 'print_jobs.id', 'refund_requests.print_job_id')
      .join('printers', 'printers.id', 'print_jobs.printer_id')
      .join('users', 'users.id', 'refund_requests.user_id')
      .orderBy('refund_requests.id', 'desc')
      .limit(200)
      .select('refund_requests.*', 'users.username', 'print_jobs.document_name', 'printers.display_name', 'printers.queue_name');
    if (state === 'pending') q.where('refund_requests.state', 'pending');
    const rows = (await q) as { id: number; username: string; document_name: string; display_name: string; queue_name: string; amount: number | string; reason: string; state: string; created_at: number | string; decided_by: string | null }[];
    return rows.map((r) => ({ id: r.id, username: r.username, documentName: r.document_name, printer: r.display_name || r.queue_name, amount: Number(r.amount), reason: r.reason, state: r.state, createdAt: Number(r.created_at), decidedBy: r.decided_by }));
  }

  /**
   * Approves a pending request: one `refund` ledger row (key `refund:job:<id>`, so approving
   * twice never refunds twice), then the request is marked approved and audited.
   */
  async approveRefund(requestId: number, comment: string, actor: string): Promise<void> {
    const req = await this.pendingRequest(requestId);
    const account = await this.s.users.personalAccount(req.user_id);
    const entry = await this.s.ledger.credit({ accountId: account.id, amount: Number(req.amount), type: 'refund', key: `refund:job:${req.print_job_id}`, reference: `job:${req.print_job_id}`, actor, comment });
    await this.decide(requestId, 'approved', comment, actor, entry.id);
  }

  async rejectRefund(requestId: number, comment: string, actor: string): Promise<void> {
    await this.pendingRequest(requestId);
    await this.decide(requestId, 'rejected', comment, actor, null);
  }

  /** Every setting as the form shows it: on/off settings as a checkbox, the others as text. */
  async settings(): Promise<SettingField[]> {
    const all = await this.s.settings.all();
    return (Object.keys(SETTINGS) as SettingKey[]).map((key) => {
      const value = all[key];
      return typeof value === 'boolean' ? { key, checkbox: true, checked: value, value: '' } : { key, checkbox: false, checked: false, value: String(value) };
    });
  }

  /**
   * The settings form as a whole: every setting's field is read by its type (a checkbox sends
   * SETTING_CHECKED or nothing; a number is whole digits; text is trimmed), then all are saved
   * or none (SettingsService.setAll), with one audit row per change in the same transaction.
   * A value its field cannot send, a field that is no setting, or a form without one of the text
   * fields (a partial form would untick every checkbox it lacks) is refused with a
   * ValidationError naming the field: the values sent are checked first, so a bad value is named
   * before a missing field.
   */
  async saveSettings(form: Record<string, unknown>, actor: string): Promise<void> {
    const current = await this.s.settings.all();
    for (const key of Object.keys(form)) if (!Object.hasOwn(SETTINGS, key)) throw new ValidationError(`no setting ${key}`, { key });
    const values: Partial<Record<SettingKey, unknown>> = {};
    const missing: SettingKey[] = [];
    for (const key of Object.keys(SETTINGS) as SettingKey[]) {
      const text = form[key];
      const kind = typeof current[key];
      if (kind === 'boolean') {
        if (text !== undefined && text !== SETTING_CHECKED) throw new ValidationError(`${key} is a checkbox: ticked it sends "${SETTING_CHECKED}", unticked nothing`, { key });
        values[key] = text === SETTING_CHECKED;
      } else if (text === undefined) missing.push(key);
      else if (typeof text !== 'string') throw new ValidationError(`the form has more than one value for ${key}`, { key });
      else if (kind === 'number') {
        if (!/^-?\d{1,16}$/.test(text.trim())) throw new ValidationError(`${key} is not a whole number`, { key });
        values[key] = Number(text.trim());
      } else values[key] = text.trim();
    }
    await this.s.settings.check(values);
    if (missing[0] !== undefined) throw new ValidationError(`the form has no ${missing[0]}; reload the page`, { key: missing[0] });
    await this.s.settings.setAll(values, async (trx, changes) => {
      for (const c of changes) await recordAudit(trx, { actor, action: 'settings.set', targetType: 'setting', targetId: c.key, details: { from: c.from, to: c.to } }, this.now());
    });
  }

  private async pendingRequest(id: number): Promise<{ id: number; user_id: number; print_job_id: number; amount: number | string; state: string }> {
    const row = (await this.s.db.knex('refund_requests').where({ id }).first()) as { id: number; user_id: number; print_job_id: number; amount: number | string; state: string } | undefined;
    if (!row) throw new NotFoundError('refund request', id);
    if (row.state !== 'pending') throw new InvalidStateError(`refund request ${id} is already ${row.state}`, { id });
    return row;
  }

  private async decide(id: number, state: 'approved' | 'rejected', comment: string, actor: string, ledgerId: number | null): Promise<void> {
    await runKnexTransaction(this.s.db, async (trx) => {
      await trx('refund_requests').where({ id, state: 'pending' }).update({ state, decided_by: actor.slice(0, 128), decision_comment: comment.slice(0, 1000), decided_at: this.now(), ledger_id: ledgerId });
      await recordAudit(trx, { actor, action: `refund.${state === 'approved' ? 'approve' : 'reject'}`, targetType: 'refund_request', targetId: id, details: { comment } }, this.now());
    });
  }
}
