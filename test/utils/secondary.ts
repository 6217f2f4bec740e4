/**
 * A real secondary for tests (integration and e2e): a real secondary daemon in this process pointed
 * at a real primary (test/utils/primary.ts) on loopback, jobs in the shape the CUPS backend sends
 * them, and balances read from the primary's services.
 */
import type { RunningPrimary } from '../../primary/boot';
import type { FailureMode } from '../../primary/printing/printer-registry';
import { loadSecondaryConfig, type SecondaryFlags } from '../../secondary/config';
import { startSecondary, type RunningSecondary } from '../../secondary/daemon';
import type { LocalRequest } from '../../secondary/local-endpoint/protocol';
import { silentLogger } from '../unit/secondary/helpers';
import type { TestDatabase } from './databases';
import { TEST_SECRET } from './primary';

export type LocalJobInput = Extract<LocalRequest, { op: 'authorize' }>['job'];

let jobCounter = 0;

/** A print job as the backend wrapper describes it; a fresh job id each time. */
export function printJob(overrides: Partial<LocalJobInput> = {}): LocalJobInput {
  jobCounter++;
  return {
    jobId: `urn:uuid:00000000-0000-4000-8000-${String(jobCounter).padStart(12, '0')}`,
    queue: 'lab',
    username: 'ann',
    pages: 1,
    paperSize: 'A4',
    ...overrides,
  };
}

export interface SecondaryOptions {
  name?: string;
  secret?: string;
  queues?: string[];
  flags?: SecondaryFlags;
}

/** Starts a secondary daemon on `dataDir` for the primary's gRPC port (which need not be up). */
export function startTestSecondary(grpcPort: number, dataDir: string, opts: SecondaryOptions = {}): Promise<RunningSecondary> {
  const config = loadSecondaryConfig({
    env: { QUOTIENT_CLUSTER_SECRET: opts.secret ?? TEST_SECRET },
    flags: {
      primary: `127.0.0.1:${grpcPort}`,
      name: opts.name ?? 'print-1',
      role: 'print',
      dataDir,
      heartbeatSeconds: 1,
      callDeadlineMs: 10_000,
      printers: (opts.queues ?? ['lab']).map((queue) => ({ queue, description: `${queue} printer` })),
      logLevel: 'silent',
      ...opts.flags,
    },
  });
  return startSecondary(config, silentLogger);
}

/** Registers printers of a secondary on the primary ahead of time, with their failure modes. */
export async function setFailureModes(primary: RunningPrimary, t: TestDatabase, secondary: string, modes: Record<string, FailureMode>): Promise<void> {
  for (const [queue, mode] of Object.entries(modes)) {
    await primary.services.printers.resolve(secondary, queue);
    await t.db.knex('printers').where({ server_name: secondary, queue_name: queue }).update({ failure_mode: mode });
  }
}

/** [balance, reserved] of a user's personal account, in minor units. */
export async function balanceOf(primary: RunningPrimary, username: string): Promise<[number, number]> {
  const user = await primary.services.users.getByUsername(username);
  const account = await primary.services.users.personalAccount(user.id);
  return [account.balance, account.reserved];
}

/** What the primary recorded for each job: [status, cost]. */
export async function jobsOnPrimary(t: TestDatabase, jobIds: string[]): Promise<Record<string, [string, number]>> {
  const rows = (await t.db.knex('print_jobs').whereIn('job_uuid', jobIds).select('job_uuid', 'status', 'cost')) as {
    job_uuid: string;
    status: string;
    cost: number | string;
  }[];
  return Object.fromEntries(rows.map((r) => [r.job_uuid, [r.status, Number(r.cost)]]));
}

/** Ledger rows of type print per job reference: exactly one each when nothing was charged twice. */
export async function printLedgerRows(t: TestDatabase): Promise<Map<string, number>> {
  const rows = (await t.db.knex('ledger').where({ type: 'print' }).select('reference')) as { reference: string }[];
  const counts = new Map<string, number>();
  for (const r of rows) counts.set(r.reference, (counts.get(r.reference) ?? 0) + 1);
  return counts;
}

export { makeCertificates, type Certificates } from './certificates';
