/**
 * The local endpoint's wire protocol (docs/secondary.md): newline-delimited JSON over a Unix
 * socket, one request object per line, one answer per line in request order. A request may carry
 * an `id` (string or number), echoed in its answer. Shared by the server and the typed client.
 */
import { z } from 'zod';
import { jobIdSchema, localJobSchema as sharedLocalJobSchema, PRINT_JOB_LIMITS, printedPagesSchema, releaseReasonSchema } from '../../common/print-job-schema';

/** Longest request line accepted, newline excluded. */
export const MAX_LINE_BYTES = 64 * 1024;

const idSchema = z.union([z.string().max(128), z.number().int()]);

/**
 * A print job as the CUPS backend wrapper describes it (the fields of quotient.v1.PrintJob), with
 * the limits the primary applies: one schema for both (common/print-job-schema.ts).
 */
export const localJobSchema = sharedLocalJobSchema;

export type LocalJob = z.output<typeof localJobSchema>;

export const localRequestSchema = z.discriminatedUnion('op', [
  z.object({ id: idSchema.optional(), op: z.literal('authorize'), job: localJobSchema }).strict(),
  z
    .object({
      id: idSchema.optional(),
      op: z.literal('commit'),
      jobId: jobIdSchema,
      /** Pages the real backend reported (all copies); absent: charge as authorised. */
      printedPages: printedPagesSchema.optional(),
    })
    .strict(),
  z.object({ id: idSchema.optional(), op: z.literal('release'), jobId: jobIdSchema, reason: releaseReasonSchema.default('') }).strict(),
  z.object({ id: idSchema.optional(), op: z.literal('status') }).strict(),
  z.object({ id: idSchema.optional(), op: z.literal('blocked'), username: z.string().min(1).max(128) }).strict(),
  /**
   * An administrator's page count for a job held because its pages could not be counted: the next
   * authorisation of that job (released in CUPS) is charged for these pages, one copy's worth.
   */
  z.object({ id: idSchema.optional(), op: z.literal('set-pages'), jobId: jobIdSchema, pages: z.number().int().min(1).max(PRINT_JOB_LIMITS.pages) }).strict(),
]);

/** What a client sends (defaults may be left out). */
export type LocalRequest = z.input<typeof localRequestSchema>;
/** What the server works with, after validation. */
export type ParsedLocalRequest = z.output<typeof localRequestSchema>;

/** Between a CUPS job UUID and the attempt to print it again (protos/quotient/v1/printing.proto). */
export { ATTEMPT_SEPARATOR } from '../../common/print-job-schema';

/**
 * `hold`: retry later (the primary is unreachable under the hold failure mode); `review`: held in
 * CUPS for an administrator, because nothing could count the pages (the unknownPageCount rule).
 */
export type Decision = 'allow' | 'deny' | 'hold' | 'review';

export interface AuthorizeAnswer {
  ok: true;
  /**
   * The attempt to commit or release: the job's id, or `<id>#2`, `#3`, ... when the job was
   * printed (or released) before under the same CUPS UUID and this is a new print of it.
   * Absent (a secondary older than the backend): the job's id.
   */
  jobId?: string;
  decision: Decision;
  /** For the user (deny, hold) or the log (allow offline); empty when allowed online. */
  reason: string;
  /** Minor units reserved (online), or 0 when decided offline. */
  cost: number;
  /** False for a passthrough printer, and for a job printed free under the "free" failure mode. */
  charged: boolean;
  /** Decided by the failure mode because the primary was unreachable. */
  offline: boolean;
}

export interface QueuedAnswer {
  ok: true;
  /** The event was already waiting (a repeated commit or release). */
  duplicate: boolean;
  /** Sent straight to the primary because the outbox could not write. */
  direct: boolean;
}

export interface StatusAnswer {
  ok: true;
  name: string;
  role: 'print' | 'proxy';
  primary: string;
  registered: boolean;
  /** Registered and the last call to the primary succeeded. */
  connected: boolean;
  outboxDepth: number;
  /** Enqueue time (epoch ms) of the oldest waiting event; 0 when empty. */
  oldestPendingMs: number;
  deadLetters: number;
  offlineJobs: number;
  blockedUsers: number;
  /** Proxy role: Squid log lines that could not be read (counted and logged, never charged) since start. */
  badLogLines: number;
  /** The outbox can record new events. */
  writable: boolean;
  /** The last configuration from the primary is known (pushed now, or restored from disk). */
  configKnown: boolean;
}

export interface BlockedAnswer {
  ok: true;
  blocked: boolean;
  reason: string;
}

export type ErrorCodeOnSocket = 'BAD_JSON' | 'LINE_TOO_LONG' | 'VALIDATION' | 'DATABASE_UNAVAILABLE' | 'SHUTTING_DOWN' | 'INTERNAL';

export interface ErrorAnswer {
  ok: false;
  error: { code: ErrorCodeOnSocket; message: string };
}

export type LocalAnswer = AuthorizeAnswer | QueuedAnswer | StatusAnswer | BlockedAnswer | ErrorAnswer;

/** The answer type of each operation, for the typed client. */
export interface AnswerOf {
  authorize: AuthorizeAnswer;
  commit: QueuedAnswer;
  release: QueuedAnswer;
  status: StatusAnswer;
  blocked: BlockedAnswer;
  'set-pages': QueuedAnswer;
}
