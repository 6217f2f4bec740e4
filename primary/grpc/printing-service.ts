/**
 * gRPC Printing handlers: turn wire messages into job events (INVALID_ARGUMENT for bad fields),
 * hand them to the print charge path, and turn outcomes back into wire messages.
 */
import type * as grpc from '@grpc/grpc-js';
import { isQuotientError, ValidationError, type QuotientError } from '../../common/errors';
import type { Logger } from '../../common/logger';
import type { JobEvent as WireEvent, JobEvent__Output } from '../../protos/generated/quotient/v1/JobEvent';
import type { JobEventResult } from '../../protos/generated/quotient/v1/JobEventResult';
import type { PrintingHandlers } from '../../protos/generated/quotient/v1/Printing';
import type { PrintJob__Output } from '../../protos/generated/quotient/v1/PrintJob';
import { checkJobId, checkPrintedPages, parseJobDescription, releaseReason, type JobDescription, type JobEvent, type JobOutcome } from '../printing/job-events';
import type { PrintJobService } from '../printing/print-job-service';
import { secondaryOf, toServiceError, unary } from './status';

export const MAX_BATCH = 5000;

function toJob(msg: PrintJob__Output | null | undefined): JobDescription {
  if (!msg) throw new ValidationError('job is required', { field: 'job' });
  return parseJobDescription({
    jobId: msg.jobId,
    queue: msg.queue,
    username: msg.username,
    documentName: msg.documentName,
    pages: msg.pages,
    colourPages: msg.colourPages,
    copies: msg.copies,
    duplex: msg.duplex,
    paperSize: msg.paperSize,
    finishings: msg.finishings,
    accountCode: msg.accountCode,
    clientHost: msg.clientHost,
    submittedAt: msg.submittedAtMs,
  });
}

export function toJobEvent(secondary: string, ev: JobEvent__Output): JobEvent {
  switch (ev.event) {
    case 'authorize':
      return { kind: 'authorize', secondary, job: toJob(ev.authorize?.job) };
    case 'commit':
      return { kind: 'commit', secondary, jobId: checkJobId(ev.commit?.jobId), printedPages: checkPrintedPages(ev.commit?.printedPages) };
    case 'release':
      return { kind: 'release', secondary, jobId: checkJobId(ev.release?.jobId), reason: releaseReason(ev.release?.reason) };
    case 'offline':
      return {
        kind: 'offline',
        secondary,
        job: toJob(ev.offline?.job),
        printedPages: checkPrintedPages(ev.offline?.printedPages),
        free: Boolean(ev.offline?.free),
      };
    default:
      throw new ValidationError('event must be one of authorize, commit, release, offline', { field: 'event' });
  }
}

function wireJobId(ev: WireEvent | JobEvent__Output): string {
  return String(ev.authorize?.job?.jobId ?? ev.commit?.jobId ?? ev.release?.jobId ?? ev.offline?.job?.jobId ?? '');
}

function errorResult(jobId: string, err: QuotientError): JobEventResult {
  return { jobId, error: { code: err.grpcStatus, quotientCode: err.code, message: err.message } };
}

export function toResult(outcome: JobOutcome): JobEventResult {
  switch (outcome.kind) {
    case 'authorized':
      return {
        jobId: outcome.jobId,
        authorized: {
          jobId: outcome.jobId,
          decision: outcome.allowed ? 'DECISION_ALLOW' : 'DECISION_DENY',
          reason: outcome.reason,
          cost: outcome.cost,
          charged: outcome.charged,
        },
      };
    case 'committed':
      return { jobId: outcome.jobId, committed: { jobId: outcome.jobId, cost: outcome.cost } };
    case 'released':
    case 'expired': // the expiry sweep's, never answered on the wire
      return { jobId: outcome.jobId, released: { jobId: outcome.jobId } };
    case 'recorded':
      return { jobId: outcome.jobId, recorded: { jobId: outcome.jobId, cost: outcome.cost } };
    case 'error':
      return errorResult(outcome.jobId, outcome.error);
  }
}

export function printingHandlers(printing: PrintJobService, logger: Logger): PrintingHandlers {
  return {
    AuthorizeJob: unary(logger, async (call) => {
      const outcome = await printing.submit({ kind: 'authorize', secondary: secondaryOf(call), job: toJob(call.request.job) });
      const result = toResult(outcome).authorized;
      if (!result) throw new Error('authorize answered with another outcome');
      return result;
    }),

    CommitJob: unary(logger, async (call) => {
      const outcome = await printing.submit({
        kind: 'commit',
        secondary: secondaryOf(call),
        jobId: checkJobId(call.request.jobId),
        printedPages: checkPrintedPages(call.request.printedPages),
      });
      return { jobId: call.request.jobId, cost: outcome.kind === 'committed' ? outcome.cost : 0 };
    }),

    ReleaseJob: unary(logger, async (call) => {
      await printing.submit({
        kind: 'release',
        secondary: secondaryOf(call),
        jobId: checkJobId(call.request.jobId),
        reason: releaseReason(call.request.reason),
      });
      return { jobId: call.request.jobId };
    }),

    SubmitJobEvents: unary(logger, async (call) => {
      const events = call.request.events;
      if (events.length > MAX_BATCH) throw new ValidationError(`a batch holds at most ${MAX_BATCH} events`, { field: 'events' });
      const secondary = secondaryOf(call);
      const results: JobEventResult[] = new Array<JobEventResult>(events.length);
      const valid: { index: number; event: JobEvent }[] = [];
      events.forEach((ev, index) => {
        try {
          valid.push({ index, event: toJobEvent(secondary, ev) });
        } catch (err) {
          if (!isQuotientError(err)) throw err;
          results[index] = errorResult(wireJobId(ev), err);
        }
      });
      const outcomes = await printing.processBatch(valid.map((v) => v.event));
      valid.forEach((v, i) => {
        results[v.index] = toResult(outcomes[i] as JobOutcome);
      });
      return { results };
    }),

    StreamJobEvents: (call: grpc.ServerDuplexStream<JobEvent__Output, JobEventResult>) => {
      const secondary = secondaryOf(call);
      let pending = 0;
      let ended = false;
      const finish = (): void => {
        if (ended && pending === 0) call.end();
      };
      call.on('data', (ev: JobEvent__Output) => {
        let event: JobEvent;
        try {
          event = toJobEvent(secondary, ev);
        } catch (err) {
          if (isQuotientError(err)) call.write(errorResult(wireJobId(ev), err));
          else call.destroy(err as Error);
          return;
        }
        pending++;
        printing.submitOutcome(event).then(
          (outcome) => {
            call.write(toResult(outcome));
            pending--;
            finish();
          },
          (err: unknown) => {
            const status = toServiceError(err, logger);
            call.emit('error', { code: status.code, details: status.details });
          },
        );
      });
      call.on('end', () => {
        ended = true;
        finish();
      });
    },
  };
}
