/**
 * What an administrator does to quota schedules, from the admin pages or the
 * `quotient quotas` CLI: create, enable or disable, remove, and run for the current period,
 * through QuotaService, each audited with the actor's name. A change and its audit row are
 * written in one transaction. A web form carries a one-time key, kept in the audit row's
 * details, so a resubmitted form (back button, double click) is recognised and changes nothing
 * instead of failing ("already exists", "not found"); the CLI passes none.
 */
import type { Knex } from 'knex';
import { ValidationError } from '../../common/errors';
import { recordAudit } from '../audit/audit-log';
import { runKnexTransaction } from '../db/sql-runner';
import { parseScheduleText, type ScheduleText } from './schedule-input';
import type { QuotaRun, QuotaSchedule, QuotaService } from './quota-service';
import type { Services } from '../services';

export const SCHEDULE_TARGET = 'quota_schedule';

/** The web form's one-time key in the audit row's details; the CLI has none. */
const formKey = (key: string | undefined): { formKey?: string } => (key === undefined ? {} : { formKey: key });

/** What "run now" did: `ran` false when the period had already been run (nothing more was paid). */
export interface RunNowResult {
  run: QuotaRun;
  ran: boolean;
}

export class QuotaAdmin {
  private readonly s: Services;
  private readonly now: () => number;

  constructor(deps: { services: Services; now?: () => number }) {
    this.s = deps.services;
    this.now = deps.now ?? Date.now;
  }

  private get quotas(): QuotaService {
    return this.s.quotas;
  }

  /** The primary's time zone, which every period and shown time is in. */
  get timezone(): string {
    return this.quotas.timezone;
  }

  /** Creates a schedule from the form's text (amounts in the site currency), audited as `quota.create`. */
  async create(form: ScheduleText, key: string | undefined, actor: string): Promise<QuotaSchedule> {
    const input = parseScheduleText(form, (await this.s.settings.currency()).decimals);
    // `allocation:<id>` is the schedule an allocation account owns (accounts/allocations.ts):
    // an administrator's own schedule by that name would stop the account from being created.
    if (input.name.trim().toLowerCase().startsWith('allocation:'))
      throw new ValidationError('schedule names starting with "allocation:" are kept for allocation accounts', { field: 'name' });
    return runKnexTransaction(this.s.db, async (trx) => {
      const name = input.name.trim();
      if (key !== undefined && (await this.replayed(trx, 'quota.create', name, key))) return this.quotas.get(name, trx);
      const q = await this.quotas.create(input, trx);
      const details = {
        ...formKey(key),
        group: q.group,
        ...(q.account !== null && { account: q.account }),
        period: q.period,
        weekday: q.weekday,
        dayOfMonth: q.dayOfMonth,
        atTime: q.atTime,
        cron: q.cron,
        mode: q.mode,
        amount: q.amount,
        cap: q.cap,
        enabled: q.enabled,
      };
      await recordAudit(trx, { actor, action: 'quota.create', targetType: SCHEDULE_TARGET, targetId: q.name, details }, this.now());
      return q;
    });
  }

  /** Switches a schedule on or off, audited as `quota.enable` / `quota.disable`; no change, no audit row. */
  async setEnabled(name: string, enabled: boolean, key: string | undefined, actor: string): Promise<QuotaSchedule> {
    return runKnexTransaction(this.s.db, async (trx) => {
      const before = await this.quotas.get(name, trx);
      if (before.enabled === enabled) return before;
      const q = await this.quotas.setEnabled(before.name, enabled, trx);
      await recordAudit(
        trx,
        { actor, action: enabled ? 'quota.enable' : 'quota.disable', targetType: SCHEDULE_TARGET, targetId: q.name, details: formKey(key) },
        this.now(),
      );
      return q;
    });
  }

  /** Removes a schedule and its run history (its ledger rows stay), audited as `quota.remove`. */
  async remove(name: string, key: string | undefined, actor: string): Promise<void> {
    await runKnexTransaction(this.s.db, async (trx) => {
      if (key !== undefined && (await this.replayed(trx, 'quota.remove', name.trim(), key))) return;
      const q = await this.quotas.get(name, trx);
      await this.quotas.remove(q.name, trx);
      const details = { ...formKey(key), group: q.group, period: q.period, mode: q.mode, amount: q.amount, cap: q.cap };
      await recordAudit(trx, { actor, action: 'quota.remove', targetType: SCHEDULE_TARGET, targetId: q.name, details }, this.now());
    });
  }

  /**
   * Runs a schedule for the period that contains now, once per period: a period already run pays
   * nothing more (`ran` false) and is not audited again. A run is audited as
   * `quota.run` after it finished (runs work in many transactions, so not in the same one).
   */
  async runNow(name: string, key: string | undefined, actor: string): Promise<RunNowResult> {
    const before = (await this.quotas.runs({ schedule: name, limit: 1 }))[0];
    const run = await this.quotas.runNow(name);
    const ran = !(before?.id === run.id && before.state === 'done');
    if (ran) {
      const details = { ...formKey(key), runId: run.id, periodStart: run.periodStart, state: run.state, users: run.users, total: run.total };
      await recordAudit(this.s.db.knex, { actor, action: 'quota.run', targetType: SCHEDULE_TARGET, targetId: run.schedule, details }, this.now());
    }
    return { run, ran };
  }

  /** One run of a schedule (for the page that shows what "run now" did). */
  run(name: string, runId: number): Promise<QuotaRun | undefined> {
    return this.quotas.run(name, runId);
  }

  /** Whether this form (its one-time key) already did `action` to the schedule. */
  private async replayed(trx: Knex.Transaction, action: string, name: string, key: string): Promise<boolean> {
    const rows = (await trx('audit_log').where({ action, target_type: SCHEDULE_TARGET, target_id: name }).select('details')) as { details: string }[];
    return rows.some((r) => (JSON.parse(r.details) as { formKey?: unknown }).formKey === key);
  }
}
