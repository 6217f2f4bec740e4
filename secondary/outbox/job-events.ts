/**
 * The print job events a secondary keeps in its outbox, stored as the JobEvent messages they are
 * sent as. One terminal event per job (commit, release or offline record), so the outbox key is
 * derived from the job id, which is also the idempotency key the primary dedupes on: a replay
 * after an outage sends exactly the same event again.
 */
import type { JobEvent } from '../../protos/generated/quotient/v1/JobEvent';
import type { PrintJob } from '../../protos/generated/quotient/v1/PrintJob';
import type { NewOutboxEvent } from './outbox';

export function jobEventKey(jobId: string): string {
  return `job:${jobId}`;
}

function withPages<T extends object>(base: T, printedPages: number | undefined): T & { printedPages?: number } {
  return printedPages === undefined ? base : { ...base, printedPages };
}

export function commitEvent(jobId: string, printedPages?: number): NewOutboxEvent {
  const payload: JobEvent = { commit: withPages({ jobId }, printedPages) };
  return { kind: 'job.commit', key: jobEventKey(jobId), payload };
}

export function releaseEvent(jobId: string, reason: string): NewOutboxEvent {
  const payload: JobEvent = { release: { jobId, reason } };
  return { kind: 'job.release', key: jobEventKey(jobId), payload };
}

/** A job printed while the primary was unreachable: charged (or recorded free) when it is back. */
export function offlineEvent(job: PrintJob & { jobId: string }, printedPages: number | undefined, free: boolean): NewOutboxEvent {
  const payload: JobEvent = { offline: withPages({ job, free }, printedPages) };
  return { kind: 'job.offline', key: jobEventKey(job.jobId), payload };
}

/** The job an outbox payload is about (each JobEvent names exactly one). */
export function jobIdOf(event: JobEvent): string {
  return event.commit?.jobId ?? event.release?.jobId ?? event.offline?.job?.jobId ?? event.authorize?.job?.jobId ?? '';
}
