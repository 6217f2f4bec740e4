/**
 * The one validation of print job events, shared by the secondary's local socket and the
 * primary's gRPC edge (docs/cluster.md, docs/secondary.md): a job, a commit's printed pages, a
 * job id, a release reason. Both sides apply the same limits, so a value the socket accepts is
 * one the primary accepts: an out-of-range value is refused at the socket with a clear error,
 * before it is printed or queued, instead of being dead-lettered later with its money held.
 *
 * The limits are also what the wire can carry: pages, copies and printed pages are uint32 in
 * quotient.v1, and a JSON number above 2^32 would otherwise wrap (4,294,967,301 became 5).
 */
import { z } from 'zod';

export const PRINT_JOB_LIMITS = {
  idLength: 191,
  queueLength: 191,
  usernameLength: 128,
  documentNameLength: 1024,
  /** Pages in one copy of a document. */
  pages: 1_000_000,
  copies: 10_000,
  /** Pages a backend may report for a whole job (all copies): the most one job is charged for. */
  printedPages: 1_000_000,
  paperSizeLength: 64,
  finishingLength: 32,
  finishings: 20,
  accountCodeLength: 64,
  clientHostLength: 255,
  /** A release reason longer than this is refused at the socket; the primary keeps the first `reasonKept` characters. */
  reasonLength: 1024,
  reasonKept: 512,
  /** Epoch ms: the year 9999. */
  submittedAt: 253_402_300_799_999,
} as const;

/** Between a CUPS job UUID and the number of a later attempt to print it: `urn:uuid:…#2`. */
export const ATTEMPT_SEPARATOR = '#';

// No control characters in names people see; document names may hold almost anything else.
const printable = /^[^\p{Cc}]*$/u;
const controls = /\p{Cc}/gu;
const L = PRINT_JOB_LIMITS;

const text = (max: number): z.ZodString => z.string().max(max).regex(printable, 'contains control characters');
const count = (max: number): z.ZodNumber =>
  z
    .number()
    .int('must be a whole number')
    .min(0, 'must not be negative')
    .max(max, `must be at most ${max.toLocaleString('en')}`);

/** A job id as commit and release name it: the CUPS UUID, or an attempt `<uuid>#2`. */
export const jobIdSchema = text(L.idLength).min(1, 'is required');
export const printedPagesSchema = count(L.printedPages);
/** Why a job did not print: control characters become spaces, and the primary keeps `reasonKept` characters. */
export const releaseReasonSchema = z
  .string()
  .max(L.reasonLength)
  .transform((s) => s.replace(controls, ' ').slice(0, L.reasonKept));

/** The fields of quotient.v1.PrintJob (submittedAt is `submitted_at_ms`), each with its limit. */
export const jobFields = {
  jobId: jobIdSchema,
  queue: text(L.queueLength).min(1, 'is required'),
  username: z.string().trim().min(1, 'is required').max(L.usernameLength).regex(printable, 'contains control characters'),
  documentName: z
    .string()
    .max(L.documentNameLength)
    .transform((s) => s.replace(controls, ' ')),
  pages: count(L.pages),
  colourPages: count(L.pages),
  copies: count(L.copies).min(1, 'must be at least 1'),
  duplex: z.boolean(),
  paperSize: text(L.paperSizeLength),
  finishings: z
    .array(
      z
        .string()
        .min(1)
        .max(L.finishingLength)
        .regex(/^[A-Za-z0-9._-]+$/, 'is not an option name'),
    )
    .max(L.finishings),
  accountCode: text(L.accountCodeLength),
  clientHost: text(L.clientHostLength),
  /** Epoch ms; 0 = now. */
  submittedAt: count(L.submittedAt),
};

/** A job as the primary receives it (every field present: the wire has defaults). */
export const jobDescriptionSchema = z.object(jobFields).refine((j) => j.colourPages <= j.pages, { path: ['colourPages'], message: 'must not exceed pages' });

/** A job as the CUPS backend wrapper sends it on the local socket: optional fields default, unknown ones are refused. */
export const localJobSchema = z
  .object({
    jobId: jobFields.jobId.refine((id) => !id.includes(ATTEMPT_SEPARATOR), `must not contain "${ATTEMPT_SEPARATOR}" (it numbers the attempts of a job)`),
    queue: jobFields.queue,
    username: jobFields.username,
    documentName: jobFields.documentName.default(''),
    pages: jobFields.pages,
    colourPages: jobFields.colourPages.default(0),
    copies: jobFields.copies.default(1),
    duplex: jobFields.duplex.default(false),
    paperSize: jobFields.paperSize.default(''),
    finishings: jobFields.finishings.default([]),
    accountCode: jobFields.accountCode.default(''),
    clientHost: jobFields.clientHost.default(''),
    submittedAtMs: jobFields.submittedAt.default(0),
    /**
     * False when nothing could count the pages (page analysis and Ghostscript both failed):
     * `pages` is then only a lower bound, and the printer's unknownPageCount rule decides.
     */
    pagesKnown: z.boolean().default(true),
  })
  .strict()
  .refine((j) => j.colourPages <= j.pages, { path: ['colourPages'], message: 'must not exceed pages' });

/** "job.copies must be at least 1": the first problem, with the field named. */
export function describeIssue(error: z.ZodError, prefix = ''): { field: string; message: string } {
  const issue = error.issues[0];
  const field = `${prefix}${issue?.path.join('.') ?? ''}` || 'request';
  return { field, message: `${field} ${issue?.message ?? 'is invalid'}` };
}
