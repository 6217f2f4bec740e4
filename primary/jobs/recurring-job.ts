/**
 * How a scheduled job fires (STYLE practice 10): its handler runs once at start and then on a
 * validated cron expression, never twice at once (a tick while a run is busy is skipped; the
 * handlers are idempotent and work out from the clock what is due), and `stop()` stops firing and
 * waits for the run in progress. Failures are logged and retried on the next tick.
 */
import cron from 'node-cron';
import { ValidationError } from '../../common/errors';
import type { Logger } from '../../common/logger';

export interface RecurringJob {
  /** Stops firing and waits for a run in progress. */
  stop(): Promise<void>;
}

export function scheduleRecurring(opts: {
  /** Names the job in errors and logs, e.g. "quota job". */
  name: string;
  expression: string;
  timezone?: string;
  logger: Logger;
  run: () => Promise<void>;
}): RecurringJob {
  const { name, expression, logger } = opts;
  if (!cron.validate(expression)) throw new ValidationError(`${name}: "${expression}" is not a valid cron expression`, { field: 'expression' });
  let inFlight: Promise<void> = Promise.resolve();
  let busy = false;
  let stopped = false;
  const tick = (): void => {
    if (busy || stopped) return;
    busy = true;
    inFlight = opts
      .run()
      .catch((err: unknown) => logger.error({ err }, `${name} failed; it runs again on the next tick`))
      .finally(() => {
        busy = false;
      });
  };
  const task = cron.schedule(expression, tick, opts.timezone === undefined ? {} : { timezone: opts.timezone });
  tick();
  return {
    async stop() {
      stopped = true;
      await task.stop();
      await inFlight;
    },
  };
}
