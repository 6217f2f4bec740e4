/**
 * The quota allocation job (STYLE practice 10): `runDueQuotas` is the handler — idempotent, safe
 * to call at any time, it works out from the clock which periods are due — and `schedule()`
 * fires it every minute with node-cron and returns `stop()`. The schedules' own cron
 * expressions are evaluated by the handler (periods.ts), not by node-cron, so a tick that was
 * missed (the process was down or busy) is caught up by the next one.
 */
import type { Logger } from '../../common/logger';
import { scheduleRecurring, type RecurringJob } from '../jobs/recurring-job';
import type { QuotaRun, QuotaService } from './quota-service';

/** The handler: runs every quota period that is due now (see QuotaService.runDue). */
export function runDueQuotas(quotas: QuotaService): Promise<QuotaRun[]> {
  return quotas.runDue();
}

/** Stops firing and waits for a run in progress to finish its current chunk. */
export type QuotaJob = RecurringJob;

/** Runs the handler once at start (catch-up) and then on `expression` (default: every minute). */
export function schedule(deps: { quotas: QuotaService; logger: Logger; expression?: string }): QuotaJob {
  return scheduleRecurring({
    name: 'quota job',
    expression: deps.expression ?? '* * * * *',
    timezone: deps.quotas.timezone,
    logger: deps.logger,
    run: async () => {
      for (const r of await runDueQuotas(deps.quotas)) {
        deps.logger.info(
          { schedule: r.schedule, period: new Date(r.periodStart).toISOString(), users: r.users, total: r.total, reason: r.reason },
          'quota run finished',
        );
      }
    },
  });
}
