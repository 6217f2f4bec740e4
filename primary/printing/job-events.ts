/**
 * The print charge path's vocabulary: a job as a secondary describes it, the events of its life
 * (authorise, commit, release, record-offline), their outcomes, and the one validation of a job
 * description that every edge (gRPC, tests) goes through.
 */
import { z } from 'zod';
import { ValidationError, type QuotientError } from '../../common/errors';
import type { Money } from '../../common/money';

// No control characters in names people see; document names may hold almost anything else.
const printable = /^[^\p{Cc}]*$/u;

export const jobDescriptionSchema = z.object({
  jobId: z.string().min(1, 'is required').max(191).regex(printable, 'contains control characters'),
  queue: z.string().min(1, 'is required').max(191).regex(printable, 'contains control characters'),
  username: z.string().trim().min(1, 'is required').max(128).regex(printable, 'contains control characters'),
  documentName: z.string().max(1024).transform((s) => s.replace(/\p{Cc}/gu, ' ')),
  pages: z.number().int().min(0).max(1_000_000),
  colourPages: z.number().int().min(0).max(1_000_000),
  copies: z.number().int().min(1, 'must be at least 1').max(10_000),
  duplex: z.boolean(),
  paperSize: z.string().max(64).regex(printable, 'contains control characters'),
  finishings: z.array(z.string().min(1).max(32).regex(/^[A-Za-z0-9._-]+$/, 'is not an option name')).max(20),
  accountCode: z.string().max(64).regex(printable, 'contains control characters'),
  clientHost: z.string().max(255).regex(printable, 'contains control characters'),
  /** Epoch ms; 0 = now. */
  submittedAt: z.number().int().min(0),
});

export type JobDescription = z.output<typeof jobDescriptionSchema>;

/** Validates a job description, naming the first bad field (ValidationError). */
export function parseJobDescription(input: unknown): JobDescription {
  const result = jobDescriptionSchema.safeParse(input);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue?.path.join('.') ?? 'job';
    throw new ValidationError(`job.${field} ${issue?.message ?? 'is invalid'}`, { field: `job.${field}` });
  }
  if (result.data.colourPages > result.data.pages) {
    throw new ValidationError('job.colourPages must not exceed job.pages', { field: 'job.colourPages' });
  }
  return result.data;
}

export function checkJobId(jobId: unknown): string {
  if (typeof jobId !== 'string' || jobId.length === 0 || jobId.length > 191) throw new ValidationError('jobId must be 1 to 191 characters', { field: 'jobId' });
  return jobId;
}

export function checkPrintedPages(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10_000_000_000) {
    throw new ValidationError('printedPages must be a whole number from 0 to 10,000,000,000', { field: 'printedPages' });
  }
  return value;
}

export type JobEvent =
  | { kind: 'authorize'; secondary: string; job: JobDescription }
  | { kind: 'commit'; secondary: string; jobId: string; printedPages?: number | undefined }
  | { kind: 'release'; secondary: string; jobId: string; reason: string }
  | { kind: 'offline'; secondary: string; job: JobDescription; printedPages?: number | undefined; free: boolean };

export type JobOutcome =
  | { kind: 'authorized'; jobId: string; allowed: boolean; reason: string; cost: Money; charged: boolean }
  | { kind: 'committed'; jobId: string; cost: Money }
  | { kind: 'released'; jobId: string }
  | { kind: 'recorded'; jobId: string; cost: Money }
  | { kind: 'error'; jobId: string; error: QuotientError };

export function jobIdOf(event: JobEvent): string {
  return event.kind === 'authorize' || event.kind === 'offline' ? event.job.jobId : event.jobId;
}
