/**
 * The quota allocation job (STYLE practice 10): `runDueQuotas` is the handler — idempotent, safe
 * to call at any time, it works out from the clock which periods are due — and `schedule()`
 * fires it every minute with node-cron and returns `stop()`. The schedules' own cron
 * expressions are evaluated by the handler (periods.ts), not by node-cron, so a tick that was
 * missed (the process was down or busy) is caught up by the next one.
 */
import cron from 'node-cron';
import { ValidationError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { QuotaRun, QuotaService } from './quota-service';

/** The handler: runs every quota period that is due now (see QuotaService.runDue). */
export function runDueQuotas(quotas: QuotaService): Promise<QuotaRun[]> {
  return quotas.runDue();
}

export interface QuotaJob {
  /** Stops firing and waits for a run in progress to finish its current chunk. */
  stop(): Promise<void>;
}

/** Runs the handler once at start (catch-up) and then on `expression` (default: every minute). */
export function schedule(deps: { quotas: QuotaService; logger: Logger; expression?: string }): QuotaJob {
  const expression = deps.expression ?? '* * * * *';
  if (!cron.validate(expression)) throw new ValidationError(`quota job: "${expression}" is not a valid cron expression`, { field: 'expression' });
  let inFlight: Promise<void> = Promise.resolve();
  let busy = false;
  let stopped = false;
  const tick = (): void => {
    if (busy || stopped) return;
    busy = true;
    inFlight = runDueQuotas(deps.quotas)
      .then((runs) => {
        for (const r of runs) deps.logger.info({ schedule: r.schedule, period: new Date(r.periodStart).toISOString(), users: r.users, total: r.total, reason: r.reason }, 'quota run finished');
      })
      .catch((err: unknown) => deps.logger.error({ err }, 'quota run failed; it resumes on the next tick'))
      .finally(() => {
        busy = false;
      });
  };
  const task = cron.schedule(expression, tick, { timezone: deps.quotas.timezone });
  tick();
  return {
    async stop() {
      stopped = true;
      await task.stop();
      await inFlight;
    },
  };
}
