/**
 * The authorisation expiry job (STYLE practice 10): a print job authorised more than
 * `printing.authorisationTimeout` seconds ago that no commit or release followed (the wrapper was
 * killed, the answer was lost, the secondary died with it) holds its cost against the user for
 * ever. `expireAuthorisations` is the handler: it releases each such hold through the charge path,
 * marks the job `expired` and writes an audit row, one transaction per chunk. It is idempotent and
 * safe on two primaries sharing a database without a lease: each release is a conditional UPDATE
 * taken under the account's lock, so a job is expired once whoever runs it (print-job-service.ts
 * `expire`). `schedule()` runs it at start and every minute and returns `stop()`.
 *
 * A commit that arrives after its job expired is still charged (the pages printed), without a
 * credit check, like a job printed while the primary was away.
 */
import type { Logger } from '../../common/logger';
import type { Money } from '../../common/money';
import type { Database } from '../db/connection';
import { scheduleRecurring, type RecurringJob } from '../jobs/recurring-job';
import type { SettingsService } from '../settings/settings-service';
import type { JobEvent } from './job-events';
import type { PrintJobService } from './print-job-service';

export const EXPIRY_ACTOR = 'system:authorisation-expiry';
const CHUNK = 500;

export interface ExpiryDeps {
  db: Database;
  printing: PrintJobService;
  settings: SettingsService;
  now?: () => number;
}

export interface ExpiryRun {
  /** Jobs this run expired (another primary's run may have taken some). */
  expired: number;
  /** Minor units given back. */
  released: Money;
}

export interface StaleAuthorisation {
  jobId: string;
  username: string;
  secondary: string;
  /** Minor units held (0 for a passthrough or free job). */
  held: Money;
  authorisedAt: number;
}

/** The cut-off: jobs authorised before it are expired. */
async function cutoff(deps: Pick<ExpiryDeps, 'settings' | 'now'>): Promise<number> {
  return (deps.now ?? Date.now)() - (await deps.settings.get('printing.authorisationTimeout')) * 1000;
}

/** Authorised jobs older than the timeout, oldest first (what `quotient verify` reports). */
export async function findStaleAuthorisations(deps: Pick<ExpiryDeps, 'db' | 'settings' | 'now'>, limit = 1000): Promise<StaleAuthorisation[]> {
  const before = await cutoff(deps);
  const rows = (await deps.db
    .knex('print_jobs')
    .where({ status: 'authorised' })
    .andWhere('authorised_at', '<', before)
    .orderBy('authorised_at')
    .limit(limit)
    .select('job_uuid', 'username', 'secondary', 'cost', 'charged', 'authorised_at')) as {
    job_uuid: string;
    username: string;
    secondary: string;
    cost: number | string;
    charged: number | boolean;
    authorised_at: number | string;
  }[];
  return rows.map((r) => ({
    jobId: r.job_uuid,
    username: r.username,
    secondary: r.secondary,
    held: r.charged ? Number(r.cost) : 0,
    authorisedAt: Number(r.authorised_at),
  }));
}

/** The handler: expires every authorisation older than the timeout, in chunks. */
export async function expireAuthorisations(deps: ExpiryDeps, logger?: Logger): Promise<ExpiryRun> {
  const authorisedBefore = await cutoff(deps);
  const run: ExpiryRun = { expired: 0, released: 0 };
  let afterId = 0;
  for (;;) {
    const rows = (await deps.db
      .knex('print_jobs')
      .where({ status: 'authorised' })
      .andWhere('authorised_at', '<', authorisedBefore)
      .andWhere('id', '>', afterId)
      .orderBy('id')
      .limit(CHUNK)
      .select('id', 'job_uuid')) as { id: number | string; job_uuid: string }[];
    if (rows.length === 0) break;
    afterId = Number(rows[rows.length - 1]?.id);
    const events: JobEvent[] = rows.map((r) => ({ kind: 'expire', secondary: '', jobId: r.job_uuid, authorisedBefore, actor: EXPIRY_ACTOR }));
    for (const outcome of await deps.printing.processBatch(events)) {
      if (outcome.kind === 'expired' && outcome.expired) {
        run.expired++;
        run.released += outcome.amount;
      } else if (outcome.kind === 'error') {
        logger?.error({ jobId: outcome.jobId, err: outcome.error }, 'cannot expire an authorisation; retried on the next run');
      }
    }
    if (rows.length < CHUNK) break;
  }
  return run;
}

export type ExpiryJob = RecurringJob;

/** Runs the handler once at start and then on `expression` (default: every minute). */
export function schedule(deps: ExpiryDeps & { logger: Logger; expression?: string }): ExpiryJob {
  return scheduleRecurring({
    name: 'authorisation expiry',
    expression: deps.expression ?? '* * * * *',
    logger: deps.logger,
    run: async () => {
      const run = await expireAuthorisations(deps, deps.logger);
      if (run.expired > 0)
        deps.logger.warn({ expired: run.expired, released: run.released }, 'released print authorisations that no commit or release followed in time');
    },
  });
}
