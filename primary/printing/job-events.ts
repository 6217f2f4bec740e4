/**
 * The print charge path's vocabulary: a job as a secondary describes it, the events of its life
 * (authorise, commit, release, record-offline), their outcomes, and the one validation of a job
 * description that every edge (gRPC, tests) goes through.
 */
import { ValidationError, type QuotientError } from '../../common/errors';
import type { Money } from '../../common/money';
import { describeIssue, jobDescriptionSchema, jobIdSchema, PRINT_JOB_LIMITS, printedPagesSchema, releaseReasonSchema } from '../../common/print-job-schema';
import type { z } from 'zod';

export type JobDescription = z.output<typeof jobDescriptionSchema>;

/** Validates a job description, naming the first bad field (ValidationError). The socket applies the same schema. */
export function parseJobDescription(input: unknown): JobDescription {
  const result = jobDescriptionSchema.safeParse(input);
  if (!result.success) {
    const { field, message } = describeIssue(result.error, 'job.');
    throw new ValidationError(message, { field });
  }
  return result.data;
}

export function checkJobId(jobId: unknown): string {
  const result = jobIdSchema.safeParse(jobId);
  if (!result.success) throw new ValidationError(describeIssue(result.error, 'jobId').message, { field: 'jobId' });
  return result.data;
}

/** Absent: charge as authorised. Otherwise 0..PRINT_JOB_LIMITS.printedPages, as at the socket. */
export function checkPrintedPages(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  const result = printedPagesSchema.safeParse(value);
  if (!result.success) throw new ValidationError(describeIssue(result.error, 'printedPages').message, { field: 'printedPages' });
  return result.data;
}

/**
 * A release's reason, cut to what is kept rather than refused: a refused release would leave its
 * reservation held (the socket refuses one past PRINT_JOB_LIMITS.reasonLength before it is queued).
 */
export function releaseReason(value: unknown): string {
  const result = releaseReasonSchema.safeParse(String(value ?? '').slice(0, PRINT_JOB_LIMITS.reasonLength));
  return result.success ? result.data : '';
}

export type JobEvent =
  | { kind: 'authorize'; secondary: string; job: JobDescription }
  | { kind: 'commit'; secondary: string; jobId: string; printedPages?: number | undefined }
  | { kind: 'release'; secondary: string; jobId: string; reason: string }
  | { kind: 'offline'; secondary: string; job: JobDescription; printedPages?: number | undefined; free: boolean }
  /** Internal (the expiry sweep), never from the wire: release the job if it is still authorised since before `authorisedBefore`. */
  | { kind: 'expire'; secondary: ''; jobId: string; authorisedBefore: number; actor: string };

export type JobOutcome =
  | { kind: 'authorized'; jobId: string; allowed: boolean; reason: string; cost: Money; charged: boolean }
  | { kind: 'committed'; jobId: string; cost: Money }
  | { kind: 'released'; jobId: string }
  | { kind: 'recorded'; jobId: string; cost: Money }
  /** `expired` false: the job was no longer authorised (settled, or expired by another sweep). */
  | { kind: 'expired'; jobId: string; expired: boolean; amount: Money }
  | { kind: 'error'; jobId: string; error: QuotientError };

export function jobIdOf(event: JobEvent): string {
  return event.kind === 'authorize' || event.kind === 'offline' ? event.job.jobId : event.jobId;
}
