/**
 * What the admin pages show and do. Every change goes through the owning service in primary/
 * (balances, refunds, users, printers, settings), which writes it to the audit log with the
 * administrator's name: the same method the CLI and the coming API call.
 */
import { listAudit, type AuditRow } from '../../primary/audit/audit-log';
import type { SecondaryRegistry, Secondary } from '../../primary/cluster/secondary-registry';
import { ValidationError } from '../../common/errors';
import type { NamedRateCard } from '../../primary/pricing/rate-card-store';
import { FAILURE_MODES, UNKNOWN_PAGE_COUNTS, type FailureMode, type UnknownPageCount } from '../../primary/printing/printer-registry';
import type { Money } from '../../common/money';
import type { RefundRequestRow } from '../../primary/printing/refunds';
import type { QuotaRun, QuotaSchedule } from '../../primary/quotas/quota-service';
import type { Services } from '../../primary/services';
import { SETTINGS, type SettingKey } from '../../primary/settings/settings-service';

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

export type { RefundRequestRow };

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
    const today = Math.floor(this.now() / DAY_MS) * DAY_MS;
    const printed = await this.s.reports.printedSince(today);
    return {
      pagesToday: printed.pages,
      jobsToday: printed.jobs,
      users: await this.s.users.count(),
      pendingRefunds: await this.s.refunds.countPending(),
      recent: await listAudit(this.s.db.knex, { limit: 10 }),
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
   * Adds a signed amount to a user's balance (BalanceChanges.adjust: the ledger row and its audit
   * row in one transaction); `key` comes from the form, so a resubmission changes nothing.
   */
  async adjustBalance(userId: number, amount: Money, comment: string, key: string, actor: string): Promise<void> {
    await this.s.balances.adjust({ userId, amount, comment, key: `web:adjust:${key}`, actor });
  }

  /** Sets a user's balance (one ledger row for the difference), audited in the same transaction. */
  async setBalance(userId: number, balance: Money, comment: string, key: string, actor: string): Promise<void> {
    await this.s.balances.set({ userId, balance, comment, key: `web:set:${key}`, actor });
  }

  /** Restriction and overdraft (null = the site default); audited by UserService.update. */
  async setAccountRules(userId: number, restricted: boolean, creditLimit: Money | null, actor: string): Promise<void> {
    await this.s.users.update(userId, { restricted, creditLimit }, actor);
  }

  async printers(): Promise<PrinterRow[]> {
    return (await this.s.printers.list()).map((p) => ({
      id: p.id,
      name: p.displayName || p.queueName,
      server: p.serverName,
      location: p.location,
      enabled: p.enabled,
      failureMode: p.failureMode,
      unknownPageCount: p.unknownPageCount,
      rateCard: p.rateCard ?? '',
      rateCardId: p.rateCardId,
    }));
  }

  /** Enables or disables a printer (audited by PrinterRegistry.update; the secondaries pick it up on their next authorisation). */
  async setPrinterEnabled(printerId: number, enabled: boolean, actor: string): Promise<void> {
    await this.s.printers.update(printerId, { enabled }, actor);
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
    await this.s.printers.update(
      printerId,
      {
        failureMode: failureMode as FailureMode,
        rateCardId,
        ...(unknownPageCount !== undefined && { unknownPageCount: unknownPageCount as UnknownPageCount }),
      },
      actor,
    );
  }

  rateCards(): Promise<{ id: number; name: string }[]> {
    return this.s.rateCards.list();
  }

  /** One rate card, its rows as stored, and the printers that use it. */
  async rateCard(id: number): Promise<NamedRateCard & { printers: string[] }> {
    const card = await this.s.rateCards.get(id);
    const printers = (await this.s.printers.list()).filter((p) => p.rateCardId === id);
    return { ...card, printers: printers.map((p) => p.displayName || p.queueName) };
  }

  refunds(state: 'pending' | 'all' = 'pending'): Promise<RefundRequestRow[]> {
    return this.s.refunds.list(state);
  }

  /** Approves a pending request (RefundService.approve: refunded once, with its audit row). */
  approveRefund(requestId: number, comment: string, actor: string): Promise<void> {
    return this.s.refunds.approve(requestId, comment, actor);
  }

  rejectRefund(requestId: number, comment: string, actor: string): Promise<void> {
    return this.s.refunds.reject(requestId, comment, actor);
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
   * or none (SettingsService.change), with one audit row per change in the same transaction.
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
        if (text !== undefined && text !== SETTING_CHECKED)
          throw new ValidationError(`${key} is a checkbox: ticked it sends "${SETTING_CHECKED}", unticked nothing`, { key });
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
    await this.s.settings.change(values, actor);
  }
}
