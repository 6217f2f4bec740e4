/**
 * Printing on a started primary in process, as a secondary would over gRPC: register the
 * `print-1` secondary with its `library-laser` queue (the fixtures' default), then authorise and
 * commit a job through the primary's print service.
 */
import assert from 'node:assert/strict';
import type { RunningPrimary } from '../../primary/boot';
import type { JobDescription } from '../../primary/printing/job-events';
import { jobDescription } from './fixtures';

export const PRINT_SECONDARY = 'print-1';

export async function registerPrintSecondary(primary: RunningPrimary): Promise<void> {
  await primary.secondaries.register(
    {
      name: PRINT_SECONDARY,
      role: 'print',
      version: '1.0.0',
      host: PRINT_SECONDARY,
      printers: [{ queue: 'library-laser', description: 'Laser', location: '', deviceUri: 'ipp://laser/' }],
    },
    '127.0.0.1',
  );
}

/** Authorises and commits a job (which must be allowed) and returns it. */
export async function printJob(primary: RunningPrimary, overrides: Partial<JobDescription>): Promise<JobDescription> {
  const job = jobDescription(overrides);
  const authorised = await primary.services.printing.submit({ kind: 'authorize', secondary: PRINT_SECONDARY, job });
  assert.equal(authorised.kind === 'authorized' && authorised.allowed, true, `job ${job.documentName} allowed`);
  assert.equal((await primary.services.printing.submit({ kind: 'commit', secondary: PRINT_SECONDARY, jobId: job.jobId })).kind, 'committed');
  return job;
}
